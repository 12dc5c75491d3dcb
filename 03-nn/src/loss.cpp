// Losses of one prediction per element: mean squared error, L1, smooth L1, and binary
// cross-entropy of probabilities and of logits. Each computes a loss per element, then reduces it.
//
// mse, l1 and smooth_l1 are composites of chapter 2's operations, so their gradients (for the
// input and for the target) come from those operations'. The two binary cross-entropies record
// their own backward, PyTorch's formulas: the composite's gradient would be NaN where a
// probability is 0 or 1 (log 0, clamped) or a logit is ±1000 (exp overflows).
#include "loss_checks.hpp"

#include <stepgrad/nn/loss.hpp>
#include <stepgrad/shared/error.hpp>

#include <optional>

namespace stepgrad::nn::functional {

using loss_detail::check_broadcast_weight;
using loss_detail::check_pair;
using loss_detail::reduce;

// (x - t)²; d/dx = 2 (x - t), d/dt = -2 (x - t), from mul and sub.
Tensor mse_loss(const Tensor& input, const Tensor& target, const MSELossFuncOptions& options) {
    check_pair("mse_loss", input, target);
    const Tensor diff = input - target;
    return reduce(diff * diff, options.reduction());
}

// |x - t|; d/dx = sign(x - t) (0 at 0, as PyTorch), from abs.
Tensor l1_loss(const Tensor& input, const Tensor& target, const L1LossFuncOptions& options) {
    check_pair("l1_loss", input, target);
    return reduce(abs(input - target), options.reduction());
}

// With d = |x - t|: 0.5 d² / beta below beta (gradient (x - t) / beta), d - 0.5 beta above
// (gradient sign(x - t)). The two pieces meet with equal value and slope at d = beta.
Tensor smooth_l1_loss(const Tensor& input, const Tensor& target, const SmoothL1LossFuncOptions& options) {
    check_pair("smooth_l1_loss", input, target);
    const double beta = options.beta();
    STEPGRAD_CHECK(beta >= 0.0, "smooth_l1_loss: beta must be >= 0, got " << beta);
    if (beta == 0.0) return reduce(abs(input - target), options.reduction());  // PyTorch: plain l1
    const Tensor diff = input - target;
    const Tensor distance = abs(diff);
    const Tensor loss = where(distance < beta, diff * diff * (0.5 / beta), distance - 0.5 * beta);
    return reduce(loss, options.reduction());
}

// loss = -w (t log x + (1 - t) log(1 - x)), each log clamped at -100 (PyTorch), so x = 0 or 1
// gives a finite loss.
// d/dx = w (x - t) / (x (1 - x)), the denominator clamped at 1e-12 (PyTorch's EPSILON);
// d/dt = w (log(1 - x) - log x), with the same clamped logs.
Tensor binary_cross_entropy(const Tensor& input, const Tensor& target,
                            const BinaryCrossEntropyFuncOptions& options) {
    check_pair("binary_cross_entropy", input, target);
    const Tensor& weight = options.weight();
    check_broadcast_weight("binary_cross_entropy", "weight", weight, input);
    const auto clamped_logs = [](const Tensor& x) {  // (max(log x, -100), max(log(1 - x), -100))
        return std::pair{clamp(log(x), -100.0, std::nullopt), clamp(log(1.0 - x), -100.0, std::nullopt)};
    };
    Tensor loss;
    {
        NoGradGuard no_grad;
        const auto [log_x, log_one_minus_x] = clamped_logs(input);
        loss = (target - 1.0) * log_one_minus_x - target * log_x;
        if (weight.defined()) loss = loss * weight;
    }
    const SavedTensor saved_weight = weight.defined() ? SavedTensor(weight) : SavedTensor();
    loss = record("binary_cross_entropy", loss, {input, target},
                  [x = SavedTensor(input), t = SavedTensor(target), w = saved_weight,
                   clamped_logs](const Tensor& grad_output) {
                      const Tensor& xv = x.unpack();
                      const Tensor& tv = t.unpack();
                      const Tensor scale = w.unpack().defined() ? grad_output * w.unpack() : grad_output;
                      const Tensor grad_input = scale * (xv - tv) / clamp(xv * (1.0 - xv), 1e-12, std::nullopt);
                      Tensor grad_target;
                      if (t.requires_grad()) {
                          const auto [log_x, log_one_minus_x] = clamped_logs(xv);
                          grad_target = scale * (log_one_minus_x - log_x);
                      }
                      return Grads{grad_input, grad_target};
                  });
    return reduce(loss, options.reduction());
}

namespace {

// log(1 + e^-x) without overflow: m = max(-x, 0) keeps both exponents <= 0 (PyTorch's form).
Tensor softplus_of_negative(const Tensor& x) {
    const Tensor m = clamp(-x, 0.0, std::nullopt);
    return log(exp(-m) + exp(-x - m)) + m;
}

}  // namespace

// With p = pos_weight (1 when none) and s = σ(x):
// loss = -w [p t log s + (1 - t) log(1 - s)] = w [(1 - t) x + (1 + (p - 1) t) log(1 + e^-x)],
// since -log s = log(1 + e^-x) and -log(1 - s) = x + log(1 + e^-x).
// d/dx = w [(p t + 1 - t) s - p t]   (p = 1: w (s - t));
// d/dt = w [(p - 1) log(1 + e^-x) - x].
Tensor binary_cross_entropy_with_logits(const Tensor& input, const Tensor& target,
                                        const BinaryCrossEntropyWithLogitsFuncOptions& options) {
    const char* op = "binary_cross_entropy_with_logits";
    check_pair(op, input, target);
    const Tensor& weight = options.weight();
    const Tensor& pos_weight = options.pos_weight();
    check_broadcast_weight(op, "weight", weight, input);
    check_broadcast_weight(op, "pos_weight", pos_weight, input);
    Tensor loss;
    {
        NoGradGuard no_grad;
        const Tensor softplus = softplus_of_negative(input);
        const Tensor positive_scale = pos_weight.defined() ? (pos_weight - 1.0) * target + 1.0 : Tensor();
        loss = (1.0 - target) * input + (pos_weight.defined() ? positive_scale * softplus : softplus);
        if (weight.defined()) loss = loss * weight;
    }
    const SavedTensor saved_weight = weight.defined() ? SavedTensor(weight) : SavedTensor();
    const SavedTensor saved_pos_weight = pos_weight.defined() ? SavedTensor(pos_weight) : SavedTensor();
    loss = record(op, loss, {input, target},
                  [x = SavedTensor(input), t = SavedTensor(target), w = saved_weight,
                   p = saved_pos_weight](const Tensor& grad_output) {
                      const Tensor& xv = x.unpack();
                      const Tensor& tv = t.unpack();
                      const Tensor& pv = p.unpack();
                      const Tensor scale = w.unpack().defined() ? grad_output * w.unpack() : grad_output;
                      Tensor grad_input;
                      if (pv.defined()) {
                          const Tensor weighted_target = pv * tv;
                          grad_input = scale * ((weighted_target + 1.0 - tv) * sigmoid(xv) - weighted_target);
                      } else {
                          grad_input = scale * (sigmoid(xv) - tv);
                      }
                      Tensor grad_target;
                      if (t.requires_grad()) {
                          grad_target = pv.defined() ? scale * ((pv - 1.0) * softplus_of_negative(xv) - xv)
                                                     : scale * -xv;
                      }
                      return Grads{grad_input, grad_target};
                  });
    return reduce(loss, options.reduction());
}

}  // namespace stepgrad::nn::functional
