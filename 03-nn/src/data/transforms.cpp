#include <stepgrad/data/transforms.hpp>

#include <stepgrad/shared/error.hpp>

#include <cmath>
#include <utility>

namespace stepgrad::data {

namespace {

void check_images(const char* op, const Tensor& images) {
    detail::check_defined(op, images);
    detail::check_float(op, images);
    STEPGRAD_CHECK(images.dim() == 4, op << ": expected images (N, C, H, W), got shape " << shape_to_string(images.shape())
                                         << "; reshape flat images first, e.g. x.reshape({-1, 1, 28, 28})");
}

// Every output pixel (n, c, y, x) of `source` (N, C, H, W), read from
// source[n, c, top[n] + y, left[n] + x]: one Int64 index built on the host, copied to the
// device, and one gather along the flattened pixels of each image.
Tensor gather_windows(const Tensor& source, std::int64_t out_height, std::int64_t out_width,
                      const std::vector<std::int64_t>& top, const std::vector<std::int64_t>& left) {
    const std::int64_t batch = source.size(0);
    const std::int64_t channels = source.size(1);
    const std::int64_t height = source.size(2);
    const std::int64_t width = source.size(3);
    const std::int64_t out_pixels = channels * out_height * out_width;
    std::vector<std::int64_t> positions(static_cast<std::size_t>(batch * out_pixels));
    std::size_t at = 0;
    for (std::int64_t n = 0; n < batch; ++n) {
        const auto i = static_cast<std::size_t>(n);
        for (std::int64_t c = 0; c < channels; ++c) {
            for (std::int64_t y = 0; y < out_height; ++y) {
                const std::int64_t row_start = (c * height + top[i] + y) * width + left[i];
                for (std::int64_t x = 0; x < out_width; ++x) positions[at++] = row_start + x;
            }
        }
    }
    const Tensor index = from_vector(positions, {batch, out_pixels},
                                     TensorOptions().device(source.device()).dtype(Dtype::Int64));
    // source_flat is (N, C*H*W); out[n, j] = source_flat[n, index[n, j]]
    const Tensor source_flat = source.reshape({batch, channels * height * width});
    return gather(source_flat, 1, index).reshape({batch, channels, out_height, out_width});
}

// Pads by `padding` zeros, then takes a `out_height x out_width` window at a random corner of
// each padded image (corners drawn in image order: top, then left).
Tensor random_windows(const char* op, const Tensor& images, std::int64_t out_height, std::int64_t out_width,
                      std::int64_t padding, Generator& generator) {
    check_images(op, images);
    const std::int64_t padded_height = images.size(2) + 2 * padding;
    const std::int64_t padded_width = images.size(3) + 2 * padding;
    STEPGRAD_CHECK(out_height <= padded_height && out_width <= padded_width,
                   op << ": a " << out_height << "x" << out_width << " window does not fit images of shape "
                      << shape_to_string(images.shape()) << " padded by " << padding);
    const auto batch = static_cast<std::size_t>(images.size(0));
    std::vector<std::int64_t> top(batch);
    std::vector<std::int64_t> left(batch);
    for (std::size_t n = 0; n < batch; ++n) {
        top[n] = static_cast<std::int64_t>(generator.below(static_cast<std::uint64_t>(padded_height - out_height + 1)));
        left[n] = static_cast<std::int64_t>(generator.below(static_cast<std::uint64_t>(padded_width - out_width + 1)));
    }
    const Tensor padded = padding > 0 ? pad(images, {padding, padding, padding, padding}) : images;
    return gather_windows(padded, out_height, out_width, top, left);
}

}  // namespace

// ---- Normalize ------------------------------------------------------------------------------

Normalize::Normalize(std::vector<double> mean, std::vector<double> stddev)
    : mean_(std::move(mean)), stddev_(std::move(stddev)) {
    STEPGRAD_CHECK(!mean_.empty() && mean_.size() == stddev_.size(),
                   "Normalize: give one mean and one std per channel, got " << mean_.size() << " means and "
                                                                             << stddev_.size() << " stds");
    for (double s : stddev_) {
        STEPGRAD_CHECK(s > 0.0 && std::isfinite(s), "Normalize: every std must be positive, got " << s);
    }
}

Tensor Normalize::operator()(const Tensor& images) const {
    detail::check_defined("Normalize", images);
    detail::check_float("Normalize", images);
    const auto channels = static_cast<std::int64_t>(mean_.size());
    Shape stats_shape{1};
    if (channels > 1) {
        STEPGRAD_CHECK(images.dim() >= 2 && images.size(1) == channels,
                       "Normalize: " << channels << " means need images (N, " << channels << ", ...), got shape "
                                     << shape_to_string(images.shape()));
        stats_shape = Shape(static_cast<std::size_t>(images.dim() - 1), 1);  // (C, 1, ..., 1)
        stats_shape[0] = channels;
    }
    const TensorOptions on_device = TensorOptions().device(images.device());
    const std::vector<float> mean(mean_.begin(), mean_.end());
    const std::vector<float> stddev(stddev_.begin(), stddev_.end());
    // Broadcast per channel: (N, C, H, W) - (C, 1, 1), then / (C, 1, 1).
    return (images - from_vector(mean, stats_shape, on_device)) / from_vector(stddev, stats_shape, on_device);
}

Batch Normalize::operator()(Batch batch) const {
    batch.data = (*this)(batch.data);
    return batch;
}

// ---- RandomCrop and RandomShift ----------------------------------------------------------------

RandomCrop::RandomCrop(std::int64_t size, std::int64_t padding, Generator& generator)
    : size_(size), padding_(padding), generator_(&generator) {
    STEPGRAD_CHECK(size >= 1, "RandomCrop: size must be positive, got " << size);
    STEPGRAD_CHECK(padding >= 0, "RandomCrop: padding must be non-negative, got " << padding);
}

Tensor RandomCrop::operator()(const Tensor& images) const {
    return random_windows("RandomCrop", images, size_, size_, padding_, *generator_);
}

Batch RandomCrop::operator()(Batch batch) const {
    batch.data = (*this)(batch.data);
    return batch;
}

RandomShift::RandomShift(std::int64_t max_shift, Generator& generator) : max_shift_(max_shift), generator_(&generator) {
    STEPGRAD_CHECK(max_shift >= 0, "RandomShift: max_shift must be non-negative, got " << max_shift);
}

Tensor RandomShift::operator()(const Tensor& images) const {
    check_images("RandomShift", images);
    return random_windows("RandomShift", images, images.size(2), images.size(3), max_shift_, *generator_);
}

Batch RandomShift::operator()(Batch batch) const {
    batch.data = (*this)(batch.data);
    return batch;
}

// ---- RandomHorizontalFlip ---------------------------------------------------------------------

RandomHorizontalFlip::RandomHorizontalFlip(Generator& generator, double p) : generator_(&generator), p_(p) {
    STEPGRAD_CHECK(p >= 0.0 && p <= 1.0, "RandomHorizontalFlip: p must be in [0, 1], got " << p);
}

// out[n, c, y, x] = images[n, c, y, W-1-x] for the flipped images, images[n, c, y, x] for the rest.
Tensor RandomHorizontalFlip::operator()(const Tensor& images) const {
    check_images("RandomHorizontalFlip", images);
    const std::int64_t batch = images.size(0);
    const std::int64_t rows = images.size(1) * images.size(2);  // C*H rows of W pixels per image
    const std::int64_t width = images.size(3);
    std::vector<std::int64_t> positions(static_cast<std::size_t>(batch * rows * width));
    std::size_t at = 0;
    for (std::int64_t n = 0; n < batch; ++n) {
        const bool flip = generator_->uniform() < p_;
        for (std::int64_t r = 0; r < rows; ++r) {
            for (std::int64_t x = 0; x < width; ++x) positions[at++] = r * width + (flip ? width - 1 - x : x);
        }
    }
    const Tensor index = from_vector(positions, {batch, rows * width},
                                     TensorOptions().device(images.device()).dtype(Dtype::Int64));
    return gather(images.reshape({batch, rows * width}), 1, index).reshape(images.shape());
}

Batch RandomHorizontalFlip::operator()(Batch batch) const {
    batch.data = (*this)(batch.data);
    return batch;
}

}  // namespace stepgrad::data
