// Adam and AdamW on the backend's fused kernel; they differ only in where weight decay goes
// (AdamVariant below), so their options and their step are written once.
#include <stepgrad/optim/adam.hpp>

#include "metadata.hpp"
#include "step_checks.hpp"

#include <stepgrad/shared/error.hpp>

namespace stepgrad::optim {
namespace {

// What tells Adam from AdamW, in one place: the name in messages and the state dict, and where
// weight decay goes (decoupled: `param *= 1 - lr * weight_decay`; otherwise added to the gradient).
template <class Options>
struct AdamVariant;
template <>
struct AdamVariant<AdamOptions> {
    static constexpr const char* name = "Adam";
    static constexpr bool decoupled_weight_decay = false;
};
template <>
struct AdamVariant<AdamWOptions> {
    static constexpr const char* name = "AdamW";
    static constexpr bool decoupled_weight_decay = true;
};

// One Adam(W) update of one parameter: the moments start at zero, the step count goes up first
// (bias correction uses t = 1 on the first step).
template <class Options>
void adam_update(const Tensor& param, ParamState& state, const Options& options) {
    const char* name = AdamVariant<Options>::name;
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
    update.decoupled_weight_decay = AdamVariant<Options>::decoupled_weight_decay;
    update.step = state.step;
    get_backend(param.device())
        .adam_step(param.data_ptr<float>(), grad.data_ptr<float>(), exp_avg.data_ptr<float>(),
                   exp_avg_sq.data_ptr<float>(), param.numel(), update);
    stepgrad::detail::mark_modified(param);
    stepgrad::detail::mark_modified(exp_avg);
    stepgrad::detail::mark_modified(exp_avg_sq);
}

// One Adam(W) step: every parameter of every group, numbered across groups (`state_at(i)` is
// the optimizer's mutable_state, which only the optimizer can reach).
template <class Options, class StateAt>
void adam_step_groups(const std::vector<OptimizerParamGroup>& groups, StateAt state_at) {
    NoGradGuard no_grad;
    std::size_t index = 0;
    for (const OptimizerParamGroup& group : groups) {
        const auto& options = static_cast<const Options&>(group.options());
        for (const Tensor& param : group.params()) adam_update(param, state_at(index++), options);
    }
}

// The constructors' common part: at least one group, each added (and checked) in order.
void add_groups(Optimizer& optimizer, const std::vector<OptimizerParamGroup>& groups) {
    STEPGRAD_CHECK(!groups.empty(), optimizer.type_name() << ": optimizer got an empty parameter list");
    for (const OptimizerParamGroup& group : groups) optimizer.add_param_group(group);
}

}  // namespace

template <class Derived>
void AdamFamilyOptions<Derived>::validate() const {
    const char* name = AdamVariant<Derived>::name;
    const auto [beta1, beta2] = betas_;
    STEPGRAD_CHECK(lr_ >= 0.0, name << ": Invalid learning rate: " << lr_);
    STEPGRAD_CHECK(eps_ >= 0.0, name << ": Invalid epsilon value: " << eps_);
    STEPGRAD_CHECK(beta1 >= 0.0 && beta1 < 1.0, name << ": Invalid beta parameter at index 0: " << beta1);
    STEPGRAD_CHECK(beta2 >= 0.0 && beta2 < 1.0, name << ": Invalid beta parameter at index 1: " << beta2);
    STEPGRAD_CHECK(weight_decay_ >= 0.0, name << ": Invalid weight_decay value: " << weight_decay_);
    STEPGRAD_CHECK(!amsgrad_, name << ": amsgrad=true is not implemented; use amsgrad(false)");
}

template <class Derived>
void AdamFamilyOptions<Derived>::write(Metadata& metadata, const std::string& prefix) const {
    metadata[prefix + "lr"] = detail::format_number(lr_);
    metadata[prefix + "betas"] = detail::format_list({std::get<0>(betas_), std::get<1>(betas_)});
    metadata[prefix + "eps"] = detail::format_number(eps_);
    metadata[prefix + "weight_decay"] = detail::format_number(weight_decay_);
    metadata[prefix + "amsgrad"] = amsgrad_ ? "true" : "false";
}

template <class Derived>
void AdamFamilyOptions<Derived>::read(const Metadata& metadata, const std::string& prefix) {
    const std::vector<double> betas = detail::read_list(metadata, prefix + "betas");
    STEPGRAD_CHECK(betas.size() == 2, "load_state_dict: '" << prefix << "betas' has " << betas.size()
                                                           << " numbers, expected 2");
    lr_ = detail::read_number(metadata, prefix + "lr");
    betas_ = {betas[0], betas[1]};
    eps_ = detail::read_number(metadata, prefix + "eps");
    weight_decay_ = detail::read_number(metadata, prefix + "weight_decay");
    amsgrad_ = detail::read_flag(metadata, prefix + "amsgrad");
}

// The only two instantiations (the header declares them extern).
template class AdamFamilyOptions<AdamOptions>;
template class AdamFamilyOptions<AdamWOptions>;

Adam::Adam(const std::vector<Tensor>& params, const AdamOptions& options)
    : Adam(detail::single_group(AdamVariant<AdamOptions>::name, params), options) {}

Adam::Adam(const std::vector<OptimizerParamGroup>& groups, const AdamOptions& defaults)
    : Optimizer(AdamVariant<AdamOptions>::name, defaults.clone()) {
    add_groups(*this, groups);
}

std::vector<std::string> Adam::required_state_names(const OptimizerOptions& /*options*/) const {
    return known_state_names();  // both moments, from the first step on
}

void Adam::step() {
    detail::check_before_step(*this);  // a step that fails changes nothing
    adam_step_groups<AdamOptions>(param_groups(), [this](std::size_t i) -> ParamState& { return mutable_state(i); });
}

AdamW::AdamW(const std::vector<Tensor>& params, const AdamWOptions& options)
    : AdamW(detail::single_group(AdamVariant<AdamWOptions>::name, params), options) {}

AdamW::AdamW(const std::vector<OptimizerParamGroup>& groups, const AdamWOptions& defaults)
    : Optimizer(AdamVariant<AdamWOptions>::name, defaults.clone()) {
    add_groups(*this, groups);
}

std::vector<std::string> AdamW::required_state_names(const OptimizerOptions& /*options*/) const {
    return known_state_names();  // both moments, from the first step on
}

void AdamW::step() {
    detail::check_before_step(*this);  // a step that fails changes nothing
    adam_step_groups<AdamWOptions>(param_groups(), [this](std::size_t i) -> ParamState& { return mutable_state(i); });
}

}  // namespace stepgrad::optim
