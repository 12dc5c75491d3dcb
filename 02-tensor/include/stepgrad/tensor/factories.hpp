#pragma once
/// @file factories.hpp
/// @brief Making tensors: from nested lists, from vectors, filled, ranges, random (seeded).

#include <stepgrad/tensor/tensor.hpp>

#include <cstdint>
#include <initializer_list>
#include <vector>

namespace stepgrad {

class Generator;

/// @brief The device factories use when their options name none (CPU unless changed).
Device default_device();

/// @brief Changes the device that factories use by default (as `torch.set_default_device`).
///
/// One setting for the whole process, shared by all threads (reading and setting it at once is
/// not a data race, but which device a factory running meanwhile on another thread uses is then
/// unspecified): set it once, before starting threads that make tensors. The test suite uses it
/// to run chapter 2's tests on a stand-in device.
void set_default_device(Device device);

/// @brief Where a new tensor goes, its dtype and whether it requires grad (as `torch::TensorOptions`).
///
/// Example: `zeros({2, 3}, TensorOptions().requires_grad(true))`,
/// `tensor({3, 1, 4}, TensorOptions().dtype(Dtype::Int64))`.
class TensorOptions {
public:
    /// @brief Sets the device (default_device() when not set).
    TensorOptions& device(Device device) { device_ = device; has_device_ = true; return *this; }
    /// @brief Sets the element type (Float32 by default).
    TensorOptions& dtype(Dtype dtype) { dtype_ = dtype; has_dtype_ = true; return *this; }
    /// @brief Sets whether the new tensor requires grad (false by default; Float32 only).
    TensorOptions& requires_grad(bool requires_grad = true) { requires_grad_ = requires_grad; return *this; }
    /// @brief The device.
    [[nodiscard]] Device device() const { return has_device_ ? device_ : default_device(); }
    /// @brief The element type (Float32 unless set).
    [[nodiscard]] Dtype dtype() const { return dtype_; }
    /// @brief The element type if set, else `fallback` (randperm's default is Int64, as in PyTorch).
    [[nodiscard]] Dtype dtype_or(Dtype fallback) const { return has_dtype_ ? dtype_ : fallback; }
    /// @brief Whether the new tensor requires grad.
    [[nodiscard]] bool requires_grad() const { return requires_grad_; }

private:
    Device device_ = Device::CPU;
    bool has_device_ = false;
    Dtype dtype_ = Dtype::Float32;
    bool has_dtype_ = false;
    bool requires_grad_ = false;
};

/// @brief A 0-dimensional tensor (shape `{}`) holding `value`.
Tensor scalar_tensor(double value, TensorOptions options = {});
/// @brief Numbers in nested braces, as LibTorch's `TensorDataContainer`: a number, or a list of
/// equally shaped TensorData. Lets `tensor({{1, 2}, {3, 4}})` deduce its shape from the braces.
class TensorData {
public:
    /// @brief A single number (a 0-dimensional tensor).
    TensorData(double value) : value_(value) {}  // NOLINT: implicit on purpose, for the braces
    /// @brief A list of numbers or of lists (one more dimension).
    TensorData(std::initializer_list<TensorData> items) : scalar_(false), items_(items) {}
    /// @brief The shape the braces describe (throws if the lists are not rectangular).
    [[nodiscard]] Shape shape() const;
    /// @brief The numbers in row-major order.
    [[nodiscard]] std::vector<float> values() const;

private:
    friend Tensor tensor(const TensorData& data, TensorOptions options);
    void collect(std::vector<double>& out, Shape& shape, std::size_t depth) const;
    double value_ = 0.0;
    bool scalar_ = true;
    std::vector<TensorData> items_;
};

/// @brief A tensor from (nested) braces. Example: `tensor({{1, 2}, {3, 4}})` has shape `(2, 2)`,
/// `tensor({1, 2, 3})` shape `(3)`, `tensor(5)` shape `{}`.
Tensor tensor(const TensorData& data, TensorOptions options = {});
/// @brief A tensor of `shape` holding `values` in row-major order (sizes must agree).
Tensor from_vector(const std::vector<float>& values, const Shape& shape, TensorOptions options = {});
/// @brief An Int64 tensor of `shape` holding `values` (labels, indices); options give the device.
Tensor from_vector(const std::vector<std::int64_t>& values, const Shape& shape, TensorOptions options = {});

/// @brief A tensor of `shape` filled with 0. Example: `zeros({2, 3})`.
Tensor zeros(const Shape& shape, TensorOptions options = {});
/// @brief A tensor of `shape` filled with 1.
Tensor ones(const Shape& shape, TensorOptions options = {});
/// @brief A tensor of `shape` filled with `value`.
Tensor full(const Shape& shape, double value, TensorOptions options = {});
/// @brief The identity matrix `(n, n)`.
Tensor eye(std::int64_t n, TensorOptions options = {});
/// @brief `0, 1, ..., end - 1` (as floats). Example: `arange(4)` is `[0, 1, 2, 3]`.
Tensor arange(double end, TensorOptions options = {});
/// @brief `start, start + step, ...` below `end` (above it for a negative step).
Tensor arange(double start, double end, double step = 1.0, TensorOptions options = {});
/// @brief Uniform numbers in `[0, 1)` from this thread's default generator (see manual_seed).
Tensor rand(const Shape& shape, TensorOptions options = {});
/// @brief Uniform numbers in `[0, 1)` from `generator`.
Tensor rand(const Shape& shape, Generator& generator, TensorOptions options = {});
/// @brief Standard normal numbers from this thread's default generator.
Tensor randn(const Shape& shape, TensorOptions options = {});
/// @brief Standard normal numbers from `generator`.
Tensor randn(const Shape& shape, Generator& generator, TensorOptions options = {});
/// @brief Uniform numbers in `[low, high)` from `generator` (handy for weight initialisation).
Tensor uniform(const Shape& shape, double low, double high, Generator& generator, TensorOptions options = {});
/// @brief A random permutation of `0, 1, ..., n-1` as an Int64 tensor (as `torch::randperm`),
/// e.g. to shuffle a dataset: `images.index_select(0, randperm(n, generator))`.
Tensor randperm(std::int64_t n, Generator& generator, TensorOptions options = {});
/// @brief randperm() with this thread's default generator.
Tensor randperm(std::int64_t n, TensorOptions options = {});

/// @brief zeros with `like`'s shape and device.
Tensor zeros_like(const Tensor& like);
/// @brief ones with `like`'s shape and device.
Tensor ones_like(const Tensor& like);
/// @brief full with `like`'s shape and device.
Tensor full_like(const Tensor& like, double value);
/// @brief rand with `like`'s shape and device.
Tensor rand_like(const Tensor& like);
/// @brief randn with `like`'s shape and device.
Tensor randn_like(const Tensor& like);

/// @brief Restarts this thread's default generator: the one rand/randn/randperm without a
/// generator argument, nn::init and Dropout draw from.
///
/// Example: `manual_seed(0); auto a = randn({3}); manual_seed(0); auto b = randn({3});` — equal.
/// Other threads' generators are untouched: a thread that calls manual_seed(s), then builds and
/// trains a model, gets the same numbers whatever other threads do meanwhile (unlike PyTorch,
/// whose default CPU generator is one per process behind a mutex, so that threads drawing at
/// once interleave their streams).
void manual_seed(std::uint64_t seed);

/// @brief This thread's default generator (see manual_seed).
///
/// Each thread has its own, made on the thread's first use and seeded with 0, the seed the
/// main thread starts with too: a thread that never seeds draws the stream manual_seed(0) gives,
/// so two unseeded threads draw the same numbers (seed each thread differently, e.g. with its
/// index, when they must differ). Only its own thread may use it; to share a stream between
/// threads, pass one Generator explicitly and guard it with a mutex. A checkpoint that saves
/// `default_generator().state()` saves the calling thread's.
Generator& default_generator();

}  // namespace stepgrad
