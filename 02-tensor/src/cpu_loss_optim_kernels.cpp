// The CPU's fused loss, optimizer and data-movement kernels: cross-entropy, SGD, Adam/AdamW,
// transpose and axpy (see cpu_training_kernels.hpp for what each computes; the convolution and
// pooling kernels are in cpu_conv_pool_kernels.cpp).
//
// Each kernel has a plain twin in reference_kernels.cpp, and tests/loss_optim_kernels_test.cpp
// ties the two together. Here, the inner loops run over contiguous memory so that the compiler
// can vectorise them, nothing is allocated, and loop-invariant choices (Nesterov or not, the
// bias corrections of Adam) are made once, outside the loop.
#include "cpu_training_kernels.hpp"

#include <stepgrad/shared/error.hpp>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace stepgrad::cpu {

// ---- cross-entropy --------------------------------------------------------------------------

namespace {

/// Throws std::out_of_range for a target that is neither a class nor ignore_index.
void check_targets(const std::int64_t* target, std::int64_t batch, std::int64_t classes,
                   std::int64_t ignore_index) {
    for (std::int64_t row = 0; row < batch; ++row) {
        const std::int64_t t = target[row];
        if (t != ignore_index && (t < 0 || t >= classes))
            throw std::out_of_range("target " + std::to_string(t) + " is out of range for " +
                                    std::to_string(classes) + " classes");
    }
}

}  // namespace

// log_softmax(x)_c = x_c - m - log Σ_k exp(x_k - m), m = max_k x_k: every exponent is <= 0, so
// nothing overflows, and the sum (accumulated in double) is at least 1. Targets are all checked
// before anything is written.
void cross_entropy_forward(const float* logits, const std::int64_t* target, std::int64_t batch,
                           std::int64_t classes, std::int64_t ignore_index, float label_smoothing,
                           float* log_probs, float* loss, float* valid) {
    // logits and log_probs are (batch, classes); target, loss and valid are (batch)
    check_targets(target, batch, classes, ignore_index);
    const double smoothing = label_smoothing;
    for (std::int64_t row = 0; row < batch; ++row) {
        const float* x = logits + row * classes;
        float* out = log_probs + row * classes;
        const float shift = *std::max_element(x, x + classes);
        double sum_exp = 0.0;
        for (std::int64_t c = 0; c < classes; ++c) sum_exp += std::exp(x[c] - shift);
        const auto log_sum = static_cast<float>(std::log(sum_exp));
        for (std::int64_t c = 0; c < classes; ++c) out[c] = (x[c] - shift) - log_sum;

        if (target[row] == ignore_index) {
            loss[row] = 0.0f;
            valid[row] = 0.0f;
            continue;
        }
        double row_loss = -(1.0 - smoothing) * out[target[row]];
        if (smoothing != 0.0) {
            double sum_log_probs = 0.0;
            for (std::int64_t c = 0; c < classes; ++c) sum_log_probs += out[c];
            row_loss -= smoothing / static_cast<double>(classes) * sum_log_probs;
        }
        loss[row] = static_cast<float>(row_loss);
        valid[row] = 1.0f;
    }
}

// d loss / d x_c = softmax_c - q_c, since d(-log_probs_k)/dx_c = softmax_c - [k == c] and q sums to 1.
void cross_entropy_backward([[maybe_unused]] const float* log_probs, const std::int64_t* target,
                            [[maybe_unused]] const float* grad_loss, std::int64_t batch, std::int64_t classes,
                            std::int64_t ignore_index, [[maybe_unused]] float label_smoothing,
                            [[maybe_unused]] float* grad_logits) {
    // log_probs and grad_logits are (batch, classes); target and grad_loss are (batch)
    check_targets(target, batch, classes, ignore_index);
    // exercise 03.2: cross-entropy's fused backward, softmax minus the (smoothed) one-hot
    // hint: the forward saved log_probs, so softmax_c = exp(log_probs[row, c]); nothing else is needed.
    // hint: q (the smoothed one-hot) is label_smoothing / classes everywhere, plus 1 - label_smoothing
    // hint: at the target; each row's gradient is grad_loss[row] * (softmax - q).
    // hint: a row whose target is ignore_index gets exactly 0 (even if grad_loss[row] is NaN or inf).
    const float spread = label_smoothing / static_cast<float>(classes);  // q off the target
    for (std::int64_t row = 0; row < batch; ++row) {
        const float* in = log_probs + row * classes;
        float* grad = grad_logits + row * classes;
        if (target[row] == ignore_index) {
            std::fill(grad, grad + classes, 0.0f);
            continue;
        }
        const float scale = grad_loss[row];
        for (std::int64_t c = 0; c < classes; ++c) grad[c] = scale * (std::exp(in[c]) - spread);
        grad[target[row]] -= scale * (1.0f - label_smoothing);
    }
    // end exercise
}

// ---- optimizer updates ----------------------------------------------------------------------

namespace {

/// The momentum SGD loop, with the first-step and Nesterov choices fixed at compile time.
/// The hyper-parameters are copied to locals: read through `u` inside the loop, they could
/// alias the float arrays written there, so the compiler would reload them every element and
/// could not vectorise the loop (4-8x slower).
template <bool FirstStep, bool Nesterov>
void sgd_momentum_loop(float* param, const float* grad, float* buffer, std::int64_t count, const SgdUpdate& u) {
    const float lr = u.lr, momentum = u.momentum, weight_decay = u.weight_decay, keep = 1.0f - u.dampening;
    for (std::int64_t k = 0; k < count; ++k) {
        const float g = grad[k] + weight_decay * param[k];
        const float b = FirstStep ? g : momentum * buffer[k] + keep * g;
        buffer[k] = b;
        param[k] -= lr * (Nesterov ? g + momentum * b : b);
    }
}

}  // namespace

void sgd_step(float* param, const float* grad, float* momentum_buffer, std::int64_t count,
              const SgdUpdate& update) {
    if (update.momentum == 0.0f) {
        const float lr = update.lr, weight_decay = update.weight_decay;
        for (std::int64_t k = 0; k < count; ++k) param[k] -= lr * (grad[k] + weight_decay * param[k]);
        return;
    }
    if (update.first_step) {
        update.nesterov ? sgd_momentum_loop<true, true>(param, grad, momentum_buffer, count, update)
                        : sgd_momentum_loop<true, false>(param, grad, momentum_buffer, count, update);
    } else {
        update.nesterov ? sgd_momentum_loop<false, true>(param, grad, momentum_buffer, count, update)
                        : sgd_momentum_loop<false, false>(param, grad, momentum_buffer, count, update);
    }
}

// The constants of the step (both kinds of weight decay folded in: adam_step_constants), then
// one loop without a branch.
void adam_step([[maybe_unused]] float* param, [[maybe_unused]] const float* grad, [[maybe_unused]] float* exp_avg,
               [[maybe_unused]] float* exp_avg_sq, [[maybe_unused]] std::int64_t count,
               [[maybe_unused]] const AdamUpdate& update) {
    // exercise 03.3: the Adam update, moments, bias correction and step
    // hint: per element k: Adam adds weight_decay * param to the gradient g; AdamW instead scales
    // hint: param by 1 - lr * weight_decay (update.decoupled_weight_decay says which).
    // hint: m = beta1 m + (1 - beta1) g and v = beta2 v + (1 - beta2) g², written back to exp_avg, exp_avg_sq;
    // hint: then param -= lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps), t = update.step.
    // hint: the two bias corrections do not depend on k: work them out once, before the loop.
    const AdamStepConstants constants = adam_step_constants(update);
    const float step_size = constants.step_size, correction2_sqrt = constants.correction2_sqrt;
    const float l2 = constants.l2, shrink = constants.shrink;
    const float beta1 = update.beta1, beta2 = update.beta2, eps = update.eps;
    for (std::int64_t k = 0; k < count; ++k) {
        const float p = param[k];
        const float g = grad[k] + l2 * p;
        const float m = beta1 * exp_avg[k] + (1.0f - beta1) * g;
        const float v = beta2 * exp_avg_sq[k] + (1.0f - beta2) * g * g;
        exp_avg[k] = m;
        exp_avg_sq[k] = v;
        param[k] = p * shrink - step_size * (m / (std::sqrt(v) / correction2_sqrt + eps));
    }
    // end exercise
}

// ---- data movement --------------------------------------------------------------------------

// Tiles of 32x32 floats (4 KiB): a tile's source rows and destination rows both stay in L1.
void transpose(const float* x, std::int64_t batch, std::int64_t rows, std::int64_t cols, float* out) {
    // x is (batch, rows, cols); out is (batch, cols, rows)
    constexpr std::int64_t tile = 32;
    for (std::int64_t b = 0; b < batch; ++b) {
        const float* in = x + b * rows * cols;
        float* result = out + b * rows * cols;
        for (std::int64_t r0 = 0; r0 < rows; r0 += tile) {
            const std::int64_t r1 = std::min(r0 + tile, rows);
            for (std::int64_t c0 = 0; c0 < cols; c0 += tile) {
                const std::int64_t c1 = std::min(c0 + tile, cols);
                for (std::int64_t r = r0; r < r1; ++r)
                    for (std::int64_t c = c0; c < c1; ++c) result[c * rows + r] = in[r * cols + c];
            }
        }
    }
}

void axpy(std::int64_t count, float alpha, const float* x, float* y) {
    for (std::int64_t k = 0; k < count; ++k) y[k] += alpha * x[k];
}

}  // namespace stepgrad::cpu
