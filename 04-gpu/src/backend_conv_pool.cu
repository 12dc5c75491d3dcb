// ThrustBackend, part 5: convolution's im2col/col2im and pooling.
//
// Forward kernels give each thread one output element, which reads its window. The backward
// kernels (col2im and both pooling backwards) give each thread one IMAGE element, which gathers
// everything that read it: no two threads write the same element, so there are no atomics and
// the sums come out in the same order, bit for bit, on every run and as on the CPU.
//
// Gathering needs the window arithmetic run backwards. Tap i of output row oh reads image row
//     h = oh * stride - pad + i * dilation,
// so image row h is read by tap i of output row
//     oh = (h + pad - i * dilation) / stride,
// when that division is exact and oh lies in [0, out_h). The same holds across columns.
#include "seam.hpp"

#include <stepgrad/gpu/thrust_backend.hpp>

#include <cmath>
#include <cstdint>

namespace stepgrad::gpu {

namespace {

/// The output along one axis whose tap `tap` reads image position `pixel`, or -1 if none does.
STEPGRAD_HOST_DEVICE inline std::int64_t output_reading(std::int64_t pixel, std::int64_t tap, std::int64_t stride,
                                                        std::int64_t pad, std::int64_t dilation,
                                                        std::int64_t outputs) {
    const std::int64_t shifted = pixel + pad - tap * dilation;
    if (shifted < 0 || shifted % stride != 0) return -1;
    const std::int64_t output = shifted / stride;
    return output < outputs ? output : -1;
}

/// A window's geometry as plain values for the kernels (Window2d's methods are host-only),
/// with the output size computed once on the host.
struct Geometry {
    std::int64_t height, width, kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w, dilation_h, dilation_w;
    std::int64_t out_h, out_w;

    explicit Geometry(const Window2d& w)
        : height(w.height), width(w.width), kernel_h(w.kernel_h), kernel_w(w.kernel_w), stride_h(w.stride_h),
          stride_w(w.stride_w), pad_h(w.pad_h), pad_w(w.pad_w), dilation_h(w.dilation_h),
          dilation_w(w.dilation_w), out_h(w.out_height()), out_w(w.out_width()) {}

    /// Image row read by tap i of output row oh (may be padding: < 0 or >= height).
    STEPGRAD_HOST_DEVICE std::int64_t row_of(std::int64_t oh, std::int64_t i) const {
        return oh * stride_h - pad_h + i * dilation_h;
    }
    /// Image column read by tap j of output column ow.
    STEPGRAD_HOST_DEVICE std::int64_t col_of(std::int64_t ow, std::int64_t j) const {
        return ow * stride_w - pad_w + j * dilation_w;
    }
    STEPGRAD_HOST_DEVICE bool inside(std::int64_t h, std::int64_t w) const {
        return h >= 0 && h < height && w >= 0 && w < width;
    }
    /// The output row whose tap i reads image row h, or -1.
    STEPGRAD_HOST_DEVICE std::int64_t out_row(std::int64_t h, std::int64_t i) const {
        return output_reading(h, i, stride_h, pad_h, dilation_h, out_h);
    }
    /// The output column whose tap j reads image column w, or -1.
    STEPGRAD_HOST_DEVICE std::int64_t out_col(std::int64_t w, std::int64_t j) const {
        return output_reading(w, j, stride_w, pad_w, dilation_w, out_w);
    }
};

std::int64_t image_count(const Window2d& w) { return w.batch * w.channels * w.height * w.width; }
std::int64_t pooled_count(const Window2d& w) { return w.batch * w.channels * w.out_height() * w.out_width(); }

// columns[plane, (i, j), (oh, ow)] = image[plane, h, w], or 0 where (h, w) is padding.
// One thread per column element; plane = n * C + c.
struct Im2colKernel {
    Geometry g;
    const float* image;  // (N, C, H, W)
    float* columns;      // (N, C * kh * kw, OH * OW)
    STEPGRAD_HOST_DEVICE void operator()(std::int64_t k) const {
        const std::int64_t ow = k % g.out_w;
        const std::int64_t oh = (k / g.out_w) % g.out_h;
        const std::int64_t j = (k / (g.out_w * g.out_h)) % g.kernel_w;
        const std::int64_t i = (k / (g.out_w * g.out_h * g.kernel_w)) % g.kernel_h;
        const std::int64_t plane = k / (g.out_w * g.out_h * g.kernel_w * g.kernel_h);
        const std::int64_t h = g.row_of(oh, i), w = g.col_of(ow, j);
        columns[k] = g.inside(h, w) ? image[(plane * g.height + h) * g.width + w] : 0.0f;
    }
};

// image[plane, h, w] = sum of the column entries that read it, taps (j, i) in the CPU's order
// (window column outer, row inner), so the float sum is the same.
struct Col2imKernel {
    Geometry g;
    const float* columns;  // (N, C * kh * kw, OH * OW)
    float* image;          // (N, C, H, W)
    STEPGRAD_HOST_DEVICE void operator()(std::int64_t k) const {
        const std::int64_t w = k % g.width;
        const std::int64_t h = (k / g.width) % g.height;
        const std::int64_t plane = k / (g.width * g.height);
        float sum = 0.0f;
        for (std::int64_t j = 0; j < g.kernel_w; ++j) {
            const std::int64_t ow = g.out_col(w, j);
            if (ow < 0) continue;
            for (std::int64_t i = 0; i < g.kernel_h; ++i) {
                const std::int64_t oh = g.out_row(h, i);
                if (oh < 0) continue;
                const std::int64_t row = (plane * g.kernel_h + i) * g.kernel_w + j;
                sum += columns[(row * g.out_h + oh) * g.out_w + ow];
            }
        }
        image[k] = sum;
    }
};

}  // namespace

void ThrustBackend::im2col(const float* image, const Window2d& window, float* columns) {
    const Geometry g(window);
    const std::int64_t count = window.batch * window.channels * g.kernel_h * g.kernel_w * g.out_h * g.out_w;
    for_each_index(count, Im2colKernel{g, image, columns});
}

void ThrustBackend::col2im(const float* columns, const Window2d& window, float* image) {
    for_each_index(image_count(window), Col2imKernel{Geometry(window), columns, image});
}

// ---- pooling --------------------------------------------------------------------------------

namespace {

// out[plane, oh, ow] = the largest tap inside the image, argmax its h * W + w. Taps in the
// window's row-major order; a later tap takes over only if it is strictly larger or NaN, so the
// first of equal maxima wins and NaN propagates (the CPU's rule, branch-free or not). A window
// wholly in the padding keeps -inf and -1.
struct MaxPoolForwardKernel {
    Geometry g;
    const float* input;    // (N, C, H, W)
    float* out;            // (N, C, OH, OW)
    std::int64_t* argmax;  // (N, C, OH, OW)
    STEPGRAD_HOST_DEVICE void operator()(std::int64_t k) const {
        const std::int64_t ow = k % g.out_w;
        const std::int64_t oh = (k / g.out_w) % g.out_h;
        const std::int64_t plane = k / (g.out_w * g.out_h);
        const float* pixels = input + plane * g.height * g.width;
        float best = -INFINITY;
        std::int64_t best_index = -1;
        for (std::int64_t i = 0; i < g.kernel_h; ++i) {
            for (std::int64_t j = 0; j < g.kernel_w; ++j) {
                const std::int64_t h = g.row_of(oh, i), w = g.col_of(ow, j);
                if (!g.inside(h, w)) continue;
                const float value = pixels[h * g.width + w];
                if (best_index < 0 || value > best || value != value) {
                    best = value;
                    best_index = h * g.width + w;
                }
            }
        }
        out[k] = best;
        argmax[k] = best_index;
    }
};

// grad_input[plane, h, w] = sum of grad_output over the windows holding (h, w) whose argmax is
// (h, w). Taps run from the last to the first so the outputs come in row-major order, the order
// in which the CPU adds them. (Only windows that contain (h, w) are asked: an argmax comes from
// the forward, so it always lies inside its own window.)
struct MaxPoolBackwardKernel {
    Geometry g;
    const float* grad_output;    // (N, C, OH, OW)
    const std::int64_t* argmax;  // (N, C, OH, OW)
    float* grad_input;           // (N, C, H, W)
    STEPGRAD_HOST_DEVICE void operator()(std::int64_t k) const {
        const std::int64_t w = k % g.width;
        const std::int64_t h = (k / g.width) % g.height;
        const std::int64_t plane = k / (g.width * g.height);
        const std::int64_t position = h * g.width + w;
        const std::int64_t first_output = plane * g.out_h * g.out_w;
        float sum = 0.0f;
        for (std::int64_t i = g.kernel_h - 1; i >= 0; --i) {
            const std::int64_t oh = g.out_row(h, i);
            if (oh < 0) continue;
            for (std::int64_t j = g.kernel_w - 1; j >= 0; --j) {
                const std::int64_t ow = g.out_col(w, j);
                if (ow < 0) continue;
                const std::int64_t o = first_output + oh * g.out_w + ow;
                if (argmax[o] == position) sum += grad_output[o];
            }
        }
        grad_input[k] = sum;
    }
};

}  // namespace

void ThrustBackend::max_pool2d_forward(const float* input, const Window2d& window, float* out, std::int64_t* argmax) {
    for_each_index(pooled_count(window), MaxPoolForwardKernel{Geometry(window), input, out, argmax});
}

void ThrustBackend::max_pool2d_backward(const float* grad_output, const std::int64_t* argmax, const Window2d& window,
                                        float* grad_input) {
    for_each_index(image_count(window), MaxPoolBackwardKernel{Geometry(window), grad_output, argmax, grad_input});
}

namespace {

/// The divisor of window (oh, ow): with count_include_pad, its taps inside the padded image
/// (fewer than kh * kw only where ceil_mode lets a window hang past the far padding); without,
/// its taps inside the image. At least 1.
STEPGRAD_HOST_DEVICE inline float avg_pool_divisor(const Geometry& g, std::int64_t oh, std::int64_t ow,
                                                   bool count_include_pad) {
    std::int64_t rows = 0, cols = 0;
    for (std::int64_t i = 0; i < g.kernel_h; ++i) {
        const std::int64_t h = g.row_of(oh, i);
        rows += count_include_pad ? (h < g.height + g.pad_h) : (h >= 0 && h < g.height);
    }
    for (std::int64_t j = 0; j < g.kernel_w; ++j) {
        const std::int64_t w = g.col_of(ow, j);
        cols += count_include_pad ? (w < g.width + g.pad_w) : (w >= 0 && w < g.width);
    }
    const std::int64_t count = rows * cols;
    return static_cast<float>(count > 1 ? count : 1);
}

// out[plane, oh, ow] = (sum of the taps inside the image, row-major) / divisor.
struct AvgPoolForwardKernel {
    Geometry g;
    bool count_include_pad;
    const float* input;  // (N, C, H, W)
    float* out;          // (N, C, OH, OW)
    STEPGRAD_HOST_DEVICE void operator()(std::int64_t k) const {
        const std::int64_t ow = k % g.out_w;
        const std::int64_t oh = (k / g.out_w) % g.out_h;
        const std::int64_t plane = k / (g.out_w * g.out_h);
        const float* pixels = input + plane * g.height * g.width;
        float sum = 0.0f;  // padding taps add zero
        for (std::int64_t i = 0; i < g.kernel_h; ++i) {
            for (std::int64_t j = 0; j < g.kernel_w; ++j) {
                const std::int64_t h = g.row_of(oh, i), w = g.col_of(ow, j);
                if (g.inside(h, w)) sum += pixels[h * g.width + w];
            }
        }
        out[k] = sum / avg_pool_divisor(g, oh, ow, count_include_pad);
    }
};

// grad_input[plane, h, w] = sum over the windows holding (h, w) of grad_output / divisor,
// windows in row-major order (taps from last to first), as the CPU adds them.
struct AvgPoolBackwardKernel {
    Geometry g;
    bool count_include_pad;
    const float* grad_output;  // (N, C, OH, OW)
    float* grad_input;         // (N, C, H, W)
    STEPGRAD_HOST_DEVICE void operator()(std::int64_t k) const {
        const std::int64_t w = k % g.width;
        const std::int64_t h = (k / g.width) % g.height;
        const std::int64_t plane = k / (g.width * g.height);
        const float* grad = grad_output + plane * g.out_h * g.out_w;
        float sum = 0.0f;
        for (std::int64_t i = g.kernel_h - 1; i >= 0; --i) {
            const std::int64_t oh = g.out_row(h, i);
            if (oh < 0) continue;
            for (std::int64_t j = g.kernel_w - 1; j >= 0; --j) {
                const std::int64_t ow = g.out_col(w, j);
                if (ow < 0) continue;
                sum += grad[oh * g.out_w + ow] / avg_pool_divisor(g, oh, ow, count_include_pad);
            }
        }
        grad_input[k] = sum;
    }
};

}  // namespace

void ThrustBackend::avg_pool2d_forward(const float* input, const Window2d& window, bool count_include_pad, float* out) {
    for_each_index(pooled_count(window), AvgPoolForwardKernel{Geometry(window), count_include_pad, input, out});
}

void ThrustBackend::avg_pool2d_backward(const float* grad_output, const Window2d& window, bool count_include_pad,
                                        float* grad_input) {
    for_each_index(image_count(window),
                   AvgPoolBackwardKernel{Geometry(window), count_include_pad, grad_output, grad_input});
}

}  // namespace stepgrad::gpu
