#pragma once
/// @file factories.hpp
/// @brief Making tensors: from nested lists, from vectors, filled, ranges, random (seeded).

#include <stepgrad/tensor/tensor.hpp>

#include <cstdint>
#include <initializer_list>
#include <vector>

namespace stepgrad {

class Generator;

/// @brief Where a new tensor goes and whether it requires grad (as `torch::TensorOptions`).
///
/// Example: `zeros({2, 3}, TensorOptions().requires_grad(true))`.
class TensorOptions {
public:
    /// @brief Sets the device (CPU by default).
    TensorOptions& device(Device device) { device_ = device; return *this; }
    /// @brief Sets whether the new tensor requires grad (false by default).
    TensorOptions& requires_grad(bool requires_grad = true) { requires_grad_ = requires_grad; return *this; }
    /// @brief The device.
    [[nodiscard]] Device device() const { return device_; }
    /// @brief Whether the new tensor requires grad.
    [[nodiscard]] bool requires_grad() const { return requires_grad_; }

private:
    Device device_ = Device::CPU;
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
    void collect(std::vector<float>& out, Shape& shape, std::size_t depth) const;
    double value_ = 0.0;
    bool scalar_ = true;
    std::vector<TensorData> items_;
};

/// @brief A tensor from (nested) braces. Example: `tensor({{1, 2}, {3, 4}})` has shape `(2, 2)`,
/// `tensor({1, 2, 3})` shape `(3)`, `tensor(5)` shape `{}`.
Tensor tensor(const TensorData& data, TensorOptions options = {});
/// @brief A tensor of `shape` holding `values` in row-major order (sizes must agree).
Tensor from_vector(const std::vector<float>& values, const Shape& shape, TensorOptions options = {});

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
/// @brief Uniform numbers in `[0, 1)` from the global generator (see manual_seed).
Tensor rand(const Shape& shape, TensorOptions options = {});
/// @brief Uniform numbers in `[0, 1)` from `generator`.
Tensor rand(const Shape& shape, Generator& generator, TensorOptions options = {});
/// @brief Standard normal numbers from the global generator.
Tensor randn(const Shape& shape, TensorOptions options = {});
/// @brief Standard normal numbers from `generator`.
Tensor randn(const Shape& shape, Generator& generator, TensorOptions options = {});
/// @brief Uniform numbers in `[low, high)` from `generator` (handy for weight initialisation).
Tensor uniform(const Shape& shape, double low, double high, Generator& generator, TensorOptions options = {});

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

/// @brief Restarts the global generator used by rand/randn without a generator argument.
/// Example: `manual_seed(0); auto a = randn({3}); manual_seed(0); auto b = randn({3});` — equal.
void manual_seed(std::uint64_t seed);
/// @brief The global generator (one per process, not thread-safe: seed it and draw from one thread).
Generator& default_generator();

}  // namespace stepgrad
