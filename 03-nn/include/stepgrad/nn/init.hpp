#pragma once
/// @file init.hpp
/// @brief `nn::init`: PyTorch's weight initialisations, filling a tensor in place.
///
/// Why scale by the fan-in: a unit that sums `fan_in` inputs of variance 1 with weights of
/// variance `v` has output variance `fan_in * v`. Choosing `v ~ 1 / fan_in` (times a gain for
/// the activation) keeps activations and gradients the same size from layer to layer, so deep
/// networks neither explode nor vanish at the start of training.
///
/// Every function draws from stepgrad's default generator (`manual_seed`), writes under
/// NoGradGuard (so it works on parameters that require grad) and returns its argument.
#include <stepgrad/tensor.hpp>

#include <cstdint>
#include <utility>

namespace stepgrad::nn::init {

/// @brief The activation that follows a layer, for calculate_gain().
enum class Nonlinearity { Linear, Conv2d, Sigmoid, Tanh, ReLU, LeakyReLU, SELU };

/// @brief Whether Kaiming initialisation preserves the variance of the forward pass (fan-in)
/// or of the backward pass (fan-out).
enum class FanMode { FanIn, FanOut };

/// @brief The recommended gain for `nonlinearity` (PyTorch's `calculate_gain`): 1 for linear,
/// 5/3 for tanh, sqrt(2) for ReLU, sqrt(2 / (1 + slope^2)) for leaky ReLU with `param` as slope.
double calculate_gain(Nonlinearity nonlinearity, double param = 0.01);

/// @brief `(fan_in, fan_out)` of a weight: for a `(out, in)` Linear weight `(in, out)`; for a
/// `(out, in, kh, kw)` conv weight `(in * kh * kw, out * kh * kw)`. Needs at least 2 dimensions.
std::pair<std::int64_t, std::int64_t> calculate_fan_in_and_fan_out(const Tensor& tensor);

/// @brief Fills `tensor` with U(low, high).
Tensor uniform_(const Tensor& tensor, double low = 0.0, double high = 1.0);
/// @brief Fills `tensor` with N(mean, std^2).
Tensor normal_(const Tensor& tensor, double mean = 0.0, double std = 1.0);
/// @brief Fills `tensor` with `value`.
Tensor constant_(const Tensor& tensor, double value);
/// @brief Fills `tensor` with zeros.
Tensor zeros_(const Tensor& tensor);
/// @brief Fills `tensor` with ones.
Tensor ones_(const Tensor& tensor);

/// @brief Glorot: U(-b, b) with `b = gain * sqrt(6 / (fan_in + fan_out))`.
Tensor xavier_uniform_(const Tensor& tensor, double gain = 1.0);
/// @brief Glorot: N(0, s^2) with `s = gain * sqrt(2 / (fan_in + fan_out))`.
Tensor xavier_normal_(const Tensor& tensor, double gain = 1.0);
/// @brief He: U(-b, b) with `b = gain * sqrt(3 / fan)`, `gain = calculate_gain(nonlinearity, a)`.
/// PyTorch's Linear and Conv2d use `kaiming_uniform_(w, sqrt(5))`, i.e. `b = 1 / sqrt(fan_in)`.
Tensor kaiming_uniform_(const Tensor& tensor, double a = 0.0, FanMode mode = FanMode::FanIn,
                        Nonlinearity nonlinearity = Nonlinearity::LeakyReLU);
/// @brief He: N(0, s^2) with `s = gain / sqrt(fan)`.
Tensor kaiming_normal_(const Tensor& tensor, double a = 0.0, FanMode mode = FanMode::FanIn,
                       Nonlinearity nonlinearity = Nonlinearity::LeakyReLU);

}  // namespace stepgrad::nn::init
