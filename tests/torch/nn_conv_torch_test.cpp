// Claim checked: chapter 3's Conv2d, MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, BatchNorm1d and
// BatchNorm2d compute what LibTorch's modules compute. The stepgrad module's parameters are
// copied into the LibTorch module, both get the same input and the same upstream gradient, and
// the outputs, the input gradients and every parameter gradient are compared; for batch norm
// also the running statistics and num_batches_tracked after two training steps, and evaluation.
// Tolerances are the harness's float32 rounding (kRelative, kAbsolute): the libraries sum in
// different orders (oneDNN's direct convolution against im2col + GEMM), nothing more.
#include "torch_harness.hpp"

#include <stepgrad/nn/batchnorm.hpp>
#include <stepgrad/nn/conv.hpp>
#include <stepgrad/nn/pooling.hpp>

namespace torchref {
namespace {

namespace nn = stepgrad::nn;

torch::Tensor to_th(const sg::Tensor& t) { return to_torch(t.detach().to_vector(), t.shape()); }

/// Shape first (REQUIRE), then every element within float32 rounding (see mismatch()).
void check_close(const std::string& what, const sg::Tensor& actual, const torch::Tensor& expected) {
    REQUIRE(actual.defined());
    REQUIRE(expected.defined());
    const sg::Shape expected_shape(expected.sizes().begin(), expected.sizes().end());
    INFO(what << ": stepgrad " << shape_text(actual.shape()) << ", LibTorch " << shape_text(expected_shape));
    REQUIRE(actual.shape() == expected_shape);
    CHECK(mismatch(what, from_stepgrad(actual), from_torch(expected)) == "");
}

/// The same random numbers for both libraries.
struct Twin {
    sg::Tensor mine;
    torch::Tensor theirs;
};
Twin twin(const sg::Shape& shape, sg::Generator& gen, bool requires_grad) {
    const std::vector<float> data = draw(real(shape), gen);
    sg::Tensor mine = sg::from_vector(data, shape, sg::TensorOptions().requires_grad(requires_grad));
    torch::Tensor theirs = to_torch(data, shape);
    if (requires_grad) theirs.requires_grad_();
    return {mine, theirs};
}

/// One forward and backward of both modules on the same input and upstream gradient: compares
/// the output and the input's gradient.
void check_step(const std::string& what, nn::Module& mine, const std::function<torch::Tensor(torch::Tensor)>& theirs,
                const sg::Shape& input_shape, sg::Generator& gen) {
    const Twin x = twin(input_shape, gen, true);
    const sg::Tensor out = mine.forward(x.mine);
    const torch::Tensor th_out = theirs(x.theirs);
    check_close(what + " output", out, th_out);
    const Twin upstream = twin(out.shape(), gen, false);
    out.backward(upstream.mine);
    th_out.backward(upstream.theirs);
    check_close(what + " grad of the input", x.mine.grad(), x.theirs.grad());
}

// ---- convolution ------------------------------------------------------------------------------

struct ConvCase {
    std::string name;
    sg::Shape input;
    nn::Conv2dOptions options;
};

TEST_CASE("Conv2d matches LibTorch: output and the gradients of input, weight and bias", "[chapter03][torch][conv]") {
    torch::set_num_threads(1);
    const std::vector<ConvCase> cases = {
        {"1 -> 8, 3x3, padding 1 (the MNIST CNN's first layer)", {4, 1, 12, 12}, nn::Conv2dOptions(1, 8, 3).padding(1)},
        {"stride 2, padding (1, 2)", {3, 2, 9, 7}, nn::Conv2dOptions(2, 4, 3).stride(2).padding({1, 2})},
        {"kernel 2x3, stride (2, 1), dilation (2, 1)", {2, 3, 8, 8}, nn::Conv2dOptions(3, 5, {2, 3}).stride({2, 1}).dilation({2, 1})},
        {"dilation 2, padding 2, no bias", {2, 3, 9, 6}, nn::Conv2dOptions(3, 4, 3).dilation(2).padding(2).bias(false)},
        {"groups 2, padding 1", {2, 4, 7, 6}, nn::Conv2dOptions(4, 6, 3).groups(2).padding(1)},
        {"depthwise (groups 3), stride 2", {2, 3, 8, 7}, nn::Conv2dOptions(3, 3, 3).groups(3).stride(2)},
    };
    sg::Generator gen(5);
    for (const ConvCase& c : cases) {
        DYNAMIC_SECTION(c.name) {
            sg::manual_seed(1);
            nn::Conv2d mine(c.options);
            const auto& o = c.options;
            torch::nn::Conv2d theirs(torch::nn::Conv2dOptions(o.in_channels(), o.out_channels(),
                                                              {o.kernel_size()[0], o.kernel_size()[1]})
                                         .stride({o.stride()[0], o.stride()[1]})
                                         .padding(torch::ExpandingArray<2>({o.padding()[0], o.padding()[1]}))
                                         .dilation({o.dilation()[0], o.dilation()[1]})
                                         .groups(o.groups())
                                         .bias(o.bias()));
            {
                torch::NoGradGuard no_grad;
                theirs->weight.copy_(to_th(mine.weight));
                if (o.bias()) theirs->bias.copy_(to_th(mine.bias));
            }
            check_step(c.name, mine, [&](torch::Tensor x) { return theirs->forward(x); }, c.input, gen);
            check_close("grad of the weight", mine.weight.grad(), theirs->weight.grad());
            if (o.bias()) check_close("grad of the bias", mine.bias.grad(), theirs->bias.grad());
        }
    }
}

// ---- pooling ----------------------------------------------------------------------------------

TEST_CASE("MaxPool2d matches LibTorch: output and gradient", "[chapter03][torch][pooling]") {
    torch::set_num_threads(1);
    sg::Generator gen(6);
    struct Case {
        std::string name;
        nn::MaxPool2dOptions mine;
        torch::nn::MaxPool2dOptions theirs;
        sg::Shape input;
    };
    const std::vector<Case> cases = {
        {"2x2", nn::MaxPool2dOptions(2), torch::nn::MaxPool2dOptions(2), {3, 4, 8, 6}},
        {"3x3, stride 2, padding 1", nn::MaxPool2dOptions(3).stride(2).padding(1),
         torch::nn::MaxPool2dOptions(3).stride(2).padding(1), {2, 3, 7, 9}},
        {"3x3, stride 2, padding 1, ceil_mode", nn::MaxPool2dOptions(3).stride(2).padding(1).ceil_mode(true),
         torch::nn::MaxPool2dOptions(3).stride(2).padding(1).ceil_mode(true), {2, 3, 6, 8}},
        {"2x3, stride (1, 2), dilation 2, padding (1, 0), ceil_mode",
         nn::MaxPool2dOptions({2, 3}).stride({1, 2}).dilation(2).padding({1, 0}).ceil_mode(true),
         torch::nn::MaxPool2dOptions({2, 3}).stride({1, 2}).dilation(2).padding({1, 0}).ceil_mode(true), {2, 2, 7, 8}},
        {"one (C, H, W) image", nn::MaxPool2dOptions(2), torch::nn::MaxPool2dOptions(2), {3, 6, 5}},
    };
    for (const Case& c : cases) {
        DYNAMIC_SECTION(c.name) {
            nn::MaxPool2d mine(c.mine);
            torch::nn::MaxPool2d theirs(c.theirs);
            check_step(c.name, mine, [&](torch::Tensor x) { return theirs->forward(x); }, c.input, gen);
        }
    }
}

TEST_CASE("AvgPool2d matches LibTorch: count_include_pad both ways and ceil_mode", "[chapter03][torch][pooling]") {
    torch::set_num_threads(1);
    sg::Generator gen(7);
    for (bool count_include_pad : {true, false}) {
        for (bool ceil_mode : {false, true}) {
            DYNAMIC_SECTION("count_include_pad " << count_include_pad << ", ceil_mode " << ceil_mode) {
                nn::AvgPool2d mine(
                    nn::AvgPool2dOptions(3).stride(2).padding(1).ceil_mode(ceil_mode).count_include_pad(count_include_pad));
                torch::nn::AvgPool2d theirs(torch::nn::AvgPool2dOptions(3).stride(2).padding(1).ceil_mode(ceil_mode).count_include_pad(
                    count_include_pad));
                check_step("avg_pool2d 3x3", mine, [&](torch::Tensor x) { return theirs->forward(x); }, {2, 3, 6, 9}, gen);
                nn::AvgPool2d uneven(
                    nn::AvgPool2dOptions({2, 3}).stride({2, 1}).padding({1, 0}).ceil_mode(ceil_mode).count_include_pad(count_include_pad));
                torch::nn::AvgPool2d theirs_uneven(torch::nn::AvgPool2dOptions({2, 3})
                                                       .stride({2, 1})
                                                       .padding({1, 0})
                                                       .ceil_mode(ceil_mode)
                                                       .count_include_pad(count_include_pad));
                check_step("avg_pool2d 2x3", uneven, [&](torch::Tensor x) { return theirs_uneven->forward(x); }, {2, 2, 7, 6},
                           gen);
            }
        }
    }
}

TEST_CASE("AdaptiveAvgPool2d matches LibTorch for even and uneven windows", "[chapter03][torch][pooling]") {
    torch::set_num_threads(1);
    sg::Generator gen(8);
    for (const auto& [oh, ow] : std::vector<std::pair<std::int64_t, std::int64_t>>{{1, 1}, {3, 4}, {4, 3}, {5, 7}, {2, 5}}) {
        DYNAMIC_SECTION("output " << oh << " x " << ow) {
            nn::AdaptiveAvgPool2d mine(nn::ExpandingArray<2>({oh, ow}));
            torch::nn::AdaptiveAvgPool2d theirs(torch::nn::AdaptiveAvgPool2dOptions({oh, ow}));
            check_step("adaptive_avg_pool2d", mine, [&](torch::Tensor x) { return theirs->forward(x); }, {2, 3, 6, 8}, gen);
        }
    }
}

// ---- batch norm -------------------------------------------------------------------------------

/// Two training steps and one evaluation step of a stepgrad batch norm and LibTorch's, with
/// random (copied) weight and bias.
template <class TorchModule>
void check_batch_norm(nn::BatchNormBase& mine, TorchModule& theirs, const sg::Shape& input_shape, sg::Generator& gen) {
    {
        sg::NoGradGuard no_grad;
        mine.weight.copy_(sg::from_vector(draw(real({mine.weight.numel()}), gen), mine.weight.shape()));
        mine.bias.copy_(sg::from_vector(draw(real({mine.bias.numel()}), gen), mine.bias.shape()));
        torch::NoGradGuard th_no_grad;
        theirs->weight.copy_(to_th(mine.weight));
        theirs->bias.copy_(to_th(mine.bias));
    }
    for (int step = 1; step <= 2; ++step) {
        INFO("training step " << step);
        mine.zero_grad();
        theirs->zero_grad();
        check_step("train", mine, [&](torch::Tensor x) { return theirs->forward(x); }, input_shape, gen);
        check_close("grad of the weight", mine.weight.grad(), theirs->weight.grad());
        check_close("grad of the bias", mine.bias.grad(), theirs->bias.grad());
        check_close("running_mean", mine.running_mean, theirs->running_mean);
        check_close("running_var", mine.running_var, theirs->running_var);
        CHECK(mine.num_batches_tracked.template item<std::int64_t>() == theirs->num_batches_tracked.template item<std::int64_t>());
    }
    mine.eval();
    theirs->eval();
    mine.zero_grad();
    theirs->zero_grad();
    check_step("eval", mine, [&](torch::Tensor x) { return theirs->forward(x); }, input_shape, gen);
    check_close("eval grad of the weight", mine.weight.grad(), theirs->weight.grad());
    check_close("eval grad of the bias", mine.bias.grad(), theirs->bias.grad());
    check_close("running_mean after eval", mine.running_mean, theirs->running_mean);
}

TEST_CASE("BatchNorm1d and BatchNorm2d match LibTorch in training and evaluation", "[chapter03][torch][batchnorm]") {
    torch::set_num_threads(1);
    sg::Generator gen(9);
    SECTION("BatchNorm1d, (N, C) input") {
        nn::BatchNorm1d mine(nn::BatchNormOptions(5).momentum(0.3));
        torch::nn::BatchNorm1d theirs(torch::nn::BatchNormOptions(5).momentum(0.3));
        check_batch_norm(mine, theirs, {8, 5}, gen);
    }
    SECTION("BatchNorm1d, (N, C, L) input, eps 1e-3") {
        nn::BatchNorm1d mine(nn::BatchNormOptions(4).eps(1e-3));
        torch::nn::BatchNorm1d theirs(torch::nn::BatchNormOptions(4).eps(1e-3));
        check_batch_norm(mine, theirs, {3, 4, 7}, gen);
    }
    SECTION("BatchNorm2d") {
        nn::BatchNorm2d mine(3);
        torch::nn::BatchNorm2d theirs(3);
        check_batch_norm(mine, theirs, {4, 3, 5, 6}, gen);
    }
}

}  // namespace
}  // namespace torchref
