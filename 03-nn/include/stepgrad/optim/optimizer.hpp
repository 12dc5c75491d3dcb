#pragma once
/// @file optimizer.hpp
/// @brief `optim::Optimizer`: parameter groups with their own options, per-parameter state,
/// `step()`, `zero_grad()` and a state dict, as `torch::optim::Optimizer`.
///
/// An optimizer holds *handles* to the parameters (the same tensors the layers hold), so
/// `step()` changes the model in place. Its state (momentum buffers, Adam's moments, step
/// counts) is kept per parameter and numbered as PyTorch numbers it: parameter 0 is the first
/// parameter of the first group, counting on through the groups.
#include <stepgrad/nn/state_dict.hpp>
#include <stepgrad/tensor.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace stepgrad::optim {

/// @brief String metadata of a state dict (hyperparameters written as text).
using Metadata = std::map<std::string, std::string>;

/// @brief The hyperparameters of one parameter group (LibTorch's `OptimizerOptions`); each
/// optimizer derives its own (`SGDOptions`, `AdamOptions`, ...).
///
/// Schedulers change a group's learning rate through `set_lr`, and OneCycleLR its momentum
/// through `set_momentum` (SGD's and RMSprop's `momentum`, Adam's `beta1`).
class OptimizerOptions {
public:
    virtual ~OptimizerOptions() = default;
    /// @brief A copy of these options with the same dynamic type.
    [[nodiscard]] virtual std::unique_ptr<OptimizerOptions> clone() const = 0;
    /// @brief The learning rate.
    [[nodiscard]] virtual double get_lr() const = 0;
    /// @brief Sets the learning rate (what an LR scheduler calls).
    virtual void set_lr(double lr) = 0;
    /// @brief Whether there is a momentum that OneCycleLR can cycle (PyTorch: `momentum` or `betas`).
    [[nodiscard]] virtual bool has_momentum() const { return false; }
    /// @brief The momentum (SGD, RMSprop) or beta1 (Adam, AdamW); 0 when there is none.
    [[nodiscard]] virtual double get_momentum() const { return 0.0; }
    /// @brief Sets the momentum (SGD, RMSprop) or beta1 (Adam, AdamW).
    virtual void set_momentum(double /*momentum*/) {}
    /// @brief Throws std::invalid_argument when a value is out of range, with PyTorch's words
    /// (e.g. "Invalid learning rate: -1").
    virtual void validate() const = 0;
    /// @brief Writes every hyperparameter under `prefix` (e.g. `param_groups.0.`): numbers with
    /// 17 significant digits (exact for a double), flags as `true`/`false`.
    virtual void write(Metadata& metadata, const std::string& prefix) const = 0;
    /// @brief Reads every hyperparameter from `prefix`; throws std::invalid_argument naming the key
    /// when one is missing or malformed.
    virtual void read(const Metadata& metadata, const std::string& prefix) = 0;

protected:
    OptimizerOptions() = default;
    OptimizerOptions(const OptimizerOptions&) = default;             ///< copied by clone()
    OptimizerOptions& operator=(const OptimizerOptions&) = default;  ///< copied by clone()
};

/// @brief Some parameters and the options they are trained with (LibTorch's
/// `OptimizerParamGroup`), e.g. a smaller learning rate for a pretrained backbone.
///
/// Example:
/// @code
/// std::vector<stepgrad::optim::OptimizerParamGroup> groups;
/// groups.emplace_back(backbone->parameters(), std::make_unique<stepgrad::optim::SGDOptions>(0.001));
/// groups.emplace_back(head->parameters());  // the optimizer's default options
/// stepgrad::optim::SGD optimizer(groups, stepgrad::optim::SGDOptions(0.1).momentum(0.9));
/// @endcode
class OptimizerParamGroup {
public:
    /// @brief A group of `params` that takes the optimizer's default options.
    explicit OptimizerParamGroup(std::vector<Tensor> params) : params_(std::move(params)) {}
    /// @brief A group of `params` with its own `options` (of the optimizer's options type).
    OptimizerParamGroup(std::vector<Tensor> params, std::unique_ptr<OptimizerOptions> options)
        : params_(std::move(params)), options_(std::move(options)) {}
    /// @brief A copy with its own copy of the options.
    OptimizerParamGroup(const OptimizerParamGroup& other);
    /// @brief Copies `other`, options included.
    OptimizerParamGroup& operator=(const OptimizerParamGroup& other);
    OptimizerParamGroup(OptimizerParamGroup&&) = default;             ///< moves the options
    OptimizerParamGroup& operator=(OptimizerParamGroup&&) = default;  ///< moves the options
    ~OptimizerParamGroup() = default;

    /// @brief Whether the group has options (always true once inside an optimizer).
    [[nodiscard]] bool has_options() const { return options_ != nullptr; }
    /// @brief The group's options; set their lr to change this group's learning rate.
    [[nodiscard]] OptimizerOptions& options();
    /// @brief The group's options (read only).
    [[nodiscard]] const OptimizerOptions& options() const;
    /// @brief Replaces the group's options.
    void set_options(std::unique_ptr<OptimizerOptions> options) { options_ = std::move(options); }
    /// @brief The parameters (handles shared with the model).
    [[nodiscard]] const std::vector<Tensor>& params() const { return params_; }
    /// @brief The learning rate the first LR scheduler found (PyTorch's `group['initial_lr']`), if any.
    [[nodiscard]] std::optional<double> initial_lr() const { return initial_lr_; }
    /// @brief Sets (or, with nullopt, clears) `initial_lr`, the base of every scheduler's schedule.
    void set_initial_lr(std::optional<double> lr) { initial_lr_ = lr; }

private:
    std::vector<Tensor> params_;
    std::unique_ptr<OptimizerOptions> options_;
    std::optional<double> initial_lr_;
};

/// @brief What an optimizer remembers about one parameter: named tensors of the parameter's
/// shape (`momentum_buffer`, `exp_avg`, ...) and, for Adam and RMSprop, a step count.
struct ParamState {
    std::int64_t step = 0;                              ///< updates so far (Adam's bias correction)
    std::vector<std::pair<std::string, Tensor>> buffers;  ///< named state tensors, in creation order

    /// @brief The buffer named `name`, or an undefined tensor.
    [[nodiscard]] Tensor find(const std::string& name) const;
    /// @brief Adds (or replaces) the buffer `name`.
    void set(const std::string& name, Tensor tensor);
    /// @brief Whether nothing is stored yet (the parameter has never been updated).
    [[nodiscard]] bool empty() const { return step == 0 && buffers.empty(); }
};

/// @brief The base of every optimizer (LibTorch's `torch::optim::Optimizer`).
///
/// Subclasses implement `step()`. The base holds the groups and the per-parameter state, and
/// writes and reads the state dict:
/// - tensors `state.<i>.<name>` for parameter i (numbered across groups, as PyTorch numbers
///   them): `momentum_buffer`, `exp_avg`, `exp_avg_sq`, `square_avg`, `grad_avg`, and `step`
///   (a Float32 scalar, as PyTorch stores it) for optimizers that count steps;
/// - metadata `optimizer` (the type, e.g. `SGD`), `param_groups.<g>.params` (the parameter
///   numbers, e.g. `0,1,2`), `param_groups.<g>.<hyperparameter>` and `param_groups.<g>.initial_lr`
///   when a scheduler set it.
class Optimizer {
public:
    virtual ~Optimizer() = default;
    Optimizer(const Optimizer&) = delete;             ///< an optimizer owns its state
    Optimizer& operator=(const Optimizer&) = delete;  ///< an optimizer owns its state

    /// @brief Updates every parameter that has a gradient (those without one are skipped).
    virtual void step() = 0;

    /// @brief Clears every parameter's gradient: to none (the default, as in PyTorch 2: the next
    /// backward allocates it afresh) or, with `set_to_none = false`, to zeros in place.
    void zero_grad(bool set_to_none = true);

    /// @brief Adds a group of parameters; without options it takes the optimizer's defaults.
    /// Throws std::invalid_argument for a parameter that is undefined, not Float32, not a leaf,
    /// or already in the optimizer, and for options of another optimizer's type or out of range.
    void add_param_group(const OptimizerParamGroup& group);

    /// @brief The groups; `param_groups()[g].options().set_lr(x)` changes a group's learning rate.
    [[nodiscard]] std::vector<OptimizerParamGroup>& param_groups() { return groups_; }
    /// @brief The groups (read only).
    [[nodiscard]] const std::vector<OptimizerParamGroup>& param_groups() const { return groups_; }
    /// @brief The options new groups take when they bring none.
    [[nodiscard]] const OptimizerOptions& defaults() const { return *defaults_; }
    /// @brief The optimizer's type name, e.g. "SGD" (written to the state dict).
    [[nodiscard]] const std::string& type_name() const { return type_name_; }
    /// @brief How many parameters, over all groups.
    [[nodiscard]] std::size_t parameter_count() const;
    /// @brief The state of parameter `index` (numbered across groups).
    [[nodiscard]] const ParamState& state(std::size_t index) const;

    /// @brief The optimizer's state as PyTorch's `optimizer.state_dict()` flattened (see the class
    /// comment). The state tensors are shared with the optimizer, as in PyTorch: clone them to
    /// keep a snapshot while training goes on.
    [[nodiscard]] nn::StateDict state_dict() const;
    /// @brief Restores groups' hyperparameters and the per-parameter state from `state` (copies).
    ///
    /// Everything is checked first (type, number of groups and of parameters per group, every
    /// hyperparameter, every tensor's name, shape and dtype, step counts), so a bad state dict
    /// throws std::invalid_argument naming the problem and leaves the optimizer unchanged.
    /// State tensors move to their parameter's device.
    void load_state_dict(const nn::StateDict& state);

protected:
    /// @brief An optimizer named `type_name` with `defaults` for groups without options; the
    /// subclass constructor then adds the groups (so errors name the subclass).
    Optimizer(std::string type_name, std::unique_ptr<OptimizerOptions> defaults);

    /// @brief The state of parameter `index`, to read and update in step().
    [[nodiscard]] ParamState& mutable_state(std::size_t index);
    /// @brief The names of every state tensor this optimizer may keep for one parameter.
    [[nodiscard]] virtual std::vector<std::string> known_state_names() const = 0;
    /// @brief The names a parameter's state must hold once it has any, under `options`.
    [[nodiscard]] virtual std::vector<std::string> required_state_names(const OptimizerOptions& options) const = 0;
    /// @brief Whether the state has a step count (`state.<i>.step`): Adam and RMSprop, not SGD.
    [[nodiscard]] virtual bool counts_steps() const = 0;

private:
    std::string type_name_;
    std::unique_ptr<OptimizerOptions> defaults_;
    std::vector<OptimizerParamGroup> groups_;
    std::vector<ParamState> state_;  // one per parameter, numbered across groups
};

namespace detail {
/// @brief The gradient of `param` checked for an optimizer step (same shape and device,
/// Float32), or an undefined tensor when it has none.
Tensor checked_grad(const char* optimizer, const Tensor& param);
}  // namespace detail

}  // namespace stepgrad::optim
