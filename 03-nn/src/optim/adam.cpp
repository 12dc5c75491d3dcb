// Adam and AdamW on the backend's fused kernel; they differ only in where weight decay goes.
#include <stepgrad/optim/adam.hpp>

#include "metadata.hpp"

#include <stepgrad/shared/error.hpp>

namespace stepgrad::optim {
namespace {

// The checks and the metadata of Adam's and AdamW's options are the same; `name` says whose.
template <class Options>
void validate_adam(const char* name, const Options& o) {
    const auto [beta1, beta2] = o.betas();
    STEPGRAD_CHECK(o.lr() >= 0.0, name << ": Invalid learning rate: " << o.lr());
    STEPGRAD_CHECK(o.eps() >= 0.0, name << ": Invalid epsilon value: " << o.eps());
    STEPGRAD_CHECK(beta1 >= 0.0 && beta1 < 1.0, name << ": Invalid beta parameter at index 0: " << beta1);
    STEPGRAD_CHECK(beta2 >= 0.0 && beta2 < 1.0, name << ": Invalid beta parameter at index 1: " << beta2);
    STEPGRAD_CHECK(o.weight_decay() >= 0.0, name << ": Invalid weight_decay value: " << o.weight_decay());
    STEPGRAD_CHECK(!o.amsgrad(), name << ": amsgrad=true is not implemented; use amsgrad(false)");
}

template <class Options>
void write_adam(const Options& o, Metadata& metadata, const std::string& prefix) {
    metadata[prefix + "lr"] = detail::format_number(o.lr());
    metadata[prefix + "betas"] = detail::format_list({std::get<0>(o.betas()), std::get<1>(o.betas())});
    metadata[prefix + "eps"] = detail::format_number(o.eps());
    metadata[prefix + "weight_decay"] = detail::format_number(o.weight_decay());
    metadata[prefix + "amsgrad"] = o.amsgrad() ? "true" : "false";
}

template <class Options>
void read_adam(Options& o, const Metadata& metadata, const std::string& prefix) {
    const std::vector<double> betas = detail::read_list(metadata, prefix + "betas");
    STEPGRAD_CHECK(betas.size() == 2, "load_state_dict: '" << prefix << "betas' has " << betas.size()
                                                           << " numbers, expected 2");
    o.lr(detail::read_number(metadata, prefix + "lr"))
        .betas({betas[0], betas[1]})
        .eps(detail::read_number(metadata, prefix + "eps"))
        .weight_decay(detail::read_number(metadata, prefix + "weight_decay"))
        .amsgrad(detail::read_flag(metadata, prefix + "amsgrad"));
}

// One Adam(W) update of one parameter: the moments start at zero, the step count goes up first
// (bias correction uses t = 1 on the first step).
template <class Options>
void adam_update(const char* name, const Tensor& param, ParamState& state, const Options& options, bool decoupled) {
    const Tensor grad = detail::checked_grad(name, param);
    if (!grad.defined()) return;  // no gradient: skipped, as in PyTorch
    Tensor exp_avg = state.find("exp_avg");
    if (!exp_avg.defined()) {
        exp_avg = zeros(param.shape(), TensorOptions().device(param.device()));
        state.set("exp_avg", exp_avg);
    }
    Tensor exp_avg_sq = state.find("exp_avg_sq");
    if (!exp_avg_sq.defined()) {
        exp_avg_sq = zeros(param.shape(), TensorOptions().device(param.device()));
        state.set("exp_avg_sq", exp_avg_sq);
    }
    stepgrad::detail::check_same_device(name, param, exp_avg);
    state.step += 1;
    AdamUpdate update;
    update.lr = static_cast<float>(options.lr());
    update.beta1 = static_cast<float>(std::get<0>(options.betas()));
    update.beta2 = static_cast<float>(std::get<1>(options.betas()));
    update.eps = static_cast<float>(options.eps());
    update.weight_decay = static_cast<float>(options.weight_decay());
    update.decoupled_weight_decay = decoupled;
    update.step = state.step;
    get_backend(param.device())
        .adam_step(param.data_ptr<float>(), grad.data_ptr<float>(), exp_avg.data_ptr<float>(),
                   exp_avg_sq.data_ptr<float>(), param.numel(), update);
    stepgrad::detail::mark_modified(param);
    stepgrad::detail::mark_modified(exp_avg);
    stepgrad::detail::mark_modified(exp_avg_sq);
}

}  // namespace

void AdamOptions::validate() const { validate_adam("Adam", *this); }
void AdamOptions::write(Metadata& metadata, const std::string& prefix) const { write_adam(*this, metadata, prefix); }
void AdamOptions::read(const Metadata& metadata, const std::string& prefix) { read_adam(*this, metadata, prefix); }
void AdamWOptions::validate() const { validate_adam("AdamW", *this); }
void AdamWOptions::write(Metadata& metadata, const std::string& prefix) const { write_adam(*this, metadata, prefix); }
void AdamWOptions::read(const Metadata& metadata, const std::string& prefix) { read_adam(*this, metadata, prefix); }

Adam::Adam(const std::vector<Tensor>& params, const AdamOptions& options)
    : Adam(std::vector<OptimizerParamGroup>{OptimizerParamGroup(params)}, options) {}

Adam::Adam(const std::vector<OptimizerParamGroup>& groups, const AdamOptions& defaults)
    : Optimizer("Adam", defaults.clone()) {
    STEPGRAD_CHECK(!groups.empty(), "Adam: optimizer got an empty parameter list");
    for (const OptimizerParamGroup& group : groups) add_param_group(group);
}

std::vector<std::string> Adam::required_state_names(const OptimizerOptions& /*options*/) const {
    return {"exp_avg", "exp_avg_sq"};
}

void Adam::step() {
    NoGradGuard no_grad;
    std::size_t index = 0;
    for (const OptimizerParamGroup& group : param_groups()) {
        const auto& options = static_cast<const AdamOptions&>(group.options());
        for (const Tensor& param : group.params()) adam_update("Adam", param, mutable_state(index++), options, false);
    }
}

AdamW::AdamW(const std::vector<Tensor>& params, const AdamWOptions& options)
    : AdamW(std::vector<OptimizerParamGroup>{OptimizerParamGroup(params)}, options) {}

AdamW::AdamW(const std::vector<OptimizerParamGroup>& groups, const AdamWOptions& defaults)
    : Optimizer("AdamW", defaults.clone()) {
    STEPGRAD_CHECK(!groups.empty(), "AdamW: optimizer got an empty parameter list");
    for (const OptimizerParamGroup& group : groups) add_param_group(group);
}

std::vector<std::string> AdamW::required_state_names(const OptimizerOptions& /*options*/) const {
    return {"exp_avg", "exp_avg_sq"};
}

void AdamW::step() {
    NoGradGuard no_grad;
    std::size_t index = 0;
    for (const OptimizerParamGroup& group : param_groups()) {
        const auto& options = static_cast<const AdamWOptions&>(group.options());
        for (const Tensor& param : group.params()) adam_update("AdamW", param, mutable_state(index++), options, true);
    }
}

}  // namespace stepgrad::optim
