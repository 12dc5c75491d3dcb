// Chapter 3's class losses (nll_loss, cross_entropy) against their formulas, computed here in
// double: reductions, weights, ignore_index, label smoothing, shapes, the fused backward (exercise
// 03.2) and numerical stability.
#include "loss_test_helpers.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

// stepgrad, stepgrad::nn, F (nn::functional), check_tensor, indices, random_input and the helpers.
using namespace stepgrad::testing::loss;

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
