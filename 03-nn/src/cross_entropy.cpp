// Losses over classes: nll_loss and cross_entropy.
//
// Both work on rows: `(N, C)` scores with one Int64 target per row (an input `(N, C, d...)` is
// first moved to rows `(N·d..., C)`). A target equal to ignore_index makes its row count for
// nothing: loss 0, weight 0, gradient 0 (selected with `where`, never multiplied by 0, so even
// the NaN of an all-ignored mean leaves a zero gradient, as in PyTorch).
//
// cross_entropy without class weights is the training loss of every classifier, so it runs
// chapter 2's fused kernel: one pass writes log_softmax, each row's loss and which rows count,
// and the backward kernel writes `softmax - smoothed one-hot` per row.
#include "loss_checks.hpp"

#include <stepgrad/nn/loss.hpp>
#include <stepgrad/shared/error.hpp>

#include <stdexcept>
#include <string>

namespace stepgrad::nn::functional {

namespace {

using loss_detail::reduce;

// Scores as rows (M, C), targets (M), and the shape of a per-row result (the target's shape).
struct ClassRows {
    Tensor scores;
    Tensor target;
    Shape target_shape;
};

// Checks the input (N, C, d...) or (C) against its Int64 target (N, d...) or (), and moves the
// class axis last: (N, C, d1, d2) -> (N, d1, d2, C) -> (N·d1·d2, C).
ClassRows class_rows(const char* op, const Tensor& input, const Tensor& target) {
    stepgrad::detail::check_defined(op, input);
    stepgrad::detail::check_defined(op, target);
    stepgrad::detail::check_float(op, input);
    STEPGRAD_CHECK(target.dtype() == Dtype::Int64,
                   op << ": target must hold class indices as an Int64 tensor, got " << target.dtype()
                      << " (convert labels with target.to(Dtype::Int64))");
    stepgrad::detail::check_same_device(op, input, target);
    STEPGRAD_CHECK(input.dim() >= 1, op << ": input must be (N, C), (N, C, d...) or (C), got a 0-dimensional tensor");
    Shape expected = input.shape();
    expected.erase(expected.begin() + (input.dim() == 1 ? 0 : 1));  // the target has no class axis
    STEPGRAD_CHECK(target.shape() == expected,
                   op << ": expected a target of shape " << shape_to_string(expected) << " for input "
                      << shape_to_string(input.shape()) << ", got " << shape_to_string(target.shape()));
    if (input.dim() == 1) return {input.unsqueeze(0), target.reshape({1}), target.shape()};
    if (input.dim() == 2) return {input, target, target.shape()};
    std::vector<std::int64_t> class_last{0};
    for (std::int64_t axis = 2; axis < input.dim(); ++axis) class_last.push_back(axis);
    class_last.push_back(1);
    return {input.permute(class_last).reshape({-1, input.size(1)}), target.reshape({-1}), target.shape()};
}

// Class weights must be Float32 (C) on the input's device.
void check_class_weight(const char* op, const Tensor& weight, const Tensor& scores) {
    if (!weight.defined()) return;
    stepgrad::detail::check_float(op, weight);
    stepgrad::detail::check_same_device(op, weight, scores);
    STEPGRAD_CHECK(weight.shape() == Shape{scores.size(1)},
                   op << ": weight must hold one value per class, shape " << shape_to_string({scores.size(1)})
                      << ", got " << shape_to_string(weight.shape()));
}

// "<op>: <problem> (each target must be in [0, C) or equal ignore_index I)".
std::string target_range_message(const char* op, const std::string& problem, std::int64_t classes,
                                 std::int64_t ignore_index) {
    return std::string(op) + ": " + problem + " (each target must be in [0, " + std::to_string(classes) +
           ") or equal ignore_index " + std::to_string(ignore_index) + ")";
}

// The gather index per row: the target where it counts, 0 where ignored, and C (out of range,
// so the gather kernel reports it) for a negative target, which gather would count from the end.
Tensor safe_targets(const Tensor& target, const Tensor& counts, std::int64_t classes) {
    using stepgrad::detail::binary_kernel;
    using stepgrad::detail::unary_kernel;
    const Tensor kept = binary_kernel("nll_loss", BinaryOp::Mul, unary_kernel(UnaryOp::GeScalar, target, 0.0), counts);
    const Tensor negative = binary_kernel("nll_loss", BinaryOp::Sub, counts, kept);
    const Tensor kept_target = binary_kernel("nll_loss", BinaryOp::Mul, target, kept.to(Dtype::Int64));
    const Tensor pushed_out = unary_kernel(UnaryOp::MulScalar, negative.to(Dtype::Int64), static_cast<double>(classes));
    return binary_kernel("nll_loss", BinaryOp::Add, kept_target, pushed_out);
}

// Each row's -w[t] log_probs[t] (0 where ignored), the weight the mean divides by (w[t], 0 where
// ignored), and the mask of rows that count.
struct NllRows {
    Tensor losses;
    Tensor weights;
    Tensor counts;
};

// The gradient flows through gather (it scatters each row's gradient back to its target's
// column) and where (nothing reaches ignored rows).
NllRows nll_rows(const char* op, const Tensor& log_probs, const Tensor& target, const Tensor& weight,
                 std::int64_t ignore_index) {
    // log_probs is (M, C), target (M)
    const std::int64_t classes = log_probs.size(1);
    const Tensor counts = stepgrad::detail::unary_kernel(UnaryOp::NeScalar, target, static_cast<double>(ignore_index));
    const Tensor index = safe_targets(target, counts, classes);
    Tensor picked;
    try {
        picked = gather(log_probs, 1, index.unsqueeze(1)).squeeze(1);  // (M): log_probs[n, t_n]
    } catch (const std::out_of_range&) {
        const std::string problem = "a target is out of range for " + std::to_string(classes) + " classes";
        throw std::out_of_range(target_range_message(op, problem, classes, ignore_index));
    }
    if (!weight.defined()) return {where(counts, -picked, 0.0), counts, counts};
    const Tensor target_weight = index_select(weight.detach(), 0, index) * counts;  // (M): w[t_n]
    return {where(counts, -(picked * target_weight), 0.0), target_weight, counts};
}

// Unweighted cross-entropy on the fused kernels. For the mean, losses and the valid mask share one
// (2, M) buffer, so a single reduction gives both sums and one division the mean (no host read).
Tensor fused_cross_entropy(const Tensor& logits, const Tensor& target, const CrossEntropyFuncOptions& options) {
    // logits is (M, C), target (M)
    const std::int64_t rows = logits.size(0), classes = logits.size(1);
    const Device device = logits.device();
    const std::int64_t ignore_index = options.ignore_index();
    const auto smoothing = static_cast<float>(options.label_smoothing());
    Backend& backend = get_backend(device);

    Tensor log_probs = Tensor::empty({rows, classes}, device);
    Tensor row_buffer = Tensor::empty({2, rows}, device);  // row 0: losses, row 1: 1 where the row counts
    Tensor losses = stepgrad::detail::view_of(row_buffer, {rows});
    Tensor counts = stepgrad::detail::view_of(row_buffer, {rows}, rows);
    try {
        backend.cross_entropy_forward(logits.data_ptr<float>(), target.data_ptr<std::int64_t>(), rows, classes,
                                      ignore_index, smoothing, log_probs.data_ptr<float>(), losses.data_ptr<float>(),
                                      counts.data_ptr<float>());
    } catch (const std::out_of_range& error) {
        throw std::out_of_range(target_range_message("cross_entropy", error.what(), classes, ignore_index));
    }

    const Reduction reduction = options.reduction();
    Tensor out = losses;
    Tensor counted;  // the number of rows that count (Mean only)
    if (reduction != Reduction::None) {
        out = Tensor::empty({}, device);
        if (reduction == Reduction::Sum) {
            backend.reduce(ReduceOp::Sum, Dtype::Float32, losses.data_ptr<float>(), {rows}, {true}, out.data_ptr<float>());
        } else {
            Tensor sums = Tensor::empty({2}, device);  // (Σ losses, Σ counts)
            backend.reduce(ReduceOp::Sum, Dtype::Float32, row_buffer.data_ptr<float>(), {2, rows}, {false, true},
                           sums.data_ptr<float>());
            counted = stepgrad::detail::view_of(sums, {}, 1);
            backend.binary(BinaryOp::Div, Dtype::Float32, sums.data_ptr<float>(), {}, counted.data_ptr<float>(), {},
                           out.data_ptr<float>(), {});
        }
    }

    // d loss / d logits[n] = grad_row[n] (softmax(logits[n]) - q[n]), q the smoothed one-hot; grad_row
    // is the output's gradient (None), that number for every row (Sum), or it over the count (Mean).
    return record("cross_entropy", out, {logits},
                  [log_probs = SavedTensor(log_probs), target = SavedTensor(target),
                   counted = counted.defined() ? SavedTensor(counted) : SavedTensor(), reduction, ignore_index,
                   smoothing](const Tensor& grad_output) {
                      const Tensor& lp = log_probs.unpack();
                      const std::int64_t n = lp.size(0);
                      Backend& kernels = get_backend(lp.device());
                      Tensor grad_rows = grad_output;  // (n)
                      if (reduction == Reduction::Sum) {
                          grad_rows = stepgrad::detail::expand_kernel(grad_output, {n});
                      } else if (reduction == Reduction::Mean) {
                          grad_rows = Tensor::empty({n}, lp.device());
                          kernels.binary(BinaryOp::Div, Dtype::Float32, grad_output.data_ptr<float>(), {},
                                         counted.unpack().data_ptr<float>(), {}, grad_rows.data_ptr<float>(), {n});
                      }
                      Tensor grad = Tensor::empty(lp.shape(), lp.device());
                      kernels.cross_entropy_backward(lp.data_ptr<float>(), target.unpack().data_ptr<std::int64_t>(),
                                                     grad_rows.data_ptr<float>(), n, lp.size(1), ignore_index,
                                                     smoothing, grad.data_ptr<float>());
                      return Grads{grad};
                  });
}

// Weighted cross-entropy as PyTorch defines it: (1 - ε) nll(log p; w) + ε/C Σ_c -w_c log p_c per
// row, the mean dividing both terms by Σ w[t] over the rows that count.
Tensor weighted_cross_entropy(const Tensor& logits, const Tensor& target, const CrossEntropyFuncOptions& options) {
    // logits is (M, C), target (M), weight (C)
    const std::int64_t classes = logits.size(1);
    const Tensor weight = options.weight().detach();
    const Tensor log_probs = log_softmax(logits, 1);
    const NllRows nll = nll_rows("cross_entropy", log_probs, target, weight, options.ignore_index());
    const double smoothing = options.label_smoothing();
    Tensor losses = nll.losses;
    if (smoothing > 0.0) {
        const Tensor spread = where(nll.counts, -(log_probs * weight.reshape({1, classes})).sum({1}), 0.0);
        losses = losses * (1.0 - smoothing) + spread * (smoothing / static_cast<double>(classes));
    }
    if (options.reduction() == Reduction::Mean) return losses.sum() / nll.weights.sum();
    return reduce(losses, options.reduction());
}

}  // namespace

Tensor nll_loss(const Tensor& input, const Tensor& target, const NLLLossFuncOptions& options) {
    const ClassRows rows = class_rows("nll_loss", input, target);
    check_class_weight("nll_loss", options.weight(), rows.scores);
    const NllRows nll = nll_rows("nll_loss", rows.scores, rows.target, options.weight(), options.ignore_index());
    switch (options.reduction()) {
        case Reduction::None: return nll.losses.reshape(rows.target_shape);
        case Reduction::Sum: return nll.losses.sum();
        case Reduction::Mean: break;
    }
    return nll.losses.sum() / nll.weights.sum();  // NaN when no row counts, as PyTorch
}

Tensor cross_entropy(const Tensor& input, const Tensor& target, const CrossEntropyFuncOptions& options) {
    const ClassRows rows = class_rows("cross_entropy", input, target);
    check_class_weight("cross_entropy", options.weight(), rows.scores);
    const double smoothing = options.label_smoothing();
    STEPGRAD_CHECK(smoothing >= 0.0 && smoothing <= 1.0,
                   "cross_entropy: label_smoothing must be in [0, 1], got " << smoothing);
    const Tensor out = options.weight().defined() ? weighted_cross_entropy(rows.scores, rows.target, options)
                                                  : fused_cross_entropy(rows.scores, rows.target, options);
    return options.reduction() == Reduction::None ? out.reshape(rows.target_shape) : out;
}

}  // namespace stepgrad::nn::functional
