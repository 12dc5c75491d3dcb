#pragma once
/// @file window.hpp
/// @brief `Window2d`: the geometry of a sliding 2-D window (convolution, pooling), shared by
/// the backend's im2col/col2im and pooling kernels and by chapter 3's layers.

#include <cstdint>

namespace stepgrad {

/// @brief A window of `kernel_h x kernel_w` sliding over a batch of images `(batch, channels,
/// height, width)`, with stride, zero padding on both sides and dilation, as in PyTorch.
///
/// The output has `out_height() x out_width()` positions per image:
/// `floor((height + 2 pad_h - dilation_h (kernel_h - 1) - 1) / stride_h) + 1` (with `ceil_mode`,
/// rounded up instead, but the last window must start inside the image or its left padding).
///
/// Example: a 3x3 convolution with padding 1 over 28x28 MNIST images keeps 28x28 positions:
/// `Window2d{64, 1, 28, 28, 3, 3, 1, 1, 1, 1}.out_height() == 28`.
struct Window2d {
    std::int64_t batch = 1;       ///< N, the number of images
    std::int64_t channels = 1;    ///< C, channels per image
    std::int64_t height = 1;      ///< H of each input image
    std::int64_t width = 1;       ///< W of each input image
    std::int64_t kernel_h = 1;    ///< window height
    std::int64_t kernel_w = 1;    ///< window width
    std::int64_t stride_h = 1;    ///< vertical step between windows
    std::int64_t stride_w = 1;    ///< horizontal step between windows
    std::int64_t pad_h = 0;       ///< rows of padding above and below
    std::int64_t pad_w = 0;       ///< columns of padding left and right
    std::int64_t dilation_h = 1;  ///< vertical spacing of the window's taps
    std::int64_t dilation_w = 1;  ///< horizontal spacing of the window's taps
    bool ceil_mode = false;       ///< round the output size up (pooling only)

    /// @brief Output rows per image (see the formula above).
    [[nodiscard]] std::int64_t out_height() const {
        return out_size(height, kernel_h, stride_h, pad_h, dilation_h);
    }
    /// @brief Output columns per image.
    [[nodiscard]] std::int64_t out_width() const {
        return out_size(width, kernel_w, stride_w, pad_w, dilation_w);
    }

private:
    [[nodiscard]] std::int64_t out_size(std::int64_t in, std::int64_t kernel, std::int64_t stride,
                                        std::int64_t pad, std::int64_t dilation) const {
        const std::int64_t span = in + 2 * pad - dilation * (kernel - 1) - 1;
        if (span < 0) return 0;
        std::int64_t out = (ceil_mode ? (span + stride - 1) / stride : span / stride) + 1;
        // PyTorch: with ceil_mode, the last window must start inside the image or the left padding.
        if (ceil_mode && (out - 1) * stride >= in + pad) --out;
        return out;
    }
};

}  // namespace stepgrad
