// Claims checked: max_pool2d, avg_pool2d (count_include_pad both ways, ceil_mode) and
// adaptive_avg_pool2d (even and uneven windows) equal pooling written as loops over each window;
// their gradients pass gradcheck; the layers print PyTorch's repr; bad calls are refused.
#include "../../02-tensor/tests/test_helpers.hpp"

#include <stepgrad/nn/pooling.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <limits>
#include <numeric>
#include <sstream>
#include <string>
#include <vector>

using namespace stepgrad;
using namespace stepgrad::testing;
namespace F = stepgrad::nn::functional;

namespace {

struct PoolCase {
    const char* name;
    Shape input;
    std::int64_t kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w, dilation;
    bool ceil_mode;
};

const std::vector<PoolCase> cases = {
    {"2x2, stride 2", {2, 3, 6, 8}, 2, 2, 2, 2, 0, 0, 1, false},
    {"3x3, stride 2, padding 1", {2, 2, 7, 5}, 3, 3, 2, 2, 1, 1, 1, false},
    {"3x3, stride 2, padding 1, ceil_mode", {2, 2, 6, 8}, 3, 3, 2, 2, 1, 1, 1, true},
    {"3x2, stride (1, 2), padding (1, 0), ceil_mode", {1, 2, 5, 7}, 3, 2, 1, 2, 1, 0, 1, true},
    {"2x2, stride 1, dilation 2 (max only)", {1, 2, 6, 6}, 2, 2, 1, 1, 1, 1, 2, false},
};

// PyTorch's output size: floor or ceil of the span over the stride, plus one; with ceil_mode the
// last window must start inside the image or its left padding.
std::int64_t out_size(std::int64_t in, std::int64_t kernel, std::int64_t stride, std::int64_t pad,
                      std::int64_t dilation, bool ceil_mode) {
    const std::int64_t span = in + 2 * pad - dilation * (kernel - 1) - 1;
    std::int64_t out = (ceil_mode ? (span + stride - 1) / stride : span / stride) + 1;
    if (ceil_mode && (out - 1) * stride >= in + pad) --out;
    return out;
}

enum class Kind { Max, AvgWithPad, AvgWithoutPad };

// Pooling by its definition, one window at a time.
Tensor reference_pool(const Tensor& input, const PoolCase& c, Kind kind) {
    const std::vector<float> x = input.to_vector();
    const std::int64_t planes = input.size(0) * input.size(1), height = input.size(2), width = input.size(3);
    const std::int64_t out_h = out_size(height, c.kernel_h, c.stride_h, c.pad_h, c.dilation, c.ceil_mode);
    const std::int64_t out_w = out_size(width, c.kernel_w, c.stride_w, c.pad_w, c.dilation, c.ceil_mode);
    std::vector<float> out;
    for (std::int64_t p = 0; p < planes; ++p)
        for (std::int64_t oy = 0; oy < out_h; ++oy)
            for (std::int64_t ox = 0; ox < out_w; ++ox) {
                float best = -std::numeric_limits<float>::infinity();
                double sum = 0.0;
                std::int64_t inside = 0;
                for (std::int64_t i = 0; i < c.kernel_h; ++i)
                    for (std::int64_t j = 0; j < c.kernel_w; ++j) {
                        const std::int64_t h = oy * c.stride_h - c.pad_h + i * c.dilation;
                        const std::int64_t w = ox * c.stride_w - c.pad_w + j * c.dilation;
                        if (h < 0 || h >= height || w < 0 || w >= width) continue;
                        const float v = x[static_cast<std::size_t>((p * height + h) * width + w)];
                        best = std::max(best, v);
                        sum += v;
                        ++inside;
                    }
                if (kind == Kind::Max) {
                    out.push_back(best);
                    continue;
                }
                // count_include_pad: the window clipped to the padded image (PyTorch's divisor)
                const std::int64_t h0 = oy * c.stride_h - c.pad_h, w0 = ox * c.stride_w - c.pad_w;
                const std::int64_t padded = (std::min(h0 + c.kernel_h, height + c.pad_h) - h0) *
                                            (std::min(w0 + c.kernel_w, width + c.pad_w) - w0);
                out.push_back(static_cast<float>(sum / static_cast<double>(kind == Kind::AvgWithPad ? padded : inside)));
            }
    return from_vector(out, {input.size(0), input.size(1), out_h, out_w});
}

// PyTorch's adaptive windows: rows floor(i H / oh) to ceil((i + 1) H / oh), likewise columns.
Tensor reference_adaptive(const Tensor& input, std::int64_t out_h, std::int64_t out_w) {
    const std::vector<float> x = input.to_vector();
    const std::int64_t planes = input.size(0) * input.size(1), height = input.size(2), width = input.size(3);
    std::vector<float> out;
    for (std::int64_t p = 0; p < planes; ++p)
        for (std::int64_t i = 0; i < out_h; ++i)
            for (std::int64_t j = 0; j < out_w; ++j) {
                const std::int64_t h0 = i * height / out_h, h1 = ((i + 1) * height + out_h - 1) / out_h;
                const std::int64_t w0 = j * width / out_w, w1 = ((j + 1) * width + out_w - 1) / out_w;
                double sum = 0.0;
                for (std::int64_t h = h0; h < h1; ++h)
                    for (std::int64_t w = w0; w < w1; ++w) sum += x[static_cast<std::size_t>((p * height + h) * width + w)];
                out.push_back(static_cast<float>(sum / static_cast<double>((h1 - h0) * (w1 - w0))));
            }
    return from_vector(out, {input.size(0), input.size(1), out_h, out_w});
}

nn::MaxPool2dOptions max_options(const PoolCase& c) {
    return nn::MaxPool2dOptions({c.kernel_h, c.kernel_w})
        .stride({c.stride_h, c.stride_w})
        .padding({c.pad_h, c.pad_w})
        .dilation(c.dilation)
        .ceil_mode(c.ceil_mode);
}

nn::AvgPool2dOptions avg_options(const PoolCase& c, bool count_include_pad) {
    return nn::AvgPool2dOptions({c.kernel_h, c.kernel_w})
        .stride({c.stride_h, c.stride_w})
        .padding({c.pad_h, c.pad_w})
        .ceil_mode(c.ceil_mode)
        .count_include_pad(count_include_pad);
}

// Distinct values at least 0.1 apart, shuffled: max pooling is linear around them (no near-ties
// for a finite-difference step to cross).
Tensor distinct_input(const Shape& shape, std::uint64_t seed) {
    Generator generator(seed);
    const Tensor order = randperm(numel_of(shape), generator);
    return (order.to(Dtype::Float32) * 0.1 - 1.0).reshape(shape).detach().requires_grad_();
}

std::string repr(const nn::Module& module) {
    std::ostringstream out;
    module.pretty_print(out);
    return out.str();
}

}  // namespace

TEST_CASE("max_pool2d equals the largest value of each window", "[chapter03][pooling]") {
    for (const PoolCase& c : cases) {
        INFO(c.name);
        const Tensor x = random_input(c.input, 71);
        check_same(F::max_pool2d(x, max_options(c)), reference_pool(x, c, Kind::Max), 0.0);
    }
    CHECK(F::max_pool2d(random_input({1, 1, 4, 4}), 2).shape() == Shape{1, 1, 2, 2});  // stride defaults to the kernel
}

TEST_CASE("avg_pool2d equals the mean of each window, with and without the padding", "[chapter03][pooling]") {
    for (const PoolCase& c : cases) {
        if (c.dilation != 1) continue;  // average pooling has no dilation
        INFO(c.name);
        const Tensor x = random_input(c.input, 72);
        check_same(F::avg_pool2d(x, avg_options(c, true)), reference_pool(x, c, Kind::AvgWithPad));
        check_same(F::avg_pool2d(x, avg_options(c, false)), reference_pool(x, c, Kind::AvgWithoutPad));
    }
}

TEST_CASE("adaptive_avg_pool2d averages PyTorch's windows, even or uneven", "[chapter03][pooling]") {
    const Tensor x = random_input({2, 3, 6, 7}, 73);
    for (const auto& [oh, ow] : std::vector<std::pair<std::int64_t, std::int64_t>>{{3, 7}, {2, 1}, {4, 5}, {5, 3}, {6, 7}}) {
        INFO("output " << oh << " x " << ow);
        check_same(F::adaptive_avg_pool2d(x, {oh, ow}), reference_adaptive(x, oh, ow));
    }
    check_same(F::adaptive_avg_pool2d(x, 1), x.mean({2, 3}, true));  // the global average pool
}

TEST_CASE("pooling gradients pass gradcheck", "[chapter03][pooling][gradcheck]") {
    GradcheckOptions linear;
    linear.eps = 5e-2;
    for (const PoolCase& c : cases) {
        INFO(c.name);
        const auto max_opts = max_options(c);
        CHECK(gradcheck([&](const std::vector<Tensor>& in) { return F::max_pool2d(in[0], max_opts); },
                        {distinct_input(c.input, 81)}));
        if (c.dilation != 1) continue;
        for (bool count_include_pad : {true, false}) {
            const auto avg_opts = avg_options(c, count_include_pad);
            CHECK(gradcheck([&](const std::vector<Tensor>& in) { return F::avg_pool2d(in[0], avg_opts); },
                            {random_input(c.input, 82)}, linear));
        }
    }
    for (const auto& [oh, ow] : std::vector<std::pair<std::int64_t, std::int64_t>>{{3, 7}, {4, 5}, {5, 2}}) {
        INFO("adaptive output " << oh << " x " << ow);
        CHECK(gradcheck([oh = oh, ow = ow](const std::vector<Tensor>& in) { return F::adaptive_avg_pool2d(in[0], {oh, ow}); },
                        {random_input({2, 2, 6, 7}, 83)}, linear));
    }
}

TEST_CASE("pooling takes one (C, H, W) image as PyTorch does", "[chapter03][pooling]") {
    const Tensor image = random_input({3, 6, 5}, 91);
    check_same(F::max_pool2d(image, 2), F::max_pool2d(image.unsqueeze(0), 2).squeeze(0));
    check_same(F::avg_pool2d(image, 2), F::avg_pool2d(image.unsqueeze(0), 2).squeeze(0));
    check_same(F::adaptive_avg_pool2d(image, {4, 3}), F::adaptive_avg_pool2d(image.unsqueeze(0), {4, 3}).squeeze(0));
}

TEST_CASE("pooling layers forward to the functional forms and print PyTorch's repr", "[chapter03][pooling]") {
    const Tensor x = random_input({2, 3, 7, 6}, 92);
    auto max_pool = std::make_shared<nn::MaxPool2d>(nn::MaxPool2dOptions(3).stride(2).padding(1).ceil_mode(true));
    check_same(max_pool->forward(x), F::max_pool2d(x, nn::MaxPool2dOptions(3).stride(2).padding(1).ceil_mode(true)));
    auto avg_pool = std::make_shared<nn::AvgPool2d>(nn::AvgPool2dOptions(2).count_include_pad(false));
    check_same(avg_pool->forward(x), F::avg_pool2d(x, 2));
    auto adaptive = std::make_shared<nn::AdaptiveAvgPool2d>(nn::ExpandingArray<2>({5, 4}));
    check_same(adaptive->forward(x), reference_adaptive(x, 5, 4));
    CHECK(max_pool->parameters().empty());

    CHECK(repr(nn::MaxPool2d(2)) == "MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)");
    CHECK(repr(*max_pool) == "MaxPool2d(kernel_size=3, stride=2, padding=1, dilation=1, ceil_mode=True)");
    CHECK(repr(nn::MaxPool2d(nn::MaxPool2dOptions({2, 3}))) ==
          "MaxPool2d(kernel_size=(2, 3), stride=(2, 3), padding=0, dilation=1, ceil_mode=False)");
    CHECK(repr(nn::AvgPool2d(2)) == "AvgPool2d(kernel_size=2, stride=2, padding=0)");
    CHECK(repr(nn::AdaptiveAvgPool2d(1)) == "AdaptiveAvgPool2d(output_size=1)");
    CHECK(repr(*adaptive) == "AdaptiveAvgPool2d(output_size=(5, 4))");
}

TEST_CASE("pooling refuses bad inputs and options with clear errors", "[chapter03][pooling][errors]") {
    const Tensor x = random_input({1, 2, 5, 5}, 93);
    CHECK_THROWS_WITH(F::max_pool2d(random_input({5, 5}), 2), Catch::Contains("3-D (C, H, W) or 4-D"));
    CHECK_THROWS_WITH(F::max_pool2d(x, 0), Catch::Contains("kernel_size must be positive"));
    CHECK_THROWS_WITH(F::max_pool2d(x, nn::MaxPool2dOptions(2).stride(0)), Catch::Contains("stride must be positive"));
    CHECK_THROWS_WITH(F::max_pool2d(x, nn::MaxPool2dOptions(2).dilation(0)), Catch::Contains("dilation must be positive"));
    CHECK_THROWS_WITH(F::max_pool2d(x, nn::MaxPool2dOptions(3).padding(2)), Catch::Contains("half the kernel size"));
    CHECK_THROWS_WITH(F::avg_pool2d(x, nn::AvgPool2dOptions(2).padding(-1)), Catch::Contains("half the kernel size"));
    CHECK_THROWS_WITH(F::max_pool2d(x, 6), Catch::Contains("too small"));
    CHECK_THROWS_WITH(F::avg_pool2d(x, nn::AvgPool2dOptions(2).stride(0)), Catch::Contains("stride must be positive"));
    CHECK_THROWS_WITH(F::adaptive_avg_pool2d(x, 0), Catch::Contains("output_size must be positive"));
    CHECK_THROWS_WITH(F::adaptive_avg_pool2d(random_input({4, 5}), 2), Catch::Contains("3-D (C, H, W) or 4-D"));
    CHECK_THROWS_WITH(F::max_pool2d(x.to(Dtype::Int64), 2), Catch::Contains("max_pool2d"));
}
