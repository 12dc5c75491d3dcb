// Claims checked: SGD (momentum, dampening, Nesterov, weight decay), Adam, AdamW and RMSprop
// (centred, momentum) take the textbook steps, written here again as plain loops over doubles;
// groups keep their own options; zero_grad clears to none or to zeros; parameters without a
// gradient are left alone; the state dict round-trips into an identical continued trajectory and
// a bad one changes nothing; invalid options are refused with PyTorch's words; and gradient
// clipping scales to the right norm (2 and inf) or leaves small gradients alone.
#include <stepgrad/nn/clip_grad.hpp>
#include <stepgrad/optim/adam.hpp>
#include <stepgrad/optim/rmsprop.hpp>
#include <stepgrad/optim/sgd.hpp>

#include "../../02-tensor/tests/test_helpers.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <functional>
#include <limits>
#include <memory>
#include <vector>

using namespace stepgrad;
using namespace stepgrad::optim;
using stepgrad::testing::check_tensor;

namespace {

using Vector = std::vector<double>;

const Vector kStart{0.5, -1.0, 2.0, 0.25};
// The gradient of each of three steps (made up, different signs and sizes).
const std::vector<Vector> kGrads{{0.1, -0.2, 0.3, 1.0}, {-0.4, 0.5, 0.05, -0.3}, {0.2, 0.2, -0.6, 0.7}};

Tensor parameter(const Vector& values) {
    return from_vector(std::vector<float>(values.begin(), values.end()), {static_cast<std::int64_t>(values.size())},
                       TensorOptions().requires_grad(true));
}

void set_grad(Tensor& p, const Vector& g) {
    p.set_grad(from_vector(std::vector<float>(g.begin(), g.end()), {static_cast<std::int64_t>(g.size())}));
}

std::vector<float> as_floats(const Vector& v) { return std::vector<float>(v.begin(), v.end()); }

// Runs three steps of `optimizer` on a parameter starting at kStart and, beside it, the
// reference update `reference(param, grad, step)` in doubles; compares after every step.
void check_three_steps(const std::function<std::unique_ptr<Optimizer>(const std::vector<Tensor>&)>& make,
                       const std::function<void(Vector&, const Vector&, int)>& reference) {
    Tensor p = parameter(kStart);
    auto optimizer = make({p});
    Vector expected = kStart;
    for (int step = 1; step <= 3; ++step) {
        INFO("step " << step);
        set_grad(p, kGrads[step - 1]);
        optimizer->step();
        reference(expected, kGrads[step - 1], step);
        check_tensor(p, {4}, as_floats(expected), 1e-5);
    }
}

// ---- the textbook updates, one element at a time -------------------------------------------

struct SgdReference {
    double lr = 0, momentum = 0, dampening = 0, weight_decay = 0;
    bool nesterov = false;
    Vector buffer = {};
    void operator()(Vector& p, const Vector& grad, int step) {
        buffer.resize(p.size());
        for (std::size_t i = 0; i < p.size(); ++i) {
            double g = grad[i] + weight_decay * p[i];
            if (momentum != 0) {
                buffer[i] = step == 1 ? g : momentum * buffer[i] + (1 - dampening) * g;
                g = nesterov ? g + momentum * buffer[i] : buffer[i];
            }
            p[i] -= lr * g;
        }
    }
};

struct AdamReference {
    double lr = 0, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 0;
    bool decoupled = false;
    Vector m = {}, v = {};
    void operator()(Vector& p, const Vector& grad, int step) {
        m.resize(p.size());
        v.resize(p.size());
        for (std::size_t i = 0; i < p.size(); ++i) {
            double g = grad[i];
            if (decoupled) {
                p[i] *= 1 - lr * weight_decay;
            } else {
                g += weight_decay * p[i];
            }
            m[i] = beta1 * m[i] + (1 - beta1) * g;
            v[i] = beta2 * v[i] + (1 - beta2) * g * g;
            const double m_hat = m[i] / (1 - std::pow(beta1, step));
            const double v_hat = v[i] / (1 - std::pow(beta2, step));
            p[i] -= lr * m_hat / (std::sqrt(v_hat) + eps);
        }
    }
};

struct RmspropReference {
    double lr = 0, alpha = 0.99, eps = 1e-8, weight_decay = 0, momentum = 0;
    bool centered = false;
    Vector square = {}, mean = {}, buffer = {};
    void operator()(Vector& p, const Vector& grad, int /*step*/) {
        square.resize(p.size());
        mean.resize(p.size());
        buffer.resize(p.size());
        for (std::size_t i = 0; i < p.size(); ++i) {
            const double g = grad[i] + weight_decay * p[i];
            square[i] = alpha * square[i] + (1 - alpha) * g * g;
            double denominator = square[i];
            if (centered) {
                mean[i] = alpha * mean[i] + (1 - alpha) * g;
                denominator -= mean[i] * mean[i];
            }
            denominator = std::sqrt(denominator) + eps;
            if (momentum > 0) {
                buffer[i] = momentum * buffer[i] + g / denominator;
                p[i] -= lr * buffer[i];
            } else {
                p[i] -= lr * g / denominator;
            }
        }
    }
};

}  // namespace

TEST_CASE("SGD takes the textbook steps", "[chapter03][optim]") {
    SECTION("plain, with weight decay") {
        check_three_steps([](const auto& p) { return std::make_unique<SGD>(p, SGDOptions(0.1).weight_decay(0.01)); },
                          SgdReference{.lr = 0.1, .weight_decay = 0.01});
    }
    SECTION("momentum and dampening (not applied on the first step)") {
        check_three_steps(
            [](const auto& p) { return std::make_unique<SGD>(p, SGDOptions(0.1).momentum(0.9).dampening(0.3)); },
            SgdReference{.lr = 0.1, .momentum = 0.9, .dampening = 0.3});
    }
    SECTION("Nesterov with weight decay") {
        check_three_steps(
            [](const auto& p) {
                return std::make_unique<SGD>(p, SGDOptions(0.05).momentum(0.8).nesterov(true).weight_decay(0.1));
            },
            SgdReference{.lr = 0.05, .momentum = 0.8, .weight_decay = 0.1, .nesterov = true});
    }
}

TEST_CASE("Adam takes the textbook steps, with L2 weight decay in the gradient", "[chapter03][optim][ex-03.3]") {
    check_three_steps(
        [](const auto& p) { return std::make_unique<Adam>(p, AdamOptions(0.1).betas({0.8, 0.99}).weight_decay(0.1)); },
        AdamReference{.lr = 0.1, .beta1 = 0.8, .beta2 = 0.99, .weight_decay = 0.1});
}

TEST_CASE("AdamW decays the weights apart from the gradient", "[chapter03][optim][ex-03.3]") {
    check_three_steps([](const auto& p) { return std::make_unique<AdamW>(p, AdamWOptions(0.1).weight_decay(0.5)); },
                      AdamReference{.lr = 0.1, .weight_decay = 0.5, .decoupled = true});
    // decoupled is not L2: the same weight decay as Adam's L2 term lands somewhere else
    Tensor a = parameter(kStart), b = parameter(kStart);
    Adam adam({a}, AdamOptions(0.1).weight_decay(0.5));
    AdamW adamw({b}, AdamWOptions(0.1).weight_decay(0.5));
    set_grad(a, kGrads[0]);
    set_grad(b, kGrads[0]);
    adam.step();
    adamw.step();
    CHECK(std::abs(a.to_vector()[3] - b.to_vector()[3]) > 1e-3);
}

// With the same gradient g every step, m_t = (1 - beta1^t) g and v_t = (1 - beta2^t) g²: the bias
// corrections undo exactly the shrinking towards the zero start, m̂ = g and v̂ = g², so every step
// moves each element by lr · g / (|g| + eps), lr against the sign of its gradient.
TEST_CASE("Adam's bias correction: with a constant gradient every step is lr against its sign",
          "[chapter03][optim][ex-03.3]") {
    const Vector gradient{0.1, -0.2, 3.0, -1e-3};
    for (const bool decoupled : {false, true}) {
        INFO((decoupled ? "AdamW, weight decay 0.5" : "Adam"));
        Tensor p = parameter(kStart);
        std::unique_ptr<Optimizer> optimizer;
        if (decoupled) {
            optimizer = std::make_unique<AdamW>(std::vector<Tensor>{p}, AdamWOptions(0.01).weight_decay(0.5));
        } else {
            optimizer = std::make_unique<Adam>(std::vector<Tensor>{p}, AdamOptions(0.01));
        }
        Vector expected = kStart;
        for (int step = 1; step <= 3; ++step) {
            INFO("step " << step);
            set_grad(p, gradient);
            optimizer->step();
            for (std::size_t i = 0; i < expected.size(); ++i) {
                if (decoupled) expected[i] *= 1 - 0.01 * 0.5;  // AdamW: the decay, apart from the step
                expected[i] -= gradient[i] > 0 ? 0.01 : -0.01;
            }
            check_tensor(p, {4}, as_floats(expected), 1e-6);
        }
    }
}

TEST_CASE("RMSprop takes the textbook steps", "[chapter03][optim]") {
    SECTION("plain, with weight decay") {
        check_three_steps(
            [](const auto& p) { return std::make_unique<RMSprop>(p, RMSpropOptions(0.01).weight_decay(0.1)); },
            RmspropReference{.lr = 0.01, .weight_decay = 0.1});
    }
    SECTION("centred, with momentum") {
        check_three_steps(
            [](const auto& p) {
                return std::make_unique<RMSprop>(p, RMSpropOptions(0.01).alpha(0.9).momentum(0.5).centered(true));
            },
            RmspropReference{.lr = 0.01, .alpha = 0.9, .momentum = 0.5, .centered = true});
    }
}

TEST_CASE("each parameter group steps with its own options", "[chapter03][optim]") {
    Tensor fast = parameter({1.0, 1.0}), slow = parameter({1.0, 1.0});
    std::vector<OptimizerParamGroup> groups;
    groups.emplace_back(std::vector<Tensor>{slow}, std::make_unique<SGDOptions>(0.01));
    groups.emplace_back(std::vector<Tensor>{fast});  // the defaults: lr 1
    SGD optimizer(groups, SGDOptions(1.0));
    set_grad(fast, {1.0, 2.0});
    set_grad(slow, {1.0, 2.0});
    optimizer.step();
    check_tensor(slow, {2}, {0.99f, 0.98f});
    check_tensor(fast, {2}, {0.0f, -1.0f});
    optimizer.param_groups()[0].options().set_lr(0.5);  // what a scheduler does
    optimizer.step();
    check_tensor(slow, {2}, {0.49f, -0.02f});
    CHECK_THROWS_WITH(optimizer.add_param_group(OptimizerParamGroup({fast})), Catch::Contains("more than once"));
    Tensor third = parameter({3.0});
    optimizer.add_param_group(OptimizerParamGroup({third}, std::make_unique<SGDOptions>(0.1)));
    CHECK(optimizer.parameter_count() == 3);
    CHECK_THROWS_WITH(optimizer.add_param_group(OptimizerParamGroup({parameter({1.0})}, std::make_unique<AdamOptions>())),
                      Catch::Contains("SGDOptions"));
}

TEST_CASE("zero_grad clears gradients to none by default, or to zeros", "[chapter03][optim]") {
    Tensor p = parameter({1.0, 2.0});
    SGD optimizer({p}, SGDOptions(0.1));
    set_grad(p, {3.0, 4.0});
    optimizer.zero_grad(false);
    check_tensor(p.grad(), {2}, {0.0f, 0.0f});
    optimizer.zero_grad();
    CHECK_FALSE(p.grad().defined());
    (p * p).sum().backward();  // backward allocates it afresh
    check_tensor(p.grad(), {2}, {2.0f, 4.0f});
}

TEST_CASE("parameters without a gradient are skipped and get no state", "[chapter03][optim]") {
    Tensor used = parameter({1.0}), unused = parameter({5.0});
    Adam optimizer({used, unused}, AdamOptions(0.1));
    set_grad(used, {1.0});
    optimizer.step();
    optimizer.step();
    check_tensor(unused, {1}, {5.0f});
    CHECK(optimizer.state(0).step == 2);
    CHECK(optimizer.state(1).empty());
    const nn::StateDict state = optimizer.state_dict();
    CHECK(state.contains("state.0.exp_avg"));
    CHECK_FALSE(state.contains("state.1.exp_avg"));
}

namespace {

// Steps `optimizer` three times and saves; continues three more; then a fresh optimizer on a
// fresh copy of the saved parameters, loaded from the state dict, takes the same three steps.
void check_round_trip(const std::function<std::unique_ptr<Optimizer>(const std::vector<Tensor>&)>& make) {
    Tensor a = parameter(kStart), b = parameter({1.0, -2.0});
    auto optimizer = make({a, b});
    for (int step = 0; step < 3; ++step) {
        set_grad(a, kGrads[step]);
        set_grad(b, {0.3 * step - 0.2, 0.1});
        optimizer->step();
    }
    nn::StateDict saved;  // a snapshot: the state dict shares the optimizer's tensors
    for (const auto& [name, tensor] : optimizer->state_dict()) saved.insert(name, tensor.clone());
    saved.metadata = optimizer->state_dict().metadata;
    Tensor a2 = parameter({0, 0, 0, 0}), b2 = parameter({0, 0});
    {
        NoGradGuard no_grad;
        a2.copy_(a);
        b2.copy_(b);
    }
    auto restored = make({a2, b2});
    restored->load_state_dict(saved);
    for (int step = 0; step < 3; ++step) {
        const Vector grad_b{0.05 * step, -0.4};
        set_grad(a, kGrads[2 - step]);
        set_grad(b, grad_b);
        set_grad(a2, kGrads[2 - step]);
        set_grad(b2, grad_b);
        optimizer->step();
        restored->step();
        CHECK(a2.to_vector() == a.to_vector());  // the same float operations: bit for bit
        CHECK(b2.to_vector() == b.to_vector());
    }
}

}  // namespace

TEST_CASE("a state dict round trip continues the same trajectory", "[chapter03][optim]") {
    SECTION("SGD with momentum") {
        check_round_trip([](const auto& p) { return std::make_unique<SGD>(p, SGDOptions(0.1).momentum(0.9)); });
    }
    SECTION("Adam") { check_round_trip([](const auto& p) { return std::make_unique<Adam>(p, AdamOptions(0.05)); }); }
    SECTION("AdamW") { check_round_trip([](const auto& p) { return std::make_unique<AdamW>(p, AdamWOptions(0.05)); }); }
    SECTION("RMSprop, centred with momentum") {
        check_round_trip(
            [](const auto& p) { return std::make_unique<RMSprop>(p, RMSpropOptions(0.01).momentum(0.9).centered(true)); });
    }
}

TEST_CASE("the state dict names state as PyTorch and keeps hyperparameters exactly", "[chapter03][optim]") {
    Tensor p = parameter({1.0, 2.0});
    Adam optimizer({p}, AdamOptions(0.1 / 3).betas({0.85, 0.995}));
    set_grad(p, {1.0, 1.0});
    optimizer.step();
    const nn::StateDict state = optimizer.state_dict();
    std::vector<std::string> names;
    for (const auto& [name, tensor] : state) names.push_back(name);
    CHECK(names == std::vector<std::string>{"state.0.step", "state.0.exp_avg", "state.0.exp_avg_sq"});
    CHECK(state.find("state.0.step")->item() == 1.0f);
    CHECK(state.metadata.at("optimizer") == "Adam");
    CHECK(state.metadata.at("param_groups.0.params") == "0");
    CHECK(std::strtod(state.metadata.at("param_groups.0.lr").c_str(), nullptr) == 0.1 / 3);  // every bit kept
    CHECK(state.metadata.at("param_groups.0.betas") == "0.84999999999999998,0.995");
}

TEST_CASE("load_state_dict checks everything first and changes nothing on an error", "[chapter03][optim]") {
    Tensor p = parameter({1.0, 2.0});
    SGD optimizer({p}, SGDOptions(0.1).momentum(0.9));
    set_grad(p, {1.0, 1.0});
    optimizer.step();
    const nn::StateDict good = optimizer.state_dict();
    const std::vector<float> buffer_before = optimizer.state(0).find("momentum_buffer").to_vector();

    auto expect_refused = [&](const nn::StateDict& bad, const std::string& words) {
        CHECK_THROWS_WITH(optimizer.load_state_dict(bad), Catch::Contains(words));
        CHECK(optimizer.param_groups()[0].options().get_lr() == 0.1);
        CHECK(optimizer.state(0).find("momentum_buffer").to_vector() == buffer_before);
    };
    nn::StateDict wrong_lr = good;
    wrong_lr.metadata["param_groups.0.lr"] = "-1";
    expect_refused(wrong_lr, "Invalid learning rate: -1");
    nn::StateDict wrong_shape = good;
    wrong_shape.insert("state.0.momentum_buffer", zeros({3}));
    wrong_shape.metadata["param_groups.0.lr"] = "0.5";  // valid, but must not be applied either
    expect_refused(wrong_shape, "shape");
    nn::StateDict wrong_dtype = good;
    wrong_dtype.insert("state.0.momentum_buffer", zeros({2}, TensorOptions().dtype(Dtype::Int64)));
    expect_refused(wrong_dtype, "int64");
    nn::StateDict unknown = good;
    unknown.insert("state.0.exp_avg", zeros({2}));
    expect_refused(unknown, "exp_avg");
    nn::StateDict out_of_range = good;
    out_of_range.insert("state.5.momentum_buffer", zeros({2}));
    expect_refused(out_of_range, "parameter 5");
    nn::StateDict missing = good;
    missing.metadata.erase("param_groups.0.momentum");
    expect_refused(missing, "param_groups.0.momentum");
    Tensor q = parameter({1.0});
    Adam adam({q}, AdamOptions(0.1));
    expect_refused(adam.state_dict(), "Adam");
    SGD two_groups({parameter({1.0}), parameter({1.0})}, SGDOptions(0.1));
    expect_refused(two_groups.state_dict(), "2 parameters");
    optimizer.load_state_dict(good);  // and the good one loads
}

TEST_CASE("invalid options and parameters are refused with PyTorch's words", "[chapter03][optim]") {
    const std::vector<Tensor> params{parameter({1.0})};
    CHECK_THROWS_WITH(SGD(params, SGDOptions(-1)), Catch::Contains("Invalid learning rate: -1"));
    CHECK_THROWS_WITH(SGD(params, SGDOptions(0.1).momentum(-0.5)), Catch::Contains("Invalid momentum value"));
    CHECK_THROWS_WITH(SGD(params, SGDOptions(0.1).nesterov(true)), Catch::Contains("Nesterov momentum requires"));
    CHECK_THROWS_WITH(SGD(params, SGDOptions(0.1).momentum(0.9).dampening(0.1).nesterov(true)),
                      Catch::Contains("zero dampening"));
    CHECK_THROWS_WITH(Adam(params, AdamOptions(0.1).betas({1.0, 0.999})), Catch::Contains("beta parameter at index 0"));
    CHECK_THROWS_WITH(Adam(params, AdamOptions(0.1).betas({0.9, -0.1})), Catch::Contains("beta parameter at index 1"));
    CHECK_THROWS_WITH(Adam(params, AdamOptions(0.1).eps(-1e-8)), Catch::Contains("Invalid epsilon value"));
    CHECK_THROWS_WITH(Adam(params, AdamOptions(0.1).amsgrad(true)), Catch::Contains("amsgrad"));
    CHECK_THROWS_WITH(AdamW(params, AdamWOptions(0.1).weight_decay(-1)), Catch::Contains("Invalid weight_decay value"));
    CHECK_THROWS_WITH(RMSprop(params, RMSpropOptions(0.1).alpha(-0.1)), Catch::Contains("Invalid alpha value"));
    CHECK_THROWS_WITH(SGD(std::vector<Tensor>{parameter({1.0}) * 2.0}, SGDOptions(0.1)), Catch::Contains("non-leaf"));
    CHECK_THROWS_WITH(SGD(std::vector<Tensor>{zeros({2}, TensorOptions().dtype(Dtype::Int64))}, SGDOptions(0.1)),
                      Catch::Contains("Float32"));
    CHECK_THROWS_WITH(SGD(std::vector<OptimizerParamGroup>{}, SGDOptions(0.1)), Catch::Contains("empty parameter list"));
}

TEST_CASE("clip_grad_norm_ scales all gradients to the total norm", "[chapter03][optim][clip_grad]") {
    Tensor a = parameter({0, 0}), b = parameter({0}), no_grad = parameter({7});
    SECTION("2-norm: ‖(3, 4, 12)‖ = 13, scaled to 6.5") {
        set_grad(a, {3, 4});
        set_grad(b, {12});
        const Tensor norm = nn::utils::clip_grad_norm_({a, b, no_grad}, 6.5);
        CHECK(norm.dim() == 0);
        CHECK(norm.item() == Approx(13.0));
        const double scale = 6.5 / (13.0 + 1e-6);
        check_tensor(a.grad(), {2}, {static_cast<float>(3 * scale), static_cast<float>(4 * scale)});
        check_tensor(b.grad(), {1}, {static_cast<float>(12 * scale)});
        CHECK_FALSE(no_grad.grad().defined());
    }
    SECTION("inf-norm: the largest |g|") {
        set_grad(a, {3, -8});
        set_grad(b, {2});
        const Tensor norm = nn::utils::clip_grad_norm_({a, b}, 2.0, std::numeric_limits<double>::infinity());
        CHECK(norm.item() == Approx(8.0));
        const double scale = 2.0 / (8.0 + 1e-6);
        check_tensor(a.grad(), {2}, {static_cast<float>(3 * scale), static_cast<float>(-8 * scale)});
        check_tensor(b.grad(), {1}, {static_cast<float>(2 * scale)});
    }
    SECTION("1-norm") {
        set_grad(a, {3, -4});
        set_grad(b, {1});
        CHECK(nn::utils::clip_grad_norm_({a, b}, 100.0, 1.0).item() == Approx(8.0));
    }
    SECTION("below max_norm the gradients are unchanged") {
        set_grad(a, {0.3, 0.4});
        set_grad(b, {0.0});
        CHECK(nn::utils::clip_grad_norm_({a, b}, 1.0).item() == Approx(0.5));
        check_tensor(a.grad(), {2}, {0.3f, 0.4f}, 1e-7);
    }
    SECTION("non-finite norms are an error only when asked") {
        set_grad(a, {std::numeric_limits<double>::infinity(), 1});
        CHECK_THROWS_WITH(nn::utils::clip_grad_norm_({a}, 1.0, 2.0, true), Catch::Contains("non-finite"));
    }
}

TEST_CASE("clip_grad_value_ clamps each gradient element", "[chapter03][optim][clip_grad]") {
    Tensor a = parameter({0, 0, 0});
    set_grad(a, {-3, 0.2, 5});
    nn::utils::clip_grad_value_({a}, 1.0);
    check_tensor(a.grad(), {3}, {-1.0f, 0.2f, 1.0f});
}
