// Batch normalisation: one recorded operation (forward from chapter 2's ops under NoGradGuard,
// closed-form backward), and the BatchNorm1d/2d layers that hold its parameters and buffers.
#include <stepgrad/nn/batchnorm.hpp>
#include "python_repr.hpp"
#include <stepgrad/shared/error.hpp>

#include <cmath>
#include <ostream>
#include <string>

namespace stepgrad::nn {

namespace {

// Checks that `t` (running_mean, weight, ...) is undefined or a Float32 vector of `channels`.
void check_per_channel(const char* name, const Tensor& t, const Tensor& input, std::int64_t channels) {
    if (!t.defined()) return;
    detail::check_float("batch_norm", t);
    detail::check_same_device("batch_norm", input, t);
    STEPGRAD_CHECK(t.dim() == 1 && t.size(0) == channels, "batch_norm: expected " << name << " of shape ["
                                                                                  << channels << "] (one per channel), got "
                                                                                  << shape_to_string(t.shape()));
}
}  // namespace

namespace functional {

// x is viewed as (N, C, L) (L = 1 for (N, C), H*W for images); statistics are over N and L.
// Forward: x̂ = (x - mean) * invstd, invstd = 1 / sqrt(var + eps); y = x̂ * weight + bias.
// Backward, training (mean and var depend on x; n values per channel):
//   grad_x = weight * invstd * (g - Σg / n - x̂ Σ(g x̂) / n);  evaluation: grad_x = g * weight * invstd.
// grad_weight = Σ g x̂, grad_bias = Σ g (sums over N and L).
Tensor batch_norm(const Tensor& input, const Tensor& running_mean, const Tensor& running_var, const Tensor& weight,
                  const Tensor& bias, bool training, double momentum, double eps) {
    detail::check_defined("batch_norm", input);
    detail::check_float("batch_norm", input);
    STEPGRAD_CHECK(input.dim() >= 2, "batch_norm: expected an input of at least 2 axes (N, C, ...), got shape "
                                         << shape_to_string(input.shape()));
    const std::int64_t channels = input.size(1);
    check_per_channel("running_mean", running_mean, input, channels);
    check_per_channel("running_var", running_var, input, channels);
    check_per_channel("weight", weight, input, channels);
    check_per_channel("bias", bias, input, channels);
    STEPGRAD_CHECK(training || (running_mean.defined() && running_var.defined()),
                   "batch_norm: evaluation (training=false) needs running_mean and running_var");
    STEPGRAD_CHECK(running_mean.defined() == running_var.defined(),
                   "batch_norm: give both running_mean and running_var, or neither");
    const Shape stats_shape{1, channels, 1};
    std::int64_t positions = 1;  // L: the product of the axes after C
    for (std::int64_t axis = 2; axis < input.dim(); ++axis) positions *= input.size(axis);
    const Shape x_shape{input.size(0), channels, positions};
    const std::int64_t count = x_shape[0] * x_shape[2];  // values per channel
    STEPGRAD_CHECK(!training || count > 1, "batch_norm: expected more than 1 value per channel when training, got "
                                           "input of shape " << shape_to_string(input.shape()));

    Tensor x_hat, invstd, out;
    {
        NoGradGuard no_grad;
        const Tensor x = input.detach().reshape(x_shape);
        Tensor mean, var;
        if (training) {
            mean = x.mean({0, 2}, /*keepdim=*/true);
            const Tensor centered = x - mean;
            var = (centered * centered).mean({0, 2}, /*keepdim=*/true);  // biased: normalises
            if (running_mean.defined()) {  // unbiased variance in the running average, as PyTorch
                Tensor mean_buffer = running_mean, var_buffer = running_var;  // handles on the same data
                mean_buffer.mul_(1.0 - momentum).add_(mean.reshape({channels}), momentum);
                var_buffer.mul_(1.0 - momentum)
                    .add_(var.reshape({channels}), momentum * static_cast<double>(count) / static_cast<double>(count - 1));
            }
            invstd = 1.0 / sqrt(var + eps);
            x_hat = centered * invstd;
        } else {
            invstd = 1.0 / sqrt(running_var.reshape(stats_shape) + eps);
            x_hat = (x - running_mean.reshape(stats_shape)) * invstd;
        }
        out = x_hat;
        if (weight.defined()) out = out * weight.detach().reshape(stats_shape);
        if (bias.defined()) out = out + bias.detach().reshape(stats_shape);
        out = out.reshape(input.shape());
    }
    const bool needs_input = input.requires_grad();
    const bool needs_weight = weight.defined() && weight.requires_grad();
    const bool needs_bias = bias.defined() && bias.requires_grad();
    return record(
        "batch_norm", out, {input, weight, bias},
        [training, count, channels, needs_input, needs_weight, needs_bias, input_shape = input.shape(),
         saved_x_hat = SavedTensor(x_hat), saved_invstd = SavedTensor(invstd),
         saved_weight = weight.defined() && needs_input ? SavedTensor(weight) : SavedTensor()](
            const Tensor& grad_output) {
            const Tensor g = grad_output.reshape(saved_x_hat.shape());  // (N, C, L)
            const Tensor& normalized = saved_x_hat.unpack();
            const Tensor sum_g = g.sum({0, 2}, /*keepdim=*/true);                 // (1, C, 1)
            const Tensor sum_g_x_hat = (g * normalized).sum({0, 2}, /*keepdim=*/true);
            Tensor grad_input;
            if (needs_input) {
                Tensor scale = saved_invstd.unpack();  // (1, C, 1)
                if (saved_weight.unpack().defined()) scale = scale * saved_weight.unpack().reshape(scale.shape());
                const auto n = static_cast<double>(count);
                grad_input = training ? scale * (g - sum_g / n - normalized * (sum_g_x_hat / n)) : g * scale;
                grad_input = grad_input.reshape(input_shape);
            }
            return Grads{grad_input, needs_weight ? sum_g_x_hat.reshape({channels}) : Tensor(),
                         needs_bias ? sum_g.reshape({channels}) : Tensor()};
        });
}

}  // namespace functional

// ---- the layers ----------------------------------------------------------------------------------

BatchNormBase::BatchNormBase(std::string name, BatchNormOptions options_)
    : Module(std::move(name)), options(options_) {
    const std::int64_t channels = options.num_features();
    STEPGRAD_CHECK(channels > 0, this->name() << ": num_features must be positive, got " << channels);
    STEPGRAD_CHECK(options.eps() >= 0.0, this->name() << ": eps must be non-negative, got " << options.eps());
    if (options.affine()) {
        weight = register_parameter("weight", ones({channels}));
        bias = register_parameter("bias", zeros({channels}));
    }
    if (options.track_running_stats()) {
        running_mean = register_buffer("running_mean", zeros({channels}));
        running_var = register_buffer("running_var", ones({channels}));
        num_batches_tracked = register_buffer("num_batches_tracked", zeros({}, TensorOptions().dtype(Dtype::Int64)));
    }
}

void BatchNormBase::reset_running_stats() {
    if (!options.track_running_stats()) return;
    NoGradGuard no_grad;
    running_mean.zero_();
    running_var.fill_(1.0);
    num_batches_tracked.zero_();
}

void BatchNormBase::reset_parameters() {
    reset_running_stats();
    if (!options.affine()) return;
    NoGradGuard no_grad;
    weight.fill_(1.0);
    bias.zero_();
}

// PyTorch's _BatchNorm.forward: batch statistics in training mode (or whenever there are no
// running statistics), which are then tracked; the running statistics in evaluation mode.
Tensor BatchNormBase::forward(const Tensor& input) {
    detail::check_defined(name().c_str(), input);
    check_input_dim(input);
    STEPGRAD_CHECK(input.size(1) == options.num_features(),
                   name() << ": expected " << options.num_features() << " channels (axis 1), got input of shape "
                          << shape_to_string(input.shape()));
    const bool tracking = options.track_running_stats();
    STEPGRAD_CHECK(!is_training() || input.numel() / input.size(1) > 1,  // checked before anything is counted
                   name() << ": expected more than 1 value per channel when training, got input of shape "
                          << shape_to_string(input.shape()));
    Tensor out = functional::batch_norm(input, running_mean, running_var, weight, bias, is_training() || !tracking,
                                        options.momentum(), options.eps());
    if (is_training() && tracking) {  // num_batches_tracked += 1 once the batch went through, no host read
        NoGradGuard no_grad;
        get_backend(num_batches_tracked.device())
            .unary(UnaryOp::AddScalar, Dtype::Int64, num_batches_tracked.data_ptr(), num_batches_tracked.data_ptr(), 1,
                   1.0);
        detail::mark_modified(num_batches_tracked);
    }
    return out;
}

void BatchNormBase::pretty_print(std::ostream& stream) const {
    stream << name() << "(" << options.num_features() << ", eps=" << repr::python_float(options.eps())
           << ", momentum=" << repr::python_float(options.momentum()) << ", affine=" << (options.affine() ? "True" : "False")
           << ", track_running_stats=" << (options.track_running_stats() ? "True" : "False") << ")";
}

BatchNorm1d::BatchNorm1d(BatchNormOptions options_) : BatchNormBase("BatchNorm1d", options_) {}

void BatchNorm1d::check_input_dim(const Tensor& input) const {
    STEPGRAD_CHECK(input.dim() == 2 || input.dim() == 3, "BatchNorm1d: expected a 2-D (N, C) or 3-D (N, C, L) input, "
                                                         "got shape " << shape_to_string(input.shape()));
}

BatchNorm2d::BatchNorm2d(BatchNormOptions options_) : BatchNormBase("BatchNorm2d", options_) {}

void BatchNorm2d::check_input_dim(const Tensor& input) const {
    STEPGRAD_CHECK(input.dim() == 4, "BatchNorm2d: expected a 4-D (N, C, H, W) input, got shape "
                                         << shape_to_string(input.shape()));
}

}  // namespace stepgrad::nn
