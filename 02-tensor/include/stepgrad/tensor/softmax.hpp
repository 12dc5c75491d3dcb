#pragma once
/// @file softmax.hpp
/// @brief Numerically stable softmax and log-softmax.

#include <stepgrad/tensor/tensor.hpp>

#include <cstdint>

namespace stepgrad {

/// @brief `exp(x_i) / Σ_j exp(x_j)` along `axis`, computed as `exp(x - max)` so large inputs do
/// not overflow. Built from primitives (its gradient comes from theirs).
/// Example: `softmax(tensor({{1, 2, 3}}), 1)` is `[[0.0900, 0.2447, 0.6652]]`.
Tensor softmax(const Tensor& x, std::int64_t axis);

/// @brief `x_i - log Σ_j exp(x_j)` along `axis`, stable for any input (subtracts the max),
/// with a fused backward `g - softmax(x) * Σ g`.
/// Example: `log_softmax(tensor({1000, 0}), 0)` is `[0, -1000]`, not NaN.
Tensor log_softmax(const Tensor& x, std::int64_t axis);

}  // namespace stepgrad
