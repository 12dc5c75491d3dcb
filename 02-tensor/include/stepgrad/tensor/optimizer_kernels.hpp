#pragma once
/// @file optimizer_kernels.hpp
/// @brief The hyper-parameters of the fused optimizer updates in the backend (SGD, Adam/AdamW).

#include <cmath>
#include <cstdint>

namespace stepgrad {

/// @brief One SGD step, as `torch.optim.SGD` computes it for each element:
/// @code
/// g = grad + weight_decay * param
/// if momentum != 0:
///     buf = first_step ? g : momentum * buf + (1 - dampening) * g
///     g = nesterov ? g + momentum * buf : buf
/// param -= lr * g
/// @endcode
struct SgdUpdate {
    float lr = 0.01f;            ///< learning rate
    float momentum = 0.0f;       ///< momentum factor (0: plain SGD, no buffer is used)
    float dampening = 0.0f;      ///< dampening of the momentum (not applied on the first step)
    float weight_decay = 0.0f;   ///< L2 penalty added to the gradient
    bool nesterov = false;       ///< Nesterov momentum
    bool first_step = true;      ///< the momentum buffer is uninitialised and gets `g`
};

/// @brief One Adam (or, with `decoupled_weight_decay`, AdamW) step, as `torch.optim.Adam(W)`:
/// @code
/// if decoupled: param *= 1 - lr * weight_decay   else: g = grad + weight_decay * param
/// m = beta1 * m + (1 - beta1) * g
/// v = beta2 * v + (1 - beta2) * g * g
/// param -= lr / (1 - beta1^step) * m / (sqrt(v) / sqrt(1 - beta2^step) + eps)
/// @endcode
struct AdamUpdate {
    float lr = 0.001f;                    ///< learning rate
    float beta1 = 0.9f;                   ///< decay of the first moment
    float beta2 = 0.999f;                 ///< decay of the second moment
    float eps = 1e-8f;                    ///< added to the denominator
    float weight_decay = 0.0f;            ///< L2 penalty (Adam) or decoupled decay (AdamW)
    bool decoupled_weight_decay = false;  ///< AdamW
    std::int64_t step = 1;                ///< this step's number, from 1 (bias correction)
};

/// @brief The constants of one Adam/AdamW step that do not depend on the element, worked out
/// once on the host (in double, as PyTorch does) by every device's adam_step kernel.
///
/// Both kinds of weight decay become two constants, so the per-element loop has no branch:
/// Adam adds `l2 * param` to the gradient (`shrink` = 1); AdamW scales param by
/// `shrink = 1 - lr * weight_decay` (`l2` = 0). The update is then
/// `param = shrink * param - step_size * m / (sqrt(v) / correction2_sqrt + eps)`.
struct AdamStepConstants {
    float step_size;         ///< lr / (1 - beta1^step)
    float correction2_sqrt;  ///< sqrt(1 - beta2^step)
    float l2;                ///< weight decay added to the gradient (Adam), else 0
    float shrink;            ///< factor on the parameter before the step (AdamW), else 1
};

/// @brief The AdamStepConstants of `update`.
inline AdamStepConstants adam_step_constants(const AdamUpdate& update) {
    const double step = static_cast<double>(update.step);
    const double correction1 = 1.0 - std::pow(static_cast<double>(update.beta1), step);
    const double correction2 = 1.0 - std::pow(static_cast<double>(update.beta2), step);
    AdamStepConstants constants{};
    constants.step_size = static_cast<float>(update.lr / correction1);
    constants.correction2_sqrt = static_cast<float>(std::sqrt(correction2));
    constants.l2 = update.decoupled_weight_decay ? 0.0f : update.weight_decay;
    constants.shrink = update.decoupled_weight_decay ? 1.0f - update.lr * update.weight_decay : 1.0f;
    return constants;
}

}  // namespace stepgrad
