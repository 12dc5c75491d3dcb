// The CPU's convolution and pooling kernels (cpu_training_kernels.hpp) against their plain
// references (reference_kernels.hpp), on odd sizes and awkward geometries; the references
// themselves against hand-computed values and the adjoint identity.
#include "kernel_test_helpers.hpp"

using namespace kernel_test;

// ---- im2col / col2im --------------------------------------------------------------------------

TEST_CASE("im2col matches the reference on every geometry", "[chapter02][kernels][ex-03.4]") {
    for (const Window2d& window : conv_windows()) {
        INFO(describe(window));
        const std::vector<float> image = random_normal(size_of(image_size(window)), 11);
        std::vector<float> columns(size_of(columns_size(window)), sentinel);
        cpu::im2col(image.data(), window, columns.data());
        check_close(columns, reference::im2col(image, window), 0.0, 0.0);  // a copy: exact
    }
}

TEST_CASE("im2col reads the right pixels and zeros the padding (hand-checked)", "[chapter02][kernels][ex-03.4]") {
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

TEST_CASE("im2col with stride 2, dilation 2 and two channels (hand-checked)", "[chapter02][kernels][ex-03.4]") {
    // two 5x5 channels holding 0..24 and 100..124, a 2x2 window with stride 2 and dilation 2:
    // 2x2 outputs; tap (i, j) at output (oh, ow) reads pixel (2 oh + 2 i, 2 ow + 2 j)
    const Window2d window{1, 2, 5, 5, 2, 2, 2, 2, 0, 0, 2, 2};
    REQUIRE(window.out_height() == 2);
    REQUIRE(window.out_width() == 2);
    std::vector<float> image(50);
    for (std::size_t k = 0; k < 25; ++k) {
        image[k] = static_cast<float>(k);
        image[25 + k] = 100.0f + static_cast<float>(k);
    }
    const std::vector<float> expected{
        0,   2,   10,  12,  2,   4,   12,  14,  10,  12,  20,  22,  12,  14,  22,  24,   // channel 0, taps (0,0)..(1,1)
        100, 102, 110, 112, 102, 104, 112, 114, 110, 112, 120, 122, 112, 114, 122, 124,  // channel 1
    };
    std::vector<float> columns(expected.size(), sentinel);
    cpu::im2col(image.data(), window, columns.data());
    check_close(columns, expected, 0.0, 0.0);
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
TEST_CASE("im2col supports grouped convolution through the GEMM layout", "[chapter02][kernels][ex-03.4]") {
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

