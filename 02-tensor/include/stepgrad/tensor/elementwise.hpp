#pragma once
/// @file elementwise.hpp
/// @brief Elementwise operations with broadcasting, each with its gradient.
///
/// Binary operations broadcast as in NumPy/PyTorch: shapes are aligned at the last axis and a
/// size of 1 stretches to the other size. Their gradients are summed back to each input's shape
/// with sum_to(). Comparisons return 0/1 float tensors that do not require grad.

#include <stepgrad/tensor/tensor.hpp>

#include <optional>

namespace stepgrad {

/// @brief `a + b` with broadcasting. Shapes `(..)` and `(..)` broadcast to the output's shape.
/// Example: `add(zeros({2, 3}), tensor({1, 2, 3}))` has rows `[1, 2, 3]`.
Tensor add(const Tensor& a, const Tensor& b);
/// @brief `a - b` with broadcasting.
Tensor sub(const Tensor& a, const Tensor& b);
/// @brief `a * b` with broadcasting (elementwise, not the matrix product).
Tensor mul(const Tensor& a, const Tensor& b);
/// @brief `a / b` with broadcasting.
Tensor div(const Tensor& a, const Tensor& b);
/// @brief `a` to the power `b`, with broadcasting. Example: `pow(tensor({2, 3}), tensor({3, 2}))` is `[8, 9]`.
Tensor pow(const Tensor& a, const Tensor& b);
/// @brief `x` to a scalar power. Example: `pow(x, 2.0)` squares every element.
Tensor pow(const Tensor& x, double exponent);
/// @brief A scalar base to the power `x`, elementwise: `pow(2.0, tensor({3}))` is `[8]`.
Tensor pow(double base, const Tensor& x);
/// @brief Elementwise larger of `a` and `b` with broadcasting; on ties each gets half the gradient.
Tensor maximum(const Tensor& a, const Tensor& b);
/// @brief Elementwise smaller of `a` and `b` with broadcasting; on ties each gets half the gradient.
Tensor minimum(const Tensor& a, const Tensor& b);

/// @brief `-x`.
Tensor neg(const Tensor& x);
/// @brief `e^x`.
Tensor exp(const Tensor& x);
/// @brief Natural logarithm (NaN for x < 0, -inf at 0, as in PyTorch).
Tensor log(const Tensor& x);
/// @brief Square root.
Tensor sqrt(const Tensor& x);
/// @brief Absolute value (gradient sign(x), 0 at 0).
Tensor abs(const Tensor& x);
/// @brief `max(x, 0)` (gradient 0 at 0, as PyTorch).
Tensor relu(const Tensor& x);
/// @brief `x` where positive, `negative_slope * x` elsewhere.
Tensor leaky_relu(const Tensor& x, double negative_slope = 0.01);
/// @brief The logistic function `1 / (1 + e^-x)`.
Tensor sigmoid(const Tensor& x);
/// @brief Hyperbolic tangent.
Tensor tanh(const Tensor& x);
/// @brief GELU, `x Φ(x)` with Φ the standard normal CDF (PyTorch's exact form).
Tensor gelu(const Tensor& x);
/// @brief Limits `x` to `[min, max]` (either bound optional); the gradient passes where
/// `min <= x <= max`. Example: `clamp(x, 0.0, std::nullopt)` equals relu(x) in value.
Tensor clamp(const Tensor& x, std::optional<double> min, std::optional<double> max);

/// @brief `condition != 0 ? a : b`, all three broadcast together. The gradient goes to `a`
/// where the condition holds and to `b` elsewhere (none to the condition).
Tensor where(const Tensor& condition, const Tensor& a, const Tensor& b);
/// @brief `where` with a scalar for the second choice.
Tensor where(const Tensor& condition, const Tensor& a, double b);
/// @brief `where` with a scalar for the first choice.
Tensor where(const Tensor& condition, double a, const Tensor& b);

/// @brief 1 where `a > b` else 0 (broadcasting; no gradient).
Tensor gt(const Tensor& a, const Tensor& b);
/// @brief 1 where `a >= b` else 0.
Tensor ge(const Tensor& a, const Tensor& b);
/// @brief 1 where `a < b` else 0.
Tensor lt(const Tensor& a, const Tensor& b);
/// @brief 1 where `a <= b` else 0.
Tensor le(const Tensor& a, const Tensor& b);
/// @brief 1 where `a == b` else 0.
Tensor eq(const Tensor& a, const Tensor& b);
/// @brief 1 where `a != b` else 0.
Tensor ne(const Tensor& a, const Tensor& b);

/// @brief `a + b`. @see add
Tensor operator+(const Tensor& a, const Tensor& b);
/// @brief `a - b`. @see sub
Tensor operator-(const Tensor& a, const Tensor& b);
/// @brief `a * b` elementwise. @see mul
Tensor operator*(const Tensor& a, const Tensor& b);
/// @brief `a / b`. @see div
Tensor operator/(const Tensor& a, const Tensor& b);
/// @brief `-x`. @see neg
Tensor operator-(const Tensor& x);
/// @brief Adds a scalar to every element.
Tensor operator+(const Tensor& x, double value);
/// @brief Adds a scalar to every element.
Tensor operator+(double value, const Tensor& x);
/// @brief Subtracts a scalar from every element.
Tensor operator-(const Tensor& x, double value);
/// @brief `value - x` elementwise.
Tensor operator-(double value, const Tensor& x);
/// @brief Multiplies every element by a scalar.
Tensor operator*(const Tensor& x, double value);
/// @brief Multiplies every element by a scalar.
Tensor operator*(double value, const Tensor& x);
/// @brief Divides every element by a scalar.
Tensor operator/(const Tensor& x, double value);
/// @brief `value / x` elementwise.
Tensor operator/(double value, const Tensor& x);

/// @brief `gt`. @see gt
Tensor operator>(const Tensor& a, const Tensor& b);
/// @brief `ge`. @see ge
Tensor operator>=(const Tensor& a, const Tensor& b);
/// @brief `lt`. @see lt
Tensor operator<(const Tensor& a, const Tensor& b);
/// @brief `le`. @see le
Tensor operator<=(const Tensor& a, const Tensor& b);
/// @brief 1 where `x > value` else 0.
Tensor operator>(const Tensor& x, double value);
/// @brief 1 where `x >= value` else 0.
Tensor operator>=(const Tensor& x, double value);
/// @brief 1 where `x < value` else 0.
Tensor operator<(const Tensor& x, double value);
/// @brief 1 where `x <= value` else 0.
Tensor operator<=(const Tensor& x, double value);

namespace detail {
/// @brief Runs a unary kernel into a new tensor (no recording). Comparisons give a Float32
/// mask; an op that Int64 does not support runs on the input converted to Float32.
Tensor unary_kernel(UnaryOp op, const Tensor& x, double alpha = 0.0, double beta = 0.0);
/// @brief Runs a broadcasting binary kernel into a new tensor (no recording); `name` is for errors.
/// Mixed dtypes, and Int64 inputs of an op that needs real numbers, are promoted to Float32.
Tensor binary_kernel(const char* name, BinaryOp op, const Tensor& a, const Tensor& b);
/// @brief A one-element tensor holding `value` on `device`, shaped `{}`.
Tensor scalar_tensor(double value, Device device);
}  // namespace detail

}  // namespace stepgrad
