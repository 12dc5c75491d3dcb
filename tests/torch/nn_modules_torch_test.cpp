// Claim checked: chapter 3's modules compute what LibTorch's compute, on identical inputs and
// weights: the fused linear (with and without bias, 1-D, 2-D and 3-D inputs: output and the
// gradients of input, weight and bias), every activation module and Flatten (output and input
// gradient), a Sequential MLP whose weights are copied into torch::nn::Sequential (output and
// every parameter's gradient), Dropout in evaluation mode; and that stepgrad's default Linear
// initialisation uses PyTorch's bounds (the formula, and where the draws of both libraries lie).
// Tolerances are the harness's float32 rounding (kRelative, kAbsolute); a linear layer sums the
// same products as LibTorch's GEMM, in an order that differs only within that rounding.
#include "torch_harness.hpp"

#include <stepgrad/nn/activation.hpp>
#include <stepgrad/nn/container.hpp>
#include <stepgrad/nn/dropout.hpp>
#include <stepgrad/nn/init.hpp>
#include <stepgrad/nn/linear.hpp>

#include <cmath>
#include <memory>

namespace torchref {
namespace {

namespace nn = stepgrad::nn;

torch::Tensor torch_of(const sg::Tensor& t) { return to_torch(t.detach().to_vector(), t.shape()); }

void check_close(const std::string& what, const sg::Tensor& actual, const torch::Tensor& expected) {
    const sg::Shape expected_shape(expected.sizes().begin(), expected.sizes().end());
    INFO(what << ": stepgrad " << shape_text(actual.shape()) << ", LibTorch " << shape_text(expected_shape));
    REQUIRE(actual.defined());
    REQUIRE(actual.shape() == expected_shape);
    CHECK(mismatch(what, from_stepgrad(actual), from_torch(expected)) == "");
}

// Copies a stepgrad Linear's weight and bias into a LibTorch Linear of the same sizes.
void copy_into(const nn::Linear& mine, torch::nn::Linear& theirs) {
    torch::NoGradGuard no_grad;
    theirs->weight.copy_(torch_of(mine.weight));
    if (mine.bias.defined()) theirs->bias.copy_(torch_of(mine.bias));
}

}  // namespace

TEST_CASE("functional linear matches torch::nn::functional::linear", "[chapter03][torch][linear]") {
    namespace TF = torch::nn::functional;
    check_all({
        {"2-D input with bias",
         {real({7, 5}), real({4, 5}), real({4})},
         [](SgIn in) { return nn::functional::linear(in[0], in[1], in[2]); },
         [](ThIn in) { return TF::linear(in[0], in[1], in[2]); }},
        {"3-D input with bias",
         {real({2, 3, 5}), real({4, 5}), real({4})},
         [](SgIn in) { return nn::functional::linear(in[0], in[1], in[2]); },
         [](ThIn in) { return TF::linear(in[0], in[1], in[2]); }},
        {"2-D input without bias",
         {real({7, 5}), real({4, 5})},
         [](SgIn in) { return nn::functional::linear(in[0], in[1]); },
         [](ThIn in) { return TF::linear(in[0], in[1]); }},
        {"3-D input without bias",
         {real({2, 3, 5}), real({4, 5})},
         [](SgIn in) { return nn::functional::linear(in[0], in[1]); },
         [](ThIn in) { return TF::linear(in[0], in[1]); }},
        {"1-D input",
         {real({5}), real({4, 5}), real({4})},
         [](SgIn in) { return nn::functional::linear(in[0], in[1], in[2]); },
         [](ThIn in) { return TF::linear(in[0], in[1], in[2]); }},
        {"wide layer (784 -> 128, batch 16)",
         {real({16, 784}), real({128, 784}), real({128})},
         [](SgIn in) { return nn::functional::linear(in[0], in[1], in[2]); },
         [](ThIn in) { return TF::linear(in[0], in[1], in[2]); }},
    });
}

TEST_CASE("the Linear module with copied weights matches torch::nn::Linear", "[chapter03][torch][linear]") {
    torch::set_num_threads(1);
    for (bool bias : {true, false}) {
        for (const sg::Shape& input_shape : {sg::Shape{6, 5}, sg::Shape{2, 3, 5}}) {
            DYNAMIC_SECTION("bias " << bias << ", input " << shape_text(input_shape)) {
                nn::Linear mine(nn::LinearOptions(5, 4).bias(bias));
                torch::nn::Linear theirs(torch::nn::LinearOptions(5, 4).bias(bias));
                copy_into(mine, theirs);
                sg::Generator gen(3);
                const std::vector<float> x = draw(real(input_shape), gen);
                const sg::Tensor sg_x = sg::from_vector(x, input_shape, sg::TensorOptions().requires_grad(true));
                const torch::Tensor th_x = to_torch(x, input_shape).requires_grad_();
                const sg::Tensor sg_out = mine.forward(sg_x);
                const torch::Tensor th_out = theirs->forward(th_x);
                check_close("output", sg_out, th_out);
                const std::vector<float> upstream = draw(real(sg_out.shape()), gen);
                sg_out.backward(sg::from_vector(upstream, sg_out.shape()));
                th_out.backward(to_torch(upstream, sg_out.shape()));
                check_close("input grad", sg_x.grad(), th_x.grad());
                check_close("weight grad", mine.weight.grad(), theirs->weight.grad());
                if (bias) check_close("bias grad", mine.bias.grad(), theirs->bias.grad());
            }
        }
    }
}

TEST_CASE("every activation module and Flatten match LibTorch's", "[chapter03][torch][activation]") {
    // Modules are made once and captured; each call runs forward on the harness's inputs.
    auto relu = std::make_shared<nn::ReLU>();
    auto leaky = std::make_shared<nn::LeakyReLU>(nn::LeakyReLUOptions().negative_slope(0.2));
    auto sigmoid = std::make_shared<nn::Sigmoid>();
    auto tanh = std::make_shared<nn::Tanh>();
    auto gelu = std::make_shared<nn::GELU>();
    auto softmax = std::make_shared<nn::Softmax>(1);
    auto log_softmax = std::make_shared<nn::LogSoftmax>(-1);
    auto flatten = std::make_shared<nn::Flatten>();
    auto flatten_inner = std::make_shared<nn::Flatten>(nn::FlattenOptions().start_dim(2).end_dim(3));
    auto identity = std::make_shared<nn::Identity>();
    torch::nn::ReLU th_relu;
    torch::nn::LeakyReLU th_leaky(torch::nn::LeakyReLUOptions().negative_slope(0.2));
    torch::nn::Sigmoid th_sigmoid;
    torch::nn::Tanh th_tanh;
    torch::nn::GELU th_gelu;
    torch::nn::Softmax th_softmax(1);
    torch::nn::LogSoftmax th_log_softmax(-1);
    torch::nn::Flatten th_flatten;
    torch::nn::Flatten th_flatten_inner(torch::nn::FlattenOptions().start_dim(2).end_dim(3));
    // Identity returns its input, which would make the output a leaf; `* 1` gives both
    // libraries an output that carries the gradient back.
    torch::nn::Identity th_identity;
    check_all({
        {"ReLU (kinks)",
         {kinks({4, 6})},
         [&](SgIn in) { return relu->forward(in[0]); },
         [&](ThIn in) { return th_relu->forward(in[0]); }},
        {"LeakyReLU(0.2) (kinks)",
         {kinks({4, 6})},
         [&](SgIn in) { return leaky->forward(in[0]); },
         [&](ThIn in) { return th_leaky->forward(in[0]); }},
        {"Sigmoid",
         {real({4, 6})},
         [&](SgIn in) { return sigmoid->forward(in[0]); },
         [&](ThIn in) { return th_sigmoid->forward(in[0]); }},
        {"Tanh",
         {real({4, 6})},
         [&](SgIn in) { return tanh->forward(in[0]); },
         [&](ThIn in) { return th_tanh->forward(in[0]); }},
        {"GELU",
         {real({4, 6})},
         [&](SgIn in) { return gelu->forward(in[0]); },
         [&](ThIn in) { return th_gelu->forward(in[0]); }},
        {"Softmax(dim=1)",
         {real({3, 5, 2})},
         [&](SgIn in) { return softmax->forward(in[0]); },
         [&](ThIn in) { return th_softmax->forward(in[0]); }},
        {"LogSoftmax(dim=-1)",
         {real({3, 5, 2})},
         [&](SgIn in) { return log_softmax->forward(in[0]); },
         [&](ThIn in) { return th_log_softmax->forward(in[0]); }},
        {"Flatten()",
         {real({2, 3, 4, 5})},
         [&](SgIn in) { return flatten->forward(in[0]) * 1.0; },
         [&](ThIn in) { return th_flatten->forward(in[0]) * 1.0; }},
        {"Flatten(start_dim=2, end_dim=3)",
         {real({2, 3, 4, 5})},
         [&](SgIn in) { return flatten_inner->forward(in[0]) * 1.0; },
         [&](ThIn in) { return th_flatten_inner->forward(in[0]) * 1.0; }},
        {"Identity",
         {real({3, 4})},
         [&](SgIn in) { return identity->forward(in[0]) * 1.0; },
         [&](ThIn in) { return th_identity->forward(in[0]) * 1.0; }},
    });
}

TEST_CASE("a Sequential MLP with copied weights matches torch::nn::Sequential", "[chapter03][torch][container]") {
    torch::set_num_threads(1);
    auto fc1 = std::make_shared<nn::Linear>(20, 16);
    auto fc2 = std::make_shared<nn::Linear>(16, 10);
    nn::Sequential mine(
        {std::make_shared<nn::Flatten>(), fc1, std::make_shared<nn::ReLU>(), fc2, std::make_shared<nn::LogSoftmax>(1)});
    torch::nn::Linear th_fc1(20, 16), th_fc2(16, 10);
    copy_into(*fc1, th_fc1);
    copy_into(*fc2, th_fc2);
    torch::nn::Sequential theirs(torch::nn::Flatten(), th_fc1, torch::nn::ReLU(), th_fc2, torch::nn::LogSoftmax(1));

    sg::Generator gen(11);
    const std::vector<float> x = draw(real({8, 4, 5}), gen);
    const sg::Tensor sg_out = mine.forward(sg::from_vector(x, {8, 4, 5}));
    const torch::Tensor th_out = theirs->forward(to_torch(x, {8, 4, 5}));
    check_close("output", sg_out, th_out);
    // The loss: mean negative log-likelihood of fixed classes, written the same on both sides.
    const std::vector<float> picks = draw(real({8, 10}), gen);
    (sg_out * sg::from_vector(picks, {8, 10})).mean().backward();
    (th_out * to_torch(picks, {8, 10})).mean().backward();
    // Parameter names line up with PyTorch's (Flatten and ReLU own none).
    const auto th_named = theirs->named_parameters();
    const auto sg_named = mine.named_parameters();
    REQUIRE(sg_named.size() == th_named.size());
    for (std::size_t i = 0; i < sg_named.size(); ++i) {
        CHECK(sg_named[i].first == th_named[i].key());
        check_close(sg_named[i].first + " grad", sg_named[i].second.grad(), th_named[i].value().grad());
    }
}

TEST_CASE("Dropout in evaluation mode is the identity in both libraries", "[chapter03][torch][dropout]") {
    nn::Dropout mine(nn::DropoutOptions(0.4));
    torch::nn::Dropout theirs(torch::nn::DropoutOptions(0.4));
    mine.eval();
    theirs->eval();
    sg::Generator gen(5);
    const std::vector<float> x = draw(real({6, 7}), gen);
    check_close("output", mine.forward(sg::from_vector(x, {6, 7})), theirs->forward(to_torch(x, {6, 7})));
}

TEST_CASE("Linear's default initialisation uses PyTorch's bounds", "[chapter03][torch][init]") {
    // The formula: kaiming_uniform_(w, a = sqrt(5)) is U(±gain * sqrt(3 / fan_in)) with
    // gain = calculate_gain(leaky_relu, sqrt(5)); both libraries' gains and fans agree.
    const double a = std::sqrt(5.0);
    CHECK(nn::init::calculate_gain(nn::init::Nonlinearity::LeakyReLU, a) ==
          Approx(torch::nn::init::calculate_gain(torch::kLeakyReLU, a)).epsilon(1e-12));
    CHECK(nn::init::calculate_gain(nn::init::Nonlinearity::ReLU) ==
          Approx(torch::nn::init::calculate_gain(torch::kReLU)).epsilon(1e-12));
    CHECK(nn::init::calculate_gain(nn::init::Nonlinearity::Tanh) ==
          Approx(torch::nn::init::calculate_gain(torch::kTanh)).epsilon(1e-12));
    CHECK(nn::init::calculate_gain(nn::init::Nonlinearity::LeakyReLU, 0.2) ==
          Approx(torch::nn::init::calculate_gain(torch::kLeakyReLU, 0.2)).epsilon(1e-12));
    CHECK(nn::init::calculate_gain(nn::init::Nonlinearity::Sigmoid) ==
          Approx(torch::nn::init::calculate_gain(torch::kSigmoid)).epsilon(1e-12));
    for (const auto& shape : {std::vector<std::int64_t>{128, 784}, std::vector<std::int64_t>{8, 3, 5, 5}}) {
        const auto [th_in, th_out] = torch::nn::init::_calculate_fan_in_and_fan_out(torch::zeros(shape));
        const auto [sg_in, sg_out] =
            nn::init::calculate_fan_in_and_fan_out(sg::zeros(sg::Shape(shape.begin(), shape.end())));
        CHECK(sg_in == th_in);
        CHECK(sg_out == th_out);
    }
    // Where the draws lie: inside ±1/sqrt(fan_in) for both, and reaching close to it.
    const std::int64_t fan_in = 300;
    const double bound = 1.0 / std::sqrt(static_cast<double>(fan_in));
    CHECK(nn::init::calculate_gain(nn::init::Nonlinearity::LeakyReLU, a) * std::sqrt(3.0 / fan_in) == Approx(bound));
    torch::manual_seed(0);
    torch::nn::Linear theirs(fan_in, 200);
    nn::Linear mine(fan_in, 200);
    const double th_weight = theirs->weight.abs().max().item<double>();
    const double th_bias = theirs->bias.abs().max().item<double>();
    const double sg_weight = mine.weight.detach().abs().max().item<double>();
    const double sg_bias = mine.bias.detach().abs().max().item<double>();
    CHECK(th_weight <= bound);
    CHECK(sg_weight <= bound);
    CHECK(th_bias <= bound);
    CHECK(sg_bias <= bound);
    CHECK(th_weight > 0.99 * bound);  // 60000 draws come within 1% of the edge
    CHECK(sg_weight > 0.99 * bound);
    CHECK(sg_bias > 0.9 * bound);  // 200 draws: within 10% of the edge but with probability 1e-9
}

}  // namespace torchref
