// The CPU's fused convolution and pooling kernels: im2col, col2im, max and average pooling
// (see cpu_training_kernels.hpp for what each computes; the loss, optimizer and data-movement
// kernels are in cpu_loss_optim_kernels.cpp).
//
// Each kernel has a plain twin in reference_kernels.cpp that tests every tap with an `if`, and
// tests/conv_pool_kernels_test.cpp ties the two together. Here, padding is handled by computing,
// once per call (im2col: once per row), which outputs of each tap (or which taps of each output)
// land inside the image (`inside` below), so the inner loops are plain contiguous copies and sums.
#include "cpu_training_kernels.hpp"

#include <stepgrad/shared/error.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

namespace stepgrad::cpu {
namespace {

/// A half-open range of indices [first, last); empty when first == last.
struct Range {
    std::int64_t first = 0;
    std::int64_t last = 0;
};

/// The indices k in [0, count) for which `offset + k * step` lies in [0, size).
///
/// The one piece of arithmetic behind all the padding below. For im2col, k is an output
/// position and `offset + k * stride` the input pixel a fixed tap reads; for pooling, k is a
/// tap and `offset + k * dilation` the pixel that tap reads for a fixed output.
Range inside(std::int64_t count, std::int64_t step, std::int64_t offset, std::int64_t size) {
    // offset + k * step >= 0         <=>  k >= ceil(-offset / step)
    // offset + k * step <= size - 1  <=>  k <= floor((size - 1 - offset) / step)
    std::int64_t first = offset >= 0 ? 0 : (-offset + step - 1) / step;
    std::int64_t last = offset > size - 1 ? 0 : (size - 1 - offset) / step + 1;
    first = std::min(first, count);
    last = std::clamp(last, first, count);
    return {first, last};
}

/// For each tap t of a window along one axis: the outputs whose tap t lands inside the image.
std::vector<Range> outputs_per_tap(std::int64_t outputs, std::int64_t kernel, std::int64_t stride,
                                   std::int64_t pad, std::int64_t dilation, std::int64_t size) {
    std::vector<Range> result(static_cast<std::size_t>(kernel));
    for (std::int64_t t = 0; t < kernel; ++t)
        result[static_cast<std::size_t>(t)] = inside(outputs, stride, t * dilation - pad, size);
    return result;
}

/// For each output along one axis: the taps that land inside the image, and how many land
/// inside the padded image (the avg-pool divisor with count_include_pad; fewer than the kernel
/// only for a window that ceil_mode lets hang over the far edge).
struct AxisTaps {
    Range taps;
    std::int64_t padded_count = 0;
};

std::vector<AxisTaps> taps_per_output(std::int64_t outputs, std::int64_t kernel, std::int64_t stride,
                                      std::int64_t pad, std::int64_t dilation, std::int64_t size) {
    std::vector<AxisTaps> result(static_cast<std::size_t>(outputs));
    for (std::int64_t o = 0; o < outputs; ++o) {
        const std::int64_t start = o * stride - pad;
        const Range padded = inside(kernel, dilation, start + pad, size + 2 * pad);
        result[static_cast<std::size_t>(o)] = {inside(kernel, dilation, start, size), padded.last - padded.first};
    }
    return result;
}

}  // namespace

// ---- convolution as a matrix product ----------------------------------------------------

namespace {

// Row (c, i, j) of one image's columns, `row` (OH * OW): entry oh * OW + ow is the pixel of
// `plane` (one (H, W) channel) under tap (i, j) of the window at output (oh, ow), that is
// (oh * stride_h + i * dilation_h - pad_h, ow * stride_w + j * dilation_w - pad_w), or 0 where
// that falls in the padding.
//
// Along each output row, that is zeros, then a run of image row h, then zeros. Two ways to
// write it:
// - the common "same" convolution (stride 1 across, output rows as long as the input's rows
//   are apart) reads the image shifted by (h, w) offsets: all valid output rows are one
//   memcpy, after which the few entries that wrapped in from a neighbouring row (the padding
//   columns) are zeroed;
// - otherwise, row by row: a memcpy per run for stride 1, a strided loop for larger strides.
void im2col_row([[maybe_unused]] const float* plane, [[maybe_unused]] const Window2d& window,
                [[maybe_unused]] std::int64_t i, [[maybe_unused]] std::int64_t j, [[maybe_unused]] float* row) {
    // exercise 03.4: im2col, the pixels one tap of the window reads at every output position
    // hint: output (oh, ow) reads pixel (h, w) of the (height, width) plane, stored row-major, with
    // hint: h = oh * stride_h + i * dilation_h - pad_h and w = ow * stride_w + j * dilation_w - pad_w;
    // hint: a pixel outside [0, height) x [0, width) is padding and reads 0.
    // hint: write every one of the out_height() * out_width() entries of row (it is not zeroed for you).
    // hint: faster: inside(count, step, offset, size) gives the outputs k with offset + k * step in [0, size).
    const std::int64_t height = window.height, width = window.width;
    const std::int64_t out_h = window.out_height(), out_w = window.out_width();
    const std::int64_t h_offset = i * window.dilation_h - window.pad_h;
    const std::int64_t w_offset = j * window.dilation_w - window.pad_w;
    const Range rows = inside(out_h, window.stride_h, h_offset, height);  // outputs whose pixel row is in the image
    const Range cols = inside(out_w, window.stride_w, w_offset, width);
    // output rows whose input row is padding: all zeros
    std::fill(row, row + rows.first * out_w, 0.0f);
    std::fill(row + rows.last * out_w, row + out_h * out_w, 0.0f);
    if (rows.first == rows.last) return;
    if (window.stride_w == 1 && window.stride_h * width == out_w) {  // the shifted image
        // entry (oh, ow) reads pixel start + (oh - rows.first) * out_w + ow; copy the part of
        // that run inside the plane (what falls outside is padding anyway)
        const std::int64_t start = (rows.first * window.stride_h + h_offset) * width + w_offset;
        const std::int64_t begin = std::max<std::int64_t>(start, 0);
        const std::int64_t end = std::min(start + (rows.last - rows.first) * out_w, height * width);
        if (end > begin)
            std::memcpy(row + rows.first * out_w + (begin - start), plane + begin,
                        static_cast<std::size_t>(end - begin) * sizeof(float));
        // the padding columns: one strided pass down each
        auto zero_column = [&](std::int64_t ow) {
            for (std::int64_t oh = rows.first; oh < rows.last; ++oh) row[oh * out_w + ow] = 0.0f;
        };
        for (std::int64_t ow = 0; ow < cols.first; ++ow) zero_column(ow);
        for (std::int64_t ow = cols.last; ow < out_w; ++ow) zero_column(ow);
        return;
    }
    for (std::int64_t oh = rows.first; oh < rows.last; ++oh) {
        float* out = row + oh * out_w;
        const float* in = plane + (oh * window.stride_h + h_offset) * width;
        std::fill(out, out + cols.first, 0.0f);
        std::fill(out + cols.last, out + out_w, 0.0f);
        if (cols.first == cols.last) continue;
        const std::int64_t w0 = cols.first * window.stride_w + w_offset;
        if (window.stride_w == 1) {
            std::memcpy(out + cols.first, in + w0, static_cast<std::size_t>(cols.last - cols.first) * sizeof(float));
        } else {
            for (std::int64_t ow = cols.first, w = w0; ow < cols.last; ++ow, w += window.stride_w) out[ow] = in[w];
        }
    }
    // end exercise
}

}  // namespace

// The columns, row (n, c, i, j) after row: im2col_row for each image plane and each tap.
void im2col(const float* image, const Window2d& window, float* columns) {
    // image is (N, C, H, W); columns is (N, C * kh * kw, OH * OW)
    const std::int64_t plane_size = window.height * window.width;
    const std::int64_t row_size = window.out_height() * window.out_width();
    float* row = columns;  // row (n, c, i, j), advanced by OH * OW each time
    for (std::int64_t plane = 0; plane < window.batch * window.channels; ++plane)
        for (std::int64_t i = 0; i < window.kernel_h; ++i)
            for (std::int64_t j = 0; j < window.kernel_w; ++j, row += row_size)
                im2col_row(image + plane * plane_size, window, i, j, row);
}

// The same runs as im2col, read instead of written, and added instead of copied. The taps are
// visited column of the window first (j outer, i inner): passes that follow each other then
// add into image rows at the same horizontal shift, which measured a little faster.
void col2im(const float* columns, const Window2d& window, float* image) {
    // columns is (N, C * kh * kw, OH * OW); image is (N, C, H, W)
    const std::int64_t height = window.height, width = window.width;
    const std::int64_t out_h = window.out_height(), out_w = window.out_width();
    const std::int64_t planes = window.batch * window.channels;
    const auto rows_of = outputs_per_tap(out_h, window.kernel_h, window.stride_h, window.pad_h, window.dilation_h, height);
    const auto cols_of = outputs_per_tap(out_w, window.kernel_w, window.stride_w, window.pad_w, window.dilation_w, width);
    std::fill(image, image + planes * height * width, 0.0f);
    for (std::int64_t plane = 0; plane < planes; ++plane) {
        float* pixels = image + plane * height * width;
        for (std::int64_t j = 0; j < window.kernel_w; ++j) {
            const std::int64_t w_offset = j * window.dilation_w - window.pad_w;
            const Range cols = cols_of[static_cast<std::size_t>(j)];
            if (cols.first == cols.last) continue;
            const std::int64_t w0 = cols.first * window.stride_w + w_offset;  // first pixel of each run
            for (std::int64_t i = 0; i < window.kernel_h; ++i) {
                const std::int64_t h_offset = i * window.dilation_h - window.pad_h;
                const Range rows = rows_of[static_cast<std::size_t>(i)];
                const float* row = columns + ((plane * window.kernel_h + i) * window.kernel_w + j) * out_h * out_w;
                for (std::int64_t oh = rows.first; oh < rows.last; ++oh) {
                    const float* in = row + oh * out_w + cols.first;
                    float* out = pixels + (oh * window.stride_h + h_offset) * width + w0;
                    if (window.stride_w == 1) {
                        for (std::int64_t k = 0; k < cols.last - cols.first; ++k) out[k] += in[k];
                    } else {
                        for (std::int64_t k = 0; k < cols.last - cols.first; ++k) out[k * window.stride_w] += in[k];
                    }
                }
            }
        }
    }
}

// ---- pooling --------------------------------------------------------------------------------

// The tap ranges depend only on oh (rows) and ow (columns), so they are computed once per call.
// A window whose taps all fall in the padding (only possible with padding wider than the
// kernel) yields -inf with argmax -1, which the backward skips.
namespace {

/// `mask` all ones: `a`; all zeros: `b` (a select written as bit operations, so the compiler
/// cannot turn it back into an unpredictable branch).
float select_bits(std::uint32_t mask, float a, float b) {
    std::uint32_t a_bits = 0, b_bits = 0;
    std::memcpy(&a_bits, &a, sizeof a);
    std::memcpy(&b_bits, &b, sizeof b);
    const std::uint32_t bits = (a_bits & mask) | (b_bits & ~mask);
    float result = 0.0f;
    std::memcpy(&result, &bits, sizeof result);
    return result;
}

}  // namespace

// Tap by tap, as im2col: each pass compares one tap of every window with the best so far, over
// whole rows of outputs. Visiting the taps in the window's row-major order and taking a later
// value only when it is strictly greater (or NaN) keeps PyTorch's rule: the first of equal
// maxima wins, and NaN propagates. The choice is a select, not a branch: on real data
// `value > best` is a coin toss, and mispredicted branches made the per-window loop 5x slower.
namespace {

// The CNN's pool: 2x2 windows, stride 2, all inside the image. Each output reads its four taps
// once, in the general loop's order and with its rule (a larger value or a NaN takes over), and
// is written once; the general loop below writes every output once per tap.
bool is_plain_2x2(const Window2d& window) {
    return window.kernel_h == 2 && window.kernel_w == 2 && window.stride_h == 2 && window.stride_w == 2 &&
           window.pad_h == 0 && window.pad_w == 0 && window.dilation_h == 1 && window.dilation_w == 1 &&
           2 * window.out_height() <= window.height && 2 * window.out_width() <= window.width;
}

void max_pool2d_2x2(const float* input, const Window2d& window, float* out, std::int64_t* argmax) {
    const std::int64_t height = window.height, width = window.width;
    const std::int64_t out_h = window.out_height(), out_w = window.out_width();
    const std::int64_t planes = window.batch * window.channels;
    for (std::int64_t plane = 0; plane < planes; ++plane) {
        const float* pixels = input + plane * height * width;
        for (std::int64_t oh = 0; oh < out_h; ++oh, out += out_w, argmax += out_w) {
            const std::int64_t top = 2 * oh * width;
            for (std::int64_t ow = 0; ow < out_w; ++ow) {
                const std::int64_t first = top + 2 * ow;
                float best = pixels[first];
                std::int64_t best_index = first;
                for (const std::int64_t index : {first + 1, first + width, first + width + 1}) {
                    // Branch-free: which tap wins is data, and a mispredicted branch costs more
                    // than the whole comparison.
                    const float value = pixels[index];
                    const std::int64_t mask = -(static_cast<std::int64_t>(value > best) |
                                                static_cast<std::int64_t>(std::isunordered(value, value)));
                    best = select_bits(static_cast<std::uint32_t>(mask), value, best);
                    best_index = (index & mask) | (best_index & ~mask);
                }
                out[ow] = best;
                argmax[ow] = best_index;
            }
        }
    }
}

}  // namespace

void max_pool2d_forward(const float* input, const Window2d& window, float* out, std::int64_t* argmax) {
    // input is (N, C, H, W); out and argmax are (N, C, OH, OW)
    if (is_plain_2x2(window)) {
        max_pool2d_2x2(input, window, out, argmax);
        return;
    }
    const std::int64_t height = window.height, width = window.width;
    const std::int64_t out_h = window.out_height(), out_w = window.out_width();
    const std::int64_t stride_w = window.stride_w;
    const auto rows_of = outputs_per_tap(out_h, window.kernel_h, window.stride_h, window.pad_h, window.dilation_h, height);
    const auto cols_of = outputs_per_tap(out_w, window.kernel_w, window.stride_w, window.pad_w, window.dilation_w, width);
    const std::int64_t planes = window.batch * window.channels, plane_out = out_h * out_w;
    // A window with no tap inside the image (padding wider than the kernel) keeps -inf and -1,
    // which the backward skips.
    std::fill(out, out + planes * plane_out, -std::numeric_limits<float>::infinity());
    std::fill(argmax, argmax + planes * plane_out, std::int64_t{-1});
    for (std::int64_t plane = 0; plane < planes; ++plane) {
        const float* pixels = input + plane * height * width;
        float* best = out + plane * plane_out;
        std::int64_t* best_index = argmax + plane * plane_out;
        for (std::int64_t i = 0; i < window.kernel_h; ++i) {
            const Range rows = rows_of[static_cast<std::size_t>(i)];
            for (std::int64_t j = 0; j < window.kernel_w; ++j) {
                const Range cols = cols_of[static_cast<std::size_t>(j)];
                for (std::int64_t oh = rows.first; oh < rows.last; ++oh) {
                    const std::int64_t h = oh * window.stride_h + i * window.dilation_h - window.pad_h;
                    const std::int64_t w0 = cols.first * stride_w + j * window.dilation_w - window.pad_w;
                    float* row_best = best + oh * out_w;
                    std::int64_t* row_index = best_index + oh * out_w;
                    for (std::int64_t ow = cols.first, index = h * width + w0; ow < cols.last; ++ow, index += stride_w) {
                        const float value = pixels[index];
                        const std::int64_t take = static_cast<std::int64_t>(row_index[ow] < 0) |
                                                  static_cast<std::int64_t>(value > row_best[ow]) |
                                                  static_cast<std::int64_t>(std::isunordered(value, value));
                        const std::int64_t mask = -take;  // all ones to take the new value
                        row_index[ow] = (index & mask) | (row_index[ow] & ~mask);
                        row_best[ow] = select_bits(static_cast<std::uint32_t>(mask), value, row_best[ow]);
                    }
                }
            }
        }
    }
}

void max_pool2d_backward(const float* grad_output, const std::int64_t* argmax, const Window2d& window,
                         float* grad_input) {
    // grad_output and argmax are (N, C, OH, OW); grad_input is (N, C, H, W)
    const std::int64_t plane_in = window.height * window.width;
    const std::int64_t plane_out = window.out_height() * window.out_width();
    const std::int64_t planes = window.batch * window.channels;
    std::fill(grad_input, grad_input + planes * plane_in, 0.0f);
    for (std::int64_t plane = 0; plane < planes; ++plane) {
        float* grad = grad_input + plane * plane_in;
        for (std::int64_t k = 0; k < plane_out; ++k, ++grad_output, ++argmax)
            if (*argmax >= 0) grad[*argmax] += *grad_output;
    }
}

namespace {

/// The avg-pool divisor of the window at (oh, ow), from its per-axis tap counts.
float avg_pool_divisor(const AxisTaps& along_h, const AxisTaps& along_w, bool count_include_pad) {
    const std::int64_t count =
        count_include_pad ? along_h.padded_count * along_w.padded_count
                          : (along_h.taps.last - along_h.taps.first) * (along_w.taps.last - along_w.taps.first);
    return static_cast<float>(std::max<std::int64_t>(count, 1));
}

}  // namespace

void avg_pool2d_forward(const float* input, const Window2d& window, bool count_include_pad, float* out) {
    // input is (N, C, H, W); out is (N, C, OH, OW)
    const std::int64_t height = window.height, width = window.width;
    const std::int64_t out_h = window.out_height(), out_w = window.out_width();
    const auto rows = taps_per_output(out_h, window.kernel_h, window.stride_h, window.pad_h, window.dilation_h, height);
    const auto cols = taps_per_output(out_w, window.kernel_w, window.stride_w, window.pad_w, window.dilation_w, width);
    for (std::int64_t plane = 0; plane < window.batch * window.channels; ++plane) {
        const float* pixels = input + plane * height * width;
        for (std::int64_t oh = 0; oh < out_h; ++oh) {
            const AxisTaps& along_h = rows[static_cast<std::size_t>(oh)];
            const std::int64_t h_start = oh * window.stride_h - window.pad_h;
            for (std::int64_t ow = 0; ow < out_w; ++ow, ++out) {
                const AxisTaps& along_w = cols[static_cast<std::size_t>(ow)];
                const std::int64_t w_start = ow * window.stride_w - window.pad_w;
                float sum = 0.0f;  // padding taps add zero
                for (std::int64_t i = along_h.taps.first; i < along_h.taps.last; ++i) {
                    const std::int64_t line = (h_start + i * window.dilation_h) * width + w_start;
                    for (std::int64_t j = along_w.taps.first; j < along_w.taps.last; ++j)
                        sum += pixels[line + j * window.dilation_w];
                }
                *out = sum / avg_pool_divisor(along_h, along_w, count_include_pad);
            }
        }
    }
}

void avg_pool2d_backward(const float* grad_output, const Window2d& window, bool count_include_pad,
                         float* grad_input) {
    // grad_output is (N, C, OH, OW); grad_input is (N, C, H, W)
    const std::int64_t height = window.height, width = window.width;
    const std::int64_t out_h = window.out_height(), out_w = window.out_width();
    const std::int64_t planes = window.batch * window.channels;
    const auto rows = taps_per_output(out_h, window.kernel_h, window.stride_h, window.pad_h, window.dilation_h, height);
    const auto cols = taps_per_output(out_w, window.kernel_w, window.stride_w, window.pad_w, window.dilation_w, width);
    std::fill(grad_input, grad_input + planes * height * width, 0.0f);
    for (std::int64_t plane = 0; plane < planes; ++plane) {
        float* pixels = grad_input + plane * height * width;
        for (std::int64_t oh = 0; oh < out_h; ++oh) {
            const AxisTaps& along_h = rows[static_cast<std::size_t>(oh)];
            const std::int64_t h_start = oh * window.stride_h - window.pad_h;
            for (std::int64_t ow = 0; ow < out_w; ++ow, ++grad_output) {
                const AxisTaps& along_w = cols[static_cast<std::size_t>(ow)];
                const std::int64_t w_start = ow * window.stride_w - window.pad_w;
                const float share = *grad_output / avg_pool_divisor(along_h, along_w, count_include_pad);
                for (std::int64_t i = along_h.taps.first; i < along_h.taps.last; ++i) {
                    const std::int64_t line = (h_start + i * window.dilation_h) * width + w_start;
                    for (std::int64_t j = along_w.taps.first; j < along_w.taps.last; ++j)
                        pixels[line + j * window.dilation_w] += share;
                }
            }
        }
    }
}

}  // namespace stepgrad::cpu
