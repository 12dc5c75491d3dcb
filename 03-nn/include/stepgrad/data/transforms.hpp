#pragma once
/// @file transforms.hpp
/// @brief Transforms of whole image batches `(N, C, H, W)`: `Normalize`, `RandomCrop` (random
/// shifts with zero fill) and `RandomHorizontalFlip`, each a few tensor operations per batch,
/// never one per image.
///
/// The random transforms decide on the host what happens to each image (a shift, a flip),
/// write that down as one Int64 index tensor (where each output pixel comes from), copy it to
/// the images' device and apply it with one `gather`. The same code runs on the CPU and on a
/// GPU, and the same seed gives the same augmentation on both.
///
/// Each transform is a function object on a batch of images (`Tensor`) and on a `Batch` (it
/// changes `data`, keeps `target`), so it can be handed to `DataLoader::add_transform`.
///
/// Example (MNIST augmentation, reproducible from the loader's state):
/// @code
/// using namespace stepgrad::data;
/// DataLoader loader(train_set, DataLoaderOptions(64).shuffle(true).seed(7));
/// loader.add_transform(RandomCrop(28, 2, loader.generator()))
///       .add_transform(Normalize({0.1307}, {0.3081}));
/// @endcode
#include <stepgrad/data/dataset.hpp>
#include <stepgrad/shared/random.hpp>
#include <stepgrad/tensor.hpp>

#include <cstdint>
#include <vector>

namespace stepgrad::data {

/// @brief `(x - mean[c]) / std[c]` for each channel `c` of images `(N, C, ...)`: the mean and
/// standard deviation are broadcast as `(C, 1, ...)` tensors (as torchvision's `Normalize`).
///
/// Example: `Normalize({0.1307}, {0.3081})(images)` standardises MNIST. A mean and std of one
/// number apply to every channel.
class Normalize {
public:
    /// @brief Per-channel `mean` and standard deviation `stddev` (same length; every stddev
    /// positive).
    Normalize(std::vector<double> mean, std::vector<double> stddev);
    /// @brief The normalised images, same shape; `images` is `(N, C, ...)` with C equal to the
    /// number of means (or any C when there is one mean).
    [[nodiscard]] Tensor operator()(const Tensor& images) const;
    /// @brief `batch` with its data normalised.
    [[nodiscard]] Batch operator()(Batch batch) const;

private:
    std::vector<double> mean_;
    std::vector<double> stddev_;
};

/// @brief Pads each image with `padding` zeros on every side, then cuts a random
/// `size x size` window from it, independently per image (torchvision's `RandomCrop(size,
/// padding)`). With `size` equal to the image size, each image is shifted by up to
/// `±padding` pixels in each direction and the uncovered border is 0.
///
/// Implemented as one zero pad and one gather: the host draws each image's window corner,
/// writes the source position of every output pixel into an Int64 tensor, copies it to the
/// device, and `gather` reads the pixels.
class RandomCrop {
public:
    /// @brief Windows of `size x size` from images padded by `padding`, drawn from `generator`
    /// (which must outlive the transform; `DataLoader::generator()` does).
    RandomCrop(std::int64_t size, std::int64_t padding, Generator& generator);
    /// @brief The cropped images `(N, C, size, size)` of `images` `(N, C, H, W)`; throws
    /// std::invalid_argument when the padded image is smaller than the window.
    [[nodiscard]] Tensor operator()(const Tensor& images) const;
    /// @brief `batch` with its data cropped.
    [[nodiscard]] Batch operator()(Batch batch) const;

private:
    std::int64_t size_;
    std::int64_t padding_;
    Generator* generator_;
};

/// @brief A random shift of each image by up to `±max_shift` pixels in each direction, zero
/// filled: `RandomCrop(H, max_shift)` for square images of side H (the size is taken from the
/// batch, so one transform serves any image size).
class RandomShift {
public:
    /// @brief Shifts of up to `max_shift` pixels, drawn from `generator` (must outlive this).
    RandomShift(std::int64_t max_shift, Generator& generator);
    /// @brief The shifted images, same shape `(N, C, H, W)` (H and W may differ).
    [[nodiscard]] Tensor operator()(const Tensor& images) const;
    /// @brief `batch` with its data shifted.
    [[nodiscard]] Batch operator()(Batch batch) const;

private:
    std::int64_t max_shift_;
    Generator* generator_;
};

/// @brief Mirrors each image left to right with probability `p`, independently per image
/// (torchvision's `RandomHorizontalFlip`), with one gather.
class RandomHorizontalFlip {
public:
    /// @brief Flips with probability `p` in `[0, 1]`, drawn from `generator` (must outlive this).
    explicit RandomHorizontalFlip(Generator& generator, double p = 0.5);
    /// @brief The images `(N, C, H, W)`, some of them mirrored along W.
    [[nodiscard]] Tensor operator()(const Tensor& images) const;
    /// @brief `batch` with its data flipped.
    [[nodiscard]] Batch operator()(Batch batch) const;

private:
    Generator* generator_;
    double p_;
};

}  // namespace stepgrad::data
