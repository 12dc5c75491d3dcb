#pragma once
/// @file clip_grad.hpp
/// @brief Gradient clipping (`torch.nn.utils.clip_grad_norm_` and `clip_grad_value_`): bound the
/// gradients in place before an optimizer step, so one bad batch cannot throw the weights far.
#include <stepgrad/tensor.hpp>

#include <limits>
#include <vector>

namespace stepgrad::nn::utils {

/// @brief Scales every gradient of `parameters` in place so that their total norm (the norm of
/// all gradients concatenated into one vector) is at most `max_norm`, and returns that total norm
/// before clipping, as a 0-dimensional tensor on the gradients' device.
///
/// As PyTorch 2 does, the scale is `coef = min(max_norm / (total_norm + 1e-6), 1)` computed on
/// the device and every gradient is multiplied by it, so there is no host read (coef is 1 when
/// the norm is already below `max_norm`, up to the 1e-6). Parameters without a gradient are
/// skipped; with none at all the result is 0.
///
/// @param parameters the tensors whose gradients are clipped (e.g. `model->parameters()`)
/// @param max_norm the largest total norm allowed
/// @param norm_type p of the p-norm (> 0), or `std::numeric_limits<double>::infinity()` for the
///        largest absolute value
/// @param error_if_nonfinite throw std::runtime_error when the total norm is NaN or infinite
///        (this check reads the norm on the host)
///
/// Example:
/// @code
/// loss.backward();
/// stepgrad::Tensor norm = stepgrad::nn::utils::clip_grad_norm_(model->parameters(), 1.0);
/// optimizer.step();
/// @endcode
Tensor clip_grad_norm_(const std::vector<Tensor>& parameters, double max_norm, double norm_type = 2.0,
                       bool error_if_nonfinite = false);

/// @brief Clamps every gradient of `parameters` in place to [-clip_value, clip_value].
///
/// Example: `stepgrad::nn::utils::clip_grad_value_(model->parameters(), 0.5);`
/// @param parameters the tensors whose gradients are clamped
/// @param clip_value the largest absolute value allowed (>= 0)
void clip_grad_value_(const std::vector<Tensor>& parameters, double clip_value);

}  // namespace stepgrad::nn::utils
