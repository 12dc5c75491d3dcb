#pragma once
/// @file shape_ops.hpp
/// @brief Operations that rearrange elements: reshape, transpose, permute, (un)squeeze, expand,
/// cat, stack, pad. Each has the gradient that puts the elements back where they came from.

#include <stepgrad/tensor/tensor.hpp>

#include <cstdint>
#include <optional>
#include <vector>

namespace stepgrad {

/// @brief The same elements in a new shape with the same number of elements; one size may be
/// -1 (inferred). A view: the result shares x's storage (no copy).
/// Example: `reshape(arange(6), {2, -1})` has shape `(2, 3)`.
Tensor reshape(const Tensor& x, const Shape& shape);
/// @brief Merges axes `start_axis..end_axis` into one. Example: `(64, 1, 28, 28)` → `(64, 784)`
/// with `flatten(x, 1)`.
Tensor flatten(const Tensor& x, std::int64_t start_axis = 0, std::int64_t end_axis = -1);
/// @brief Swaps two axes (copies). Example: `(2, 3, 4)` with `transpose(x, 0, 2)` → `(4, 3, 2)`.
Tensor transpose(const Tensor& x, std::int64_t axis0, std::int64_t axis1);
/// @brief Reorders the axes: output axis i is input axis `order[i]`.
/// Example: `(2, 3, 4)` with `permute(x, {2, 0, 1})` → `(4, 2, 3)`.
Tensor permute(const Tensor& x, const std::vector<std::int64_t>& order);
/// @brief Inserts an axis of size 1 at `axis` (`-1` appends). Example: `(3)` → `(1, 3)` at 0.
Tensor unsqueeze(const Tensor& x, std::int64_t axis);
/// @brief Removes size-1 axes: all of them, or only `axis` (left alone when its size is not 1).
Tensor squeeze(const Tensor& x, std::optional<std::int64_t> axis = std::nullopt);
/// @brief Broadcasts `x` to `shape` (copies): size-1 axes stretch, new axes are added in front,
/// -1 keeps a size. The gradient sums the copies back (sum_to).
/// Example: `expand(tensor({1, 2}), {3, 2})` has three rows `[1, 2]`.
Tensor expand(const Tensor& x, const Shape& shape);
/// @brief Same as expand (NumPy's name).
Tensor broadcast_to(const Tensor& x, const Shape& shape);
/// @brief Joins tensors along an existing axis; all other sizes must match.
/// Example: `cat({zeros({2, 3}), ones({1, 3})}, 0)` has shape `(3, 3)`.
Tensor cat(const std::vector<Tensor>& tensors, std::int64_t axis = 0);
/// @brief Joins equally shaped tensors along a new axis. Example: two `(3)` → `(2, 3)` at 0.
Tensor stack(const std::vector<Tensor>& tensors, std::int64_t axis = 0);
/// @brief Pads with `value` as `torch::nn::functional::pad`: `pads` holds (before, after) pairs
/// starting from the LAST axis. Example: `pad(x, {1, 1})` of `(2, 3)` gives `(2, 5)`;
/// `pad(x, {0, 0, 2, 0})` adds two rows on top. Pads must be non-negative.
Tensor pad(const Tensor& x, const std::vector<std::int64_t>& pads, double value = 0.0);

namespace detail {
/// @brief Copies `x` with its axes reordered (no recording); used by permute and its gradient.
Tensor permute_kernel(const Tensor& x, const std::vector<std::int64_t>& order);
/// @brief Copies `x` broadcast to `shape` (no recording).
Tensor expand_kernel(const Tensor& x, const Shape& shape);
}  // namespace detail

}  // namespace stepgrad
