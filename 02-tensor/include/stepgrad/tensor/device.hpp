#pragma once
/// @file device.hpp
/// @brief Where a tensor's numbers live (`Device`), and `Shape`, the list of a tensor's sizes.

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

namespace stepgrad {

/// @brief The sizes of a tensor's dimensions, outermost first, as in `torch::IntArrayRef`.
///
/// Example: a batch of 64 MNIST images flattened to rows has shape `{64, 784}`; a scalar
/// (0-dimensional tensor) has the empty shape `{}` and one element.
using Shape = std::vector<std::int64_t>;

/// @brief The memory a tensor's data lives in.
///
/// Chapter 2 implements the CPU; chapter 4 registers a CUDA backend (see backend.hpp).
/// Example: `Tensor y = x.to(Device::CUDA);`
enum class Device {
    CPU,   ///< main memory, kernels written with plain loops, xtensor and OpenBLAS
    CUDA,  ///< an NVIDIA GPU, available once chapter 4's backend is registered
};

/// @brief The device's name as PyTorch prints it: "cpu" or "cuda".
std::string to_string(Device device);

/// @brief Writes `to_string(device)`.
std::ostream& operator<<(std::ostream& out, Device device);

/// @brief A shape as PyTorch prints it: `[2, 3]` (and `[]` for a scalar).
std::string shape_to_string(const Shape& shape);

/// @brief The number of elements of a tensor of this shape (1 for the empty shape `{}`).
///
/// Throws std::invalid_argument for a negative size, or when the count overflows 64 bits
/// (`{1LL << 62, 4}`), so no tensor is ever made with a wrapped-around size.
std::int64_t numel_of(const Shape& shape);

/// @brief Row-major (C order) strides of a contiguous tensor of this shape, in elements.
///
/// Example: `contiguous_strides({2, 3, 4}) == {12, 4, 1}`.
std::vector<std::int64_t> contiguous_strides(const Shape& shape);

/// @brief Strides for reading a contiguous tensor of `in_shape` as if broadcast to `out_shape`.
///
/// Axes that broadcasting adds or stretches (size 1 in `in_shape`) get stride 0, so the same
/// element is read again. The one helper every broadcasting kernel and copy uses.
/// Example: `broadcast_strides({3}, {2, 3}) == {0, 1}`; `broadcast_strides({2, 1}, {2, 3}) == {1, 0}`.
std::vector<std::int64_t> broadcast_strides(const Shape& in_shape, const Shape& out_shape);

/// @brief The shape two shapes broadcast to, following NumPy/PyTorch rules.
///
/// Shapes are aligned at their last dimension; each pair of sizes must be equal or one of
/// them 1. Throws std::invalid_argument naming `op` and both shapes otherwise.
/// Example: `broadcast_shapes("add", {64, 128}, {128}) == {64, 128}`.
Shape broadcast_shapes(const char* op, const Shape& a, const Shape& b);

/// @brief Turns a possibly negative axis into `0..ndim-1`, throwing (naming `op`) when out of range.
///
/// Example: `normalize_axis("sum", -1, 3) == 2`.
std::int64_t normalize_axis(const char* op, std::int64_t axis, std::int64_t ndim);

}  // namespace stepgrad
