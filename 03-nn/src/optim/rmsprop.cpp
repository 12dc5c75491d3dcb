// RMSprop from chapter 2's in-place tensor operations, in the order torch.optim.RMSprop
// (_single_tensor_rmsprop, PyTorch 1.13) applies them, so the float rounding matches too.
#include <stepgrad/optim/rmsprop.hpp>

#include "metadata.hpp"
#include "step_checks.hpp"

#include <stepgrad/shared/error.hpp>

namespace stepgrad::optim {

void RMSpropOptions::validate() const {
    STEPGRAD_CHECK(lr_ >= 0.0, "RMSprop: Invalid learning rate: " << lr_);
    STEPGRAD_CHECK(eps_ >= 0.0, "RMSprop: Invalid epsilon value: " << eps_);
    STEPGRAD_CHECK(momentum_ >= 0.0, "RMSprop: Invalid momentum value: " << momentum_);
    STEPGRAD_CHECK(weight_decay_ >= 0.0, "RMSprop: Invalid weight_decay value: " << weight_decay_);
    STEPGRAD_CHECK(alpha_ >= 0.0, "RMSprop: Invalid alpha value: " << alpha_);
}

void RMSpropOptions::write(Metadata& metadata, const std::string& prefix) const {
    metadata[prefix + "lr"] = detail::format_number(lr_);
    metadata[prefix + "alpha"] = detail::format_number(alpha_);
    metadata[prefix + "eps"] = detail::format_number(eps_);
    metadata[prefix + "weight_decay"] = detail::format_number(weight_decay_);
    metadata[prefix + "momentum"] = detail::format_number(momentum_);
    metadata[prefix + "centered"] = centered_ ? "true" : "false";
}

void RMSpropOptions::read(const Metadata& metadata, const std::string& prefix) {
    lr_ = detail::read_number(metadata, prefix + "lr");
    alpha_ = detail::read_number(metadata, prefix + "alpha");
    eps_ = detail::read_number(metadata, prefix + "eps");
    weight_decay_ = detail::read_number(metadata, prefix + "weight_decay");
    momentum_ = detail::read_number(metadata, prefix + "momentum");
    centered_ = detail::read_flag(metadata, prefix + "centered");
}

RMSprop::RMSprop(const std::vector<Tensor>& params, const RMSpropOptions& options)
    : RMSprop(detail::single_group("RMSprop", params), options) {}

RMSprop::RMSprop(const std::vector<OptimizerParamGroup>& groups, const RMSpropOptions& defaults)
    : Optimizer("RMSprop", defaults.clone()) {
    STEPGRAD_CHECK(!groups.empty(), "RMSprop: optimizer got an empty parameter list");
    for (const OptimizerParamGroup& group : groups) add_param_group(group);
}

std::vector<std::string> RMSprop::required_state_names(const OptimizerOptions& options) const {
    const auto& o = static_cast<const RMSpropOptions&>(options);
    std::vector<std::string> names{"square_avg"};
    if (o.momentum() > 0.0) names.emplace_back("momentum_buffer");
    if (o.centered()) names.emplace_back("grad_avg");
    return names;
}

namespace {

// The state tensor `name`, created as zeros of the parameter's shape on first use.
Tensor zero_state(ParamState& state, const std::string& name, const Tensor& param) {
    Tensor buffer = state.find(name);
    if (!buffer.defined()) {
        buffer = zeros(param.shape(), TensorOptions().device(param.device()));
        state.set(name, buffer);
    }
    return buffer;
}

}  // namespace

void RMSprop::step() {
    detail::check_before_step(*this);  // a step that fails changes nothing
    NoGradGuard no_grad;  // the in-place updates of parameters are not recorded
    std::size_t index = 0;
    for (const OptimizerParamGroup& group : param_groups()) {
        const auto& o = static_cast<const RMSpropOptions&>(group.options());
        for (Tensor param : group.params()) {
            ParamState& state = mutable_state(index++);
            Tensor grad = detail::checked_grad("RMSprop", param);
            if (!grad.defined()) continue;  // no gradient: skipped, as in PyTorch
            Tensor square_avg = zero_state(state, "square_avg", param);
            state.step += 1;
            if (o.weight_decay() != 0.0) grad = grad + param * o.weight_decay();  // a new tensor: .grad stays
            // square_avg = alpha * square_avg + (1 - alpha) * g²
            square_avg.mul_(o.alpha()).add_(grad * grad, 1.0 - o.alpha());
            Tensor avg;
            if (o.centered()) {  // subtract the square of the running mean of g: a variance
                Tensor grad_avg = zero_state(state, "grad_avg", param);
                grad_avg.mul_(o.alpha()).add_(grad, 1.0 - o.alpha());
                avg = sqrt(square_avg - grad_avg * grad_avg);
            } else {
                avg = sqrt(square_avg);
            }
            avg = avg + o.eps();
            if (o.momentum() > 0.0) {  // buf = momentum * buf + g / avg;  param -= lr * buf
                Tensor buffer = zero_state(state, "momentum_buffer", param);
                buffer.mul_(o.momentum()).add_(grad / avg);
                param.add_(buffer, -o.lr());
            } else {
                param.add_(grad / avg, -o.lr());
            }
        }
    }
}

}  // namespace stepgrad::optim
