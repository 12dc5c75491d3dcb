// The fully connected layer: one GEMM forward, GEMMs with transpose flags backward, and the
// module that holds its weight and bias with PyTorch's initialisation.
#include <stepgrad/nn/init.hpp>
#include <stepgrad/nn/linear.hpp>
#include <stepgrad/shared/error.hpp>

#include <cmath>
#include <ostream>

namespace stepgrad::nn {

namespace functional {

namespace {

void check_linear_arguments(const Tensor& input, const Tensor& weight, const Tensor& bias) {
    detail::check_defined("linear", input);
    detail::check_defined("linear", weight);
    detail::check_float("linear", input);
    detail::check_float("linear", weight);
    detail::check_same_device("linear", input, weight);
    STEPGRAD_CHECK(weight.dim() == 2,
                   "linear: weight must be (out_features, in_features), got shape " << shape_to_string(weight.shape()));
    STEPGRAD_CHECK(input.dim() >= 1 && input.size(-1) == weight.size(1),
                   "linear: input of shape " << shape_to_string(input.shape()) << " does not fit weight of shape "
                                             << shape_to_string(weight.shape())
                                             << ": the input's last axis must be in_features = " << weight.size(1));
    if (bias.defined()) {
        detail::check_float("linear", bias);
        detail::check_same_device("linear", input, bias);
        STEPGRAD_CHECK(bias.dim() == 1 && bias.size(0) == weight.size(0), "linear: bias must be (out_features) = ("
                                                                              << weight.size(0) << "), got shape "
                                                                              << shape_to_string(bias.shape()));
    }
}

// The number of rows of an input (*, in_features) read as a (rows, in_features) matrix without
// copying: the product of its leading axes (1 for a 1-D input).
std::int64_t leading_rows(const Tensor& input) {
    std::int64_t rows = 1;
    for (std::int64_t axis = 0; axis + 1 < input.dim(); ++axis) rows *= input.size(axis);
    return rows;
}

// Forward, with no graph: y (rows, out) = x (rows, in) @ Wᵀ, W stored (out, in) and read
// transposed; then + b on every row. y keeps the leading axes of x: (*, in) -> (*, out).
Tensor linear_forward(const Tensor& input, const Tensor& weight, const Tensor& bias) {
    check_linear_arguments(input, weight, bias);
    // exercise 03.1: Linear's forward, y = x Wᵀ + b
    // hint: y has x's shape with the last axis out_features = weight.size(0) (Tensor::empty(shape, input.device())).
    // hint: read x as a (leading_rows(input), in_features) matrix: one backend.matmul with transpose_b
    // hint: reads W (out, in) as Wᵀ in place (get_backend(input.device()); see Backend::matmul's arguments).
    // hint: bias is optional (bias.defined()): add bias[j] to y[r, j] for every row r, e.g. with
    // hint: backend.copy_strided(..., accumulate = true) reading the bias with a row stride of 0.
    const std::int64_t in_features = weight.size(1), out_features = weight.size(0);
    const std::int64_t rows = leading_rows(input);
    Shape out_shape = input.shape();
    out_shape.back() = out_features;

    Backend& backend = get_backend(input.device());
    Tensor out = Tensor::empty(out_shape, input.device());
    backend.matmul(input.data_ptr<float>(), weight.data_ptr<float>(), out.data_ptr<float>(), 1, rows, out_features,
                   in_features, /*transpose_a=*/false, /*transpose_b=*/true, 0, 0);
    if (bias.defined()) {  // out[r, j] += bias[j]: the bias read with row stride 0
        backend.copy_strided(Dtype::Float32, bias.data_ptr<float>(), {0, 1}, 0, out.data_ptr<float>(),
                             {out_features, 1}, 0, {rows, out_features}, /*accumulate=*/true);
    }
    return out;
    // end exercise
}

}  // namespace

// Forward: linear_forward above. Backward, from dy = g (rows, out):
//   dx = g @ W     (rows, out) @ (out, in)
//   dW = gᵀ @ x    (out, rows) @ (rows, in), g read transposed
//   db = Σ_rows g
// Leading axes of x are rows: (*, in) is a (rows, in) matrix without copying.
Tensor linear(const Tensor& input, const Tensor& weight, const Tensor& bias) {
    Tensor out = linear_forward(input, weight, bias);
    const std::int64_t in_features = weight.size(1), out_features = weight.size(0);
    const std::int64_t rows = leading_rows(input);
    const bool has_bias = bias.defined();

    auto backward = [x = SavedTensor(input), w = SavedTensor(weight), has_bias,
                     bias_needs_grad = has_bias && bias.requires_grad(), rows, in_features,
                     out_features](const Tensor& grad_output) -> Grads {
        Backend& device = get_backend(grad_output.device());
        const float* g = grad_output.data_ptr<float>();  // (rows, out_features)
        Tensor grad_input, grad_weight, grad_bias;
        if (x.requires_grad()) {
            grad_input = Tensor::empty(x.shape(), grad_output.device());
            device.matmul(g, w.unpack().data_ptr<float>(), grad_input.data_ptr<float>(), 1, rows, in_features,
                          out_features, false, false, 0, 0);
        }
        if (w.requires_grad()) {
            grad_weight = Tensor::empty(w.shape(), grad_output.device());
            device.matmul(g, x.unpack().data_ptr<float>(), grad_weight.data_ptr<float>(), 1, out_features, in_features,
                          rows, /*transpose_a=*/true, false, 0, 0);
        }
        if (bias_needs_grad) {
            grad_bias = Tensor::empty({out_features}, grad_output.device());
            device.reduce(ReduceOp::Sum, Dtype::Float32, g, {rows, out_features}, {true, false},
                          grad_bias.data_ptr<float>());
        }
        if (!has_bias) return Grads{grad_input, grad_weight};
        return Grads{grad_input, grad_weight, grad_bias};
    };
    if (has_bias) return record("linear", out, {input, weight, bias}, std::move(backward));
    return record("linear", out, {input, weight}, std::move(backward));
}

}  // namespace functional

Linear::Linear(const LinearOptions& options_) : Module("Linear"), options(options_) {
    STEPGRAD_CHECK(options.in_features() >= 0 && options.out_features() >= 0,
                   "Linear: sizes must be non-negative, got in_features=" << options.in_features() << ", out_features="
                                                                          << options.out_features());
    weight = register_parameter("weight", Tensor::empty({options.out_features(), options.in_features()}));
    if (options.bias()) bias = register_parameter("bias", Tensor::empty({options.out_features()}));
    reset_parameters();
}

Linear::Linear(std::int64_t in_features, std::int64_t out_features)
    : Linear(LinearOptions(in_features, out_features)) {}

// PyTorch's reset_parameters: kaiming_uniform_(W, a=sqrt(5)) gives the bound
// gain * sqrt(3 / fan_in) with gain = sqrt(2 / (1 + 5)), i.e. 1 / sqrt(fan_in); the bias uses
// the same bound.
void Linear::reset_parameters() {
    init::kaiming_uniform_(weight, std::sqrt(5.0));
    if (bias.defined()) {
        const double bound =
            options.in_features() > 0 ? 1.0 / std::sqrt(static_cast<double>(options.in_features())) : 0.0;
        init::uniform_(bias, -bound, bound);
    }
}

Tensor Linear::forward(const Tensor& input) { return functional::linear(input, weight, bias); }

void Linear::pretty_print(std::ostream& stream) const {
    stream << "Linear(in_features=" << options.in_features() << ", out_features=" << options.out_features()
           << ", bias=" << (options.bias() ? "True" : "False") << ")";
}

}  // namespace stepgrad::nn
