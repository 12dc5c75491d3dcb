// nn::init: PyTorch's initialisations. Each draws new values on the tensor's device from the
// default generator and copies them into the tensor under NoGradGuard (so parameters that
// require grad can be filled), then returns the same handle.
#include <stepgrad/nn/init.hpp>
#include <stepgrad/shared/error.hpp>
#include <stepgrad/shared/random.hpp>

#include <cmath>

namespace stepgrad::nn::init {

namespace {

void check_fillable(const char* op, const Tensor& tensor) {
    detail::check_defined(op, tensor);
    detail::check_float(op, tensor);
}

// Copies `values` into `tensor` without recording (an initialisation is not part of the graph).
Tensor fill_with(const Tensor& tensor, const Tensor& values) {
    NoGradGuard no_grad;
    Tensor(tensor).copy_(values);
    return tensor;
}

std::int64_t fan_for(const char* op, const Tensor& tensor, FanMode mode) {
    const auto [fan_in, fan_out] = calculate_fan_in_and_fan_out(tensor);
    const std::int64_t fan = mode == FanMode::FanIn ? fan_in : fan_out;
    STEPGRAD_CHECK(fan > 0, op << ": the fan of a tensor of shape " << shape_to_string(tensor.shape())
                               << " is 0, so its scale 1/sqrt(fan) is undefined");
    return fan;
}

}  // namespace

double calculate_gain(Nonlinearity nonlinearity, double param) {
    switch (nonlinearity) {
        case Nonlinearity::Linear:
        case Nonlinearity::Conv2d:
        case Nonlinearity::Sigmoid:
            return 1.0;
        case Nonlinearity::Tanh:
            return 5.0 / 3.0;
        case Nonlinearity::ReLU:
            return std::sqrt(2.0);
        case Nonlinearity::LeakyReLU:
            return std::sqrt(2.0 / (1.0 + param * param));
        case Nonlinearity::SELU:
            return 3.0 / 4.0;
    }
    return 1.0;
}

std::pair<std::int64_t, std::int64_t> calculate_fan_in_and_fan_out(const Tensor& tensor) {
    detail::check_defined("calculate_fan_in_and_fan_out", tensor);
    STEPGRAD_CHECK(tensor.dim() >= 2,
                   "calculate_fan_in_and_fan_out: needs a tensor with at least 2 dimensions "
                   "(a weight), got shape "
                       << shape_to_string(tensor.shape()));
    // weight (out, in, k1, k2, ...): each output sums in * k1 * k2 * ... inputs.
    std::int64_t receptive_field = 1;
    for (std::int64_t axis = 2; axis < tensor.dim(); ++axis) receptive_field *= tensor.size(axis);
    return {tensor.size(1) * receptive_field, tensor.size(0) * receptive_field};
}

Tensor uniform_(const Tensor& tensor, double low, double high) {
    check_fillable("uniform_", tensor);
    STEPGRAD_CHECK(low <= high, "uniform_: low (" << low << ") must not exceed high (" << high << ")");
    const TensorOptions on_device = TensorOptions().device(tensor.device());
    return fill_with(tensor, stepgrad::uniform(tensor.shape(), low, high, default_generator(), on_device));
}

Tensor normal_(const Tensor& tensor, double mean, double stddev) {
    check_fillable("normal_", tensor);
    STEPGRAD_CHECK(stddev >= 0.0, "normal_: the standard deviation must be non-negative, got " << stddev);
    NoGradGuard no_grad;
    const Tensor standard =
        stepgrad::randn(tensor.shape(), default_generator(), TensorOptions().device(tensor.device()));
    return fill_with(tensor, standard * stddev + mean);
}

Tensor constant_(const Tensor& tensor, double value) {
    check_fillable("constant_", tensor);
    NoGradGuard no_grad;
    Tensor(tensor).fill_(value);
    return tensor;
}

Tensor zeros_(const Tensor& tensor) { return constant_(tensor, 0.0); }

Tensor ones_(const Tensor& tensor) { return constant_(tensor, 1.0); }

// Var(U(-b, b)) = b^2 / 3, so b = sqrt(3) * std.
Tensor xavier_uniform_(const Tensor& tensor, double gain) {
    check_fillable("xavier_uniform_", tensor);
    const auto [fan_in, fan_out] = calculate_fan_in_and_fan_out(tensor);
    STEPGRAD_CHECK(fan_in + fan_out > 0, "xavier_uniform_: empty weight of shape " << shape_to_string(tensor.shape()));
    const double stddev = gain * std::sqrt(2.0 / static_cast<double>(fan_in + fan_out));
    const double bound = std::sqrt(3.0) * stddev;
    return uniform_(tensor, -bound, bound);
}

Tensor xavier_normal_(const Tensor& tensor, double gain) {
    check_fillable("xavier_normal_", tensor);
    const auto [fan_in, fan_out] = calculate_fan_in_and_fan_out(tensor);
    STEPGRAD_CHECK(fan_in + fan_out > 0, "xavier_normal_: empty weight of shape " << shape_to_string(tensor.shape()));
    return normal_(tensor, 0.0, gain * std::sqrt(2.0 / static_cast<double>(fan_in + fan_out)));
}

Tensor kaiming_uniform_(const Tensor& tensor, double a, FanMode mode, Nonlinearity nonlinearity) {
    check_fillable("kaiming_uniform_", tensor);
    if (tensor.numel() == 0) return tensor;  // as PyTorch: nothing to fill
    const double stddev =
        calculate_gain(nonlinearity, a) / std::sqrt(static_cast<double>(fan_for("kaiming_uniform_", tensor, mode)));
    const double bound = std::sqrt(3.0) * stddev;
    return uniform_(tensor, -bound, bound);
}

Tensor kaiming_normal_(const Tensor& tensor, double a, FanMode mode, Nonlinearity nonlinearity) {
    check_fillable("kaiming_normal_", tensor);
    if (tensor.numel() == 0) return tensor;
    const double stddev =
        calculate_gain(nonlinearity, a) / std::sqrt(static_cast<double>(fan_for("kaiming_normal_", tensor, mode)));
    return normal_(tensor, 0.0, stddev);
}

}  // namespace stepgrad::nn::init
