#pragma once
/// @file print.hpp
/// @brief Printing tensors the way PyTorch does.

#include <stepgrad/tensor/tensor.hpp>

#include <iosfwd>
#include <string>

namespace stepgrad {

/// @brief PyTorch's text for a tensor: `tensor([[1., 2.],\n        [3., 4.]])`, with four
/// decimals for fractions, scientific notation for wide ranges, `...` past 1000 elements, and
/// `requires_grad=True`, `grad_fn=<MulBackward0>` or `device='cuda:0'` when they apply.
std::string to_string(const Tensor& t);

/// @brief Writes `to_string(t)`.
std::ostream& operator<<(std::ostream& out, const Tensor& t);

}  // namespace stepgrad
