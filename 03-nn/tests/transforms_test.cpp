// Chapter 3, data: batch transforms (Normalize, RandomCrop/RandomShift, RandomHorizontalFlip),
// each checked against a per-image reference written with plain loops.
#include <stepgrad/data/dataloader.hpp>
#include <stepgrad/data/transforms.hpp>

#include "../../02-tensor/tests/stand_in_device.hpp"
#include "../../02-tensor/tests/test_helpers.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <set>
#include <utility>
#include <vector>

using namespace stepgrad;
using stepgrad::testing::check_same;
using stepgrad::testing::check_tensor;

namespace {

// Distinct positive pixel values, so a shifted copy can only match one shift.
Tensor distinct_images(const Shape& shape, std::uint64_t seed = 1) {
    Generator generator(seed);
    return uniform(shape, 1.0, 2.0, generator);
}

// The reference shift: out[c, y, x] = in[c, y + dy, x + dx] where that is inside the image, else 0.
std::vector<float> shifted(const std::vector<float>& image, std::int64_t channels, std::int64_t height,
                           std::int64_t width, std::int64_t dy, std::int64_t dx) {
    std::vector<float> out(image.size(), 0.0f);
    for (std::int64_t c = 0; c < channels; ++c) {
        for (std::int64_t y = 0; y < height; ++y) {
            for (std::int64_t x = 0; x < width; ++x) {
                const std::int64_t sy = y + dy;
                const std::int64_t sx = x + dx;
                if (sy < 0 || sy >= height || sx < 0 || sx >= width) continue;
                out[static_cast<std::size_t>((c * height + y) * width + x)] =
                    image[static_cast<std::size_t>((c * height + sy) * width + sx)];
            }
        }
    }
    return out;
}

std::vector<float> image_at(const std::vector<float>& batch, std::int64_t n, std::int64_t image_size) {
    const auto begin = batch.begin() + static_cast<long>(n * image_size);
    return {begin, begin + static_cast<long>(image_size)};
}

// For each image of `out`, the one shift (dy, dx) within ±max_shift whose reference equals it;
// fails the test when none does.
std::vector<std::pair<std::int64_t, std::int64_t>> find_shifts(const Tensor& in, const Tensor& out,
                                                               std::int64_t max_shift) {
    const std::int64_t batch = in.size(0), channels = in.size(1), height = in.size(2), width = in.size(3);
    const std::int64_t image_size = channels * height * width;
    const std::vector<float> in_values = in.to_vector();
    const std::vector<float> out_values = out.to_vector();
    std::vector<std::pair<std::int64_t, std::int64_t>> shifts;
    for (std::int64_t n = 0; n < batch; ++n) {
        const std::vector<float> image = image_at(in_values, n, image_size);
        const std::vector<float> result = image_at(out_values, n, image_size);
        int matches = 0;
        for (std::int64_t dy = -max_shift; dy <= max_shift; ++dy) {
            for (std::int64_t dx = -max_shift; dx <= max_shift; ++dx) {
                if (shifted(image, channels, height, width, dy, dx) == result) {
                    ++matches;
                    shifts.emplace_back(dy, dx);
                }
            }
        }
        INFO("image " << n);
        REQUIRE(matches == 1);  // a shifted copy with zero fill, by exactly one in-bounds shift
    }
    return shifts;
}

}  // namespace

TEST_CASE("Normalize: (x - mean[c]) / std[c] per channel", "[chapter03][data][transforms]") {
    // images (2, 2, 1, 2): channel 0 normalised by (1, 2), channel 1 by (-1, 0.5)
    const Tensor images = from_vector(std::vector<float>{1, 3, 5, 7, 0, 1, 2, 3}, {2, 2, 1, 2});
    const Tensor out = data::Normalize({1.0, -1.0}, {2.0, 0.5})(images);
    check_tensor(out, {2, 2, 1, 2}, {0, 1, 12, 16, -0.5, 0, 6, 8});
    // one mean and std serve every channel, and any shape
    check_tensor(data::Normalize({0.5}, {0.25})(from_vector(std::vector<float>{0.5, 1.0, 0.0}, {3, 1})), {3, 1}, {0, 2, -2});
    CHECK_THROWS_AS(data::Normalize({0.0, 0.0}, {1.0}), std::invalid_argument);
    CHECK_THROWS_AS(data::Normalize({0.0}, {0.0}), std::invalid_argument);
    CHECK_THROWS_WITH(data::Normalize({0.0, 0.0, 0.0}, {1.0, 1.0, 1.0})(images), Catch::Contains("[2, 2, 1, 2]"));
    // on a Batch it changes the data and keeps the target
    const data::Batch labelled{tensor({{3}}), from_vector(std::vector<std::int64_t>{7}, {1})};
    const data::Batch batch = data::Normalize({1.0}, {2.0})(labelled);
    check_tensor(batch.data, {1, 1}, {1});
    CHECK(batch.target.item<std::int64_t>() == 7);
}

TEST_CASE("RandomCrop with padding: per-image shifted copies, zero filled, within ±padding",
          "[chapter03][data][transforms]") {
    const Tensor images = distinct_images({40, 2, 5, 6});
    Generator generator(7);
    const Tensor out = data::RandomCrop(5, 2, generator)(images.slice(3, 0, 5));  // square 5x5 images
    REQUIRE(out.shape() == Shape{40, 2, 5, 5});
    const auto shifts = find_shifts(images.slice(3, 0, 5), out, 2);
    // independent per image: many different shifts, including both extremes
    const std::set<std::pair<std::int64_t, std::int64_t>> distinct(shifts.begin(), shifts.end());
    CHECK(distinct.size() > 10);
    std::set<std::int64_t> vertical;
    for (const auto& shift : shifts) vertical.insert(shift.first);
    CHECK(vertical == std::set<std::int64_t>{-2, -1, 0, 1, 2});

    // RandomShift is the same for non-square images
    Generator shift_generator(8);
    const Tensor moved = data::RandomShift(1, shift_generator)(images);
    REQUIRE(moved.shape() == images.shape());
    find_shifts(images, moved, 1);
}

TEST_CASE("RandomCrop without padding cuts a window of the image", "[chapter03][data][transforms]") {
    const Tensor images = distinct_images({6, 1, 4, 4});
    Generator generator(2);
    const Tensor out = data::RandomCrop(2, 0, generator)(images);
    REQUIRE(out.shape() == Shape{6, 1, 2, 2});
    const std::vector<float> in = images.to_vector();
    const std::vector<float> got = out.to_vector();
    for (std::int64_t n = 0; n < 6; ++n) {
        int matches = 0;
        for (std::int64_t top = 0; top <= 2; ++top) {
            for (std::int64_t left = 0; left <= 2; ++left) {
                bool equal = true;
                for (std::int64_t y = 0; y < 2; ++y) {
                    for (std::int64_t x = 0; x < 2; ++x) {
                        equal = equal && got[static_cast<std::size_t>(n * 4 + y * 2 + x)] ==
                                             in[static_cast<std::size_t>(n * 16 + (top + y) * 4 + left + x)];
                    }
                }
                matches += equal ? 1 : 0;
            }
        }
        CHECK(matches == 1);
    }
    CHECK_THROWS_AS(data::RandomCrop(7, 1, generator)(images), std::invalid_argument);  // 7 > 4 + 2
    CHECK_THROWS_AS(data::RandomCrop(2, 0, generator)(zeros({6, 16})), std::invalid_argument);
}

TEST_CASE("RandomHorizontalFlip mirrors some images along W, the rest unchanged", "[chapter03][data][transforms]") {
    const std::int64_t batch = 32, channels = 2, height = 3, width = 4;
    const Tensor images = distinct_images({batch, channels, height, width});
    const std::vector<float> in = images.to_vector();
    const auto mirrored = [&](std::int64_t n) {
        std::vector<float> out;
        for (std::int64_t r = 0; r < channels * height; ++r) {
            for (std::int64_t x = 0; x < width; ++x) {
                out.push_back(in[static_cast<std::size_t>((n * channels * height + r) * width + (width - 1 - x))]);
            }
        }
        return out;
    };
    const auto count_flips = [&](double p, std::uint64_t seed) {
        Generator generator(seed);
        const std::vector<float> got = data::RandomHorizontalFlip(generator, p)(images).to_vector();
        int flips = 0;
        for (std::int64_t n = 0; n < batch; ++n) {
            const std::vector<float> result = image_at(got, n, channels * height * width);
            const bool same = result == image_at(in, n, channels * height * width);
            const bool flipped = result == mirrored(n);
            CHECK(same != flipped);  // exactly one of the two
            flips += flipped ? 1 : 0;
        }
        return flips;
    };
    CHECK(count_flips(1.0, 1) == batch);
    CHECK(count_flips(0.0, 1) == 0);
    const int half = count_flips(0.5, 3);
    CHECK(half > 4);
    CHECK(half < batch - 4);
    Generator generator(0);
    CHECK_THROWS_AS(data::RandomHorizontalFlip(generator, 1.5), std::invalid_argument);
}

TEST_CASE("Random transforms are reproducible from the generator's seed", "[chapter03][data][transforms]") {
    const Tensor images = distinct_images({8, 1, 6, 6});
    const auto augment = [&](std::uint64_t seed) {
        Generator generator(seed);
        const data::RandomCrop crop(6, 2, generator);
        const data::RandomHorizontalFlip flip(generator);
        return flip(crop(images)).to_vector();
    };
    CHECK(augment(5) == augment(5));
    CHECK(augment(5) != augment(6));
}

TEST_CASE("Transforms on a device equal the CPU's, with the same seed and no host read",
          "[chapter03][data][transforms][device]") {
    stepgrad::testing::StandInDevice stand_in;
    const Tensor images = distinct_images({5, 3, 4, 4});
    const auto augment = [](const Tensor& x) {
        Generator generator(21);
        const data::RandomCrop crop(4, 1, generator);
        const data::RandomHorizontalFlip flip(generator);
        const data::Normalize normalize({0.1, 0.2, 0.3}, {1.0, 2.0, 4.0});
        return normalize(flip(crop(x)));
    };
    const Tensor on_device = images.to(Device::CUDA);
    const std::uint64_t reads_before = stepgrad::testing::stand_in_host_reads();
    const Tensor device_out = augment(on_device);
    CHECK(stepgrad::testing::stand_in_host_reads() == reads_before);
    CHECK(device_out.device() == Device::CUDA);
    check_same(device_out.cpu(), augment(images), 0.0);
}

TEST_CASE("Transforms in a DataLoader augment each batch, reproducibly from the loader's seed",
          "[chapter03][data][transforms]") {
    const Tensor images = distinct_images({12, 1, 5, 5});
    auto dataset = std::make_shared<data::TensorDataset>(images, zeros({12}, TensorOptions().dtype(Dtype::Int64)));
    const auto augmented_epoch = [&](std::uint64_t seed) {
        data::DataLoader loader(dataset, data::DataLoaderOptions(4).seed(seed));
        loader.add_transform(data::RandomCrop(5, 1, loader.generator())).add_transform(data::Normalize({1.0}, {0.5}));
        std::vector<float> values;
        std::int64_t first = 0;
        for (data::Batch& batch : loader) {
            // undo Normalize, then each image must be a shifted copy of its source image
            const Tensor cropped = batch.data * 0.5 + 1.0;
            const Tensor source = images.slice(0, first, first + 4);
            const std::vector<float> flat = cropped.to_vector();
            std::vector<float> rounded;  // zero fill comes back as 0 up to rounding
            for (float v : flat) rounded.push_back(std::abs(v) < 1e-6f ? 0.0f : v);
            find_shifts(source, from_vector(rounded, cropped.shape()), 1);
            const std::vector<float> batch_values = batch.data.to_vector();
            values.insert(values.end(), batch_values.begin(), batch_values.end());
            first += 4;
        }
        return values;
    };
    CHECK(augmented_epoch(3) == augmented_epoch(3));
    CHECK(augmented_epoch(3) != augmented_epoch(4));
}
