#pragma once
/// @file indexing.hpp
/// @brief Slicing and integer-array indexing, with gradients that scatter back.
///
/// Indices are Int64 tensors (float indices are refused with a clear error); negative indices
/// count from the end, as in Python, and one out of range throws std::out_of_range, found by
/// the kernel itself (no copy of the indices to the host). Contiguous slices are views.

#include <stepgrad/tensor/tensor.hpp>

#include <cstdint>
#include <optional>
#include <vector>

namespace stepgrad {

/// @brief Elements `start, start + step, ...` (before `end`) along `axis`, as Python's
/// `x[start:end:step]`: negative bounds count from the end, bounds are clamped, an empty range
/// gives a size-0 axis. `step` must be positive.
/// Example: `slice(arange(10), 0, 2, 8, 3)` is `[2, 5]`.
Tensor slice(const Tensor& x, std::int64_t axis, std::optional<std::int64_t> start,
             std::optional<std::int64_t> end, std::int64_t step = 1);
/// @brief Same as slice with `length` elements from `start` (as `torch::narrow`).
Tensor narrow(const Tensor& x, std::int64_t axis, std::int64_t start, std::int64_t length);
/// @brief The sub-tensor at `index` along `axis`, which is removed. Example: row 1 of a matrix
/// is `select(m, 0, 1)`.
Tensor select(const Tensor& x, std::int64_t axis, std::int64_t index);
/// @brief The entries `index[0], index[1], ...` along `axis` (repeats allowed; the gradient adds
/// them up). `index` is a 1-D Int64 tensor; a negative index counts from the end, one out of
/// range throws std::out_of_range. Example: `index_select(m, 0, tensor({2, 0}, TensorOptions().dtype(Dtype::Int64)))`
/// takes rows 2 and 0.
Tensor index_select(const Tensor& x, std::int64_t axis, const Tensor& index);
/// @brief Integer-array indexing of the first axis, as `x[indices]` in PyTorch: the result
/// has shape `indices.shape() + x.shape()[1:]`; `indices` is Int64.
Tensor index(const Tensor& x, const Tensor& indices);
/// @brief `out[..., j, ...] = x[..., index[..., j, ...], ...]` along `axis` (as `torch::gather`):
/// `index` has x's shape except along `axis`. Example: picking the target class's log
/// probability per row: `gather(logp, 1, targets.unsqueeze(1))`.
Tensor gather(const Tensor& x, std::int64_t axis, const Tensor& index);
/// @brief A copy of `x` with `src` added at the positions `index` names along `axis`
/// (as `torch::scatter_add`): `out[..., index[..., j, ...], ...] += src[..., j, ...]`.
/// `index` (Int64) and `src` have x's shape except along `axis`; repeated positions add up.
/// Example: counting labels per class: `scatter_add(zeros({10}), 0, labels, ones({n}))`.
Tensor scatter_add(const Tensor& x, std::int64_t axis, const Tensor& index, const Tensor& src);

}  // namespace stepgrad
