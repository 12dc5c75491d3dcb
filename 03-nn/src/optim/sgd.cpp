// SGD on the backend's fused kernel: one pass over each parameter, its gradient and its buffer.
#include <stepgrad/optim/sgd.hpp>

#include "metadata.hpp"
#include "step_checks.hpp"

#include <stepgrad/shared/error.hpp>

namespace stepgrad::optim {

void SGDOptions::validate() const {
    STEPGRAD_CHECK(lr_ >= 0.0, "SGD: Invalid learning rate: " << lr_);
    STEPGRAD_CHECK(momentum_ >= 0.0, "SGD: Invalid momentum value: " << momentum_);
    STEPGRAD_CHECK(weight_decay_ >= 0.0, "SGD: Invalid weight_decay value: " << weight_decay_);
    STEPGRAD_CHECK(!nesterov_ || (momentum_ > 0.0 && dampening_ == 0.0),
                   "SGD: Nesterov momentum requires a momentum and zero dampening (got momentum "
                       << momentum_ << ", dampening " << dampening_ << ")");
}

void SGDOptions::write(Metadata& metadata, const std::string& prefix) const {
    metadata[prefix + "lr"] = detail::format_number(lr_);
    metadata[prefix + "momentum"] = detail::format_number(momentum_);
    metadata[prefix + "dampening"] = detail::format_number(dampening_);
    metadata[prefix + "weight_decay"] = detail::format_number(weight_decay_);
    metadata[prefix + "nesterov"] = nesterov_ ? "true" : "false";
}

void SGDOptions::read(const Metadata& metadata, const std::string& prefix) {
    lr_ = detail::read_number(metadata, prefix + "lr");
    momentum_ = detail::read_number(metadata, prefix + "momentum");
    dampening_ = detail::read_number(metadata, prefix + "dampening");
    weight_decay_ = detail::read_number(metadata, prefix + "weight_decay");
    nesterov_ = detail::read_flag(metadata, prefix + "nesterov");
}

SGD::SGD(const std::vector<Tensor>& params, const SGDOptions& options)
    : SGD(detail::single_group("SGD", params), options) {}

SGD::SGD(const std::vector<OptimizerParamGroup>& groups, const SGDOptions& defaults)
    : Optimizer("SGD", defaults.clone()) {
    STEPGRAD_CHECK(!groups.empty(), "SGD: optimizer got an empty parameter list");
    for (const OptimizerParamGroup& group : groups) add_param_group(group);
}

std::vector<std::string> SGD::required_state_names(const OptimizerOptions& /*options*/) const {
    return {"momentum_buffer"};  // SGD keeps state only once it has a buffer
}

void SGD::step() {
    detail::check_before_step(*this);  // a step that fails changes nothing
    NoGradGuard no_grad;
    std::size_t index = 0;  // the parameter's number across groups (its state's key)
    for (const OptimizerParamGroup& group : param_groups()) {
        const auto& options = static_cast<const SGDOptions&>(group.options());
        for (const Tensor& param : group.params()) {
            ParamState& state = mutable_state(index++);
            const Tensor grad = detail::checked_grad("SGD", param);
            if (!grad.defined()) continue;  // no gradient: skipped, as in PyTorch
            SgdUpdate update;
            update.lr = static_cast<float>(options.lr());
            update.momentum = static_cast<float>(options.momentum());
            update.dampening = static_cast<float>(options.dampening());
            update.weight_decay = static_cast<float>(options.weight_decay());
            update.nesterov = options.nesterov();
            Tensor buffer;
            if (options.momentum() != 0.0) {
                buffer = state.find("momentum_buffer");
                update.first_step = !buffer.defined();  // the kernel writes buf = g on the first step
                if (update.first_step) {
                    buffer = Tensor::empty(param.shape(), param.device());
                    state.set("momentum_buffer", buffer);
                }
                stepgrad::detail::check_same_device("SGD.step", param, buffer);
            }
            get_backend(param.device())
                .sgd_step(param.data_ptr<float>(), grad.data_ptr<float>(),
                          buffer.defined() ? buffer.data_ptr<float>() : nullptr, param.numel(), update);
            stepgrad::detail::mark_modified(param);
            if (buffer.defined()) stepgrad::detail::mark_modified(buffer);
        }
    }
}

}  // namespace stepgrad::optim
