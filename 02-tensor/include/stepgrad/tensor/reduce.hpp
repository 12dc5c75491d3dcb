#pragma once
/// @file reduce.hpp
/// @brief Reductions over axes (`sum`, `mean`, `max`, `min`, `var`) and `argmax`/`argmin`.
///
/// `axes` lists the axes to reduce (negative counts from the end); an empty list reduces every
/// axis. With `keepdim` the reduced axes stay as size 1 (handy for broadcasting the result
/// back), otherwise they are removed.

#include <stepgrad/tensor/tensor.hpp>

#include <cstdint>
#include <optional>
#include <vector>

namespace stepgrad {

/// @brief Sum over `axes`. Shape `(2, 3, 4)` summed over `{1}` gives `(2, 4)`, or `(2, 1, 4)`
/// with keepdim. Example: `sum(tensor({{1, 2}, {3, 4}}), {0})` is `[4, 6]`.
Tensor sum(const Tensor& x, const std::vector<std::int64_t>& axes = {}, bool keepdim = false);
/// @brief Mean over `axes` (sum divided by the number of elements reduced).
Tensor mean(const Tensor& x, const std::vector<std::int64_t>& axes = {}, bool keepdim = false);
/// @brief Largest value over `axes` (as `torch::amax`); ties share the gradient equally.
/// Throws when a reduced axis is empty.
Tensor max(const Tensor& x, const std::vector<std::int64_t>& axes = {}, bool keepdim = false);
/// @brief Smallest value over `axes` (as `torch::amin`); ties share the gradient equally.
Tensor min(const Tensor& x, const std::vector<std::int64_t>& axes = {}, bool keepdim = false);
/// @brief Same as max (LibTorch's name for reducing over several axes).
Tensor amax(const Tensor& x, const std::vector<std::int64_t>& axes = {}, bool keepdim = false);
/// @brief Same as min.
Tensor amin(const Tensor& x, const std::vector<std::int64_t>& axes = {}, bool keepdim = false);
/// @brief Variance over `axes`: mean squared deviation, divided by `n - 1` when `unbiased`.
/// Example: `var(tensor({1, 2, 3, 4}))` is 1.6667.
Tensor var(const Tensor& x, const std::vector<std::int64_t>& axes = {}, bool unbiased = true,
           bool keepdim = false);
/// @brief Index of the largest element along `axis` (first one on ties), as an Int64 tensor
/// (exact at any size). Without an axis, the index into the flattened tensor. Not differentiable.
/// Example: `argmax(tensor({{1, 5}, {7, 2}}), 1)` is `[1, 0]`.
Tensor argmax(const Tensor& x, std::optional<std::int64_t> axis = std::nullopt, bool keepdim = false);
/// @brief Index of the smallest element along `axis`, as argmax.
Tensor argmin(const Tensor& x, std::optional<std::int64_t> axis = std::nullopt, bool keepdim = false);

}  // namespace stepgrad
