// The optimizer base: groups, per-parameter state, zero_grad, and the state dict.
#include <stepgrad/optim/optimizer.hpp>

#include "metadata.hpp"
#include "step_checks.hpp"

#include <stepgrad/shared/error.hpp>

#include <algorithm>
#include <cmath>
#include <set>
#include <typeinfo>

namespace stepgrad::optim {

// ---- parameter groups ---------------------------------------------------------------------

OptimizerParamGroup::OptimizerParamGroup(const OptimizerParamGroup& other)
    : params_(other.params_),
      options_(other.options_ ? other.options_->clone() : nullptr),
      initial_lr_(other.initial_lr_) {}

OptimizerParamGroup& OptimizerParamGroup::operator=(const OptimizerParamGroup& other) {
    if (this != &other) {
        params_ = other.params_;
        options_ = other.options_ ? other.options_->clone() : nullptr;
        initial_lr_ = other.initial_lr_;
    }
    return *this;
}

OptimizerOptions& OptimizerParamGroup::options() {
    STEPGRAD_CHECK(options_ != nullptr, "OptimizerParamGroup: this group has no options yet");
    return *options_;
}

const OptimizerOptions& OptimizerParamGroup::options() const {
    STEPGRAD_CHECK(options_ != nullptr, "OptimizerParamGroup: this group has no options yet");
    return *options_;
}

Tensor ParamState::find(const std::string& name) const {
    for (const auto& [key, tensor] : buffers) {
        if (key == name) return tensor;
    }
    return Tensor();
}

void ParamState::set(const std::string& name, Tensor tensor) {
    for (auto& [key, existing] : buffers) {
        if (key == name) {
            existing = std::move(tensor);
            return;
        }
    }
    buffers.emplace_back(name, std::move(tensor));
}

// ---- the optimizer ------------------------------------------------------------------------

Optimizer::Optimizer(std::string type_name, std::unique_ptr<OptimizerOptions> defaults)
    : type_name_(std::move(type_name)), defaults_(std::move(defaults)) {
    defaults_->validate();
}

void Optimizer::add_param_group(const OptimizerParamGroup& group) {
    OptimizerParamGroup added(group.params(), group.has_options() ? group.options().clone() : defaults_->clone());
    const OptimizerOptions& added_options = added.options();
    const OptimizerOptions& defaults = *defaults_;
    STEPGRAD_CHECK(typeid(added_options) == typeid(defaults),
                   type_name_ << ": a parameter group's options are another optimizer's; give it "
                              << type_name_ << "Options");
    added.options().validate();
    std::set<const TensorImpl*> seen;
    for (const OptimizerParamGroup& existing : groups_) {
        for (const Tensor& p : existing.params()) seen.insert(p.impl().get());
    }
    for (std::size_t i = 0; i < added.params().size(); ++i) {
        const Tensor& p = added.params()[i];
        STEPGRAD_CHECK(p.defined(), type_name_ << ": parameter " << i << " of the group is undefined");
        STEPGRAD_CHECK(p.dtype() == Dtype::Float32, type_name_ << ": parameter " << i << " is "
                                                               << to_string(p.dtype())
                                                               << "; only Float32 tensors can be optimized");
        STEPGRAD_CHECK(p.is_leaf(), type_name_ << ": can't optimize a non-leaf Tensor (parameter " << i
                                               << " was computed by an operation; optimize the tensor it came "
                                                  "from, or detach() it and call requires_grad_())");
        STEPGRAD_CHECK(seen.insert(p.impl().get()).second,
                       type_name_ << ": some parameters appear more than once (parameter " << i
                                  << " of the new group); give each parameter to one group only");
    }
    for (std::size_t i = 0; i < added.params().size(); ++i) state_.emplace_back();
    groups_.push_back(std::move(added));
}

void Optimizer::zero_grad(bool set_to_none) {
    NoGradGuard no_grad;
    for (const OptimizerParamGroup& group : groups_) {
        for (Tensor p : group.params()) {
            if (set_to_none) {
                p.set_grad(Tensor());
            } else if (Tensor grad = p.grad(); grad.defined()) {
                grad.zero_();
            }
        }
    }
}

std::size_t Optimizer::parameter_count() const { return state_.size(); }

const ParamState& Optimizer::state(std::size_t index) const {
    STEPGRAD_CHECK(index < state_.size(), type_name_ << ": no parameter " << index << " (it has " << state_.size()
                                                     << ")");
    return state_[index];
}

ParamState& Optimizer::mutable_state(std::size_t index) {
    STEPGRAD_CHECK(index < state_.size(), type_name_ << ": no parameter " << index);
    return state_[index];
}

namespace detail {
Tensor checked_grad(const char* optimizer, const Tensor& param) {
    Tensor grad = param.grad();
    if (!grad.defined()) return grad;
    STEPGRAD_CHECK(grad.shape() == param.shape(), optimizer << ".step: gradient of shape "
                                                            << shape_to_string(grad.shape()) << " for a parameter of shape "
                                                            << shape_to_string(param.shape()));
    stepgrad::detail::check_same_device(optimizer, param, grad);
    stepgrad::detail::check_float(optimizer, grad);
    return grad;
}

void check_before_step(const Optimizer& optimizer) {
    const std::string op = optimizer.type_name() + ".step";
    std::size_t index = 0;  // the parameter's number across groups (its state's key)
    for (const OptimizerParamGroup& group : optimizer.param_groups()) {
        for (const Tensor& param : group.params()) {
            const ParamState& state = optimizer.state(index++);
            if (!checked_grad(op.c_str(), param).defined()) continue;  // skipped by the step
            for (const auto& [name, buffer] : state.buffers) stepgrad::detail::check_same_device(op.c_str(), param, buffer);
        }
    }
}

std::vector<OptimizerParamGroup> single_group(const std::string& type_name, const std::vector<Tensor>& params) {
    STEPGRAD_CHECK(!params.empty(), type_name << ": optimizer got an empty parameter list");
    return {OptimizerParamGroup(params)};
}
}  // namespace detail

// ---- state dict ---------------------------------------------------------------------------

nn::StateDict Optimizer::state_dict() const {
    nn::StateDict out;
    out.metadata["optimizer"] = type_name_;
    std::size_t index = 0;
    for (std::size_t g = 0; g < groups_.size(); ++g) {
        const std::string prefix = "param_groups." + std::to_string(g) + ".";
        std::string numbers;
        for (std::size_t k = 0; k < groups_[g].params().size(); ++k) {
            numbers += (k ? "," : "");
            numbers += std::to_string(index + k);
        }
        out.metadata[prefix + "params"] = numbers;
        groups_[g].options().write(out.metadata, prefix);
        if (groups_[g].initial_lr()) out.metadata[prefix + "initial_lr"] = optim::detail::format_number(*groups_[g].initial_lr());
        index += groups_[g].params().size();
    }
    for (std::size_t i = 0; i < state_.size(); ++i) {
        if (state_[i].empty()) continue;
        const std::string prefix = "state." + std::to_string(i) + ".";
        if (counts_steps()) out.insert(prefix + "step", scalar_tensor(static_cast<double>(state_[i].step)));
        for (const auto& [name, tensor] : state_[i].buffers) out.insert(prefix + name, tensor);
    }
    return out;
}

namespace {

// "state.12.exp_avg" -> (12, "exp_avg"); false for any other shape of name.
bool split_state_name(const std::string& key, std::size_t& index, std::string& name) {
    const std::string head = "state.";
    if (key.rfind(head, 0) != 0) return false;
    const std::size_t dot = key.find('.', head.size());
    if (dot == std::string::npos || dot == head.size() || dot + 1 == key.size()) return false;
    const std::string digits = key.substr(head.size(), dot - head.size());
    if (!std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }) || digits.size() > 9) {
        return false;
    }
    index = static_cast<std::size_t>(std::stoul(digits));
    name = key.substr(dot + 1);
    return true;
}

}  // namespace

void Optimizer::load_state_dict(const nn::StateDict& state) {
    const std::string op = type_name_ + ".load_state_dict";
    // 1. the type and the groups
    const auto type = state.metadata.find("optimizer");
    STEPGRAD_CHECK(type != state.metadata.end(), op << ": the state dict has no 'optimizer' entry; "
                                                       "is it an optimizer's state dict?");
    STEPGRAD_CHECK(type->second == type_name_,
                   op << ": the state dict is a " << type->second << " optimizer's; this optimizer is " << type_name_);
    std::size_t group_count = 0;
    while (state.metadata.count("param_groups." + std::to_string(group_count) + ".params")) ++group_count;
    STEPGRAD_CHECK(group_count == groups_.size(), op << ": the state dict has " << group_count
                                                     << " parameter groups, this optimizer " << groups_.size());
    std::vector<std::unique_ptr<OptimizerOptions>> options;
    std::vector<std::optional<double>> initial_lrs;
    std::vector<std::size_t> group_of;  // parameter index -> group
    for (std::size_t g = 0; g < groups_.size(); ++g) {
        const std::string prefix = "param_groups." + std::to_string(g) + ".";
        const std::vector<double> numbers = optim::detail::read_list(state.metadata, prefix + "params");
        STEPGRAD_CHECK(numbers.size() == groups_[g].params().size(),
                       op << ": parameter group " << g << " has " << numbers.size() << " parameters in the state dict, "
                          << groups_[g].params().size() << " in this optimizer");
        for (std::size_t k = 0; k < numbers.size(); ++k) {
            STEPGRAD_CHECK(numbers[k] == static_cast<double>(group_of.size() + k),
                           op << ": '" << prefix << "params' does not number the parameters in order");
        }
        group_of.insert(group_of.end(), numbers.size(), g);
        options.push_back(groups_[g].options().clone());
        options.back()->read(state.metadata, prefix);
        options.back()->validate();
        const auto initial = state.metadata.find(prefix + "initial_lr");
        initial_lrs.push_back(initial == state.metadata.end()
                                  ? std::nullopt
                                  : std::optional<double>(optim::detail::parse_number(initial->second, prefix + "initial_lr")));
    }
    // 2. the per-parameter state, checked entry by entry
    std::vector<ParamState> loaded(state_.size());
    std::vector<bool> has_step(state_.size(), false);
    const std::vector<std::string> known = known_state_names();
    const std::vector<Tensor> params = [&] {
        std::vector<Tensor> all;
        for (const OptimizerParamGroup& group : groups_) all.insert(all.end(), group.params().begin(), group.params().end());
        return all;
    }();
    for (const auto& [key, tensor] : state) {
        std::size_t index = 0;
        std::string name;
        STEPGRAD_CHECK(split_state_name(key, index, name), op << ": unexpected tensor '" << key
                                                              << "' (state tensors are named state.<i>.<name>)");
        STEPGRAD_CHECK(index < params.size(), op << ": '" << key << "' is for parameter " << index << " but there are only "
                                                 << params.size() << " parameters");
        STEPGRAD_CHECK(tensor.defined(), op << ": '" << key << "' is undefined");
        STEPGRAD_CHECK(tensor.dtype() == Dtype::Float32, op << ": '" << key << "' is " << to_string(tensor.dtype())
                                                            << ", expected " << to_string(Dtype::Float32));
        if (name == "step") {
            STEPGRAD_CHECK(counts_steps(), op << ": unexpected '" << key << "' (" << type_name_ << " counts no steps)");
            STEPGRAD_CHECK(tensor.numel() == 1 && tensor.dim() <= 1,
                           op << ": '" << key << "' has shape " << shape_to_string(tensor.shape()) << ", expected a scalar");
            const auto step = tensor.item<double>();  // a host read, once per parameter when loading
            STEPGRAD_CHECK(step >= 1 && std::floor(step) == step,
                           op << ": '" << key << "' is " << step << ", expected a whole number of steps >= 1");
            loaded[index].step = static_cast<std::int64_t>(step);
            has_step[index] = true;
            continue;
        }
        STEPGRAD_CHECK(std::find(known.begin(), known.end(), name) != known.end(),
                       op << ": unexpected state '" << key << "' (" << type_name_ << " keeps no '" << name << "')");
        STEPGRAD_CHECK(tensor.shape() == params[index].shape(),
                       op << ": '" << key << "' has shape " << shape_to_string(tensor.shape()) << ", parameter " << index
                          << " has shape " << shape_to_string(params[index].shape()));
        loaded[index].set(name, tensor);
    }
    for (std::size_t i = 0; i < loaded.size(); ++i) {
        if (loaded[i].buffers.empty() && !has_step[i]) continue;
        const std::string prefix = "state." + std::to_string(i) + ".";
        STEPGRAD_CHECK(!counts_steps() || has_step[i], op << ": '" << prefix << "step' is missing");
        for (const std::string& name : required_state_names(*options[group_of[i]])) {
            STEPGRAD_CHECK(loaded[i].find(name).defined(), op << ": '" << prefix << name << "' is missing");
        }
    }
    // 3. everything is valid: copy it in (the state dict keeps its own tensors)
    for (std::size_t i = 0; i < loaded.size(); ++i) {
        for (auto& [name, tensor] : loaded[i].buffers) {
            const Tensor source = tensor.detach();
            tensor = source.device() == params[i].device() ? source.clone() : source.to(params[i].device());
        }
    }
    for (std::size_t g = 0; g < groups_.size(); ++g) {
        groups_[g].set_options(std::move(options[g]));
        groups_[g].set_initial_lr(initial_lrs[g]);
    }
    state_ = std::move(loaded);
}

}  // namespace stepgrad::optim
