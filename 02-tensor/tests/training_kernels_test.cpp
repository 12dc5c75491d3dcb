// The CPU's fused training kernels (cpu_training_kernels.hpp) against their plain references
// (reference_kernels.hpp), on odd sizes and awkward geometries; the references themselves
// against hand-computed values, finite differences and the adjoint identity.
#include "cpu_training_kernels.hpp"

#include <stepgrad/tensor/reference_kernels.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using stepgrad::Window2d;
namespace cpu = stepgrad::cpu;
namespace reference = stepgrad::reference;

constexpr float sentinel = 7.25f;  // fills output buffers, so a kernel that skips an element shows

std::size_t size_of(std::int64_t n) { return static_cast<std::size_t>(n); }

/// Normal(0, 1) values, seeded.
std::vector<float> random_normal(std::size_t count, std::uint64_t seed) {
    std::mt19937_64 engine(seed);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    std::vector<float> values(count);
    for (float& v : values) v = normal(engine);
    return values;
}

/// Integers in [0, levels): many ties, for max pooling.
std::vector<float> random_levels(std::size_t count, int levels, std::uint64_t seed) {
    std::mt19937_64 engine(seed);
    std::uniform_int_distribution<int> level(0, levels - 1);
    std::vector<float> values(count);
    for (float& v : values) v = static_cast<float>(level(engine));
    return values;
}

/// Checks every element: |actual - expected| <= absolute + relative * |expected|; NaN must match NaN.
/// One assertion per vector, naming the first element that differs.
template <typename Expected>
void check_close(const std::vector<float>& actual, const std::vector<Expected>& expected,
                 double relative = 1e-5, double absolute = 1e-6) {
    REQUIRE(actual.size() == expected.size());
    std::size_t mismatches = 0;
    std::ostringstream first;
    for (std::size_t k = 0; k < actual.size(); ++k) {
        const double a = actual[k], e = static_cast<double>(expected[k]);
        const bool same = std::isnan(e) ? std::isnan(a) : std::abs(a - e) <= absolute + relative * std::abs(e);
        if (!same && mismatches++ == 0) first << "element " << k << ": got " << a << ", expected " << e;
    }
    INFO(mismatches << " of " << actual.size() << " elements differ; first " << first.str());
    CHECK(mismatches == 0);
}

std::string describe(const Window2d& w) {
    std::ostringstream out;
    out << "N" << w.batch << " C" << w.channels << " " << w.height << "x" << w.width << " kernel " << w.kernel_h
        << "x" << w.kernel_w << " stride " << w.stride_h << "," << w.stride_w << " pad " << w.pad_h << ","
        << w.pad_w << " dilation " << w.dilation_h << "," << w.dilation_w << (w.ceil_mode ? " ceil" : "");
    return out.str();
}

std::int64_t image_size(const Window2d& w) { return w.batch * w.channels * w.height * w.width; }
std::int64_t pooled_size(const Window2d& w) { return w.batch * w.channels * w.out_height() * w.out_width(); }
std::int64_t columns_size(const Window2d& w) {
    return w.batch * w.channels * w.kernel_h * w.kernel_w * w.out_height() * w.out_width();
}

/// Convolution windows: batch 3, 2 channels, odd image sizes; stride 2, padding 1 and 2,
/// dilation 2, non-square kernels (including padding wider than half the kernel). Those marked
/// "shifted" take im2col's one-memcpy path (stride 1 across, output rows as far apart as input rows).
std::vector<Window2d> conv_windows() {
    //       N  C  H  W  kh kw sh sw ph pw dh dw
    return {{3, 2, 7, 5, 3, 3, 1, 1, 1, 1, 1, 1},  // shifted
            {3, 2, 7, 5, 3, 3, 1, 1, 2, 2, 2, 2},  // shifted by up to 2 each way
            {3, 2, 7, 3, 3, 2, 2, 1, 1, 2, 1, 1},  // shifted: stride 2 down, output rows 2 input rows long
            {3, 2, 4, 2, 1, 3, 1, 1, 0, 3, 1, 3},  // shifted: two taps read only padding
            {3, 2, 5, 1, 3, 1, 1, 1, 1, 0, 1, 1},  // shifted: one pixel wide
            {3, 2, 7, 5, 3, 3, 2, 2, 1, 1, 1, 1},
            {3, 2, 7, 5, 2, 3, 1, 1, 0, 0, 1, 1},
            {3, 2, 7, 5, 2, 3, 2, 1, 2, 2, 1, 1},
            {3, 2, 7, 5, 3, 3, 1, 2, 2, 2, 2, 2},
            {3, 2, 5, 7, 3, 2, 2, 3, 1, 2, 2, 1},
            {3, 2, 7, 5, 1, 1, 3, 2, 0, 0, 1, 1},
            {1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1}};
}

/// Pooling windows (padding at most half the kernel, as PyTorch requires), with ceil_mode and
/// ragged last windows.
std::vector<Window2d> pool_windows() {
    //       N  C  H  W  kh kw sh sw ph pw dh dw ceil
    return {{3, 2, 7, 5, 2, 2, 2, 2, 0, 0, 1, 1, true},
            {3, 2, 7, 5, 3, 3, 2, 2, 1, 1, 1, 1, true},
            {3, 2, 7, 5, 3, 2, 2, 1, 1, 1, 1, 1, false},
            {3, 2, 5, 7, 2, 3, 1, 2, 1, 1, 1, 1, true},
            {3, 2, 7, 5, 3, 3, 1, 1, 1, 1, 2, 2, false},
            {3, 2, 7, 7, 3, 3, 3, 3, 1, 1, 1, 1, true},
            {3, 2, 7, 5, 2, 2, 2, 2, 1, 1, 1, 1, false}};
}

}  // namespace

// ---- im2col / col2im --------------------------------------------------------------------------

TEST_CASE("im2col matches the reference on every geometry", "[chapter02][kernels]") {
    for (const Window2d& window : conv_windows()) {
        INFO(describe(window));
        const std::vector<float> image = random_normal(size_of(image_size(window)), 11);
        std::vector<float> columns(size_of(columns_size(window)), sentinel);
        cpu::im2col(image.data(), window, columns.data());
        check_close(columns, reference::im2col(image, window), 0.0, 0.0);  // a copy: exact
    }
}

TEST_CASE("im2col reads the right pixels and zeros the padding (hand-checked)", "[chapter02][kernels]") {
    // one 2x3 image [[1 2 3] [4 5 6]], 2x2 window, padding 1: 3x4 output positions
    const Window2d window{1, 1, 2, 3, 2, 2, 1, 1, 1, 1, 1, 1};
    REQUIRE(window.out_height() == 3);
    REQUIRE(window.out_width() == 4);
    const std::vector<float> image{1, 2, 3, 4, 5, 6};
    const std::vector<float> expected{
        0, 0, 0, 0, 0, 1, 2, 3, 0, 4, 5, 6,  // tap (0, 0): the pixel up-left of each output
        0, 0, 0, 0, 1, 2, 3, 0, 4, 5, 6, 0,  // tap (0, 1)
        0, 1, 2, 3, 0, 4, 5, 6, 0, 0, 0, 0,  // tap (1, 0)
        1, 2, 3, 0, 4, 5, 6, 0, 0, 0, 0, 0,  // tap (1, 1)
    };
    std::vector<float> columns(expected.size(), sentinel);
    cpu::im2col(image.data(), window, columns.data());
    check_close(columns, expected, 0.0, 0.0);
    check_close(reference::im2col(image, window), expected, 0.0, 0.0);
}

TEST_CASE("col2im matches the reference and is the adjoint of im2col", "[chapter02][kernels]") {
    for (const Window2d& window : conv_windows()) {
        INFO(describe(window));
        const std::vector<float> image = random_normal(size_of(image_size(window)), 21);
        const std::vector<float> columns = random_normal(size_of(columns_size(window)), 22);

        std::vector<float> folded(image.size(), sentinel);
        cpu::col2im(columns.data(), window, folded.data());
        check_close(folded, reference::col2im(columns, window));

        // <im2col(x), y> == <x, col2im(y)>
        std::vector<float> unfolded(columns.size(), sentinel);
        cpu::im2col(image.data(), window, unfolded.data());
        double lhs = 0.0, rhs = 0.0;
        for (std::size_t k = 0; k < columns.size(); ++k) lhs += double{unfolded[k]} * columns[k];
        for (std::size_t k = 0; k < image.size(); ++k) rhs += double{image[k]} * folded[k];
        CHECK(lhs == Approx(rhs).epsilon(1e-5));
    }
}

// A grouped convolution is one GEMM per group on a contiguous block of im2col's rows: group g
// owns the channels [g C/G, (g+1) C/G), hence rows [g K, (g+1) K) with K = (C/G) kh kw.
TEST_CASE("im2col supports grouped convolution through the GEMM layout", "[chapter02][kernels]") {
    constexpr std::int64_t groups = 2, out_channels = 6;
    for (const Window2d& base : {Window2d{3, 4, 7, 5, 3, 3, 1, 1, 1, 1, 1, 1}, Window2d{3, 4, 7, 5, 2, 3, 2, 1, 1, 2, 2, 1}}) {
        const Window2d& w = base;
        INFO(describe(w));
        const std::int64_t in_per_group = w.channels / groups, out_per_group = out_channels / groups;
        const std::int64_t taps = in_per_group * w.kernel_h * w.kernel_w;  // K
        const std::int64_t positions = w.out_height() * w.out_width();    // L
        const std::vector<float> image = random_normal(size_of(image_size(w)), 31);
        // weight is (OC, C / groups, kh, kw)
        const std::vector<float> weight = random_normal(size_of(out_channels * taps), 32);

        // direct: out[n, o, oh, ow] = Σ_{c in o's group, i, j} weight[o, c, i, j] x[n, c, h, w]
        std::vector<double> direct(size_of(w.batch * out_channels * positions), 0.0);
        for (std::int64_t n = 0; n < w.batch; ++n)
            for (std::int64_t o = 0; o < out_channels; ++o)
                for (std::int64_t oh = 0; oh < w.out_height(); ++oh)
                    for (std::int64_t ow = 0; ow < w.out_width(); ++ow) {
                        double sum = 0.0;
                        const std::int64_t group = o / out_per_group;
                        for (std::int64_t c = 0; c < in_per_group; ++c)
                            for (std::int64_t i = 0; i < w.kernel_h; ++i)
                                for (std::int64_t j = 0; j < w.kernel_w; ++j) {
                                    const std::int64_t h = oh * w.stride_h - w.pad_h + i * w.dilation_h;
                                    const std::int64_t x = ow * w.stride_w - w.pad_w + j * w.dilation_w;
                                    if (h < 0 || h >= w.height || x < 0 || x >= w.width) continue;
                                    const std::int64_t channel = group * in_per_group + c;
                                    sum += double{weight[size_of(((o * in_per_group + c) * w.kernel_h + i) * w.kernel_w + j)]} *
                                           image[size_of(((n * w.channels + channel) * w.height + h) * w.width + x)];
                                }
                        direct[size_of((n * out_channels + o) * positions + oh * w.out_width() + ow)] = sum;
                    }

        // im2col + per group GEMM: out[n, g] (OC/G, L) = weight[g] (OC/G, K) @ columns[n, g] (K, L)
        std::vector<float> columns(size_of(columns_size(w)));
        cpu::im2col(image.data(), w, columns.data());
        std::vector<float> via_gemm(direct.size(), sentinel);
        for (std::int64_t n = 0; n < w.batch; ++n)
            for (std::int64_t g = 0; g < groups; ++g)
                for (std::int64_t o = 0; o < out_per_group; ++o)
                    for (std::int64_t l = 0; l < positions; ++l) {
                        double sum = 0.0;
                        for (std::int64_t k = 0; k < taps; ++k)
                            sum += double{weight[size_of((g * out_per_group + o) * taps + k)]} *
                                   columns[size_of(((n * groups + g) * taps + k) * positions + l)];
                        via_gemm[size_of((n * out_channels + g * out_per_group + o) * positions + l)] =
                            static_cast<float>(sum);
                    }
        check_close(via_gemm, direct);
    }
}

// ---- max pooling ----------------------------------------------------------------------------

TEST_CASE("ceil_mode windows have the output sizes PyTorch gives", "[chapter02][kernels]") {
    // torch.nn.functional.max_pool2d(torch.zeros(1, 1, 7, 5), 2, 2, ceil_mode=True).shape == (1, 1, 4, 3)
    CHECK(Window2d{1, 1, 7, 5, 2, 2, 2, 2, 0, 0, 1, 1, true}.out_height() == 4);
    CHECK(Window2d{1, 1, 7, 5, 2, 2, 2, 2, 0, 0, 1, 1, true}.out_width() == 3);
    CHECK(Window2d{1, 1, 7, 5, 2, 2, 2, 2, 0, 0, 1, 1, false}.out_width() == 2);
    // kernel 3, stride 2, padding 1 on 7 x 7, ceil: (7 + 2 - 3) / 2 + 1 = 4; ceil of 3x3 stride 3
    // pad 1 on 7: ceil(6/3)+1 = 3, and the last window starts at 5 < 7 + 1, so it stays
    CHECK(Window2d{1, 1, 7, 7, 3, 3, 2, 2, 1, 1, 1, 1, true}.out_height() == 4);
    CHECK(Window2d{1, 1, 7, 7, 3, 3, 3, 3, 1, 1, 1, 1, true}.out_height() == 3);
    // a window that would start in the right padding is dropped: 2 wide, kernel 1, stride 2, pad 1
    CHECK(Window2d{1, 1, 1, 2, 1, 1, 1, 2, 0, 1, 1, 1, true}.out_width() == 2);
}

TEST_CASE("max_pool2d forward and backward match the reference, ties and NaN included", "[chapter02][kernels]") {
    for (const Window2d& window : pool_windows()) {
        INFO(describe(window));
        for (const bool with_nan : {false, true}) {
            INFO("NaN in the input: " << with_nan);
            // values from {0, 1, 2}: most windows hold several equal maxima
            std::vector<float> input = random_levels(size_of(image_size(window)), 3, 41);
            if (with_nan) {
                for (std::size_t k = 5; k < input.size(); k += 17) input[k] = std::numeric_limits<float>::quiet_NaN();
            }
            const reference::MaxPoolResult expected = reference::max_pool2d_forward(input, window);
            std::vector<float> out(size_of(pooled_size(window)), sentinel);
            std::vector<std::int64_t> argmax(out.size(), -7);
            cpu::max_pool2d_forward(input.data(), window, out.data(), argmax.data());
            check_close(out, expected.out, 0.0, 0.0);
            CHECK(argmax == expected.argmax);

            const std::vector<float> grad_output = random_normal(out.size(), 42);
            std::vector<float> grad_input(input.size(), sentinel);
            cpu::max_pool2d_backward(grad_output.data(), argmax.data(), window, grad_input.data());
            check_close(grad_input, reference::max_pool2d_backward(grad_output, expected.argmax, window));
        }
    }
}

TEST_CASE("max_pool2d: the first of equal maxima wins, a NaN wins, padding never does", "[chapter02][kernels]") {
    const float nan = std::numeric_limits<float>::quiet_NaN();
    // one 2x4 plane, 2x2 windows, stride 2: [[1 3 | 5 nan] [3 2 | 9 5]]
    const Window2d window{1, 1, 2, 4, 2, 2, 2, 2, 0, 0, 1, 1};
    const std::vector<float> input{1, 3, 5, nan, 3, 2, 9, 5};
    std::vector<float> out(2, sentinel);
    std::vector<std::int64_t> argmax(2, -7);
    cpu::max_pool2d_forward(input.data(), window, out.data(), argmax.data());
    CHECK(out[0] == 3.0f);
    CHECK(argmax[0] == 1);  // the 3 at (0, 1), not the one at (1, 0)
    CHECK(std::isnan(out[1]));
    CHECK(argmax[1] == 3);  // NaN beats 9
    const reference::MaxPoolResult expected = reference::max_pool2d_forward(input, window);
    CHECK(expected.argmax == argmax);

    // all-negative input with padding 1: the padding (treated as -inf) is never chosen
    const Window2d padded{1, 1, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1};
    const std::vector<float> negative{-4, -3, -2, -1};
    std::vector<float> padded_out(9, sentinel);
    std::vector<std::int64_t> padded_argmax(9, -7);
    cpu::max_pool2d_forward(negative.data(), padded, padded_out.data(), padded_argmax.data());
    check_close(padded_out, std::vector<float>{-4, -3, -3, -2, -1, -1, -2, -1, -1}, 0.0, 0.0);
    CHECK(padded_argmax == std::vector<std::int64_t>{0, 1, 1, 2, 3, 3, 2, 3, 3});
}

// ---- average pooling ------------------------------------------------------------------------

TEST_CASE("avg_pool2d forward and backward match the reference, count_include_pad both ways",
          "[chapter02][kernels]") {
    for (const Window2d& window : pool_windows()) {
        for (const bool count_include_pad : {true, false}) {
            INFO(describe(window) << " count_include_pad " << count_include_pad);
            const std::vector<float> input = random_normal(size_of(image_size(window)), 51);
            std::vector<float> out(size_of(pooled_size(window)), sentinel);
            cpu::avg_pool2d_forward(input.data(), window, count_include_pad, out.data());
            check_close(out, reference::avg_pool2d_forward(input, window, count_include_pad));

            const std::vector<float> grad_output = random_normal(out.size(), 52);
            std::vector<float> grad_input(input.size(), sentinel);
            cpu::avg_pool2d_backward(grad_output.data(), window, count_include_pad, grad_input.data());
            check_close(grad_input, reference::avg_pool2d_backward(grad_output, window, count_include_pad));
        }
    }
}

TEST_CASE("avg_pool2d divisors agree with PyTorch on padded and ceil_mode windows", "[chapter02][kernels]") {
    // F.avg_pool2d(tensor([[[[1., 2., 3.]]]]), (1, 3), stride=1, padding=(0, 1), count_include_pad=...)
    const Window2d padded{1, 1, 1, 3, 1, 3, 1, 1, 0, 1, 1, 1};
    const std::vector<float> row{1, 2, 3};
    std::vector<float> out(3, sentinel);
    cpu::avg_pool2d_forward(row.data(), padded, true, out.data());
    check_close(out, std::vector<float>{1.0f, 2.0f, 5.0f / 3.0f});  // always divided by 3
    cpu::avg_pool2d_forward(row.data(), padded, false, out.data());
    check_close(out, std::vector<float>{1.5f, 2.0f, 2.5f});  // divided by the taps in the image

    // F.avg_pool2d(tensor([[[[1., 2., 3.]]]]), (1, 2), stride=2, ceil_mode=True) == [1.5, 3]:
    // the last window is clipped by the right edge and divides by 1, even with count_include_pad
    const Window2d ragged{1, 1, 1, 3, 1, 2, 1, 2, 0, 0, 1, 1, true};
    std::vector<float> ragged_out(2, sentinel);
    for (const bool count_include_pad : {true, false}) {
        cpu::avg_pool2d_forward(row.data(), ragged, count_include_pad, ragged_out.data());
        check_close(ragged_out, std::vector<float>{1.5f, 3.0f});
        check_close(reference::avg_pool2d_forward(row, ragged, count_include_pad), std::vector<float>{1.5f, 3.0f});
    }
}

// ---- cross-entropy --------------------------------------------------------------------------

namespace {

constexpr std::int64_t ignore = -100;  // PyTorch's default ignore_index

struct CrossEntropyOutputs {
    std::vector<float> log_probs, loss, valid;
};

CrossEntropyOutputs run_cross_entropy(const std::vector<float>& logits, const std::vector<std::int64_t>& target,
                                      std::int64_t classes, std::int64_t ignore_index, float smoothing) {
    const auto batch = static_cast<std::int64_t>(target.size());
    CrossEntropyOutputs out{std::vector<float>(logits.size(), sentinel), std::vector<float>(target.size(), sentinel),
                            std::vector<float>(target.size(), sentinel)};
    cpu::cross_entropy_forward(logits.data(), target.data(), batch, classes, ignore_index, smoothing,
                               out.log_probs.data(), out.loss.data(), out.valid.data());
    return out;
}

}  // namespace

TEST_CASE("cross_entropy forward matches the reference, ignored rows and label smoothing included",
          "[chapter02][kernels]") {
    constexpr std::int64_t classes = 7;
    const std::vector<std::int64_t> target{3, ignore, 0, 6, ignore, 2};
    for (const float smoothing : {0.0f, 0.1f}) {
        for (const float scale : {1.0f, 300.0f}) {  // large logits: exp would overflow without the shift
            INFO("smoothing " << smoothing << ", logits scaled by " << scale);
            std::vector<float> logits = random_normal(target.size() * classes, 61);
            for (float& v : logits) v *= scale;
            const CrossEntropyOutputs fast = run_cross_entropy(logits, target, classes, ignore, smoothing);
            const reference::CrossEntropyResult expected =
                reference::cross_entropy_forward(logits, target, classes, ignore, smoothing);
            check_close(fast.log_probs, expected.log_probs);
            check_close(fast.loss, expected.loss);
            check_close(fast.valid, std::vector<float>{1, 0, 1, 1, 0, 1}, 0.0, 0.0);
            check_close(expected.valid, fast.valid, 0.0, 0.0);
            CHECK(fast.loss[1] == 0.0f);
            CHECK(fast.loss[4] == 0.0f);
        }
    }
}

TEST_CASE("cross_entropy of uniform logits is log(classes), with or without smoothing", "[chapter02][kernels]") {
    const std::vector<float> logits(2 * 5, 0.25f);
    const std::vector<std::int64_t> target{4, 0};
    for (const float smoothing : {0.0f, 0.1f}) {
        const CrossEntropyOutputs fast = run_cross_entropy(logits, target, 5, ignore, smoothing);
        check_close(fast.loss, std::vector<double>{std::log(5.0), std::log(5.0)});
    }
    // smoothing 0.1 over 3 classes, logits (0, 0, log 2): log_probs = (-log 4, -log 4, -log 2);
    // loss for target 2 = 0.9 log 2 + 0.1 / 3 (2 log 4 + log 2) = 0.9 log 2 + 0.1 / 3 * 5 log 2
    const std::vector<float> skewed{0.0f, 0.0f, static_cast<float>(std::log(2.0))};
    const CrossEntropyOutputs fast = run_cross_entropy(skewed, {2}, 3, ignore, 0.1f);
    check_close(fast.loss, std::vector<double>{0.9 * std::log(2.0) + 0.1 / 3.0 * 5.0 * std::log(2.0)});
}

TEST_CASE("cross_entropy backward matches the reference and finite differences", "[chapter02][kernels]") {
    constexpr std::int64_t classes = 6;
    const std::vector<std::int64_t> target{5, ignore, 0, 2, 2};
    const auto batch = static_cast<std::int64_t>(target.size());
    // logits on a grid of 2^-12 (|x| < 4) and a step of 2^-10: x +- h is exact in float, so the
    // difference quotient of the double-precision reference loss sees exactly the step it divides by
    std::vector<float> logits = random_normal(target.size() * classes, 71);
    for (float& v : logits) v = std::round(v * 4096.0f) / 4096.0f;
    const std::vector<float> grad_loss = random_normal(target.size(), 72);
    const double step = 1.0 / 1024.0;

    for (const float smoothing : {0.0f, 0.1f}) {
        INFO("smoothing " << smoothing);
        const CrossEntropyOutputs forward = run_cross_entropy(logits, target, classes, ignore, smoothing);
        std::vector<float> grad_logits(logits.size(), sentinel);
        cpu::cross_entropy_backward(forward.log_probs.data(), target.data(), grad_loss.data(), batch, classes, ignore,
                                    smoothing, grad_logits.data());
        check_close(grad_logits,
                    reference::cross_entropy_backward(forward.log_probs, target, grad_loss, classes, ignore, smoothing));

        // L(x) = Σ_row grad_loss[row] * loss[row]; dL/dx_k ≈ (L(x + h e_k) - L(x - h e_k)) / 2h
        auto total = [&](const std::vector<float>& x) {
            const reference::CrossEntropyResult r = reference::cross_entropy_forward(x, target, classes, ignore, smoothing);
            double sum = 0.0;
            for (std::size_t row = 0; row < target.size(); ++row) sum += double{grad_loss[row]} * r.loss[row];
            return sum;
        };
        std::vector<double> numeric(logits.size());
        for (std::size_t k = 0; k < logits.size(); ++k) {
            std::vector<float> plus = logits, minus = logits;
            plus[k] += static_cast<float>(step);
            minus[k] -= static_cast<float>(step);
            REQUIRE(double{plus[k]} - double{minus[k]} == 2 * step);
            numeric[k] = (total(plus) - total(minus)) / (2 * step);
        }
        check_close(grad_logits, numeric, 1e-5, 1e-6);
    }
}

TEST_CASE("cross_entropy rejects targets out of range and honours any ignore_index", "[chapter02][kernels]") {
    const std::vector<float> logits = random_normal(2 * 10, 81);
    std::vector<float> log_probs(logits.size()), loss(2), valid(2), grad(logits.size());
    const std::vector<float> grad_loss{1.0f, 1.0f};
    for (const std::int64_t bad : {std::int64_t{12}, std::int64_t{10}, std::int64_t{-1}}) {
        INFO("target " << bad);
        const std::vector<std::int64_t> target{3, bad};
        const std::string message = "target " + std::to_string(bad) + " is out of range for 10 classes";
        CHECK_THROWS_AS(cpu::cross_entropy_forward(logits.data(), target.data(), 2, 10, ignore, 0.0f, log_probs.data(),
                                                   loss.data(), valid.data()),
                        std::out_of_range);
        CHECK_THROWS_WITH(cpu::cross_entropy_forward(logits.data(), target.data(), 2, 10, ignore, 0.0f,
                                                     log_probs.data(), loss.data(), valid.data()),
                          message);
        CHECK_THROWS_WITH(cpu::cross_entropy_backward(log_probs.data(), target.data(), grad_loss.data(), 2, 10, ignore,
                                                      0.0f, grad.data()),
                          message);
        CHECK_THROWS_AS(reference::cross_entropy_forward(logits, target, 10, ignore, 0.0f), std::out_of_range);
        CHECK_THROWS_WITH(reference::cross_entropy_forward(logits, target, 10, ignore, 0.0f), message);
        CHECK_THROWS_AS(reference::cross_entropy_backward(log_probs, target, grad_loss, 10, ignore, 0.0f),
                        std::out_of_range);
    }
    // ignore_index may itself be a class (or any number): those rows are skipped, not rejected
    const std::vector<std::int64_t> target{3, 12};
    const CrossEntropyOutputs fast = run_cross_entropy(logits, target, 10, 12, 0.1f);
    CHECK(fast.valid == std::vector<float>{1.0f, 0.0f});
    const std::vector<std::int64_t> class_ignored{3, 7};
    const CrossEntropyOutputs skipped = run_cross_entropy(logits, class_ignored, 10, 3, 0.1f);
    CHECK(skipped.valid == std::vector<float>{0.0f, 1.0f});
    CHECK(skipped.loss[0] == 0.0f);
    check_close(skipped.loss, reference::cross_entropy_forward(logits, class_ignored, 10, 3, 0.1f).loss);
}

// ---- optimizers -----------------------------------------------------------------------------

namespace {

/// torch.optim.SGD for one element over several steps, written out in double.
struct SgdByHand {
    double param, buffer = 0.0;
    void step(double grad, const stepgrad::SgdUpdate& u, bool first) {
        double g = grad + u.weight_decay * param;
        if (u.momentum != 0.0f) {
            buffer = first ? g : u.momentum * buffer + (1.0 - u.dampening) * g;
            g = u.nesterov ? g + u.momentum * buffer : buffer;
        }
        param -= u.lr * g;
    }
};

/// torch.optim.Adam / AdamW for one element, written out in double.
struct AdamByHand {
    double param, m = 0.0, v = 0.0;
    void step(double grad, const stepgrad::AdamUpdate& u) {
        const double t = static_cast<double>(u.step);
        double g = grad;
        if (u.decoupled_weight_decay) {
            param *= 1.0 - double{u.lr} * u.weight_decay;
        } else {
            g += u.weight_decay * param;
        }
        m = u.beta1 * m + (1.0 - u.beta1) * g;
        v = u.beta2 * v + (1.0 - u.beta2) * g * g;
        const double m_hat = m / (1.0 - std::pow(double{u.beta1}, t));
        const double v_hat = v / (1.0 - std::pow(double{u.beta2}, t));
        param -= u.lr * m_hat / (std::sqrt(v_hat) + u.eps);
    }
};

}  // namespace

TEST_CASE("SGD with momentum, dampening, Nesterov and weight decay: 3 steps", "[chapter02][kernels]") {
    constexpr std::size_t count = 37;  // not a multiple of any vector width
    for (const bool nesterov : {false, true}) {
        for (const float momentum : {0.9f, 0.0f}) {
            INFO("nesterov " << nesterov << ", momentum " << momentum);
            stepgrad::SgdUpdate update{0.1f, momentum, 0.1f, 0.01f, nesterov && momentum != 0.0f, true};
            std::vector<float> param = random_normal(count, 91), buffer(count, sentinel);
            std::vector<float> ref_param = param, ref_buffer = buffer;
            std::vector<SgdByHand> by_hand;
            for (const float p : param) by_hand.push_back({p});
            for (int step = 0; step < 3; ++step) {
                INFO("step " << step + 1);
                update.first_step = step == 0;
                const std::vector<float> grad = random_normal(count, 92 + static_cast<std::uint64_t>(step));
                cpu::sgd_step(param.data(), grad.data(), momentum != 0.0f ? buffer.data() : nullptr,
                              static_cast<std::int64_t>(count), update);
                reference::sgd_step(ref_param, grad, ref_buffer, update);
                for (std::size_t k = 0; k < count; ++k) by_hand[k].step(grad[k], update, step == 0);

                check_close(param, ref_param);
                std::vector<double> hand_param, hand_buffer;
                for (const SgdByHand& h : by_hand) {
                    hand_param.push_back(h.param);
                    hand_buffer.push_back(h.buffer);
                }
                check_close(param, hand_param);
                if (momentum != 0.0f) {
                    check_close(buffer, ref_buffer);
                    check_close(buffer, hand_buffer);
                } else {
                    check_close(buffer, std::vector<float>(count, sentinel), 0.0, 0.0);  // untouched
                }
            }
        }
    }
}

TEST_CASE("Adam and AdamW: 3 steps against the reference and the formula by hand", "[chapter02][kernels]") {
    constexpr std::size_t count = 37;
    for (const bool decoupled : {false, true}) {
        for (const float gradient_scale : {1.0f, 1e-7f}) {  // tiny gradients: eps matters
            INFO((decoupled ? "AdamW" : "Adam") << ", gradients scaled by " << gradient_scale);
            stepgrad::AdamUpdate update{0.01f, 0.9f, 0.999f, 1e-8f, 0.05f, decoupled, 1};
            std::vector<float> param = random_normal(count, 101);
            std::vector<float> m(count, 0.0f), v(count, 0.0f);
            std::vector<float> ref_param = param, ref_m = m, ref_v = v;
            std::vector<AdamByHand> by_hand;
            for (const float p : param) by_hand.push_back({p});
            for (std::int64_t step = 1; step <= 3; ++step) {
                INFO("step " << step);
                update.step = step;
                std::vector<float> grad = random_normal(count, 102 + static_cast<std::uint64_t>(step));
                for (float& g : grad) g *= gradient_scale;
                cpu::adam_step(param.data(), grad.data(), m.data(), v.data(), static_cast<std::int64_t>(count), update);
                reference::adam_step(ref_param, grad, ref_m, ref_v, update);
                for (std::size_t k = 0; k < count; ++k) by_hand[k].step(grad[k], update);

                check_close(param, ref_param);
                check_close(m, ref_m);
                check_close(v, ref_v);
                std::vector<double> hand_param, hand_m, hand_v;
                for (const AdamByHand& h : by_hand) {
                    hand_param.push_back(h.param);
                    hand_m.push_back(h.m);
                    hand_v.push_back(h.v);
                }
                check_close(param, hand_param, 1e-5, 1e-7);
                check_close(m, hand_m, 1e-5, 0.0);
                check_close(v, hand_v, 1e-5, 0.0);
            }
        }
    }
}

// ---- data movement --------------------------------------------------------------------------

TEST_CASE("transpose matches the reference on ragged tile sizes", "[chapter02][kernels]") {
    struct Case {
        std::int64_t batch, rows, cols;
    };
    for (const Case c : {Case{1, 1, 1}, Case{1, 33, 65}, Case{2, 70, 3}, Case{3, 32, 64}, Case{1, 1, 97}}) {
        INFO(c.batch << " x " << c.rows << " x " << c.cols);
        const std::vector<float> x = random_normal(size_of(c.batch * c.rows * c.cols), 111);
        std::vector<float> out(x.size(), sentinel);
        cpu::transpose(x.data(), c.batch, c.rows, c.cols, out.data());
        const std::vector<float> expected = reference::transpose(x, c.batch, c.rows, c.cols);
        check_close(out, expected, 0.0, 0.0);
        // out[b, j, i] == x[b, i, j], spot-checked by hand at the last element of the last matrix
        CHECK(out.back() == x.back());
        if (c.rows > 1 && c.cols > 1) CHECK(out[size_of(c.rows)] == x[1]);  // out[0, 1, 0] == x[0, 0, 1]
    }
}

TEST_CASE("axpy adds alpha x to y", "[chapter02][kernels]") {
    const std::vector<float> x = random_normal(37, 121);
    const std::vector<float> y0 = random_normal(37, 122);
    std::vector<float> y = y0, ref_y = y0;
    cpu::axpy(static_cast<std::int64_t>(x.size()), -0.75f, x.data(), y.data());
    reference::axpy(-0.75f, x, ref_y);
    check_close(y, ref_y, 0.0, 0.0);
    std::vector<double> by_hand;
    for (std::size_t k = 0; k < x.size(); ++k) by_hand.push_back(double{y0[k]} - 0.75 * x[k]);
    check_close(y, by_hand);
}
