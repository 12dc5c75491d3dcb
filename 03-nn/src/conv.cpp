// 2-D convolution as im2col + matrix products, on chapter 2's fused kernels.
//
// With G groups, K = C/G * kh * kw taps per group, L = OH * OW positions and OCg = OC/G filters
// per group, im2col lays the columns out as (N, G, K, L) (its rows are ordered channel first,
// and group g owns channels g*C/G...), so group g of image n is one contiguous (K, L) matrix:
//   out[n, g]          (OCg, L) = weight[g] (OCg, K) @ columns[n, g] (K, L)
//   grad_columns[n, g] (K, L)   = weight[g]ᵀ @ grad_out[n, g]          -> col2im -> grad_input
//   grad_weight[g]     (OCg, K) = Σ_n grad_out[n, g] @ columns[n, g]ᵀ
//   grad_bias          (OC)     = grad_out summed over n and the positions
// Each product is the backend's batched GEMM: one call for the whole batch when groups == 1, one
// per image otherwise. Transposes are flags, except for the small weight, copied once transposed
// for the input gradient (measured slightly faster). Sums over the batch and the positions are products
// with a vector of ones (vectorised by OpenBLAS; with the generic reduction instead, the first
// MNIST conv layer's backward took 0.5 ms instead of 0.13 ms).
#include <stepgrad/nn/conv.hpp>
#include <stepgrad/nn/init.hpp>
#include <stepgrad/shared/error.hpp>

#include <algorithm>
#include <cmath>
#include <ostream>

namespace stepgrad::nn {

std::ostream& operator<<(std::ostream& stream, const ExpandingArray<2>& sizes) {
    return stream << "(" << sizes[0] << ", " << sizes[1] << ")";
}

namespace {

/// The sizes of one convolution call, named as in the comment at the top.
struct ConvGeometry {
    Window2d window;              // input (N, C, H, W) and the sliding window
    std::int64_t out_channels;    // OC
    std::int64_t groups;          // G
    std::int64_t taps;            // K = C/G * kh * kw
    std::int64_t positions;       // L = OH * OW
    [[nodiscard]] std::int64_t per_group() const { return out_channels / groups; }  // OCg
};

// Checks what conv2d is given (PyTorch's rules and much of its wording) and sizes the call.
ConvGeometry conv_geometry(const Tensor& input, const Tensor& weight, const Tensor& bias,
                           const Conv2dFuncOptions& options) {
    detail::check_float("conv2d", input);
    detail::check_float("conv2d", weight);
    detail::check_same_device("conv2d", input, weight);
    STEPGRAD_CHECK(input.dim() == 4, "conv2d: expected a 3-D (C, H, W) or 4-D (N, C, H, W) input, got shape "
                                         << shape_to_string(input.shape()));
    STEPGRAD_CHECK(weight.dim() == 4, "conv2d: expected a 4-D weight (out_channels, in_channels / groups, kh, kw), "
                                      "got shape " << shape_to_string(weight.shape()));
    const std::int64_t groups = options.groups();
    STEPGRAD_CHECK(groups > 0, "conv2d: groups must be positive, got " << groups);
    const std::int64_t out_channels = weight.size(0);
    STEPGRAD_CHECK(out_channels % groups == 0, "conv2d: weight of shape " << shape_to_string(weight.shape())
                                                                          << " has " << out_channels
                                                                          << " out channels, not divisible by groups="
                                                                          << groups);
    STEPGRAD_CHECK(input.size(1) == weight.size(1) * groups,
                   "conv2d: given groups=" << groups << ", weight of shape " << shape_to_string(weight.shape())
                                           << " expects input " << shape_to_string(input.shape()) << " to have "
                                           << weight.size(1) * groups << " channels, but it has " << input.size(1));
    if (bias.defined()) {
        detail::check_float("conv2d", bias);
        detail::check_same_device("conv2d", input, bias);
        STEPGRAD_CHECK(bias.dim() == 1 && bias.size(0) == out_channels,
                       "conv2d: expected a bias of shape [" << out_channels << "], got "
                                                            << shape_to_string(bias.shape()));
    }
    for (std::size_t axis = 0; axis < 2; ++axis) {
        STEPGRAD_CHECK(options.stride()[axis] > 0, "conv2d: stride must be positive, got " << options.stride());
        STEPGRAD_CHECK(options.padding()[axis] >= 0, "conv2d: padding must be non-negative, got " << options.padding());
        STEPGRAD_CHECK(options.dilation()[axis] > 0, "conv2d: dilation must be positive, got " << options.dilation());
        STEPGRAD_CHECK(weight.size(2 + static_cast<std::int64_t>(axis)) > 0,
                       "conv2d: kernel sizes must be positive, got weight " << shape_to_string(weight.shape()));
    }
    Window2d window{input.size(0),         input.size(1),         input.size(2),          input.size(3),
                    weight.size(2),        weight.size(3),        options.stride()[0],    options.stride()[1],
                    options.padding()[0],  options.padding()[1],  options.dilation()[0], options.dilation()[1]};
    STEPGRAD_CHECK(window.out_height() > 0 && window.out_width() > 0,
                   "conv2d: the padded input (" << window.height + 2 * window.pad_h << " x "
                                                << window.width + 2 * window.pad_w << ") is smaller than the dilated "
                                                << "kernel (" << window.dilation_h * (window.kernel_h - 1) + 1 << " x "
                                                << window.dilation_w * (window.kernel_w - 1) + 1
                                                << "); use a larger input, more padding or a smaller kernel");
    return {window, out_channels, groups, weight.size(1) * window.kernel_h * window.kernel_w,
            window.out_height() * window.out_width()};
}

// out (N, G, OCg, L) = weight[g] (OCg, K) @ columns[n, g] (K, L) for every image n and group g.
void multiply_weight(Backend& backend, const ConvGeometry& geo, const float* weight, const float* columns,
                     float* out) {
    const std::int64_t batch = geo.window.batch, groups = geo.groups, taps = geo.taps, positions = geo.positions;
    if (groups == 1) {  // one call for the whole batch: the weight is shared (batch stride 0)
        backend.matmul(weight, columns, out, batch, geo.out_channels, positions, taps, false, false, 0,
                       taps * positions);
        return;
    }
    for (std::int64_t n = 0; n < batch; ++n)  // per image, one call for its groups
        backend.matmul(weight, columns + n * groups * taps * positions, out + n * geo.out_channels * positions,
                       groups, geo.per_group(), positions, taps, false, false, geo.per_group() * taps,
                       taps * positions);
}

// grad_input = col2im(grad_columns), grad_columns[n, g] (K, L) = weight[g]ᵀ (K, OCg) @ g[n, g] (OCg, L).
// The (small) weight is transposed once: OpenBLAS's plain products beat its transposed-operand ones here.
Tensor input_gradient(const ConvGeometry& geo, const Tensor& weight, const Tensor& grad_output,
                      const Shape& input_shape) {
    const std::int64_t batch = geo.window.batch, groups = geo.groups, taps = geo.taps, positions = geo.positions;
    const std::int64_t per_group = geo.per_group();
    Backend& backend = get_backend(grad_output.device());
    Tensor weight_t = Tensor::empty({groups, taps, per_group}, grad_output.device());  // (G, K, OCg)
    backend.transpose(weight.data_ptr<float>(), groups, per_group, taps, weight_t.data_ptr<float>());
    const float* wt = weight_t.data_ptr<float>();
    const float* g = grad_output.data_ptr<float>();
    Tensor grad_columns = Tensor::empty({batch, groups * taps, positions}, grad_output.device());
    float* gc = grad_columns.data_ptr<float>();
    if (groups == 1) {
        backend.matmul(wt, g, gc, batch, taps, positions, per_group, false, false, 0, per_group * positions);
    } else {
        for (std::int64_t n = 0; n < batch; ++n)
            backend.matmul(wt, g + n * geo.out_channels * positions, gc + n * groups * taps * positions, groups, taps,
                           positions, per_group, false, false, per_group * taps, per_group * positions);
    }
    Tensor grad_input = Tensor::empty(input_shape, grad_output.device());
    backend.col2im(gc, geo.window, grad_input.data_ptr<float>());
    return grad_input;
}

// A vector of `count` ones on `device`: multiplying by it sums (a GEMM's sum is vectorised).
Tensor ones_vector(std::int64_t count, Device device) {
    Tensor ones = Tensor::empty({count}, device);
    get_backend(device).fill(Dtype::Float32, ones.data_ptr(), static_cast<std::size_t>(count), 1.0);
    return ones;
}

// grad_weight[g] (OCg, K) = Σ_n g[n, g] (OCg, L) @ columns[n, g]ᵀ (L, K): one batched GEMM gives
// every (n, g) product, then ones (1, N) @ products (N, OC*K) sums them over n.
Tensor weight_gradient(const ConvGeometry& geo, const Tensor& columns, const Tensor& grad_output,
                       const Shape& weight_shape) {
    const std::int64_t batch = geo.window.batch, taps = geo.taps, positions = geo.positions;
    Backend& backend = get_backend(grad_output.device());
    Tensor per_image = Tensor::empty({batch, geo.out_channels * taps}, grad_output.device());
    backend.matmul(grad_output.data_ptr<float>(), columns.data_ptr<float>(), per_image.data_ptr<float>(),
                   batch * geo.groups, geo.per_group(), taps, positions, false, true, geo.per_group() * positions,
                   taps * positions);
    if (batch == 1) return per_image.reshape(weight_shape);
    Tensor grad_weight = Tensor::empty(weight_shape, grad_output.device());
    backend.matmul(ones_vector(batch, grad_output.device()).data_ptr<float>(), per_image.data_ptr<float>(),
                   grad_weight.data_ptr<float>(), 1, 1, geo.out_channels * taps, batch, false, false, 0, 0);
    return grad_weight;
}

// grad_bias (OC) = g (N, OC, L) summed over N and L, as two products with ones:
// per (n, c) sums = g (N*OC, L) @ ones (L), then ones (1, N) @ sums (N, OC).
Tensor bias_gradient(const ConvGeometry& geo, const Tensor& grad_output) {
    const std::int64_t batch = geo.window.batch, positions = geo.positions;
    Backend& backend = get_backend(grad_output.device());
    const Tensor ones = ones_vector(std::max(batch, positions), grad_output.device());
    Tensor sums = Tensor::empty({batch, geo.out_channels}, grad_output.device());
    backend.matmul(grad_output.data_ptr<float>(), ones.data_ptr<float>(), sums.data_ptr<float>(), 1,
                   batch * geo.out_channels, 1, positions, false, false, 0, 0);
    Tensor grad_bias = Tensor::empty({geo.out_channels}, grad_output.device());
    backend.matmul(ones.data_ptr<float>(), sums.data_ptr<float>(), grad_bias.data_ptr<float>(), 1, 1,
                   geo.out_channels, batch, false, false, 0, 0);
    return grad_bias;
}

}  // namespace

namespace functional {

// Forward: out = weight @ im2col(input) + bias. Backward (the products at the top of the file):
// grad_input = col2im(weightᵀ @ g), grad_weight = Σ_n g[n] @ columns[n]ᵀ, grad_bias = Σ_{n,l} g;
// only the gradients some input needs are computed (and only what they need is saved).
Tensor conv2d(const Tensor& input, const Tensor& weight, const Tensor& bias, const Conv2dFuncOptions& options) {
    detail::check_defined("conv2d", input);
    detail::check_defined("conv2d", weight);
    if (input.dim() == 3) return conv2d(input.unsqueeze(0), weight, bias, options).squeeze(0);  // one image
    const ConvGeometry geo = conv_geometry(input, weight, bias, options);
    const Window2d& window = geo.window;
    Backend& backend = get_backend(input.device());

    // columns is (N, G*K, L); out is (N, OC, OH, OW), i.e. (N, G, OCg, L)
    Tensor columns = Tensor::empty({window.batch, geo.groups * geo.taps, geo.positions}, input.device());
    backend.im2col(input.data_ptr<float>(), window, columns.data_ptr<float>());
    Tensor out = Tensor::empty({window.batch, geo.out_channels, window.out_height(), window.out_width()},
                               input.device());
    multiply_weight(backend, geo, weight.data_ptr<float>(), columns.data_ptr<float>(), out.data_ptr<float>());
    if (bias.defined()) {  // out (N, OC, L) += bias (OC, 1), broadcast; elementwise, so in place is safe
        const Shape out_3d{window.batch, geo.out_channels, geo.positions};
        backend.binary(BinaryOp::Add, Dtype::Float32, out.data_ptr<float>(), out_3d, bias.data_ptr<float>(),
                       {geo.out_channels, 1}, out.data_ptr<float>(), out_3d);
    }

    const bool needs_input = input.requires_grad();
    const bool needs_bias = bias.defined() && bias.requires_grad();
    return record("conv2d", out, {input, weight, bias},
                  [geo, needs_input, needs_bias, input_shape = input.shape(), weight_shape = weight.shape(),
                   saved_weight = needs_input ? SavedTensor(weight) : SavedTensor(),
                   saved_columns = weight.requires_grad() ? SavedTensor(columns) : SavedTensor()](
                      const Tensor& grad_output) {
                      const Tensor& cols = saved_columns.unpack();
                      return Grads{
                          needs_input ? input_gradient(geo, saved_weight.unpack(), grad_output, input_shape) : Tensor(),
                          cols.defined() ? weight_gradient(geo, cols, grad_output, weight_shape) : Tensor(),
                          needs_bias ? bias_gradient(geo, grad_output) : Tensor()};
                  });
}

}  // namespace functional

// ---- the layer ---------------------------------------------------------------------------------

Conv2d::Conv2d(Conv2dOptions options_) : Module("Conv2d"), options(options_) {
    const std::int64_t groups = options.groups();
    STEPGRAD_CHECK(options.in_channels() > 0 && options.out_channels() > 0,
                   "Conv2d: channel counts must be positive, got in_channels=" << options.in_channels()
                                                                                << ", out_channels="
                                                                                << options.out_channels());
    STEPGRAD_CHECK(groups > 0, "Conv2d: groups must be positive, got " << groups);
    STEPGRAD_CHECK(options.in_channels() % groups == 0 && options.out_channels() % groups == 0,
                   "Conv2d: in_channels=" << options.in_channels() << " and out_channels=" << options.out_channels()
                                          << " must both be divisible by groups=" << groups);
    for (std::size_t axis = 0; axis < 2; ++axis) {
        STEPGRAD_CHECK(options.kernel_size()[axis] > 0, "Conv2d: kernel_size must be positive, got "
                                                            << options.kernel_size());
        STEPGRAD_CHECK(options.stride()[axis] > 0, "Conv2d: stride must be positive, got " << options.stride());
        STEPGRAD_CHECK(options.padding()[axis] >= 0, "Conv2d: padding must be non-negative, got "
                                                         << options.padding());
        STEPGRAD_CHECK(options.dilation()[axis] > 0, "Conv2d: dilation must be positive, got " << options.dilation());
    }
    weight = register_parameter("weight", zeros({options.out_channels(), options.in_channels() / groups,
                                                 options.kernel_size()[0], options.kernel_size()[1]}));
    bias = register_parameter("bias", options.bias() ? zeros({options.out_channels()}) : Tensor());
    reset_parameters();
}

Conv2d::Conv2d(std::int64_t in_channels, std::int64_t out_channels, ExpandingArray<2> kernel_size)
    : Conv2d(Conv2dOptions(in_channels, out_channels, kernel_size)) {}

// PyTorch's _ConvNd.reset_parameters: kaiming_uniform_(a=sqrt(5)) gives U(±1/sqrt(fan_in)) for
// the weight, and the bias gets the same bound.
void Conv2d::reset_parameters() {
    init::kaiming_uniform_(weight, std::sqrt(5.0));
    if (bias.defined()) {
        const std::int64_t fan_in = weight.size(1) * weight.size(2) * weight.size(3);
        const double bound = 1.0 / std::sqrt(static_cast<double>(fan_in));
        init::uniform_(bias, -bound, bound);
    }
}

Tensor Conv2d::forward(const Tensor& input) {
    return functional::conv2d(input, weight, bias,
                              Conv2dFuncOptions()
                                  .stride(options.stride())
                                  .padding(options.padding())
                                  .dilation(options.dilation())
                                  .groups(options.groups()));
}

void Conv2d::pretty_print(std::ostream& stream) const {
    stream << "Conv2d(" << options.in_channels() << ", " << options.out_channels()
           << ", kernel_size=" << options.kernel_size() << ", stride=" << options.stride();
    if (!options.padding().all_equal(0)) stream << ", padding=" << options.padding();
    if (!options.dilation().all_equal(1)) stream << ", dilation=" << options.dilation();
    if (options.groups() != 1) stream << ", groups=" << options.groups();
    if (!options.bias()) stream << ", bias=False";
    stream << ")";
}

}  // namespace stepgrad::nn
