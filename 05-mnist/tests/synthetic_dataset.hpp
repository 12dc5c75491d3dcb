#pragma once
// A made-up MNIST-format dataset for the training tests, written by the tests themselves:
// class c is a bright 3x3 square at one of ten places on a 14x14 image, moved by up to one pixel,
// on faint noise. Easy enough to learn in a few epochs, hard enough that an untrained or broken
// model scores near chance (10%).
#include <stepgrad/mnist/idx.hpp>
#include <stepgrad/nn.hpp>
#include <stepgrad/shared/random.hpp>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "idx_test_helpers.hpp"

namespace synthetic {

namespace fs = std::filesystem;

using idx_test::TempDir;  // a fresh temporary directory, removed with everything in it

constexpr std::int64_t kSide = 14;
constexpr std::int64_t kClasses = 10;

// Writes `<prefix>-images-idx3-ubyte.gz` and `<prefix>-labels-idx1-ubyte.gz` with `count` images.
inline void write_split(const fs::path& directory, const std::string& prefix, std::int64_t count, std::uint64_t seed) {
    stepgrad::Generator generator(seed);
    stepgrad::mnist::IdxArray images{{count, kSide, kSide}, {}};
    stepgrad::mnist::IdxArray labels{{count}, {}};
    images.values.resize(static_cast<std::size_t>(count * kSide * kSide));
    for (std::int64_t n = 0; n < count; ++n) {
        const auto label = static_cast<std::int64_t>(generator.below(kClasses));
        labels.values.push_back(static_cast<std::uint8_t>(label));
        std::uint8_t* image = images.values.data() + n * kSide * kSide;
        for (std::int64_t p = 0; p < kSide * kSide; ++p) image[p] = static_cast<std::uint8_t>(generator.below(60));
        // Ten places: two rows of five, two pixels apart, each moved right and down by 0 or 1.
        const std::int64_t top = 2 + 6 * (label / 5) + static_cast<std::int64_t>(generator.below(2));
        const std::int64_t left = 1 + 2 * (label % 5) + static_cast<std::int64_t>(generator.below(2));
        for (std::int64_t y = top; y < top + 3; ++y) {
            for (std::int64_t x = left; x < left + 3; ++x) {
                if (y >= 0 && y < kSide && x >= 0 && x < kSide) image[y * kSide + x] = 255;
            }
        }
    }
    stepgrad::mnist::write_idx(directory / (prefix + "-images-idx3-ubyte.gz"), images, true);
    stepgrad::mnist::write_idx(directory / (prefix + "-labels-idx1-ubyte.gz"), labels, true);
}

// A dataset of `train` and `test` images in a fresh temporary directory.
struct Dataset {
    TempDir directory;
    Dataset(std::int64_t train = 600, std::int64_t test = 200) {
        write_split(directory.path, "train", train, 1);
        write_split(directory.path, "t10k", test, 2);
    }
};

/// @brief Every parameter of `model`, flattened and joined in parameters() order (to compare
/// whole models before and after a step, or between two runs).
inline std::vector<float> all_weights(const stepgrad::nn::Module& model) {
    std::vector<float> values;
    for (const stepgrad::Tensor& parameter : model.parameters()) {
        const std::vector<float> part = parameter.to_vector();
        values.insert(values.end(), part.begin(), part.end());
    }
    return values;
}

}  // namespace synthetic
