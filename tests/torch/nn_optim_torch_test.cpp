// Claim checked: stepgrad's optimizers take the steps LibTorch 1.13's torch::optim takes. Both
// start from the same float32 parameters and get the same float32 gradients at each of three
// steps (set by hand); the parameters are compared after every step:
// - SGD: plain, momentum, momentum with dampening, Nesterov, weight decay;
// - Adam with weight decay, AdamW (decoupled decay);
// - RMSprop: plain with weight decay, centred, momentum, centred with momentum;
// - two parameter groups with their own learning rates;
// and torch::optim::StepLR (the only scheduler in LibTorch 1.13's C++ API; the others are
// checked against Python's numbers in 03-nn/tests/lr_scheduler_test.cpp).
// Tolerances are the harness's float32 rounding (kRelative, kAbsolute).
#include "torch_harness.hpp"

#include <stepgrad/optim/adam.hpp>
#include <stepgrad/optim/lr_scheduler.hpp>
#include <stepgrad/optim/rmsprop.hpp>
#include <stepgrad/optim/sgd.hpp>

#include <functional>
#include <memory>

namespace torchref {
namespace {

namespace optim = stepgrad::optim;

constexpr std::int64_t kParameterCount = 37;  // odd: no vector-width luck
constexpr int kSteps = 3;

using MakeOurs = std::function<std::unique_ptr<optim::Optimizer>(const std::vector<sg::Tensor>&)>;
using MakeTheirs = std::function<std::unique_ptr<torch::optim::Optimizer>(const std::vector<torch::Tensor>&)>;

// Two parameters (37 and 5 elements), three steps of random gradients, compared after each.
void check_steps(const MakeOurs& make_ours, const MakeTheirs& make_theirs, std::uint64_t seed = 11) {
    torch::set_num_threads(1);
    sg::Generator gen(seed);
    const std::vector<sg::Shape> shapes{{kParameterCount}, {5}};
    std::vector<sg::Tensor> ours;
    std::vector<torch::Tensor> theirs;
    for (const sg::Shape& shape : shapes) {
        const std::vector<float> values = draw(real(shape), gen);
        ours.push_back(sg::from_vector(values, shape, sg::TensorOptions().requires_grad(true)));
        theirs.push_back(to_torch(values, shape).requires_grad_());
    }
    auto our_optimizer = make_ours(ours);
    auto their_optimizer = make_theirs(theirs);
    for (int step = 1; step <= kSteps; ++step) {
        INFO("step " << step);
        for (std::size_t i = 0; i < shapes.size(); ++i) {
            const std::vector<float> grad = draw(real(shapes[i]), gen);
            ours[i].set_grad(sg::from_vector(grad, shapes[i]));
            theirs[i].mutable_grad() = to_torch(grad, shapes[i]);
        }
        our_optimizer->step();
        their_optimizer->step();
        for (std::size_t i = 0; i < shapes.size(); ++i) {
            CHECK(mismatch("parameter " + std::to_string(i), from_stepgrad(ours[i]), from_torch(theirs[i])) == "");
        }
    }
}

template <class Ours, class OurOptions, class Theirs, class TheirOptions>
void check_pair(const OurOptions& our_options, const TheirOptions& their_options) {
    check_steps([&](const auto& p) { return std::make_unique<Ours>(p, our_options); },
                [&](const auto& p) { return std::make_unique<Theirs>(p, their_options); });
}

}  // namespace

TEST_CASE("SGD steps match torch::optim::SGD", "[chapter03][torch][optim]") {
    using torch::optim::SGDOptions;
    SECTION("plain") { check_pair<optim::SGD, optim::SGDOptions, torch::optim::SGD>(optim::SGDOptions(0.1), SGDOptions(0.1)); }
    SECTION("momentum 0.9") {
        check_pair<optim::SGD, optim::SGDOptions, torch::optim::SGD>(optim::SGDOptions(0.1).momentum(0.9),
                                                                     SGDOptions(0.1).momentum(0.9));
    }
    SECTION("momentum 0.9, dampening 0.2") {
        check_pair<optim::SGD, optim::SGDOptions, torch::optim::SGD>(optim::SGDOptions(0.1).momentum(0.9).dampening(0.2),
                                                                     SGDOptions(0.1).momentum(0.9).dampening(0.2));
    }
    SECTION("Nesterov 0.8") {
        check_pair<optim::SGD, optim::SGDOptions, torch::optim::SGD>(optim::SGDOptions(0.05).momentum(0.8).nesterov(true),
                                                                     SGDOptions(0.05).momentum(0.8).nesterov(true));
    }
    SECTION("weight decay 0.01, with momentum") {
        check_pair<optim::SGD, optim::SGDOptions, torch::optim::SGD>(
            optim::SGDOptions(0.1).weight_decay(0.01).momentum(0.5), SGDOptions(0.1).weight_decay(0.01).momentum(0.5));
    }
}

TEST_CASE("Adam and AdamW steps match torch::optim", "[chapter03][torch][optim]") {
    SECTION("Adam, weight decay 0.01 (L2)") {
        check_pair<optim::Adam, optim::AdamOptions, torch::optim::Adam>(
            optim::AdamOptions(0.01).betas({0.8, 0.99}).weight_decay(0.01),
            torch::optim::AdamOptions(0.01).betas({0.8, 0.99}).weight_decay(0.01));
    }
    SECTION("AdamW, weight decay 0.1 (decoupled)") {
        check_pair<optim::AdamW, optim::AdamWOptions, torch::optim::AdamW>(
            optim::AdamWOptions(0.01).weight_decay(0.1), torch::optim::AdamWOptions(0.01).weight_decay(0.1));
    }
}

TEST_CASE("RMSprop steps match torch::optim::RMSprop", "[chapter03][torch][optim]") {
    using torch::optim::RMSpropOptions;
    SECTION("plain, weight decay 0.1") {
        check_pair<optim::RMSprop, optim::RMSpropOptions, torch::optim::RMSprop>(
            optim::RMSpropOptions(0.01).weight_decay(0.1), RMSpropOptions(0.01).weight_decay(0.1));
    }
    SECTION("centred") {
        check_pair<optim::RMSprop, optim::RMSpropOptions, torch::optim::RMSprop>(
            optim::RMSpropOptions(0.01).alpha(0.9).centered(true), RMSpropOptions(0.01).alpha(0.9).centered(true));
    }
    SECTION("momentum 0.9") {
        check_pair<optim::RMSprop, optim::RMSpropOptions, torch::optim::RMSprop>(
            optim::RMSpropOptions(0.01).momentum(0.9), RMSpropOptions(0.01).momentum(0.9));
    }
    SECTION("centred with momentum 0.5") {
        check_pair<optim::RMSprop, optim::RMSpropOptions, torch::optim::RMSprop>(
            optim::RMSpropOptions(0.01).momentum(0.5).centered(true), RMSpropOptions(0.01).momentum(0.5).centered(true));
    }
}

TEST_CASE("parameter groups with their own learning rates match torch::optim::SGD", "[chapter03][torch][optim]") {
    check_steps(
        [](const std::vector<sg::Tensor>& p) {
            std::vector<optim::OptimizerParamGroup> groups;
            groups.emplace_back(std::vector<sg::Tensor>{p[0]});
            groups.emplace_back(std::vector<sg::Tensor>{p[1]}, std::make_unique<optim::SGDOptions>(0.5));
            return std::make_unique<optim::SGD>(groups, optim::SGDOptions(0.1).momentum(0.9));
        },
        [](const std::vector<torch::Tensor>& p) {
            std::vector<torch::optim::OptimizerParamGroup> groups;
            groups.emplace_back(std::vector<torch::Tensor>{p[0]});
            groups.emplace_back(std::vector<torch::Tensor>{p[1]}, std::make_unique<torch::optim::SGDOptions>(0.5));
            return std::make_unique<torch::optim::SGD>(groups, torch::optim::SGDOptions(0.1).momentum(0.9));
        });
}

// LibTorch's C++ StepLR takes no step when constructed (Python's and ours do: epoch 0), so its
// step k + 1 is our step k.
TEST_CASE("StepLR's learning rates match torch::optim::StepLR", "[chapter03][torch][optim]") {
    sg::Tensor ours_param = sg::zeros({2}, sg::TensorOptions().requires_grad(true));
    torch::Tensor their_param = torch::zeros({2}, torch::requires_grad());
    optim::SGD ours(std::vector<sg::Tensor>{ours_param}, optim::SGDOptions(0.1));
    torch::optim::SGD theirs(std::vector<torch::Tensor>{their_param}, torch::optim::SGDOptions(0.1));
    optim::StepLR our_scheduler(ours, 3, 0.5);
    torch::optim::StepLR their_scheduler(theirs, 3, 0.5);
    their_scheduler.step();  // Python's construction-time step
    for (int epoch = 0; epoch <= 10; ++epoch) {
        INFO("epoch " << epoch);
        if (epoch > 0) {
            our_scheduler.step();
            their_scheduler.step();
        }
        CHECK(ours.param_groups()[0].options().get_lr() == Approx(theirs.param_groups()[0].options().get_lr()).epsilon(1e-15));
    }
}

}  // namespace torchref
