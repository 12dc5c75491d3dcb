#pragma once
/// @file pooling.hpp
/// @brief Pooling layers: `MaxPool2d`, `AvgPool2d`, `AdaptiveAvgPool2d` and their functional forms.
///
/// Pooling slides a window over each channel of each image (the same `Window2d` geometry as a
/// convolution, see conv.hpp) and keeps one number per window: the largest (max pooling, whose
/// gradient goes only to that element, remembered as its argmax) or the mean (average pooling,
/// whose gradient is spread evenly over the window). Channels never mix.
#include <stepgrad/nn/conv.hpp>
#include <stepgrad/nn/module.hpp>
#include <stepgrad/tensor.hpp>

#include <cstdint>
#include <iosfwd>

namespace stepgrad::nn {

/// @brief The options of max pooling (LibTorch's `MaxPool2dOptions`): the window size is
/// required; the stride defaults to the window size (windows side by side).
///
/// Example: `MaxPool2dOptions(2)` halves height and width; `MaxPool2dOptions(3).stride(2).padding(1)`.
class MaxPool2dOptions {
public:
    /// @brief Windows of `kernel_size`, stride `kernel_size`, no padding, dilation 1, floor mode.
    MaxPool2dOptions(ExpandingArray<2> kernel_size)  // NOLINT: implicit, as LibTorch's
        : kernel_size_(kernel_size), stride_(kernel_size) {}
    /// @brief Sets the step between windows.
    MaxPool2dOptions& stride(ExpandingArray<2> value) { stride_ = value; return *this; }
    /// @brief Sets the implicit -inf padding on both sides (at most half the kernel).
    MaxPool2dOptions& padding(ExpandingArray<2> value) { padding_ = value; return *this; }
    /// @brief Sets the spacing between the window's taps.
    MaxPool2dOptions& dilation(ExpandingArray<2> value) { dilation_ = value; return *this; }
    /// @brief Sets whether the output size rounds up (a last, partial window) instead of down.
    MaxPool2dOptions& ceil_mode(bool value) { ceil_mode_ = value; return *this; }
    /// @brief The window size.
    [[nodiscard]] const ExpandingArray<2>& kernel_size() const { return kernel_size_; }
    /// @brief The stride.
    [[nodiscard]] const ExpandingArray<2>& stride() const { return stride_; }
    /// @brief The padding.
    [[nodiscard]] const ExpandingArray<2>& padding() const { return padding_; }
    /// @brief The dilation.
    [[nodiscard]] const ExpandingArray<2>& dilation() const { return dilation_; }
    /// @brief Whether the output size rounds up.
    [[nodiscard]] bool ceil_mode() const { return ceil_mode_; }

private:
    ExpandingArray<2> kernel_size_;
    ExpandingArray<2> stride_;
    ExpandingArray<2> padding_ = 0;
    ExpandingArray<2> dilation_ = 1;
    bool ceil_mode_ = false;
};

/// @brief The options of `functional::max_pool2d` (the same as the layer's, as in LibTorch).
using MaxPool2dFuncOptions = MaxPool2dOptions;

/// @brief The options of average pooling (LibTorch's `AvgPool2dOptions`): the window size is
/// required; the stride defaults to it; padding counts in the divisor unless
/// `count_include_pad(false)`.
///
/// Example: `AvgPool2dOptions(3).stride(1).padding(1).count_include_pad(false)`.
class AvgPool2dOptions {
public:
    /// @brief Windows of `kernel_size`, stride `kernel_size`, no padding, floor mode, padding counted.
    AvgPool2dOptions(ExpandingArray<2> kernel_size)  // NOLINT: implicit, as LibTorch's
        : kernel_size_(kernel_size), stride_(kernel_size) {}
    /// @brief Sets the step between windows.
    AvgPool2dOptions& stride(ExpandingArray<2> value) { stride_ = value; return *this; }
    /// @brief Sets the zero padding on both sides (at most half the kernel).
    AvgPool2dOptions& padding(ExpandingArray<2> value) { padding_ = value; return *this; }
    /// @brief Sets whether the output size rounds up instead of down.
    AvgPool2dOptions& ceil_mode(bool value) { ceil_mode_ = value; return *this; }
    /// @brief Sets whether padded positions count in the divisor (true: divide by kh*kw).
    AvgPool2dOptions& count_include_pad(bool value) { count_include_pad_ = value; return *this; }
    /// @brief The window size.
    [[nodiscard]] const ExpandingArray<2>& kernel_size() const { return kernel_size_; }
    /// @brief The stride.
    [[nodiscard]] const ExpandingArray<2>& stride() const { return stride_; }
    /// @brief The padding.
    [[nodiscard]] const ExpandingArray<2>& padding() const { return padding_; }
    /// @brief Whether the output size rounds up.
    [[nodiscard]] bool ceil_mode() const { return ceil_mode_; }
    /// @brief Whether padded positions count in the divisor.
    [[nodiscard]] bool count_include_pad() const { return count_include_pad_; }

private:
    ExpandingArray<2> kernel_size_;
    ExpandingArray<2> stride_;
    ExpandingArray<2> padding_ = 0;
    bool ceil_mode_ = false;
    bool count_include_pad_ = true;
};

/// @brief The options of `functional::avg_pool2d` (the same as the layer's).
using AvgPool2dFuncOptions = AvgPool2dOptions;

/// @brief The options of adaptive average pooling: the output size `(oh, ow)` (one number for a
/// square), whatever the input size.
class AdaptiveAvgPool2dOptions {
public:
    /// @brief Pool every input to `output_size`.
    AdaptiveAvgPool2dOptions(ExpandingArray<2> output_size) : output_size_(output_size) {}  // NOLINT: implicit
    /// @brief Sets the output size.
    AdaptiveAvgPool2dOptions& output_size(ExpandingArray<2> value) { output_size_ = value; return *this; }
    /// @brief The output size `(oh, ow)`.
    [[nodiscard]] const ExpandingArray<2>& output_size() const { return output_size_; }

private:
    ExpandingArray<2> output_size_;
};

namespace functional {

/// @brief The largest value of each window, per channel: `(N, C, H, W)` to `(N, C, OH, OW)`
/// (a 3-D `(C, H, W)` input gives `(C, OH, OW)`), with
/// `OH = floor((H + 2 pad - dilation (k - 1) - 1) / stride) + 1` (rounded up with ceil_mode).
///
/// The gradient goes to each window's maximum (the first one on ties), whose position the
/// forward saves (an Int64 argmax per output).
///
/// Example: `Tensor y = nn::functional::max_pool2d(x, 2);  // (64, 8, 28, 28) -> (64, 8, 14, 14)`
/// @param input `(N, C, H, W)` or `(C, H, W)`
/// @param options window size, stride (default: the window size), padding, dilation, ceil_mode
Tensor max_pool2d(const Tensor& input, const MaxPool2dFuncOptions& options);
/// @brief `max_pool2d(input, MaxPool2dFuncOptions(kernel_size))`: windows side by side.
/// @param input `(N, C, H, W)` or `(C, H, W)`
/// @param kernel_size the window size (also the stride)
Tensor max_pool2d(const Tensor& input, ExpandingArray<2> kernel_size);

/// @brief The mean of each window, per channel: `(N, C, H, W)` to `(N, C, OH, OW)`.
///
/// The divisor is `kh * kw` with `count_include_pad` (padding counts as zeros), else the number
/// of taps inside the image; a window that ceil_mode lets overhang the far edge is divided by
/// its clipped size either way (PyTorch's rule). The gradient spreads each output's gradient
/// over its window, divided by the same divisor.
///
/// Example: `nn::functional::avg_pool2d(x, nn::AvgPool2dFuncOptions(3).stride(1).padding(1))`
/// @param input `(N, C, H, W)` or `(C, H, W)`
/// @param options window size, stride (default: the window size), padding, ceil_mode, count_include_pad
Tensor avg_pool2d(const Tensor& input, const AvgPool2dFuncOptions& options);
/// @brief `avg_pool2d(input, AvgPool2dFuncOptions(kernel_size))`: windows side by side.
/// @param input `(N, C, H, W)` or `(C, H, W)`
/// @param kernel_size the window size (also the stride)
Tensor avg_pool2d(const Tensor& input, ExpandingArray<2> kernel_size);

/// @brief Average pooling to a fixed `output_size`, as PyTorch: output `(i, j)` averages input
/// rows `floor(i H / oh)` to `ceil((i + 1) H / oh)` (excluded) and the same for columns.
///
/// When `oh` divides H and `ow` divides W this is `avg_pool2d` with kernel = stride = `(H/oh, W/ow)`.
/// Otherwise the windows overlap unevenly; since a window is a rectangle, its mean is a mean of
/// row means, so the result is `P_h @ x @ P_wᵀ` with `P_h (oh, H)` holding `1 / window height`
/// on each output row's window (`P_w` likewise), and matmul gives the gradient.
///
/// Example: `nn::functional::adaptive_avg_pool2d(x, 1)` is the global average pool `(N, C, 1, 1)`.
/// @param input `(N, C, H, W)` or `(C, H, W)`
/// @param output_size `(oh, ow)`, or one number for both
Tensor adaptive_avg_pool2d(const Tensor& input, ExpandingArray<2> output_size);

}  // namespace functional

/// @brief Max pooling layer (like `torch::nn::MaxPool2d`); no parameters.
///
/// Example:
/// @code
/// auto pool = std::make_shared<nn::MaxPool2d>(2);
/// std::cout << *pool;  // MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)
/// @endcode
class MaxPool2d : public Module {
public:
    /// @brief A max-pooling layer with these options (checked when called).
    explicit MaxPool2d(MaxPool2dOptions options);
    /// @brief `MaxPool2d(MaxPool2dOptions(kernel_size))`: windows side by side.
    explicit MaxPool2d(ExpandingArray<2> kernel_size) : MaxPool2d(MaxPool2dOptions(kernel_size)) {}
    /// @brief `functional::max_pool2d(input, options)`.
    Tensor forward(const Tensor& input) override;
    /// @brief PyTorch's repr; a size is printed as one number when height and width agree.
    void pretty_print(std::ostream& stream) const override;
    MaxPool2dOptions options;  ///< the layer's options
};

/// @brief Average pooling layer (like `torch::nn::AvgPool2d`); no parameters.
///
/// Example: `std::make_shared<nn::AvgPool2d>(2)` prints `AvgPool2d(kernel_size=2, stride=2, padding=0)`.
class AvgPool2d : public Module {
public:
    /// @brief An average-pooling layer with these options.
    explicit AvgPool2d(AvgPool2dOptions options);
    /// @brief `AvgPool2d(AvgPool2dOptions(kernel_size))`: windows side by side.
    explicit AvgPool2d(ExpandingArray<2> kernel_size) : AvgPool2d(AvgPool2dOptions(kernel_size)) {}
    /// @brief `functional::avg_pool2d(input, options)`.
    Tensor forward(const Tensor& input) override;
    /// @brief PyTorch's repr, e.g. `AvgPool2d(kernel_size=2, stride=2, padding=0)`.
    void pretty_print(std::ostream& stream) const override;
    AvgPool2dOptions options;  ///< the layer's options
};

/// @brief Adaptive average pooling layer (like `torch::nn::AdaptiveAvgPool2d`), e.g. the global
/// average pool `AdaptiveAvgPool2d(1)` before a ResNet's classifier.
///
/// Example: `std::make_shared<nn::AdaptiveAvgPool2d>(nn::ExpandingArray<2>({5, 7}))` prints
/// `AdaptiveAvgPool2d(output_size=(5, 7))`.
class AdaptiveAvgPool2d : public Module {
public:
    /// @brief A layer that pools every input to `options.output_size()`.
    explicit AdaptiveAvgPool2d(AdaptiveAvgPool2dOptions options);
    /// @brief `AdaptiveAvgPool2d(AdaptiveAvgPool2dOptions(output_size))`.
    explicit AdaptiveAvgPool2d(ExpandingArray<2> output_size)
        : AdaptiveAvgPool2d(AdaptiveAvgPool2dOptions(output_size)) {}
    /// @brief `functional::adaptive_avg_pool2d(input, options.output_size())`.
    Tensor forward(const Tensor& input) override;
    /// @brief PyTorch's repr, e.g. `AdaptiveAvgPool2d(output_size=1)`.
    void pretty_print(std::ostream& stream) const override;
    AdaptiveAvgPool2dOptions options;  ///< the layer's options
};

}  // namespace stepgrad::nn
