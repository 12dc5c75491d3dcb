// Max, average and adaptive average pooling on chapter 2's fused pooling kernels.
#include <stepgrad/nn/pooling.hpp>
#include <stepgrad/shared/error.hpp>

#include <ostream>
#include <vector>

namespace stepgrad::nn {

namespace {

// Checks a pooling call as PyTorch's pool2d_shape_check does and returns its window.
Window2d pool_window(const char* op, const Tensor& input, const ExpandingArray<2>& kernel,
                     const ExpandingArray<2>& stride, const ExpandingArray<2>& padding,
                     const ExpandingArray<2>& dilation, bool ceil_mode) {
    detail::check_float(op, input);
    STEPGRAD_CHECK(input.dim() == 4, op << ": expected a 3-D (C, H, W) or 4-D (N, C, H, W) input, got shape "
                                        << shape_to_string(input.shape()));
    STEPGRAD_CHECK(input.size(1) > 0 && input.size(2) > 0 && input.size(3) > 0,
                   op << ": expected non-empty channels, height and width, got shape "
                      << shape_to_string(input.shape()));
    for (std::size_t axis = 0; axis < 2; ++axis) {
        STEPGRAD_CHECK(kernel[axis] > 0, op << ": kernel_size must be positive, got " << kernel);
        STEPGRAD_CHECK(stride[axis] > 0, op << ": stride must be positive, got " << stride);
        STEPGRAD_CHECK(dilation[axis] > 0, op << ": dilation must be positive, got " << dilation);
        STEPGRAD_CHECK(padding[axis] >= 0 && padding[axis] <= kernel[axis] / 2,
                       op << ": padding must be between 0 and half the kernel size, got padding " << padding
                          << " for kernel_size " << kernel);
    }
    Window2d window{input.size(0), input.size(1), input.size(2), input.size(3), kernel[0],   kernel[1],   stride[0],
                    stride[1],     padding[0],    padding[1],    dilation[0],   dilation[1], ceil_mode};
    STEPGRAD_CHECK(window.out_height() > 0 && window.out_width() > 0,
                   op << ": input " << shape_to_string(input.shape()) << " gives an output of "
                      << window.out_height() << " x " << window.out_width()
                      << ", too small: use a larger input, a smaller kernel or more padding");
    return window;
}

Shape pooled_shape(const Window2d& window) {
    return {window.batch, window.channels, window.out_height(), window.out_width()};
}

// Writes a size as PyTorch prints an int argument (`2`) when both agree, else as a tuple.
void print_size(std::ostream& stream, const ExpandingArray<2>& size) {
    if (size[0] == size[1]) {
        stream << size[0];
    } else {
        stream << size;
    }
}

// P (out, in): row i holds 1 / (end - start) on PyTorch's adaptive window [start, end) of
// output i, with start = floor(i * in / out) and end = ceil((i + 1) * in / out).
Tensor adaptive_window_means(std::int64_t out, std::int64_t in, Device device) {
    std::vector<float> values(static_cast<std::size_t>(out * in), 0.0f);
    for (std::int64_t i = 0; i < out; ++i) {
        const std::int64_t start = i * in / out, end = ((i + 1) * in + out - 1) / out;
        for (std::int64_t h = start; h < end; ++h)
            values[static_cast<std::size_t>(i * in + h)] = 1.0f / static_cast<float>(end - start);
    }
    return from_vector(values, {out, in}, TensorOptions().device(device));
}

}  // namespace

namespace functional {

// Forward: out = max over each window, argmax = where it was (h * W + w in its plane).
// Backward: grad_input[argmax] += grad_output (zero elsewhere): only the maximum moved the output.
Tensor max_pool2d(const Tensor& input, const MaxPool2dFuncOptions& options) {
    detail::check_defined("max_pool2d", input);
    if (input.dim() == 3) return max_pool2d(input.unsqueeze(0), options).squeeze(0);  // one image
    const Window2d window = pool_window("max_pool2d", input, options.kernel_size(), options.stride(),
                                        options.padding(), options.dilation(), options.ceil_mode());
    Tensor out = Tensor::empty(pooled_shape(window), input.device());
    Tensor argmax = Tensor::empty(pooled_shape(window), input.device(), Dtype::Int64);
    get_backend(input.device())
        .max_pool2d_forward(input.data_ptr<float>(), window, out.data_ptr<float>(), argmax.data_ptr<std::int64_t>());
    return record("max_pool2d", out, {input},
                  [window, input_shape = input.shape(), argmax = SavedTensor(argmax)](const Tensor& grad_output) {
                      Tensor grad_input = Tensor::empty(input_shape, grad_output.device());
                      get_backend(grad_output.device())
                          .max_pool2d_backward(grad_output.data_ptr<float>(), argmax.unpack().data_ptr<std::int64_t>(),
                                               window, grad_input.data_ptr<float>());
                      return Grads{grad_input};
                  });
}

Tensor max_pool2d(const Tensor& input, ExpandingArray<2> kernel_size) {
    return max_pool2d(input, MaxPool2dFuncOptions(kernel_size));
}

// Forward: out = Σ window / divisor. Backward: each grad_output / divisor goes to every tap of
// its window (the derivative of a mean with respect to each term).
Tensor avg_pool2d(const Tensor& input, const AvgPool2dFuncOptions& options) {
    detail::check_defined("avg_pool2d", input);
    if (input.dim() == 3) return avg_pool2d(input.unsqueeze(0), options).squeeze(0);  // one image
    const Window2d window = pool_window("avg_pool2d", input, options.kernel_size(), options.stride(),
                                        options.padding(), 1, options.ceil_mode());
    const bool count_include_pad = options.count_include_pad();
    Tensor out = Tensor::empty(pooled_shape(window), input.device());
    get_backend(input.device())
        .avg_pool2d_forward(input.data_ptr<float>(), window, count_include_pad, out.data_ptr<float>());
    return record("avg_pool2d", out, {input},
                  [window, count_include_pad, input_shape = input.shape()](const Tensor& grad_output) {
                      Tensor grad_input = Tensor::empty(input_shape, grad_output.device());
                      get_backend(grad_output.device())
                          .avg_pool2d_backward(grad_output.data_ptr<float>(), window, count_include_pad,
                                               grad_input.data_ptr<float>());
                      return Grads{grad_input};
                  });
}

Tensor avg_pool2d(const Tensor& input, ExpandingArray<2> kernel_size) {
    return avg_pool2d(input, AvgPool2dFuncOptions(kernel_size));
}

// Even windows are plain average pooling; uneven ones are P_h @ x @ P_wᵀ (a rectangle's mean is
// the mean of its rows' means), differentiated by matmul.
Tensor adaptive_avg_pool2d(const Tensor& input, ExpandingArray<2> output_size) {
    detail::check_defined("adaptive_avg_pool2d", input);
    if (input.dim() == 3) return adaptive_avg_pool2d(input.unsqueeze(0), output_size).squeeze(0);
    detail::check_float("adaptive_avg_pool2d", input);
    STEPGRAD_CHECK(input.dim() == 4, "adaptive_avg_pool2d: expected a 3-D (C, H, W) or 4-D (N, C, H, W) input, "
                                     "got shape " << shape_to_string(input.shape()));
    STEPGRAD_CHECK(input.size(2) > 0 && input.size(3) > 0,
                   "adaptive_avg_pool2d: expected a non-empty height and width, got shape "
                       << shape_to_string(input.shape()));
    STEPGRAD_CHECK(output_size[0] > 0 && output_size[1] > 0,
                   "adaptive_avg_pool2d: output_size must be positive, got " << output_size);
    const std::int64_t height = input.size(2), width = input.size(3);
    if (height % output_size[0] == 0 && width % output_size[1] == 0) {
        const ExpandingArray<2> kernel{height / output_size[0], width / output_size[1]};
        return avg_pool2d(input, AvgPool2dFuncOptions(kernel));
    }
    Tensor rows_pooled = input;  // (N, C, H, W) -> (N, C, H, ow) -> (N, C, oh, ow)
    if (width != output_size[1])
        rows_pooled = matmul(input, adaptive_window_means(output_size[1], width, input.device()).t());
    if (height == output_size[0]) return rows_pooled;
    return matmul(adaptive_window_means(output_size[0], height, input.device()), rows_pooled);
}

}  // namespace functional

// ---- the layers ----------------------------------------------------------------------------------

MaxPool2d::MaxPool2d(MaxPool2dOptions options_) : Module("MaxPool2d"), options(options_) {}

Tensor MaxPool2d::forward(const Tensor& input) { return functional::max_pool2d(input, options); }

void MaxPool2d::pretty_print(std::ostream& stream) const {
    stream << "MaxPool2d(kernel_size=";
    print_size(stream, options.kernel_size());
    stream << ", stride=";
    print_size(stream, options.stride());
    stream << ", padding=";
    print_size(stream, options.padding());
    stream << ", dilation=";
    print_size(stream, options.dilation());
    stream << ", ceil_mode=" << (options.ceil_mode() ? "True" : "False") << ")";
}

AvgPool2d::AvgPool2d(AvgPool2dOptions options_) : Module("AvgPool2d"), options(options_) {}

Tensor AvgPool2d::forward(const Tensor& input) { return functional::avg_pool2d(input, options); }

void AvgPool2d::pretty_print(std::ostream& stream) const {
    stream << "AvgPool2d(kernel_size=";
    print_size(stream, options.kernel_size());
    stream << ", stride=";
    print_size(stream, options.stride());
    stream << ", padding=";
    print_size(stream, options.padding());
    stream << ")";
}

AdaptiveAvgPool2d::AdaptiveAvgPool2d(AdaptiveAvgPool2dOptions options_)
    : Module("AdaptiveAvgPool2d"), options(options_) {}

Tensor AdaptiveAvgPool2d::forward(const Tensor& input) {
    return functional::adaptive_avg_pool2d(input, options.output_size());
}

void AdaptiveAvgPool2d::pretty_print(std::ostream& stream) const {
    stream << "AdaptiveAvgPool2d(output_size=";
    print_size(stream, options.output_size());
    stream << ")";
}

}  // namespace stepgrad::nn
