#pragma once
/// @file loss.hpp
/// @brief Loss functions, as functions (`nn::functional::cross_entropy`) and as modules
/// (`nn::CrossEntropyLoss`), with LibTorch's names, options and PyTorch's formulas.
///
/// A loss compares a prediction `input` with a `target` and returns how wrong it is: one number
/// per element (`Reduction::None`), their sum, or their mean (the default). The mean is what
/// makes the size of a gradient step independent of the batch size.
///
/// Example:
/// @code
/// namespace F = stepgrad::nn::functional;
/// stepgrad::Tensor logits = model->forward(images);                 // (N, 10)
/// stepgrad::Tensor loss = F::cross_entropy(logits, labels);         // labels: Int64 (N)
/// loss.backward();
/// auto criterion = std::make_shared<stepgrad::nn::CrossEntropyLoss>(
///     stepgrad::nn::CrossEntropyLossOptions().label_smoothing(0.1));
/// stepgrad::Tensor same_kind = criterion->forward(logits, labels);
/// @endcode
#include <stepgrad/nn/module.hpp>
#include <stepgrad/tensor.hpp>

#include <cstdint>
#include <iosfwd>

namespace stepgrad::nn {

/// @brief How a loss turns its per-element values into the result (PyTorch's `reduction`).
enum class Reduction {
    None,  ///< no reduction: one loss per element (per row for nll_loss / cross_entropy)
    Mean,  ///< the mean (for nll_loss / cross_entropy: weighted, over the targets that count)
    Sum,   ///< the sum
};

// ---- options (chainable setters, LibTorch's names) ------------------------------------------

/// @brief Options of mse_loss / MSELoss: only the reduction.
/// Example: `MSELossOptions().reduction(Reduction::Sum)`.
struct MSELossOptions {
    /// @brief Sets the reduction (Mean by default).
    MSELossOptions& reduction(Reduction reduction) { reduction_ = reduction; return *this; }
    /// @brief The reduction.
    [[nodiscard]] Reduction reduction() const { return reduction_; }

private:
    Reduction reduction_ = Reduction::Mean;
};

/// @brief Options of l1_loss / L1Loss: only the reduction.
struct L1LossOptions {
    /// @brief Sets the reduction (Mean by default).
    L1LossOptions& reduction(Reduction reduction) { reduction_ = reduction; return *this; }
    /// @brief The reduction.
    [[nodiscard]] Reduction reduction() const { return reduction_; }

private:
    Reduction reduction_ = Reduction::Mean;
};

/// @brief Options of smooth_l1_loss / SmoothL1Loss: the reduction and `beta`, where the loss
/// turns from quadratic to linear. Example: `SmoothL1LossOptions().beta(0.5)`.
struct SmoothL1LossOptions {
    /// @brief Sets the reduction (Mean by default).
    SmoothL1LossOptions& reduction(Reduction reduction) { reduction_ = reduction; return *this; }
    /// @brief Sets beta (1 by default; 0 makes the loss l1_loss; negative is an error).
    SmoothL1LossOptions& beta(double beta) { beta_ = beta; return *this; }
    /// @brief The reduction.
    [[nodiscard]] Reduction reduction() const { return reduction_; }
    /// @brief Beta.
    [[nodiscard]] double beta() const { return beta_; }

private:
    Reduction reduction_ = Reduction::Mean;
    double beta_ = 1.0;
};

/// @brief Options of binary_cross_entropy / BCELoss: a weight per element and the reduction.
struct BCELossOptions {
    /// @brief Sets a weight that multiplies each element's loss (broadcast to the input's shape;
    /// undefined, the default, means 1).
    BCELossOptions& weight(const Tensor& weight) { weight_ = weight; return *this; }
    /// @brief Sets the reduction (Mean by default).
    BCELossOptions& reduction(Reduction reduction) { reduction_ = reduction; return *this; }
    /// @brief The weight (undefined when none).
    [[nodiscard]] const Tensor& weight() const { return weight_; }
    /// @brief The reduction.
    [[nodiscard]] Reduction reduction() const { return reduction_; }

private:
    Tensor weight_;
    Reduction reduction_ = Reduction::Mean;
};

/// @brief Options of binary_cross_entropy_with_logits / BCEWithLogitsLoss: a weight per element,
/// the reduction, and `pos_weight`, a weight of the positive term per class (last axis).
/// Example: `BCEWithLogitsLossOptions().pos_weight(tensor({3.0}))` counts positives three times.
struct BCEWithLogitsLossOptions {
    /// @brief Sets a weight that multiplies each element's loss (broadcast to the input's shape).
    BCEWithLogitsLossOptions& weight(const Tensor& weight) { weight_ = weight; return *this; }
    /// @brief Sets the reduction (Mean by default).
    BCEWithLogitsLossOptions& reduction(Reduction reduction) { reduction_ = reduction; return *this; }
    /// @brief Sets the weight of the positive (`target = 1`) term, broadcast along the last axis.
    BCEWithLogitsLossOptions& pos_weight(const Tensor& pos_weight) { pos_weight_ = pos_weight; return *this; }
    /// @brief The weight (undefined when none).
    [[nodiscard]] const Tensor& weight() const { return weight_; }
    /// @brief The reduction.
    [[nodiscard]] Reduction reduction() const { return reduction_; }
    /// @brief The positive weight (undefined when none).
    [[nodiscard]] const Tensor& pos_weight() const { return pos_weight_; }

private:
    Tensor weight_;
    Reduction reduction_ = Reduction::Mean;
    Tensor pos_weight_;
};

/// @brief Options of nll_loss / NLLLoss: class weights, the target value to ignore, the reduction.
struct NLLLossOptions {
    /// @brief Sets a weight per class, shape `(C)` (undefined, the default, means all 1).
    NLLLossOptions& weight(const Tensor& weight) { weight_ = weight; return *this; }
    /// @brief Sets the target value whose rows count for nothing (-100 by default).
    NLLLossOptions& ignore_index(std::int64_t ignore_index) { ignore_index_ = ignore_index; return *this; }
    /// @brief Sets the reduction (Mean by default: divided by the summed weights of the targets).
    NLLLossOptions& reduction(Reduction reduction) { reduction_ = reduction; return *this; }
    /// @brief The class weights (undefined when none).
    [[nodiscard]] const Tensor& weight() const { return weight_; }
    /// @brief The ignored target value.
    [[nodiscard]] std::int64_t ignore_index() const { return ignore_index_; }
    /// @brief The reduction.
    [[nodiscard]] Reduction reduction() const { return reduction_; }

private:
    Tensor weight_;
    std::int64_t ignore_index_ = -100;
    Reduction reduction_ = Reduction::Mean;
};

/// @brief Options of cross_entropy / CrossEntropyLoss: class weights, the ignored target value,
/// the reduction and label smoothing. Example: `CrossEntropyLossOptions().label_smoothing(0.1)`.
struct CrossEntropyLossOptions {
    /// @brief Sets a weight per class, shape `(C)` (undefined, the default, means all 1).
    CrossEntropyLossOptions& weight(const Tensor& weight) { weight_ = weight; return *this; }
    /// @brief Sets the target value whose rows count for nothing (-100 by default).
    CrossEntropyLossOptions& ignore_index(std::int64_t ignore_index) { ignore_index_ = ignore_index; return *this; }
    /// @brief Sets the reduction (Mean by default).
    CrossEntropyLossOptions& reduction(Reduction reduction) { reduction_ = reduction; return *this; }
    /// @brief Sets ε in [0, 1]: the target becomes `(1 - ε) one_hot + ε / C` (0 by default).
    CrossEntropyLossOptions& label_smoothing(double label_smoothing) { label_smoothing_ = label_smoothing; return *this; }
    /// @brief The class weights (undefined when none).
    [[nodiscard]] const Tensor& weight() const { return weight_; }
    /// @brief The ignored target value.
    [[nodiscard]] std::int64_t ignore_index() const { return ignore_index_; }
    /// @brief The reduction.
    [[nodiscard]] Reduction reduction() const { return reduction_; }
    /// @brief The label smoothing ε.
    [[nodiscard]] double label_smoothing() const { return label_smoothing_; }

private:
    Tensor weight_;
    std::int64_t ignore_index_ = -100;
    Reduction reduction_ = Reduction::Mean;
    double label_smoothing_ = 0.0;
};

// ---- functional forms ------------------------------------------------------------------------

namespace functional {

using MSELossFuncOptions = MSELossOptions;                                  ///< LibTorch's name
using L1LossFuncOptions = L1LossOptions;                                    ///< LibTorch's name
using SmoothL1LossFuncOptions = SmoothL1LossOptions;                        ///< LibTorch's name
using BinaryCrossEntropyFuncOptions = BCELossOptions;                       ///< LibTorch's name
using BinaryCrossEntropyWithLogitsFuncOptions = BCEWithLogitsLossOptions;   ///< LibTorch's name
using NLLLossFuncOptions = NLLLossOptions;                                  ///< LibTorch's name
using CrossEntropyFuncOptions = CrossEntropyLossOptions;                    ///< LibTorch's name

/// @brief Mean squared error: `(input - target)²` per element, then reduced. `input` and
/// `target` are Float32 of the same shape; both get gradients (`±2 (input - target)`).
/// Example: `mse_loss(tensor({1, 2}), tensor({0, 0}))` is 2.5.
Tensor mse_loss(const Tensor& input, const Tensor& target, const MSELossFuncOptions& options = {});

/// @brief Mean absolute error: `|input - target|` per element, then reduced (gradient
/// `±sign(input - target)`, 0 where they are equal).
Tensor l1_loss(const Tensor& input, const Tensor& target, const L1LossFuncOptions& options = {});

/// @brief Huber-like loss: with `d = |input - target|`, `0.5 d² / beta` where `d < beta`, else
/// `d - 0.5 beta` (PyTorch's definition; `beta = 0` is l1_loss).
Tensor smooth_l1_loss(const Tensor& input, const Tensor& target, const SmoothL1LossFuncOptions& options = {});

/// @brief Binary cross-entropy of probabilities: `-w (t log x + (1 - t) log(1 - x))` per
/// element, each log clamped at -100 as PyTorch does, so probabilities 0 and 1 give finite
/// losses. `input` holds probabilities in [0, 1] (not checked: that would need a host read).
/// The input gradient is `w (x - t) / max(x (1 - x), 1e-12)`, PyTorch's.
Tensor binary_cross_entropy(const Tensor& input, const Tensor& target,
                            const BinaryCrossEntropyFuncOptions& options = {});

/// @brief Binary cross-entropy of logits, `-w [p t log σ(x) + (1 - t) log(1 - σ(x))]` with
/// `p = pos_weight` (1 when none), computed stably as PyTorch does:
/// `(1 - t) x + (1 + (p - 1) t) (log(e^-m + e^(-x-m)) + m)`, `m = max(-x, 0)`, so logits of
/// ±1000 give finite losses and gradients. Gradient: `w [(p t + 1 - t) σ(x) - p t]`.
///
/// Example:
/// @code
/// Tensor loss = binary_cross_entropy_with_logits(scores, labels,   // both (N, K), labels 0/1
///     BinaryCrossEntropyWithLogitsFuncOptions().pos_weight(full({K}, 2.0)));
/// @endcode
Tensor binary_cross_entropy_with_logits(const Tensor& input, const Tensor& target,
                                        const BinaryCrossEntropyWithLogitsFuncOptions& options = {});

/// @brief Negative log-likelihood: `-w[t] input[n, t]` for each row `n` with target `t`.
///
/// `input` holds log-probabilities, `(N, C)`, `(N, C, d1, ...)` (the class axis second) or
/// `(C)`; `target` is Int64, `(N)`, `(N, d1, ...)` or `()`, each a class in `[0, C)` or
/// `ignore_index` (that row's loss is 0 and it does not count). The mean divides by the sum
/// of `w[t]` over the rows that count, as PyTorch; when none counts it is NaN, as in PyTorch.
/// `Reduction::None` gives the target's shape.
Tensor nll_loss(const Tensor& input, const Tensor& target, const NLLLossFuncOptions& options = {});

/// @brief Softmax cross-entropy: `nll_loss(log_softmax(input, 1), target)`, with optional label
/// smoothing ε: each row's loss is `(1 - ε) (-w[t] log p_t) + ε/C Σ_c -w_c log p_c`.
///
/// `input` holds logits, `(N, C)` or `(N, C, d1, ...)`; `target` is Int64 as for nll_loss.
/// Without class weights it runs chapter 2's fused kernel (one pass for log-softmax, losses and
/// the ignored rows; the backward is `softmax - smoothed one-hot`); with weights it composes
/// log_softmax and PyTorch's weighted formula (the mean divides by Σ w[t] of counted rows).
///
/// Example:
/// @code
/// Tensor logits = randn({4, 3}).requires_grad_();
/// Tensor labels = tensor({2, 0, 1, 2}, TensorOptions().dtype(Dtype::Int64));
/// Tensor loss = cross_entropy(logits, labels);  // the mean over the 4 rows
/// loss.backward();                              // logits.grad() is (softmax - one_hot) / 4
/// @endcode
Tensor cross_entropy(const Tensor& input, const Tensor& target, const CrossEntropyFuncOptions& options = {});

}  // namespace functional

// ---- modules -------------------------------------------------------------------------------

/// @brief `functional::mse_loss` as a module. Example: `MSELoss().forward(prediction, target)`.
class MSELoss : public Module {
public:
    /// @brief A mean squared error with `options`.
    explicit MSELoss(const MSELossOptions& loss_options = {});
    /// @brief The loss of `input` against `target` (same shape).
    Tensor forward(const Tensor& input, const Tensor& target);
    /// @brief Writes `MSELoss()`.
    void pretty_print(std::ostream& stream) const override;
    MSELossOptions options;  ///< the options it was built with
};

/// @brief `functional::l1_loss` as a module.
class L1Loss : public Module {
public:
    /// @brief A mean absolute error with `options`.
    explicit L1Loss(const L1LossOptions& loss_options = {});
    /// @brief The loss of `input` against `target` (same shape).
    Tensor forward(const Tensor& input, const Tensor& target);
    /// @brief Writes `L1Loss()`.
    void pretty_print(std::ostream& stream) const override;
    L1LossOptions options;  ///< the options it was built with
};

/// @brief `functional::smooth_l1_loss` as a module.
class SmoothL1Loss : public Module {
public:
    /// @brief A smooth L1 loss with `options` (beta).
    explicit SmoothL1Loss(const SmoothL1LossOptions& loss_options = {});
    /// @brief The loss of `input` against `target` (same shape).
    Tensor forward(const Tensor& input, const Tensor& target);
    /// @brief Writes `SmoothL1Loss()`.
    void pretty_print(std::ostream& stream) const override;
    SmoothL1LossOptions options;  ///< the options it was built with
};

/// @brief `functional::binary_cross_entropy` as a module; a weight is registered as the buffer
/// `weight`, as in PyTorch.
class BCELoss : public Module {
public:
    /// @brief A binary cross-entropy of probabilities with `options`.
    explicit BCELoss(const BCELossOptions& loss_options = {});
    /// @brief The loss of probabilities `input` against `target` (same shape).
    Tensor forward(const Tensor& input, const Tensor& target);
    /// @brief Writes `BCELoss()`.
    void pretty_print(std::ostream& stream) const override;
    BCELossOptions options;  ///< the options it was built with
    Tensor weight;           ///< the registered buffer `weight` (undefined when none)
};

/// @brief `functional::binary_cross_entropy_with_logits` as a module; `weight` and `pos_weight`
/// are registered as buffers, as in PyTorch.
class BCEWithLogitsLoss : public Module {
public:
    /// @brief A binary cross-entropy of logits with `options`.
    explicit BCEWithLogitsLoss(const BCEWithLogitsLossOptions& loss_options = {});
    /// @brief The loss of logits `input` against `target` (same shape).
    Tensor forward(const Tensor& input, const Tensor& target);
    /// @brief Writes `BCEWithLogitsLoss()`.
    void pretty_print(std::ostream& stream) const override;
    BCEWithLogitsLossOptions options;  ///< the options it was built with
    Tensor weight;                     ///< the registered buffer `weight` (undefined when none)
    Tensor pos_weight;                 ///< the registered buffer `pos_weight` (undefined when none)
};

/// @brief `functional::nll_loss` as a module; class weights are the buffer `weight`.
class NLLLoss : public Module {
public:
    /// @brief A negative log-likelihood with `options`.
    explicit NLLLoss(const NLLLossOptions& loss_options = {});
    /// @brief The loss of log-probabilities `input` `(N, C)` against Int64 `target` `(N)`.
    Tensor forward(const Tensor& input, const Tensor& target);
    /// @brief Writes `NLLLoss()`.
    void pretty_print(std::ostream& stream) const override;
    NLLLossOptions options;  ///< the options it was built with
    Tensor weight;           ///< the registered buffer `weight` (undefined when none)
};

/// @brief `functional::cross_entropy` as a module; class weights are the buffer `weight`.
///
/// Example:
/// @code
/// auto criterion = std::make_shared<stepgrad::nn::CrossEntropyLoss>();
/// stepgrad::Tensor loss = criterion->forward(logits, labels);  // logits (N, C), labels Int64 (N)
/// std::cout << *criterion;                                      // CrossEntropyLoss()
/// @endcode
class CrossEntropyLoss : public Module {
public:
    /// @brief A softmax cross-entropy with `options`.
    explicit CrossEntropyLoss(const CrossEntropyLossOptions& loss_options = {});
    /// @brief The loss of logits `input` `(N, C)` against Int64 `target` `(N)`.
    Tensor forward(const Tensor& input, const Tensor& target);
    /// @brief Writes `CrossEntropyLoss()`.
    void pretty_print(std::ostream& stream) const override;
    CrossEntropyLossOptions options;  ///< the options it was built with
    Tensor weight;                    ///< the registered buffer `weight` (undefined when none)
};

}  // namespace stepgrad::nn
