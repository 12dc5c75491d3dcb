// Softmax and log-softmax, both shifted by the maximum so that exp never overflows.
#include <stepgrad/shared/error.hpp>
#include <stepgrad/tensor/autograd.hpp>
#include <stepgrad/tensor/elementwise.hpp>
#include <stepgrad/tensor/reduce.hpp>
#include <stepgrad/tensor/softmax.hpp>

namespace stepgrad {

// softmax(x) = softmax(x - c) for any constant c; with c = max, every exponent is <= 0.
// The shift is detached (a constant), and the gradient comes from exp, sum and div.
Tensor softmax(const Tensor& x, std::int64_t axis) {
    detail::check_float("softmax", x);
    STEPGRAD_CHECK(x.dim() >= 1, "softmax: expected at least 1 axis, got a 0-dimensional tensor");
    const std::int64_t a = normalize_axis("softmax", axis, x.dim());
    if (x.numel() == 0) return x * 1.0;
    Tensor exps = exp(x - max(x.detach(), {a}, /*keepdim=*/true));
    return exps / sum(exps, {a}, /*keepdim=*/true);
}

// Forward: y = x - m - log Σ exp(x - m), m the max along the axis.
// Backward: dy_i/dx_j = δ_ij - softmax_j, so dL/dx_j = g_j - softmax_j Σ_i g_i, and softmax = exp(y).
Tensor log_softmax(const Tensor& x, std::int64_t axis) {
    detail::check_float("log_softmax", x);
    STEPGRAD_CHECK(x.dim() >= 1, "log_softmax: expected at least 1 axis, got a 0-dimensional tensor");
    normalize_axis("log_softmax", axis, x.dim());  // throws for an axis out of range
    if (x.numel() == 0) return x * 1.0;
    // exercise 02.4: log-softmax, stable forward and fused backward
    // hint: forward (under a NoGradGuard): shift by max(x, {axis}, true), then subtract log(sum(exp(shifted), {axis}, true)).
    // hint: backward: grad_output - exp(out) * sum(grad_output, {axis}, true); record() it with out saved
    // hint: as a SavedTensor (SavedTensor(out), read back with .unpack()).
    Tensor out;
    {
        NoGradGuard no_grad;
        Tensor shifted = x - max(x, {axis}, /*keepdim=*/true);
        out = shifted - log(sum(exp(shifted), {axis}, /*keepdim=*/true));
    }
    return record("log_softmax", out, {x}, [axis, out = SavedTensor(out)](const Tensor& grad_output) -> Grads {
        return Grads{grad_output - exp(out.unpack()) * sum(grad_output, {axis}, /*keepdim=*/true)};
    });
    // end exercise
}

Tensor Tensor::softmax(std::int64_t axis) const { return stepgrad::softmax(*this, axis); }
Tensor Tensor::log_softmax(std::int64_t axis) const { return stepgrad::log_softmax(*this, axis); }

}  // namespace stepgrad
