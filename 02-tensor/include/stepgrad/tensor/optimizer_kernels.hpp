#pragma once
/// @file optimizer_kernels.hpp
/// @brief The hyper-parameters of the fused optimizer updates in the backend (SGD, Adam/AdamW).

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

}  // namespace stepgrad
