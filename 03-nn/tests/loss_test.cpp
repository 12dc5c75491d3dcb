// Chapter 3's losses against their formulas, computed here independently (in double, from the
// raw numbers), for each reduction and option; numerical stability; gradchecks; modules; errors.
#include "loss_test_helpers.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

// stepgrad, stepgrad::nn, F (nn::functional), check_tensor, indices, random_input and the helpers.
using namespace stepgrad::testing::loss;


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
