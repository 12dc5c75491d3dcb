#pragma once
/// @file value_tensor.hpp
/// @brief A tensor made of chapter-1 `scalar::Value`s, one per element: the reference that the
/// chapter-2 `Tensor` is compared against in scalar_vs_tensor_test.cpp.
///
/// Every operation here is spelled out element by element with chapter 1's operators, so its
/// gradient is whatever chapter 1's autograd computes. The free functions carry the same names
/// and arguments as chapter 2's (`sum(x, {1}, true)`, `matmul(a, b)`, `softmax(x, 1)`), so one
/// generic expression can be built from either kind of tensor. Picking an element (max, where,
/// maximum, abs, clamp, slicing) hands on the chosen Value itself, so the gradient flows to
/// exactly that element, as the derivative of a selection does.

#include <stepgrad/scalar.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

namespace crosscheck {

using stepgrad::scalar::Value;
using Shape = std::vector<std::int64_t>;

/// @brief Values in row-major order with a shape (a plain aggregate: no graph of its own).
struct ValueTensor {
    Shape shape;
    std::vector<Value> values;

    /// @brief Leaves holding `data` (the same numbers a Tensor is made from).
    static ValueTensor leaves(const std::vector<float>& data, const Shape& shape);
    /// @brief Each element's data, in row-major order.
    [[nodiscard]] std::vector<double> data() const;
    /// @brief Each element's grad, in row-major order.
    [[nodiscard]] std::vector<double> grads() const;
};

// ---- elementwise, with NumPy broadcasting -------------------------------------------------

ValueTensor operator+(const ValueTensor& a, const ValueTensor& b);
ValueTensor operator-(const ValueTensor& a, const ValueTensor& b);
ValueTensor operator*(const ValueTensor& a, const ValueTensor& b);
ValueTensor operator/(const ValueTensor& a, const ValueTensor& b);
ValueTensor operator-(const ValueTensor& x);
ValueTensor operator+(const ValueTensor& x, double c);
ValueTensor operator+(double c, const ValueTensor& x);
ValueTensor operator-(const ValueTensor& x, double c);
ValueTensor operator-(double c, const ValueTensor& x);
ValueTensor operator*(const ValueTensor& x, double c);
ValueTensor operator*(double c, const ValueTensor& x);
ValueTensor operator/(const ValueTensor& x, double c);
ValueTensor operator/(double c, const ValueTensor& x);
/// @brief 1 where a > b else 0 (constants: comparisons have no gradient).
ValueTensor operator>(const ValueTensor& a, const ValueTensor& b);
ValueTensor operator>(const ValueTensor& x, double c);
ValueTensor operator<(const ValueTensor& x, double c);

ValueTensor neg(const ValueTensor& x);
ValueTensor exp(const ValueTensor& x);
ValueTensor log(const ValueTensor& x);
ValueTensor tanh(const ValueTensor& x);
ValueTensor sigmoid(const ValueTensor& x);
ValueTensor relu(const ValueTensor& x);
/// @brief x^0.5 with chapter 1's pow.
ValueTensor sqrt(const ValueTensor& x);
/// @brief x or -x, whichever is not negative.
ValueTensor abs(const ValueTensor& x);
ValueTensor leaky_relu(const ValueTensor& x, double negative_slope = 0.01);
ValueTensor pow(const ValueTensor& x, double exponent);
ValueTensor pow(const ValueTensor& base, const ValueTensor& exponent);
/// @brief The element itself inside [min, max], the bound (a constant) outside.
ValueTensor clamp(const ValueTensor& x, std::optional<double> min, std::optional<double> max);
ValueTensor maximum(const ValueTensor& a, const ValueTensor& b);
ValueTensor minimum(const ValueTensor& a, const ValueTensor& b);
/// @brief a's element where condition's data is non-zero, else b's.
ValueTensor where(const ValueTensor& condition, const ValueTensor& a, const ValueTensor& b);

// ---- reductions over axes ----------------------------------------------------------------

ValueTensor sum(const ValueTensor& x, const std::vector<std::int64_t>& axes = {}, bool keepdim = false);
ValueTensor mean(const ValueTensor& x, const std::vector<std::int64_t>& axes = {}, bool keepdim = false);
ValueTensor max(const ValueTensor& x, const std::vector<std::int64_t>& axes = {}, bool keepdim = false);
ValueTensor min(const ValueTensor& x, const std::vector<std::int64_t>& axes = {}, bool keepdim = false);
ValueTensor var(const ValueTensor& x, const std::vector<std::int64_t>& axes = {}, bool unbiased = true,
                bool keepdim = false);

// ---- products and rearrangements -----------------------------------------------------------

/// @brief PyTorch's matmul rules: 1-D operands promoted, batch axes broadcast.
ValueTensor matmul(const ValueTensor& a, const ValueTensor& b);
ValueTensor reshape(const ValueTensor& x, const Shape& shape);
ValueTensor flatten(const ValueTensor& x, std::int64_t start_axis = 0, std::int64_t end_axis = -1);
ValueTensor permute(const ValueTensor& x, const std::vector<std::int64_t>& order);
ValueTensor transpose(const ValueTensor& x, std::int64_t axis0, std::int64_t axis1);
ValueTensor unsqueeze(const ValueTensor& x, std::int64_t axis);
ValueTensor squeeze(const ValueTensor& x, std::optional<std::int64_t> axis = std::nullopt);
ValueTensor expand(const ValueTensor& x, const Shape& shape);
ValueTensor slice(const ValueTensor& x, std::int64_t axis, std::optional<std::int64_t> start,
                  std::optional<std::int64_t> end, std::int64_t step = 1);
ValueTensor select(const ValueTensor& x, std::int64_t axis, std::int64_t index);
ValueTensor cat(const std::vector<ValueTensor>& tensors, std::int64_t axis = 0);
ValueTensor stack(const std::vector<ValueTensor>& tensors, std::int64_t axis = 0);

// ---- softmax, written from the operations above ------------------------------------------

ValueTensor softmax(const ValueTensor& x, std::int64_t axis);
ValueTensor log_softmax(const ValueTensor& x, std::int64_t axis);

}  // namespace crosscheck
