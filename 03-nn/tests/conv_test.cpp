// Claims checked: conv2d (im2col + GEMM) equals the convolution written as nested loops, for
// stride, padding, dilation, groups and no bias; its gradients pass gradcheck; gradients that no
// input needs are not computed; Conv2d holds PyTorch's parameters, initialisation and repr; bad
// shapes and options are refused with clear errors.
#include "../../02-tensor/tests/test_helpers.hpp"

#include <stepgrad/nn/conv.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <sstream>
#include <string>
#include <vector>

using namespace stepgrad;
using namespace stepgrad::testing;
namespace F = stepgrad::nn::functional;

namespace {

struct ConvCase {
    const char* name;
    Shape input;   // (N, C, H, W)
    Shape weight;  // (OC, C/groups, kh, kw)
    std::int64_t stride_h, stride_w, pad_h, pad_w, dilation_h, dilation_w, groups;
    bool bias;
};

const std::vector<ConvCase> cases = {
    {"3x3, padding 1 (same)", {2, 3, 5, 6}, {4, 3, 3, 3}, 1, 1, 1, 1, 1, 1, 1, true},
    {"stride (2, 1), padding (1, 0)", {2, 2, 7, 5}, {3, 2, 3, 2}, 2, 1, 1, 0, 1, 1, 1, true},
    {"dilation 2, padding 2", {1, 2, 7, 6}, {2, 2, 3, 3}, 1, 1, 2, 2, 2, 2, 1, true},
    {"kernel 2x3, stride 3, no bias", {2, 1, 8, 9}, {3, 1, 2, 3}, 3, 3, 0, 0, 1, 1, 1, false},
    {"groups 2, stride 2, padding 1", {2, 4, 6, 5}, {6, 2, 3, 3}, 2, 2, 1, 1, 1, 1, 2, true},
    {"depthwise (groups = channels), dilation (2, 1)", {2, 3, 6, 6}, {3, 1, 3, 2}, 1, 1, 2, 1, 2, 1, 3, true},
};

nn::Conv2dFuncOptions options_of(const ConvCase& c) {
    return nn::Conv2dFuncOptions()
        .stride({c.stride_h, c.stride_w})
        .padding({c.pad_h, c.pad_w})
        .dilation({c.dilation_h, c.dilation_w})
        .groups(c.groups);
}

// The definition, one output element at a time: out[n, o, y, x] = bias[o] + Σ over the input
// channels of o's group and the taps (i, j) of weight[o, c, i, j] * input[n, g*C/G + c, y*s - p + i*d, ...].
Tensor reference_conv(const Tensor& input, const Tensor& weight, const Tensor& bias, const ConvCase& c) {
    const std::vector<float> x = input.to_vector(), w = weight.to_vector();
    const std::vector<float> b = bias.defined() ? bias.to_vector() : std::vector<float>();
    const std::int64_t batch = input.size(0), channels = input.size(1), height = input.size(2), width = input.size(3);
    const std::int64_t out_channels = weight.size(0), group_channels = weight.size(1);
    const std::int64_t kh = weight.size(2), kw = weight.size(3);
    const std::int64_t out_h = (height + 2 * c.pad_h - c.dilation_h * (kh - 1) - 1) / c.stride_h + 1;
    const std::int64_t out_w = (width + 2 * c.pad_w - c.dilation_w * (kw - 1) - 1) / c.stride_w + 1;
    const std::int64_t per_group = out_channels / c.groups;
    std::vector<float> out;
    for (std::int64_t n = 0; n < batch; ++n)
        for (std::int64_t o = 0; o < out_channels; ++o)
            for (std::int64_t y = 0; y < out_h; ++y)
                for (std::int64_t xx = 0; xx < out_w; ++xx) {
                    double sum = b.empty() ? 0.0 : b[static_cast<std::size_t>(o)];
                    const std::int64_t first_channel = o / per_group * group_channels;
                    for (std::int64_t ci = 0; ci < group_channels; ++ci)
                        for (std::int64_t i = 0; i < kh; ++i)
                            for (std::int64_t j = 0; j < kw; ++j) {
                                const std::int64_t h = y * c.stride_h - c.pad_h + i * c.dilation_h;
                                const std::int64_t v = xx * c.stride_w - c.pad_w + j * c.dilation_w;
                                if (h < 0 || h >= height || v < 0 || v >= width) continue;
                                const auto xi = static_cast<std::size_t>(
                                    ((n * channels + first_channel + ci) * height + h) * width + v);
                                const auto wi = static_cast<std::size_t>(((o * group_channels + ci) * kh + i) * kw + j);
                                sum += static_cast<double>(x[xi]) * w[wi];
                            }
                    out.push_back(static_cast<float>(sum));
                }
    return from_vector(out, {batch, out_channels, out_h, out_w});
}

std::string repr(const nn::Module& module) {
    std::ostringstream out;
    module.pretty_print(out);
    return out.str();
}

}  // namespace

TEST_CASE("conv2d equals the convolution written as nested loops", "[chapter03][conv][ex-03.4]") {
    for (const ConvCase& c : cases) {
        INFO(c.name);
        const Tensor x = random_input(c.input, 11);
        const Tensor w = random_input(c.weight, 12);
        const Tensor b = c.bias ? random_input({c.weight[0]}, 13) : Tensor();
        check_same(F::conv2d(x, w, b, options_of(c)), reference_conv(x, w, b, c), 1e-4);
    }
}

TEST_CASE("conv2d's gradients pass gradcheck for every option", "[chapter03][conv][gradcheck]") {
    GradcheckOptions linear;  // linear in each input: a long step has no truncation error
    linear.eps = 5e-2;
    for (const ConvCase& c : cases) {
        INFO(c.name);
        std::vector<Tensor> inputs{random_input(c.input, 21), random_input(c.weight, 22)};
        if (c.bias) inputs.push_back(random_input({c.weight[0]}, 23));
        const auto options = options_of(c);
        CHECK(gradcheck(
            [&](const std::vector<Tensor>& in) { return F::conv2d(in[0], in[1], in.size() > 2 ? in[2] : Tensor(), options); },
            inputs, linear));
    }
}

TEST_CASE("conv2d computes only the gradients that are needed", "[chapter03][conv]") {
    const Tensor images = random_input({2, 2, 5, 5}, 31).detach();  // data: no gradient wanted
    const Tensor w = random_input({3, 2, 3, 3}, 32), b = random_input({3}, 33);
    Tensor y = F::conv2d(images, w, b, nn::Conv2dFuncOptions().padding(1));
    y.sum().backward();
    CHECK_FALSE(images.grad().defined());
    // the same weight gradient as when the input also wants one
    const Tensor x = images.clone().requires_grad_();
    const Tensor w2 = w.detach().clone().requires_grad_(), b2 = b.detach().clone().requires_grad_();
    F::conv2d(x, w2, b2, nn::Conv2dFuncOptions().padding(1)).sum().backward();
    check_same(w.grad(), w2.grad());
    check_same(b.grad(), b2.grad());
    // bias gradient: each output channel's gradient summed over batch and positions (2 * 25 ones)
    check_tensor(b.grad(), {3}, {50, 50, 50});
    // a frozen weight gets no gradient while the input still does
    const Tensor frozen = w.detach();
    const Tensor x3 = images.clone().requires_grad_();
    F::conv2d(x3, frozen, Tensor(), nn::Conv2dFuncOptions().padding(1)).sum().backward();
    CHECK_FALSE(frozen.grad().defined());
    check_same(x3.grad(), x.grad(), 1e-5);
}

TEST_CASE("conv2d takes one (C, H, W) image as PyTorch does", "[chapter03][conv]") {
    const Tensor image = random_input({2, 6, 5}, 41), w = random_input({4, 2, 3, 3}, 42), b = random_input({4}, 43);
    const Tensor one = F::conv2d(image, w, b, nn::Conv2dFuncOptions().padding(1));
    REQUIRE(one.shape() == Shape{4, 6, 5});
    check_same(one, F::conv2d(image.unsqueeze(0), w, b, nn::Conv2dFuncOptions().padding(1)).squeeze(0));
}

TEST_CASE("the Conv2d layer registers PyTorch's parameters and initialisation", "[chapter03][conv]") {
    manual_seed(0);
    auto conv = std::make_shared<nn::Conv2d>(nn::Conv2dOptions(4, 6, {3, 2}).groups(2).padding(1));
    REQUIRE(conv->weight.shape() == Shape{6, 2, 3, 2});
    REQUIRE(conv->bias.shape() == Shape{6});
    const auto named = conv->named_parameters();
    REQUIRE(named.size() == 2);
    CHECK(named[0].first == "weight");
    CHECK(named[1].first == "bias");
    CHECK(conv->weight.requires_grad());
    // U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in = C/groups * kh * kw = 12
    const double bound = 1.0 / std::sqrt(12.0);
    for (const Tensor& p : {conv->weight, conv->bias}) {
        CHECK(p.abs().max().item() <= bound);
        CHECK(p.abs().max().item() > 0.5 * bound);  // actually drawn, not left at zero
    }
    // forward is the functional form with the layer's options
    const Tensor x = random_input({2, 4, 5, 4}, 51);
    check_same(conv->forward(x),
               F::conv2d(x, conv->weight, conv->bias, nn::Conv2dFuncOptions().padding(1).groups(2)));

    auto no_bias = std::make_shared<nn::Conv2d>(nn::Conv2dOptions(1, 2, 3).bias(false));
    CHECK_FALSE(no_bias->bias.defined());
    CHECK(no_bias->parameters().size() == 1);
}

TEST_CASE("Conv2d prints as PyTorch does", "[chapter03][conv]") {
    CHECK(repr(nn::Conv2d(nn::Conv2dOptions(1, 8, 3).stride(1).padding(1))) ==
          "Conv2d(1, 8, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))");
    CHECK(repr(nn::Conv2d(1, 8, 3)) == "Conv2d(1, 8, kernel_size=(3, 3), stride=(1, 1))");
    CHECK(repr(nn::Conv2d(nn::Conv2dOptions(4, 8, {3, 5}).stride({2, 1}).dilation(2).groups(4).bias(false))) ==
          "Conv2d(4, 8, kernel_size=(3, 5), stride=(2, 1), dilation=(2, 2), groups=4, bias=False)");
}

TEST_CASE("options take one number or a (height, width) pair", "[chapter03][conv]") {
    const nn::ExpandingArray<2> square = 3, pair = {3, 5};
    CHECK(square.values() == std::array<std::int64_t, 2>{3, 3});
    CHECK(pair[0] == 3);
    CHECK(pair[1] == 5);
    CHECK_THROWS_WITH(nn::ExpandingArray<2>({1, 2, 3}), Catch::Contains("expected 2 sizes"));
    const auto options = nn::Conv2dOptions(2, 4, 3).stride({2, 1}).padding(1);
    CHECK(options.stride()[0] == 2);
    CHECK(options.stride()[1] == 1);
    CHECK(options.padding() == nn::ExpandingArray<2>(1));
    CHECK(options.kernel_size() == nn::ExpandingArray<2>({3, 3}));
}

TEST_CASE("conv2d refuses bad shapes and options with clear errors", "[chapter03][conv][errors]") {
    const Tensor x = random_input({2, 3, 5, 5}, 61), w = random_input({4, 3, 3, 3}, 62);
    CHECK_THROWS_WITH(F::conv2d(random_input({3, 5}, 63), w), Catch::Contains("3-D (C, H, W) or 4-D"));
    CHECK_THROWS_WITH(F::conv2d(x, random_input({4, 3, 3}, 64)), Catch::Contains("4-D weight"));
    CHECK_THROWS_WITH(F::conv2d(x, random_input({4, 2, 3, 3}, 65)), Catch::Contains("to have 2 channels, but it has 3"));
    CHECK_THROWS_WITH(F::conv2d(x, w, random_input({3}, 66)), Catch::Contains("bias of shape [4]"));
    CHECK_THROWS_WITH(F::conv2d(x, w, Tensor(), nn::Conv2dFuncOptions().stride(0)), Catch::Contains("stride must be positive"));
    CHECK_THROWS_WITH(F::conv2d(x, w, Tensor(), nn::Conv2dFuncOptions().padding(-1)),
                      Catch::Contains("padding must be non-negative"));
    CHECK_THROWS_WITH(F::conv2d(x, w, Tensor(), nn::Conv2dFuncOptions().dilation(3)), Catch::Contains("smaller than the dilated kernel"));
    CHECK_NOTHROW(F::conv2d(x, random_input({3, 1, 3, 3}, 67), Tensor(), nn::Conv2dFuncOptions().groups(3)));  // depthwise
    CHECK_THROWS_WITH(F::conv2d(random_input({2, 4, 5, 5}, 68), random_input({3, 2, 3, 3}, 69), Tensor(),
                                nn::Conv2dFuncOptions().groups(2)),
                      Catch::Contains("not divisible by groups=2"));
    CHECK_THROWS_WITH(nn::Conv2d(nn::Conv2dOptions(3, 4, 3).groups(2)), Catch::Contains("divisible by groups=2"));
    CHECK_THROWS_WITH(nn::Conv2d(nn::Conv2dOptions(0, 4, 3)), Catch::Contains("channel counts must be positive"));
    CHECK_THROWS_WITH(nn::Conv2d(nn::Conv2dOptions(1, 4, 0)), Catch::Contains("kernel_size must be positive"));
}
