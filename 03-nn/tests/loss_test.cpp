// Chapter 3's losses against their formulas, computed here independently (in double, from the
// raw numbers), for each reduction and option; numerical stability; gradchecks; modules; errors.
#include <stepgrad/nn/loss.hpp>

#include "../../02-tensor/tests/test_helpers.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

using namespace stepgrad;
using namespace stepgrad::nn;
using stepgrad::testing::check_tensor;
using stepgrad::testing::indices;
using stepgrad::testing::random_input;
namespace F = stepgrad::nn::functional;

namespace {

const float kNaN = std::numeric_limits<float>::quiet_NaN();

std::vector<float> floats(const std::vector<double>& values) { return {values.begin(), values.end()}; }

double sum_of(const std::vector<double>& values) {
    double total = 0.0;
    for (double v : values) total += v;
    return total;
}

// The three reductions of per-element `expected` losses, checked against `loss_of(reduction)`.
template <class LossOf>
void check_reductions(LossOf loss_of, const Shape& shape, const std::vector<double>& expected, double tolerance = 1e-5) {
    check_tensor(loss_of(Reduction::None), shape, floats(expected), tolerance);
    check_tensor(loss_of(Reduction::Sum), {}, {static_cast<float>(sum_of(expected))}, tolerance);
    check_tensor(loss_of(Reduction::Mean), {}, {static_cast<float>(sum_of(expected) / expected.size())}, tolerance);
}

// log_softmax of each row of `logits` (rows x classes), in double.
std::vector<double> log_softmax_rows(const std::vector<float>& logits, std::size_t classes) {
    std::vector<double> out(logits.size());
    for (std::size_t row = 0; row * classes < logits.size(); ++row) {
        double largest = -INFINITY, total = 0.0;
        for (std::size_t c = 0; c < classes; ++c) largest = std::max(largest, double(logits[row * classes + c]));
        for (std::size_t c = 0; c < classes; ++c) total += std::exp(logits[row * classes + c] - largest);
        for (std::size_t c = 0; c < classes; ++c) out[row * classes + c] = logits[row * classes + c] - largest - std::log(total);
    }
    return out;
}

// PyTorch's cross-entropy, written out: per row (1 - ε)(-w_t log p_t) + ε/C Σ_c -w_c log p_c,
// ignored rows 0; the mean divides by Σ w_t over the rows that count. Returns (per row, mean).
std::pair<std::vector<double>, double> reference_cross_entropy(const std::vector<float>& logits,
                                                               const std::vector<std::int64_t>& target,
                                                               std::vector<double> weight, double smoothing,
                                                               std::int64_t ignore_index = -100) {
    const std::size_t classes = logits.size() / target.size();
    if (weight.empty()) weight.assign(classes, 1.0);
    const std::vector<double> log_probs = log_softmax_rows(logits, classes);
    std::vector<double> rows(target.size(), 0.0);
    double total_weight = 0.0;
    for (std::size_t n = 0; n < target.size(); ++n) {
        if (target[n] == ignore_index) continue;
        const auto t = static_cast<std::size_t>(target[n]);
        double spread = 0.0;
        for (std::size_t c = 0; c < classes; ++c) spread -= weight[c] * log_probs[n * classes + c];
        rows[n] = (1.0 - smoothing) * -weight[t] * log_probs[n * classes + t] + smoothing / classes * spread;
        total_weight += weight[t];
    }
    return {rows, sum_of(rows) / total_weight};
}

std::string message_of(const std::function<void()>& action) {
    try {
        action();
    } catch (const std::exception& error) {
        return error.what();
    }
    return "(no exception)";
}

}  // namespace

// ---- elementwise losses ------------------------------------------------------------------------

TEST_CASE("mse_loss, l1_loss and smooth_l1_loss equal their formulas for each reduction", "[chapter03][loss]") {
    const Tensor input = tensor({{0.5, -1.0, 2.0}, {3.0, 0.0, -0.25}});
    const Tensor target = tensor({{0.0, 1.0, 2.0}, {-1.0, 0.75, 0.0}});
    const std::vector<double> diff{0.5, -2.0, 0.0, 4.0, -0.75, -0.25};
    std::vector<double> squared, absolute, smooth, smooth_half;
    for (double d : diff) {
        squared.push_back(d * d);
        absolute.push_back(std::abs(d));
        smooth.push_back(std::abs(d) < 1.0 ? 0.5 * d * d : std::abs(d) - 0.5);
        smooth_half.push_back(std::abs(d) < 0.5 ? d * d : std::abs(d) - 0.25);  // beta = 0.5
    }
    check_reductions([&](Reduction r) { return F::mse_loss(input, target, MSELossOptions().reduction(r)); }, {2, 3}, squared);
    check_reductions([&](Reduction r) { return F::l1_loss(input, target, L1LossOptions().reduction(r)); }, {2, 3}, absolute);
    check_reductions([&](Reduction r) { return F::smooth_l1_loss(input, target, SmoothL1LossOptions().reduction(r)); },
                     {2, 3}, smooth);
    check_reductions(
        [&](Reduction r) { return F::smooth_l1_loss(input, target, SmoothL1LossOptions().reduction(r).beta(0.5)); },
        {2, 3}, smooth_half);
    // The default reduction is the mean.
    CHECK(F::mse_loss(input, target).item() == Approx(sum_of(squared) / 6));
}

TEST_CASE("smooth_l1_loss with beta 0 is l1_loss, and a negative beta is refused", "[chapter03][loss]") {
    const Tensor input = random_input({3, 4}, 1), target = random_input({3, 4}, 2);
    check_tensor(F::smooth_l1_loss(input, target, SmoothL1LossOptions().beta(0.0)), {}, {F::l1_loss(input, target).item()});
    const std::string message =
        message_of([&] { (void)F::smooth_l1_loss(input, target, SmoothL1LossOptions().beta(-1.0)); });
    CHECK_THAT(message, Catch::Contains("smooth_l1_loss") && Catch::Contains("beta"));
}

TEST_CASE("elementwise losses give the input and the target their gradients", "[chapter03][loss]") {
    // Away from the kinks: |input - target| is never 0 (l1) and never near beta = 1 (smooth_l1).
    Tensor input = tensor({0.5, -1.0, 2.0, 3.0}).requires_grad_();
    Tensor target = tensor({0.0, 1.0, 2.3, 1.5}).requires_grad_();  // d = 0.5, -2, -0.3, 1.5
    F::smooth_l1_loss(input, target, SmoothL1LossOptions().reduction(Reduction::Sum)).backward();
    check_tensor(input.grad(), {4}, {0.5f, -1.0f, -0.3f, 1.0f});  // d / beta inside, sign(d) outside
    check_tensor(target.grad(), {4}, {-0.5f, 1.0f, 0.3f, -1.0f});
    input.set_grad(Tensor()), target.set_grad(Tensor());
    F::mse_loss(input, target).backward();  // 2 d / 4
    check_tensor(input.grad(), {4}, {0.25f, -1.0f, -0.15f, 0.75f});
    check_tensor(target.grad(), {4}, {-0.25f, 1.0f, 0.15f, -0.75f});
    input.set_grad(Tensor()), target.set_grad(Tensor());
    F::l1_loss(input, target).backward();  // sign(d) / 4
    check_tensor(input.grad(), {4}, {0.25f, -0.25f, -0.25f, 0.25f});
}

TEST_CASE("binary_cross_entropy equals -w (t log x + (1 - t) log(1 - x)) for each reduction", "[chapter03][loss]") {
    const std::vector<float> x{0.1f, 0.8f, 0.5f, 0.3f, 0.95f, 0.6f}, t{0.0f, 1.0f, 1.0f, 0.2f, 0.0f, 0.7f};
    const std::vector<float> w{1.0f, 2.0f, 0.5f};  // per column, broadcast over the rows
    std::vector<double> plain, weighted;
    for (std::size_t i = 0; i < x.size(); ++i) {
        plain.push_back(-(t[i] * std::log(double(x[i])) + (1.0 - t[i]) * std::log(1.0 - x[i])));
        weighted.push_back(plain.back() * w[i % 3]);
    }
    const Tensor input = from_vector(x, {2, 3}), target = from_vector(t, {2, 3});
    check_reductions([&](Reduction r) { return F::binary_cross_entropy(input, target, BCELossOptions().reduction(r)); },
                     {2, 3}, plain);
    check_reductions(
        [&](Reduction r) {
            return F::binary_cross_entropy(input, target, BCELossOptions().reduction(r).weight(from_vector(w, {3})));
        },
        {2, 3}, weighted);
}

TEST_CASE("binary_cross_entropy of probabilities 0 and 1 stays finite, as PyTorch's", "[chapter03][loss]") {
    const Tensor input = tensor({0.0, 1.0, 0.5, 0.0, 1.0}).requires_grad_();
    const Tensor target = tensor({1.0, 0.0, 1.0, 0.0, 1.0});
    const Tensor loss = F::binary_cross_entropy(input, target, BCELossOptions().reduction(Reduction::None));
    // log 0 is clamped at -100; a right answer at 0 or 1 costs exactly 0.
    check_tensor(loss, {5}, {100.0f, 100.0f, static_cast<float>(std::log(2.0)), 0.0f, 0.0f});
    loss.sum().backward();
    // (x - t) / max(x (1 - x), 1e-12): ±1e12 at the wrong ends (PyTorch's numbers), 0 at the right ones.
    check_tensor(input.grad(), {5}, {-1e12f, 1e12f, -2.0f, 0.0f, 0.0f});
}

TEST_CASE("binary_cross_entropy_with_logits equals the log-sigmoid formula, with weight and pos_weight",
          "[chapter03][loss]") {
    const std::vector<float> x{-2.0f, 0.5f, 3.0f, -0.3f, 1.5f, 0.0f}, t{0.0f, 1.0f, 1.0f, 0.4f, 0.0f, 1.0f};
    const std::vector<float> w{0.5f, 2.0f, 1.0f}, p{3.0f, 0.5f, 1.5f};  // per column
    std::vector<double> plain, both;
    for (std::size_t i = 0; i < x.size(); ++i) {
        const double s = 1.0 / (1.0 + std::exp(-double(x[i])));
        plain.push_back(-(t[i] * std::log(s) + (1.0 - t[i]) * std::log(1.0 - s)));
        both.push_back(-w[i % 3] * (p[i % 3] * t[i] * std::log(s) + (1.0 - t[i]) * std::log(1.0 - s)));
    }
    const Tensor input = from_vector(x, {2, 3}), target = from_vector(t, {2, 3});
    check_reductions(
        [&](Reduction r) {
            return F::binary_cross_entropy_with_logits(input, target, BCEWithLogitsLossOptions().reduction(r));
        },
        {2, 3}, plain);
    check_reductions(
        [&](Reduction r) {
            return F::binary_cross_entropy_with_logits(
                input, target,
                BCEWithLogitsLossOptions().reduction(r).weight(from_vector(w, {3})).pos_weight(from_vector(p, {3})));
        },
        {2, 3}, both);
}

TEST_CASE("binary_cross_entropy_with_logits of logits ±1000 gives finite losses and gradients", "[chapter03][loss]") {
    const Tensor input = tensor({1000.0, -1000.0, 1000.0, -1000.0}).requires_grad_();
    const Tensor target = tensor({1.0, 0.0, 0.0, 1.0}).requires_grad_();
    const Tensor loss = F::binary_cross_entropy_with_logits(input, target, BCEWithLogitsLossOptions()
                                                                               .reduction(Reduction::None)
                                                                               .pos_weight(tensor({2.0})));
    check_tensor(loss, {4}, {0.0f, 0.0f, 1000.0f, 2000.0f});  // the wrong answers cost |x| (times p for positives)
    loss.sum().backward();
    check_tensor(input.grad(), {4}, {0.0f, 0.0f, 1.0f, -2.0f});  // (p t + 1 - t) σ(x) - p t
    check_tensor(target.grad(), {4}, {-1000.0f, 2000.0f, -1000.0f, 2000.0f}, 1e-4);  // (p - 1) softplus(-x) - x
}

// ---- class losses ------------------------------------------------------------------------------

TEST_CASE("nll_loss picks -w[t] log p_t, skips ignore_index, and the mean divides by Σ w[t]", "[chapter03][loss]") {
    const Tensor log_probs = tensor({{-0.5, -1.0, -2.0}, {-3.0, -0.1, -0.7}, {-1.5, -2.5, -0.2}, {-0.9, -0.4, -1.1}});
    const Tensor target = indices({2, 0, -100, 1});
    check_tensor(F::nll_loss(log_probs, target, NLLLossOptions().reduction(Reduction::None)), {4},
                 {2.0f, 3.0f, 0.0f, 0.4f});
    check_tensor(F::nll_loss(log_probs, target, NLLLossOptions().reduction(Reduction::Sum)), {}, {5.4f});
    check_tensor(F::nll_loss(log_probs, target), {}, {5.4f / 3});  // 3 rows count
    const Tensor weight = tensor({0.5, 2.0, 4.0});
    check_tensor(F::nll_loss(log_probs, target, NLLLossOptions().weight(weight).reduction(Reduction::None)), {4},
                 {8.0f, 1.5f, 0.0f, 0.8f});
    check_tensor(F::nll_loss(log_probs, target, NLLLossOptions().weight(weight)), {}, {10.3f / 6.5f});  // Σ w[t] = 4 + 0.5 + 2
    // Another ignore_index: the row with target 0 drops out instead.
    check_tensor(F::nll_loss(log_probs, indices({2, 0, 1, 1}), NLLLossOptions().ignore_index(0)), {},
                 {(2.0f + 2.5f + 0.4f) / 3});
}

TEST_CASE("nll_loss and cross_entropy take (N, C, d...) inputs and (C) inputs, as PyTorch", "[chapter03][loss]") {
    const Tensor logits = random_input({2, 3, 2, 2}, 5);  // (N, C, H, W)
    const Tensor target = indices({{{0, 2}, {1, 1}}, {{2, 0}, {-100, 1}}});
    const Tensor rows = logits.permute({0, 2, 3, 1}).reshape({8, 3});
    const Tensor flat_target = target.reshape({8});
    const CrossEntropyLossOptions none = CrossEntropyLossOptions().reduction(Reduction::None);
    check_tensor(F::cross_entropy(logits, target, none), {2, 2, 2}, F::cross_entropy(rows, flat_target, none).to_vector());
    check_tensor(F::cross_entropy(logits, target), {}, {F::cross_entropy(rows, flat_target).item()});
    const Tensor log_probs = log_softmax(logits, 1);
    check_tensor(F::nll_loss(log_probs, target), {}, {F::cross_entropy(rows, flat_target).item()});
    // One sample without a batch axis: input (C), target ().
    const Tensor one = tensor({1.0, 2.0, 0.5});
    const double expected = -log_softmax_rows({1.0f, 2.0f, 0.5f}, 3)[1];
    check_tensor(F::cross_entropy(one, indices(1)), {}, {static_cast<float>(expected)});
    check_tensor(F::nll_loss(log_softmax(one, 0), indices(1), NLLLossOptions().reduction(Reduction::None)), {},
                 {static_cast<float>(expected)});
}

TEST_CASE("cross_entropy equals -log_softmax at the target, for each reduction and label smoothing",
          "[chapter03][loss]") {
    Generator generator(7);
    const Tensor logits = randn({5, 4}, generator) * 2.0;
    const std::vector<std::int64_t> labels{3, 0, -100, 2, 1};
    const Tensor target = from_vector(labels, {5});
    for (double smoothing : {0.0, 0.1, 1.0}) {
        INFO("label_smoothing " << smoothing);
        const auto [rows, mean] = reference_cross_entropy(logits.to_vector(), labels, {}, smoothing);
        const auto options = [&](Reduction r) { return CrossEntropyLossOptions().reduction(r).label_smoothing(smoothing); };
        check_tensor(F::cross_entropy(logits, target, options(Reduction::None)), {5}, floats(rows));
        check_tensor(F::cross_entropy(logits, target, options(Reduction::Sum)), {}, {static_cast<float>(sum_of(rows))});
        check_tensor(F::cross_entropy(logits, target, options(Reduction::Mean)), {}, {static_cast<float>(mean)});
    }
}

TEST_CASE("weighted cross_entropy with label smoothing follows PyTorch's formula", "[chapter03][loss]") {
    Generator generator(8);
    const Tensor logits = randn({6, 3}, generator);
    const std::vector<std::int64_t> labels{2, 0, 1, -100, 1, 0};
    const Tensor target = from_vector(labels, {6});
    const std::vector<double> weight{0.2, 1.5, 3.0};
    const Tensor weight_tensor = from_vector(floats(weight), {3});
    for (double smoothing : {0.0, 0.25}) {
        INFO("label_smoothing " << smoothing);
        const auto [rows, mean] = reference_cross_entropy(logits.to_vector(), labels, weight, smoothing);
        const auto options = [&](Reduction r) {
            return CrossEntropyLossOptions().weight(weight_tensor).label_smoothing(smoothing).reduction(r);
        };
        check_tensor(F::cross_entropy(logits, target, options(Reduction::None)), {6}, floats(rows));
        check_tensor(F::cross_entropy(logits, target, options(Reduction::Sum)), {}, {static_cast<float>(sum_of(rows))});
        check_tensor(F::cross_entropy(logits, target, options(Reduction::Mean)), {}, {static_cast<float>(mean)});
    }
}

TEST_CASE("the fused cross_entropy equals the composite one with all-one weights", "[chapter03][loss][ex-03.2]") {
    // Ties the fast path (chapter 2's kernels) to the plain one (log_softmax, gather, where).
    const Tensor target = indices({1, -100, 0, 3, 3, 2, -100});
    for (double smoothing : {0.0, 0.3}) {
        for (Reduction reduction : {Reduction::None, Reduction::Sum, Reduction::Mean}) {
            const Tensor fused_input = random_input({7, 4}, 9), composite_input = random_input({7, 4}, 9);
            const auto options = CrossEntropyLossOptions().label_smoothing(smoothing).reduction(reduction);
            const Tensor fused = F::cross_entropy(fused_input, target, options);
            const Tensor composite = F::cross_entropy(composite_input, target, CrossEntropyLossOptions(options).weight(ones({4})));
            stepgrad::testing::check_same(fused, composite);
            (fused * fused).sum().backward();  // a non-uniform gradient per row for None
            (composite * composite).sum().backward();
            stepgrad::testing::check_same(fused_input.grad(), composite_input.grad());
        }
    }
}

TEST_CASE("the gradient of cross_entropy is (softmax - one_hot) / N", "[chapter03][loss][ex-03.2]") {
    const Tensor logits = tensor({{1.0, 2.0, 3.0}, {0.5, 0.5, -1.0}}).requires_grad_();
    F::cross_entropy(logits, indices({2, 0})).backward();
    std::vector<double> expected = log_softmax_rows(logits.detach().to_vector(), 3);
    for (double& v : expected) v = std::exp(v) / 2.0;
    expected[2] -= 0.5, expected[3] -= 0.5;
    check_tensor(logits.grad(), {2, 3}, floats(expected));
}

TEST_CASE("cross_entropy's fused backward is upstream x (softmax - smoothed one-hot), zero where ignored",
          "[chapter03][loss][ex-03.2]") {
    // Six rows over five classes; ignore_index 2 is also a class, so rows 1 and 3 are ignored.
    Generator generator(12);
    const std::vector<float> logits = (randn({6, 5}, generator) * 2.0).to_vector();
    const std::vector<std::int64_t> labels{4, 2, 0, 2, 1, 3};
    const std::int64_t ignore_index = 2;
    const std::vector<double> log_probs = log_softmax_rows(logits, 5);
    // d loss / d logits[n, c] = upstream[n] (exp(log_probs[n, c]) - q[n, c]), written out in double
    const auto by_hand = [&](const std::vector<double>& upstream, double smoothing) {
        std::vector<double> grad(logits.size(), 0.0);
        for (std::size_t n = 0; n < labels.size(); ++n) {
            if (labels[n] == ignore_index) continue;
            for (std::size_t c = 0; c < 5; ++c) {
                const double q = (static_cast<std::int64_t>(c) == labels[n] ? 1.0 - smoothing : 0.0) + smoothing / 5.0;
                grad[n * 5 + c] = upstream[n] * (std::exp(log_probs[n * 5 + c]) - q);
            }
        }
        return floats(grad);
    };
    const std::vector<double> upstream{0.5, -1.0, 2.0, 3.0, 0.25, -0.75};
    for (double smoothing : {0.0, 0.2}) {
        INFO("label_smoothing " << smoothing);
        const auto options = [&](Reduction r) {
            return CrossEntropyLossOptions().reduction(r).ignore_index(ignore_index).label_smoothing(smoothing);
        };
        const auto grad_of = [&](Reduction r, const Tensor& upstream_gradient) {
            const Tensor x = from_vector(logits, {6, 5}).requires_grad_();
            const Tensor loss = F::cross_entropy(x, from_vector(labels, {6}), options(r));
            if (upstream_gradient.defined()) {
                loss.backward(upstream_gradient);
            } else {
                loss.backward();
            }
            return x.grad();
        };
        // None: each row's own upstream gradient; Sum: 1 for every row; Mean: 1 / (rows that count).
        check_tensor(grad_of(Reduction::None, from_vector(floats(upstream), {6})), {6, 5},
                     by_hand(upstream, smoothing));
        check_tensor(grad_of(Reduction::Sum, Tensor()), {6, 5}, by_hand(std::vector<double>(6, 1.0), smoothing));
        check_tensor(grad_of(Reduction::Mean, Tensor()), {6, 5}, by_hand(std::vector<double>(6, 0.25), smoothing));
    }
    SECTION("all rows ignored: the mean is 0 / 0, yet every gradient is exactly 0") {
        const Tensor x = from_vector(logits, {6, 5}).requires_grad_();
        const Tensor loss = F::cross_entropy(x, indices({2, 2, 2, 2, 2, 2}), CrossEntropyLossOptions().ignore_index(2));
        CHECK(std::isnan(loss.item()));
        loss.backward();
        check_tensor(x.grad(), {6, 5}, std::vector<float>(30, 0.0f), 0.0);
    }
}

TEST_CASE("the fused cross_entropy passes gradcheck for each reduction and label smoothing",
          "[chapter03][loss][gradcheck][ex-03.2]") {
    const Tensor labels = indices({3, -100, 0, 2, 2});
    const Tensor logits = random_input({5, 4}, 19);
    for (Reduction r : {Reduction::None, Reduction::Sum, Reduction::Mean}) {
        for (double smoothing : {0.0, 0.2}) {
            INFO("reduction " << static_cast<int>(r) << ", label_smoothing " << smoothing);
            const auto options = CrossEntropyLossOptions().label_smoothing(smoothing).reduction(r);
            CHECK(gradcheck([&](const std::vector<Tensor>& in) { return F::cross_entropy(in[0], labels, options); },
                            {logits}));
        }
    }
}

TEST_CASE("an all-ignored batch gives NaN for the mean, 0 for the sum, and zero gradients, as PyTorch",
          "[chapter03][loss]") {
    const Tensor target = indices({-100, -100, -100});
    const auto check_all_ignored = [&](const std::function<Tensor(const Tensor&, Reduction)>& loss_of) {
        const Tensor logits = random_input({3, 4}, 10);
        const Tensor mean = loss_of(logits, Reduction::Mean);
        CHECK(std::isnan(mean.item()));
        mean.backward();
        check_tensor(logits.grad(), {3, 4}, std::vector<float>(12, 0.0f));
        check_tensor(loss_of(logits, Reduction::Sum), {}, {0.0f});
    };
    check_all_ignored([&](const Tensor& x, Reduction r) { return F::cross_entropy(x, target, CrossEntropyLossOptions().reduction(r)); });
    check_all_ignored([&](const Tensor& x, Reduction r) {
        return F::cross_entropy(x, target, CrossEntropyLossOptions().reduction(r).label_smoothing(0.1));
    });
    check_all_ignored([&](const Tensor& x, Reduction r) {
        return F::cross_entropy(x, target, CrossEntropyLossOptions().reduction(r).weight(ones({4})).label_smoothing(0.1));
    });
    check_all_ignored([&](const Tensor& x, Reduction r) {
        return F::nll_loss(log_softmax(x, 1), target, NLLLossOptions().reduction(r));
    });
}

TEST_CASE("cross_entropy of logits ±1000 gives finite losses and gradients", "[chapter03][loss]") {
    const Tensor target = indices({0, 1});
    for (bool weighted : {false, true}) {
        const Tensor logits = tensor({{1000.0, -1000.0, 0.0}, {1000.0, -1000.0, 0.0}}).requires_grad_();
        auto options = CrossEntropyLossOptions().label_smoothing(0.0).reduction(Reduction::None);
        if (weighted) options.weight(ones({3}));
        const Tensor loss = F::cross_entropy(logits, target, options);
        check_tensor(loss, {2}, {0.0f, 2000.0f});
        loss.sum().backward();
        check_tensor(logits.grad(), {2, 3}, {0.0f, 0.0f, 0.0f, 1.0f, -1.0f, 0.0f});
    }
}

// ---- gradcheck ---------------------------------------------------------------------------------

TEST_CASE("every loss passes gradcheck, for the input and (where PyTorch has one) the target", "[chapter03][loss]") {
    GradcheckOptions linear;  // l1 and nll are linear in their inputs: a long step has no truncation error
    linear.eps = 5e-2;
    const Tensor a = random_input({3, 4}, 11), b = random_input({3, 4}, 12);
    const auto pair_fn = [](auto loss) {
        return std::function<Tensor(const std::vector<Tensor>&)>([loss](const std::vector<Tensor>& in) { return loss(in[0], in[1]); });
    };
    for (Reduction r : {Reduction::None, Reduction::Sum, Reduction::Mean}) {
        INFO("reduction " << static_cast<int>(r));
        // mse is quadratic: the fourth-order stencil is exact, so the long step only cuts the
        // rounding of the float32 sum (which the default step turns into a 2e-3 relative error).
        CHECK(gradcheck(pair_fn([r](const Tensor& x, const Tensor& t) { return F::mse_loss(x, t, MSELossOptions().reduction(r)); }),
                        {a, b}, linear));
    }
    // l1 and smooth_l1 away from their kinks: |d| at least 0.3 from 0 and from beta = 1.
    const Tensor x = tensor({{0.5, -1.0, 2.0}, {3.0, 0.0, -0.25}}).requires_grad_();
    const Tensor t = tensor({{0.0, 1.0, 2.3}, {1.5, 0.6, 0.6}}).requires_grad_();  // d = .5 -2 -.3 1.5 -.6 -.85
    CHECK(gradcheck(pair_fn([](const Tensor& u, const Tensor& v) { return F::l1_loss(u, v, L1LossOptions().reduction(Reduction::None)); }),
                    {x, t}, linear));
    CHECK(gradcheck(pair_fn([](const Tensor& u, const Tensor& v) { return F::smooth_l1_loss(u, v); }), {x, t}));
    CHECK(gradcheck(pair_fn([](const Tensor& u, const Tensor& v) { return F::smooth_l1_loss(u, v, SmoothL1LossOptions().beta(0.4)); }),
                    {x, t}));

    const Tensor probabilities = stepgrad::testing::random_positive({3, 4}, 0.15, 0.85, 13);
    const Tensor soft_targets = stepgrad::testing::random_positive({3, 4}, 0.0, 1.0, 14);
    const Tensor weight = stepgrad::testing::random_positive({4}, 0.5, 2.0, 15).detach();
    CHECK(gradcheck(pair_fn([&](const Tensor& u, const Tensor& v) {
                        return F::binary_cross_entropy(u, v, BCELossOptions().weight(weight).reduction(Reduction::None));
                    }),
                    {probabilities, soft_targets}));
    CHECK(gradcheck(pair_fn([&](const Tensor& u, const Tensor& v) {
                        return F::binary_cross_entropy_with_logits(u, v, BCEWithLogitsLossOptions().weight(weight).pos_weight(tensor({0.5, 2.0, 1.0, 3.0})));
                    }),
                    {a, soft_targets}));
    CHECK(gradcheck(pair_fn([](const Tensor& u, const Tensor& v) { return F::binary_cross_entropy_with_logits(u, v); }),
                    {a, soft_targets}));

    const Tensor labels = indices({3, -100, 0, 2, 2});
    const Tensor logits = random_input({5, 4}, 16);
    const Tensor class_weight = tensor({0.5, 1.0, 2.0, 1.5});
    const auto logits_fn = [](auto loss) {
        return std::function<Tensor(const std::vector<Tensor>&)>([loss](const std::vector<Tensor>& in) { return loss(in[0]); });
    };
    for (Reduction r : {Reduction::None, Reduction::Sum, Reduction::Mean}) {
        INFO("reduction " << static_cast<int>(r));
        CHECK(gradcheck(logits_fn([&](const Tensor& u) {
                            return F::nll_loss(u, labels, NLLLossOptions().weight(class_weight).reduction(r));
                        }),
                        {logits}, linear));
        for (double smoothing : {0.0, 0.2}) {
            const auto options = CrossEntropyLossOptions().label_smoothing(smoothing).reduction(r);
            CHECK(gradcheck(logits_fn([&](const Tensor& u) { return F::cross_entropy(u, labels, options); }), {logits}));
            CHECK(gradcheck(logits_fn([&](const Tensor& u) {
                                return F::cross_entropy(u, labels, CrossEntropyLossOptions(options).weight(class_weight));
                            }),
                            {logits}));
        }
    }
}

// ---- modules -----------------------------------------------------------------------------------

TEST_CASE("the loss modules equal the functional forms and print as PyTorch", "[chapter03][loss]") {
    const Tensor x = random_input({4, 3}, 17), y = random_input({4, 3}, 18);
    const Tensor probabilities = sigmoid(x), labels = indices({0, 2, 1, 2}), binary = tensor({{1, 0, 1}, {0, 0, 1}, {1, 1, 0}, {0, 1, 0}});
    const Tensor weight = tensor({0.5, 2.0, 1.0});
    const auto printed = [](const Module& module) {
        std::ostringstream stream;
        module.pretty_print(stream);
        return stream.str();
    };
    const auto same = [](const Tensor& a, const Tensor& b) { stepgrad::testing::check_same(a, b, 1e-6); };

    MSELoss mse(MSELossOptions().reduction(Reduction::Sum));
    same(mse.forward(x, y), F::mse_loss(x, y, MSELossOptions().reduction(Reduction::Sum)));
    L1Loss l1;
    same(l1.forward(x, y), F::l1_loss(x, y));
    SmoothL1Loss smooth(SmoothL1LossOptions().beta(0.5));
    same(smooth.forward(x, y), F::smooth_l1_loss(x, y, SmoothL1LossOptions().beta(0.5)));
    BCELoss bce(BCELossOptions().weight(weight));
    same(bce.forward(probabilities, binary), F::binary_cross_entropy(probabilities, binary, BCELossOptions().weight(weight)));
    BCEWithLogitsLoss bce_logits(BCEWithLogitsLossOptions().pos_weight(weight));
    same(bce_logits.forward(x, binary),
         F::binary_cross_entropy_with_logits(x, binary, BCEWithLogitsLossOptions().pos_weight(weight)));
    NLLLoss nll(NLLLossOptions().weight(weight));
    same(nll.forward(log_softmax(x, 1), labels), F::nll_loss(log_softmax(x, 1), labels, NLLLossOptions().weight(weight)));
    CrossEntropyLoss ce(CrossEntropyLossOptions().label_smoothing(0.1));
    same(ce.forward(x, labels), F::cross_entropy(x, labels, CrossEntropyLossOptions().label_smoothing(0.1)));
    CrossEntropyLoss weighted_ce(CrossEntropyLossOptions().weight(weight));
    same(weighted_ce.forward(x, labels), F::cross_entropy(x, labels, CrossEntropyLossOptions().weight(weight)));

    CHECK(printed(mse) == "MSELoss()");
    CHECK(printed(l1) == "L1Loss()");
    CHECK(printed(smooth) == "SmoothL1Loss()");
    CHECK(printed(bce) == "BCELoss()");
    CHECK(printed(bce_logits) == "BCEWithLogitsLoss()");
    CHECK(printed(nll) == "NLLLoss()");
    CHECK(printed(ce) == "CrossEntropyLoss()");
}

TEST_CASE("loss modules register their weights as buffers, not parameters", "[chapter03][loss]") {
    CrossEntropyLoss plain;
    CHECK(plain.named_buffers().empty());
    CrossEntropyLoss weighted(CrossEntropyLossOptions().weight(tensor({1.0, 2.0})));
    const auto buffers = weighted.named_buffers();
    REQUIRE(buffers.size() == 1);
    CHECK(buffers[0].first == "weight");
    CHECK(weighted.parameters().empty());
    BCEWithLogitsLoss both(BCEWithLogitsLossOptions().weight(ones({3})).pos_weight(ones({3})));
    const auto names = both.named_buffers();
    REQUIRE(names.size() == 2);
    CHECK(names[0].first == "weight");
    CHECK(names[1].first == "pos_weight");
    // The buffer is the weight the loss uses: changing it changes the loss.
    const Tensor logits = tensor({{0.0, 1.0}}), target = indices({1});
    CrossEntropyLoss summed(CrossEntropyLossOptions().weight(tensor({1.0, 2.0})).reduction(Reduction::Sum));
    const float summed_before = summed.forward(logits, target).item();
    summed.weight.mul_(3.0);
    CHECK(summed.forward(logits, target).item() == Approx(3 * summed_before));
}

// ---- errors ------------------------------------------------------------------------------------

TEST_CASE("losses refuse bad inputs with messages that name the op and the shapes", "[chapter03][loss]") {
    const Tensor logits = random_input({4, 3}, 19);
    CHECK_THAT(message_of([&] { (void)F::cross_entropy(logits, tensor({0.0, 1.0, 2.0, 1.0})); }),
               Catch::Contains("cross_entropy") && Catch::Contains("Int64"));
    CHECK_THAT(message_of([&] { (void)F::nll_loss(logits, tensor({0.0, 1.0, 2.0, 1.0})); }),
               Catch::Contains("nll_loss") && Catch::Contains("Int64"));
    CHECK_THROWS_AS(F::cross_entropy(logits, indices({0, 3, 1, 1})), std::out_of_range);
    CHECK_THAT(message_of([&] { (void)F::cross_entropy(logits, indices({0, 3, 1, 1})); }),
               Catch::Contains("cross_entropy") && Catch::Contains("target 3"));
    CHECK_THAT(message_of([&] { (void)F::cross_entropy(logits, indices({0, -1, 1, 1})); }),
               Catch::Contains("cross_entropy") && Catch::Contains("target -1"));
    CHECK_THROWS_AS(F::nll_loss(logits, indices({0, -1, 1, 1})), std::out_of_range);  // not row -1 counted from the end
    CHECK_THAT(message_of([&] { (void)F::nll_loss(logits, indices({0, 7, 1, 1})); }),
               Catch::Contains("nll_loss") && Catch::Contains("out of range for 3 classes"));
    CHECK_THROWS_AS(F::cross_entropy(logits, indices({0, -1, 1, 1}), CrossEntropyLossOptions().weight(ones({3}))),
                    std::out_of_range);
    CHECK_THAT(message_of([&] { (void)F::cross_entropy(logits, indices({0, 1, 2})); }),
               Catch::Contains("cross_entropy") && Catch::Contains("[4]") && Catch::Contains("[4, 3]") && Catch::Contains("[3]"));
    CHECK_THAT(message_of([&] { (void)F::mse_loss(logits, random_input({3, 4})); }),
               Catch::Contains("mse_loss") && Catch::Contains("[4, 3]") && Catch::Contains("[3, 4]"));
    CHECK_THAT(message_of([&] { (void)F::cross_entropy(logits, indices({0, 1, 2, 1}), CrossEntropyLossOptions().weight(ones({4}))); }),
               Catch::Contains("weight") && Catch::Contains("[3]") && Catch::Contains("[4]"));
    CHECK_THAT(message_of([&] { (void)F::cross_entropy(logits, indices({0, 1, 2, 1}), CrossEntropyLossOptions().label_smoothing(1.5)); }),
               Catch::Contains("label_smoothing"));
    CHECK_THAT(message_of([&] { (void)F::binary_cross_entropy(sigmoid(logits), zeros({4, 3}), BCELossOptions().weight(ones({2}))); }),
               Catch::Contains("binary_cross_entropy") && Catch::Contains("weight") && Catch::Contains("[2]"));
    CHECK_THAT(message_of([&] { (void)F::l1_loss(logits, indices({{0, 1, 2}, {0, 1, 2}, {0, 1, 2}, {0, 1, 2}})); }),
               Catch::Contains("l1_loss"));
}
