// Gradient clipping, on the device: the norm and the scale stay tensors (no host read).
#include <stepgrad/nn/clip_grad.hpp>

#include <stepgrad/shared/error.hpp>

#include <cmath>

namespace stepgrad::nn::utils {
namespace {

// The gradients that exist, all on one device.
std::vector<Tensor> defined_grads(const char* op, const std::vector<Tensor>& parameters) {
    std::vector<Tensor> grads;
    for (const Tensor& p : parameters) {
        STEPGRAD_CHECK(p.defined(), op << ": a parameter is undefined");
        Tensor grad = p.grad();
        if (!grad.defined()) continue;
        if (!grads.empty()) stepgrad::detail::check_same_device(op, grads.front(), grad);
        grads.push_back(grad);
    }
    return grads;
}

// ‖x‖_p of all elements as a 0-d tensor: max |x| for p = inf, sqrt(Σ x²) for p = 2, (Σ |x|^p)^(1/p).
Tensor p_norm(const Tensor& x, double p) {
    if (std::isinf(p)) return amax(abs(x));
    if (p == 2.0) return sqrt(sum(x * x));
    if (p == 1.0) return sum(abs(x));
    return pow(sum(pow(abs(x), p)), 1.0 / p);
}

}  // namespace

Tensor clip_grad_norm_(const std::vector<Tensor>& parameters, double max_norm, double norm_type,
                       bool error_if_nonfinite) {
    STEPGRAD_CHECK(norm_type > 0.0, "clip_grad_norm_: norm_type " << norm_type
                                                                  << " is not supported; use a p > 0 or infinity");
    NoGradGuard no_grad;
    const std::vector<Tensor> grads = defined_grads("clip_grad_norm_", parameters);
    if (grads.empty()) return scalar_tensor(0.0);
    // the norm of the per-gradient norms is the norm of everything concatenated
    std::vector<Tensor> norms;
    norms.reserve(grads.size());
    for (const Tensor& g : grads) norms.push_back(p_norm(g, norm_type));
    const Tensor total_norm = norms.size() == 1 ? norms.front() : p_norm(stack(norms), norm_type);
    if (error_if_nonfinite) {
        const float value = total_norm.item();  // the one host read, only when asked for
        if (!std::isfinite(value)) {
            throw std::runtime_error("clip_grad_norm_: the total norm of order " + std::to_string(norm_type) +
                                     " of the gradients is non-finite, so it cannot be clipped; to scale the "
                                     "gradients by the non-finite norm anyway, set error_if_nonfinite=false");
        }
    }
    // coef = min(max_norm / (norm + 1e-6), 1): multiplying by 1 is cheaper than asking the host
    const Tensor coefficient = clamp(max_norm / (total_norm + 1e-6), std::nullopt, 1.0);
    for (Tensor g : grads) g.mul_(coefficient);
    return total_norm;
}

void clip_grad_value_(const std::vector<Tensor>& parameters, double clip_value) {
    STEPGRAD_CHECK(clip_value >= 0.0, "clip_grad_value_: clip_value " << clip_value << " must be >= 0");
    NoGradGuard no_grad;
    for (Tensor g : defined_grads("clip_grad_value_", parameters)) g.copy_(clamp(g, -clip_value, clip_value));
}

}  // namespace stepgrad::nn::utils
