#pragma once
/// @file conv.hpp
/// @brief `Conv2d` and `functional::conv2d`: 2-D convolution as im2col + one matrix product.
///
/// A convolution is a matrix product in disguise. im2col copies, for every output position, the
/// `C * kh * kw` input pixels under the window into one column; the output is then
/// `weight (OC, C*kh*kw) @ columns (C*kh*kw, OH*OW)` per image. The gradient is two more
/// products: `weightᵀ @ grad_output` gives gradients of the columns, which col2im (im2col's
/// adjoint) adds back onto the image, and `grad_output @ columnsᵀ` gives the weight's gradient.
/// Also here: `ExpandingArray`, the "an int or a pair" argument of every 2-D layer's options.
#include <stepgrad/nn/module.hpp>
#include <stepgrad/shared/error.hpp>
#include <stepgrad/tensor.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <iosfwd>

namespace stepgrad::nn {

/// @brief `D` sizes given as one number (repeated) or as a list of `D` numbers, like
/// `torch::ExpandingArray<D>`: `ExpandingArray<2>(3)` is `{3, 3}`, `ExpandingArray<2>({3, 5})` is
/// `{3, 5}` (height first).
///
/// Example: `Conv2dOptions(1, 8, 3)` and `Conv2dOptions(1, 8, {3, 5})` both convert implicitly.
template <std::size_t D>
class ExpandingArray {
public:
    /// @brief Every one of the `D` sizes equal to `value`.
    ExpandingArray(std::int64_t value) { values_.fill(value); }  // NOLINT: implicit, as LibTorch's
    /// @brief The sizes listed (exactly `D` of them; throws std::invalid_argument otherwise).
    ExpandingArray(std::initializer_list<std::int64_t> values);  // NOLINT: implicit, for `{3, 5}`
    /// @brief Size `axis` (0 = height, 1 = width).
    [[nodiscard]] std::int64_t operator[](std::size_t axis) const { return values_[axis]; }
    /// @brief The number of sizes, `D`.
    [[nodiscard]] static constexpr std::size_t size() { return D; }
    /// @brief The sizes as an array.
    [[nodiscard]] const std::array<std::int64_t, D>& values() const { return values_; }
    /// @brief Whether every size equals `value`.
    [[nodiscard]] bool all_equal(std::int64_t value) const {
        for (std::int64_t v : values_)
            if (v != value) return false;
        return true;
    }
    /// @brief Whether both hold the same sizes.
    friend bool operator==(const ExpandingArray& a, const ExpandingArray& b) { return a.values_ == b.values_; }

private:
    std::array<std::int64_t, D> values_{};
};

template <std::size_t D>
ExpandingArray<D>::ExpandingArray(std::initializer_list<std::int64_t> values) {
    STEPGRAD_CHECK(values.size() == D, "ExpandingArray: expected " << D << " sizes (e.g. {height, width}), got "
                                                                  << values.size());
    std::size_t axis = 0;
    for (std::int64_t v : values) values_[axis++] = v;
}

/// @brief Writes the sizes as a Python tuple, `(3, 3)`, as PyTorch's reprs print them.
std::ostream& operator<<(std::ostream& stream, const ExpandingArray<2>& sizes);

/// @brief The options of `functional::conv2d` (LibTorch's `Conv2dFuncOptions`, without the bias,
/// which conv2d takes as an argument). Defaults: stride 1, padding 0, dilation 1, groups 1.
///
/// Example: `Conv2dFuncOptions().stride(2).padding({1, 0})`.
class Conv2dFuncOptions {
public:
    /// @brief Sets the step between windows (one number or `{h, w}`).
    Conv2dFuncOptions& stride(ExpandingArray<2> value) { stride_ = value; return *this; }
    /// @brief Sets the zero padding added on both sides of each axis.
    Conv2dFuncOptions& padding(ExpandingArray<2> value) { padding_ = value; return *this; }
    /// @brief Sets the spacing between the window's taps (1: adjacent pixels).
    Conv2dFuncOptions& dilation(ExpandingArray<2> value) { dilation_ = value; return *this; }
    /// @brief Sets the number of groups: channels split into `groups` independent convolutions.
    Conv2dFuncOptions& groups(std::int64_t value) { groups_ = value; return *this; }
    /// @brief The stride.
    [[nodiscard]] const ExpandingArray<2>& stride() const { return stride_; }
    /// @brief The padding.
    [[nodiscard]] const ExpandingArray<2>& padding() const { return padding_; }
    /// @brief The dilation.
    [[nodiscard]] const ExpandingArray<2>& dilation() const { return dilation_; }
    /// @brief The number of groups.
    [[nodiscard]] std::int64_t groups() const { return groups_; }

private:
    ExpandingArray<2> stride_ = 1;
    ExpandingArray<2> padding_ = 0;
    ExpandingArray<2> dilation_ = 1;
    std::int64_t groups_ = 1;
};

/// @brief The options of a `Conv2d` layer, as LibTorch's `Conv2dOptions`: channels and kernel
/// size are required, the rest chain.
///
/// Example: `Conv2dOptions(1, 8, 3).stride(1).padding(1)` (a "same" 3x3 convolution),
/// `Conv2dOptions(16, 32, {3, 5}).groups(4).bias(false)`.
class Conv2dOptions {
public:
    /// @brief A convolution from `in_channels` to `out_channels` with a `kernel_size` window.
    Conv2dOptions(std::int64_t in_channels, std::int64_t out_channels, ExpandingArray<2> kernel_size)
        : in_channels_(in_channels), out_channels_(out_channels), kernel_size_(kernel_size) {}
    /// @brief Sets the step between windows (default 1).
    Conv2dOptions& stride(ExpandingArray<2> value) { stride_ = value; return *this; }
    /// @brief Sets the zero padding on both sides of each axis (default 0).
    Conv2dOptions& padding(ExpandingArray<2> value) { padding_ = value; return *this; }
    /// @brief Sets the spacing between the window's taps (default 1).
    Conv2dOptions& dilation(ExpandingArray<2> value) { dilation_ = value; return *this; }
    /// @brief Sets the number of groups (default 1); both channel counts must divide by it.
    Conv2dOptions& groups(std::int64_t value) { groups_ = value; return *this; }
    /// @brief Sets whether the layer adds a learned bias per output channel (default true).
    Conv2dOptions& bias(bool value) { bias_ = value; return *this; }
    /// @brief The number of input channels.
    [[nodiscard]] std::int64_t in_channels() const { return in_channels_; }
    /// @brief The number of output channels.
    [[nodiscard]] std::int64_t out_channels() const { return out_channels_; }
    /// @brief The window size `(kh, kw)`.
    [[nodiscard]] const ExpandingArray<2>& kernel_size() const { return kernel_size_; }
    /// @brief The stride.
    [[nodiscard]] const ExpandingArray<2>& stride() const { return stride_; }
    /// @brief The padding.
    [[nodiscard]] const ExpandingArray<2>& padding() const { return padding_; }
    /// @brief The dilation.
    [[nodiscard]] const ExpandingArray<2>& dilation() const { return dilation_; }
    /// @brief The number of groups.
    [[nodiscard]] std::int64_t groups() const { return groups_; }
    /// @brief Whether there is a bias.
    [[nodiscard]] bool bias() const { return bias_; }

private:
    std::int64_t in_channels_;
    std::int64_t out_channels_;
    ExpandingArray<2> kernel_size_;
    ExpandingArray<2> stride_ = 1;
    ExpandingArray<2> padding_ = 0;
    ExpandingArray<2> dilation_ = 1;
    std::int64_t groups_ = 1;
    bool bias_ = true;
};

namespace functional {

/// @brief 2-D convolution (cross-correlation, as in PyTorch) of `input` with `weight`, plus `bias`.
///
/// Shapes: input `(N, C, H, W)` (or `(C, H, W)` for one image), weight `(OC, C / groups, kh, kw)`,
/// bias `(OC)` or undefined; the output is `(N, OC, OH, OW)` with
/// `OH = floor((H + 2 pad_h - dilation_h (kh - 1) - 1) / stride_h) + 1` (OW likewise).
///
/// Computed as im2col + matrix product: with `K = C/groups * kh * kw` taps and `L = OH * OW`
/// positions, `columns (N, K*groups, L) = im2col(input)` and, per group,
/// `out (N, OC, L) = weight (OC, K) @ columns`. Backward:
/// `grad_input = col2im(weightᵀ @ grad_output)`, `grad_weight = Σ_n grad_output[n] @ columns[n]ᵀ`,
/// `grad_bias = grad_output` summed over N, OH, OW; a gradient nobody needs is not computed.
///
/// Example:
/// @code
/// Tensor x = randn({64, 1, 28, 28});
/// Tensor w = randn({8, 1, 3, 3}).requires_grad_(), b = zeros({8}).requires_grad_();
/// Tensor y = nn::functional::conv2d(x, w, b, nn::Conv2dFuncOptions().padding(1));  // (64, 8, 28, 28)
/// @endcode
/// @param input the images, `(N, C, H, W)` or `(C, H, W)`
/// @param weight the filters, `(OC, C / groups, kh, kw)`
/// @param bias one number per output channel `(OC)`, or an undefined tensor for none
/// @param options stride, padding, dilation and groups
Tensor conv2d(const Tensor& input, const Tensor& weight, const Tensor& bias = {},
              const Conv2dFuncOptions& options = {});

}  // namespace functional

/// @brief A 2-D convolution layer (like `torch::nn::Conv2d`): `y = conv2d(x, weight, bias)`.
///
/// Weight `(out_channels, in_channels / groups, kh, kw)` and bias `(out_channels)` start as in
/// PyTorch: `kaiming_uniform_(weight, sqrt(5))`, i.e. U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with
/// `fan_in = in_channels / groups * kh * kw`, and the bias U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
///
/// Example:
/// @code
/// auto conv = std::make_shared<nn::Conv2d>(nn::Conv2dOptions(1, 8, 3).padding(1));
/// Tensor y = conv->forward(randn({64, 1, 28, 28}));  // (64, 8, 28, 28)
/// std::cout << *conv;  // Conv2d(1, 8, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))
/// @endcode
class Conv2d : public Module {
public:
    /// @brief Checks the options, registers `weight` and (unless `bias(false)`) `bias`, and
    /// initialises them as PyTorch does.
    explicit Conv2d(Conv2dOptions options);
    /// @brief `Conv2d(Conv2dOptions(in_channels, out_channels, kernel_size))`.
    Conv2d(std::int64_t in_channels, std::int64_t out_channels, ExpandingArray<2> kernel_size);

    /// @brief Re-draws weight and bias with PyTorch's default initialisation.
    void reset_parameters();
    /// @brief `conv2d(input, weight, bias)` with this layer's stride, padding, dilation, groups.
    Tensor forward(const Tensor& input) override;
    /// @brief PyTorch's repr, e.g. `Conv2d(1, 8, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))`
    /// (padding, dilation, groups and `bias=False` only when not the default).
    void pretty_print(std::ostream& stream) const override;

    Conv2dOptions options;  ///< the options the layer was built with
    Tensor weight;          ///< `(out_channels, in_channels / groups, kh, kw)`
    Tensor bias;            ///< `(out_channels)`, undefined with `bias(false)`
};

}  // namespace stepgrad::nn
