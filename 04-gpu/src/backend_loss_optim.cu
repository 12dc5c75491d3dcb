// ThrustBackend, part 6: fused cross-entropy and the optimizer updates.
//
// Each kernel follows the CPU's (02-tensor/src/cpu_loss_optim_kernels.cpp) float operations in
// the same order, so the two agree to rounding. Where the CPU throws for a bad target before
// writing anything, a kernel cannot: it records the target in the device's error slot, skips
// what it would have read out of bounds, and the next copy to the host throws.
#include "device_errors.hpp"
#include "seam.hpp"

#include <stepgrad/gpu/thrust_backend.hpp>

#include <cmath>
#include <cstdint>

namespace stepgrad::gpu {

// ---- cross-entropy --------------------------------------------------------------------------

namespace {

/// Whether `target` is a class in [0, classes) or ignore_index; records it in the error slot if not.
STEPGRAD_HOST_DEVICE inline bool target_ok(std::int64_t target, std::int64_t classes, std::int64_t ignore_index,
                                           DeviceErrorSlot* errors) {
    if (target == ignore_index || (target >= 0 && target < classes)) return true;
    report_device_error(errors, kTargetOutOfRange, target, classes);
    return false;
}

// One thread per row:
//   log_probs[c] = (x[c] - m) - log Σ_k exp(x[k] - m),  m = max_k x[k]  (no exp can overflow)
//   loss = (1-ε) (-log_probs[target]) + ε/classes Σ_c -log_probs[c]   (in double, as the CPU)
//   valid = 0 and loss = 0 on a row whose target is ignore_index.
// m is found as std::max_element does (a later element wins only if strictly larger).
struct CrossEntropyForwardKernel {
    const float* logits;         // (batch, classes)
    const std::int64_t* target;  // (batch)
    std::int64_t classes;
    std::int64_t ignore_index;
    double smoothing;
    DeviceErrorSlot* errors;
    float* log_probs;  // (batch, classes)
    float* loss;       // (batch)
    float* valid;      // (batch)

    STEPGRAD_HOST_DEVICE void operator()(std::int64_t row) const {
        const float* x = logits + row * classes;
        float* out = log_probs + row * classes;
        if (classes > 0) {
            float shift = x[0];
            for (std::int64_t c = 1; c < classes; ++c)
                if (shift < x[c]) shift = x[c];
            double sum_exp = 0.0;
            for (std::int64_t c = 0; c < classes; ++c) sum_exp += expf(x[c] - shift);
            const auto log_sum = static_cast<float>(log(sum_exp));
            for (std::int64_t c = 0; c < classes; ++c) out[c] = (x[c] - shift) - log_sum;
        }

        const std::int64_t t = target[row];
        if (!target_ok(t, classes, ignore_index, errors) || t == ignore_index) {
            loss[row] = 0.0f;
            valid[row] = 0.0f;
            return;
        }
        double row_loss = -(1.0 - smoothing) * out[t];
        if (smoothing != 0.0) {
            double sum_log_probs = 0.0;
            for (std::int64_t c = 0; c < classes; ++c) sum_log_probs += out[c];
            row_loss -= smoothing / static_cast<double>(classes) * sum_log_probs;
        }
        loss[row] = static_cast<float>(row_loss);
        valid[row] = 1.0f;
    }
};

// One thread per logit: grad = grad_loss[row] (softmax_c - q_c), q = (1-ε) one_hot(target) + ε/classes;
// 0 on a row whose target is ignore_index (or out of range, which is recorded).
struct CrossEntropyBackwardKernel {
    const float* log_probs;      // (batch, classes)
    const std::int64_t* target;  // (batch)
    const float* grad_loss;      // (batch)
    std::int64_t classes;
    std::int64_t ignore_index;
    float label_smoothing;
    float spread;  // label_smoothing / classes, q off the target
    DeviceErrorSlot* errors;
    float* grad_logits;  // (batch, classes)

    STEPGRAD_HOST_DEVICE void operator()(std::int64_t k) const {
        const std::int64_t row = k / classes, c = k % classes;
        const std::int64_t t = target[row];
        if (!target_ok(t, classes, ignore_index, errors) || t == ignore_index) {
            grad_logits[k] = 0.0f;
            return;
        }
        const float scale = grad_loss[row];
        float grad = scale * (expf(log_probs[k]) - spread);
        if (c == t) grad -= scale * (1.0f - label_smoothing);
        grad_logits[k] = grad;
    }
};

}  // namespace

void ThrustBackend::cross_entropy_forward(const float* logits, const std::int64_t* target, std::int64_t batch,
                                          std::int64_t classes, std::int64_t ignore_index, float label_smoothing,
                                          float* log_probs, float* loss, float* valid) {
    for_each_index(batch, CrossEntropyForwardKernel{logits, target, classes, ignore_index,
                                                    static_cast<double>(label_smoothing), device_error_slot(),
                                                    log_probs, loss, valid});
}

void ThrustBackend::cross_entropy_backward(const float* log_probs, const std::int64_t* target, const float* grad_loss,
                                           std::int64_t batch, std::int64_t classes, std::int64_t ignore_index,
                                           float label_smoothing, float* grad_logits) {
    const float spread = label_smoothing / static_cast<float>(classes);
    for_each_index(batch * classes,
                   CrossEntropyBackwardKernel{log_probs, target, grad_loss, classes, ignore_index, label_smoothing,
                                              spread, device_error_slot(), grad_logits});
}

// ---- optimizer updates ----------------------------------------------------------------------

namespace {

// One thread per parameter, torch.optim.SGD:
//   g = grad + weight_decay * param
//   with momentum: buf = first_step ? g : momentum * buf + (1 - dampening) * g
//                  g = nesterov ? g + momentum * buf : buf
//   param -= lr * g
struct SgdKernel {
    float lr, momentum, weight_decay, keep;  // keep = 1 - dampening
    bool nesterov, first_step;
    float* param;
    const float* grad;
    float* buffer;  // null without momentum

    STEPGRAD_HOST_DEVICE void operator()(std::int64_t k) const {
        const float g = grad[k] + weight_decay * param[k];
        if (momentum == 0.0f) {
            param[k] -= lr * g;
            return;
        }
        const float b = first_step ? g : momentum * buffer[k] + keep * g;
        buffer[k] = b;
        param[k] -= lr * (nesterov ? g + momentum * b : b);
    }
};

// One thread per parameter, torch.optim.Adam(W), with both kinds of weight decay folded into
// two constants as on the CPU (Adam: l2 = wd, shrink = 1; AdamW: l2 = 0, shrink = 1 - lr wd):
//   g = grad + l2 * param;  m = β1 m + (1-β1) g;  v = β2 v + (1-β2) g²
//   param = param * shrink - step_size * m / (sqrt(v) / sqrt(1 - β2^t) + eps),  step_size = lr / (1 - β1^t)
struct AdamKernel {
    float step_size, correction2_sqrt, l2, shrink, beta1, beta2, eps;
    float* param;
    const float* grad;
    float* exp_avg;
    float* exp_avg_sq;

    STEPGRAD_HOST_DEVICE void operator()(std::int64_t k) const {
        const float p = param[k];
        const float g = grad[k] + l2 * p;
        const float m = beta1 * exp_avg[k] + (1.0f - beta1) * g;
        const float v = beta2 * exp_avg_sq[k] + (1.0f - beta2) * g * g;
        exp_avg[k] = m;
        exp_avg_sq[k] = v;
        param[k] = p * shrink - step_size * (m / (sqrtf(v) / correction2_sqrt + eps));
    }
};

}  // namespace

void ThrustBackend::sgd_step(float* param, const float* grad, float* momentum_buffer, std::int64_t count,
                             const SgdUpdate& update) {
    for_each_index(count, SgdKernel{update.lr, update.momentum, update.weight_decay, 1.0f - update.dampening,
                                    update.nesterov, update.first_step, param, grad, momentum_buffer});
}

void ThrustBackend::adam_step(float* param, const float* grad, float* exp_avg, float* exp_avg_sq, std::int64_t count,
                              const AdamUpdate& update) {
    // The bias corrections, on the host in double (shared with the CPU: optimizer_kernels.hpp).
    const AdamStepConstants constants = adam_step_constants(update);
    const float step_size = constants.step_size, correction2_sqrt = constants.correction2_sqrt;
    const float l2 = constants.l2, shrink = constants.shrink;
    for_each_index(count, AdamKernel{step_size, correction2_sqrt, l2, shrink, update.beta1, update.beta2, update.eps,
                                     param, grad, exp_avg, exp_avg_sq});
}

}  // namespace stepgrad::gpu
