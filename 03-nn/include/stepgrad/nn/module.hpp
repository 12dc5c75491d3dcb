#pragma once
/// @file module.hpp
/// @brief `nn::Module`: a tree of named parameters, buffers and submodules, as in PyTorch.
///
/// A model is a tree. Each node is a Module that owns some tensors (its *parameters*, which the
/// optimizer trains, and its *buffers*, state such as batch norm's running mean that is saved but
/// not trained) and some child modules. `named_parameters()` walks the tree and names every
/// parameter by its path (`"0.weight"`, `"block.conv1.bias"`): exactly the keys of PyTorch's
/// `state_dict()`, so checkpoints and copied weights line up name by name.
#include <stepgrad/nn/state_dict.hpp>
#include <stepgrad/tensor.hpp>

#include <cstdint>
#include <deque>
#include <functional>
#include <iosfwd>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace stepgrad::nn {

/// @brief The base class of every layer and model (like `torch::nn::Module`), held by plain
/// `std::shared_ptr` (no holder macro).
///
/// A layer registers its tensors and children in its constructor and keeps handles to them as
/// members; registration and member are the same tensor (a handle), so an optimizer step on
/// `parameters()` is seen by the layer. `to(device)` moves the data behind those same handles.
///
/// Example (a two-layer perceptron):
/// @code
/// class Mlp : public stepgrad::nn::Module {
/// public:
///     Mlp() : Module("Mlp") {
///         fc1 = register_module("fc1", std::make_shared<stepgrad::nn::Linear>(784, 128));
///         fc2 = register_module("fc2", std::make_shared<stepgrad::nn::Linear>(128, 10));
///     }
///     stepgrad::Tensor forward(const stepgrad::Tensor& x) override {
///         return fc2->forward(stepgrad::relu(fc1->forward(x)));
///     }
///     std::shared_ptr<stepgrad::nn::Linear> fc1, fc2;
/// };
/// auto model = std::make_shared<Mlp>();
/// for (const auto& [name, p] : model->named_parameters()) std::cout << name << "\n";  // fc1.weight ...
/// @endcode
class Module : public std::enable_shared_from_this<Module> {
public:
    /// @brief A module whose printed type name is `name` (e.g. "Linear").
    explicit Module(std::string name = "Module");
    virtual ~Module() = default;
    Module(const Module&) = delete;             ///< modules are shared, not copied
    Module& operator=(const Module&) = delete;  ///< modules are shared, not copied

    /// @brief The type name printed for this module (e.g. "Linear", "Sequential").
    [[nodiscard]] const std::string& name() const { return name_; }

    /// @brief The module's computation on one input. The base class throws std::logic_error:
    /// layers with one input override it (losses take two and define their own `forward`).
    virtual Tensor forward(const Tensor& input);
    /// @brief Same as `forward(input)`, so `(*model)(x)` reads like PyTorch's `model(x)`.
    Tensor operator()(const Tensor& input) { return forward(input); }

    /// @brief Registers `tensor` as a trainable parameter named `name` (no dots), sets its
    /// requires_grad to `requires_grad`, and returns the handle (store it as a member).
    /// An undefined tensor registers a missing parameter (e.g. `bias=false`), skipped by
    /// `parameters()`. Throws std::invalid_argument for a bad or repeated name.
    Tensor& register_parameter(const std::string& name, Tensor tensor, bool requires_grad = true);
    /// @brief Registers `tensor` as a buffer: state that is saved and moved with the module but
    /// not trained (running statistics). Same naming rules as parameters.
    Tensor& register_buffer(const std::string& name, Tensor tensor);
    /// @brief Registers `module` as the child `name` and returns it with its own type.
    template <class M>
    std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> module) {
        register_child(name, module);
        return module;
    }
    /// @brief Replaces the already registered child `name` (e.g. a layer swapped for surgery).
    void replace_module(const std::string& name, std::shared_ptr<Module> module);

    /// @brief All trainable parameters, depth first in registration order (`recurse=false`: only
    /// this module's own). A parameter shared by two submodules appears once.
    [[nodiscard]] std::vector<Tensor> parameters(bool recurse = true) const;
    /// @brief Parameters with dotted names, e.g. `{"0.weight", w}` (PyTorch's state_dict keys).
    [[nodiscard]] std::vector<std::pair<std::string, Tensor>> named_parameters(bool recurse = true) const;
    /// @brief All buffers, depth first.
    [[nodiscard]] std::vector<Tensor> buffers(bool recurse = true) const;
    /// @brief Buffers with dotted names, e.g. `{"1.running_mean", m}`.
    [[nodiscard]] std::vector<std::pair<std::string, Tensor>> named_buffers(bool recurse = true) const;
    /// @brief The direct submodules, in registration order.
    [[nodiscard]] std::vector<std::shared_ptr<Module>> children() const;
    /// @brief The direct submodules with their names.
    [[nodiscard]] std::vector<std::pair<std::string, std::shared_ptr<Module>>> named_children() const;
    /// @brief This module and every descendant, depth first (pre-order).
    [[nodiscard]] std::vector<std::shared_ptr<Module>> modules();
    /// @brief Calls `fn` on every descendant, then on this module (PyTorch's order), e.g. to
    /// re-initialise the weights of every Linear.
    void apply(const std::function<void(Module&)>& fn);

    /// @brief Training mode on (or off) for this module and all descendants: Dropout drops and
    /// BatchNorm uses batch statistics only in training mode.
    virtual void train(bool on = true);
    /// @brief Evaluation mode (`train(false)`).
    void eval() { train(false); }
    /// @brief Whether this module is in training mode (the default).
    [[nodiscard]] bool is_training() const { return training_; }

    /// @brief Moves every parameter, buffer and gradient to `device`, in place: the handles the
    /// layers and optimizers hold see the moved data.
    void to(Device device);
    /// @brief Clears every parameter's gradient: to none (the default, as in PyTorch 2, so the
    /// next backward allocates it afresh) or to zeros.
    void zero_grad(bool set_to_none = true);

    /// @brief Parameters and buffers by dotted name (PyTorch's `state_dict()`), sharing data.
    [[nodiscard]] StateDict state_dict() const;
    /// @brief Copies matching tensors from `state` into the parameters and buffers. Every name,
    /// shape and dtype is checked before anything is copied, so a mismatch throws
    /// std::invalid_argument (naming the tensor and the problem) and changes nothing. With
    /// `strict`, missing and unexpected names are errors too.
    void load_state_dict(const StateDict& state, bool strict = true);

    /// @brief The number of trainable elements in all parameters.
    [[nodiscard]] std::int64_t parameter_count() const;

    /// @brief Writes this module's one-line description without children, as PyTorch's
    /// `extra_repr` inside the type name: e.g. `Linear(in_features=784, out_features=128, bias=True)`.
    /// The default writes just the name.
    virtual void pretty_print(std::ostream& stream) const;

protected:
    /// @brief Registers a child module (what register_module does, untyped).
    void register_child(const std::string& name, std::shared_ptr<Module> module);

private:
    struct Named {
        std::string name;
        Tensor tensor;
    };
    std::string name_;
    bool training_ = true;
    // deques, so the reference register_parameter/register_buffer return stays valid when
    // more tensors are registered after it
    std::deque<Named> parameters_;
    std::deque<Named> buffers_;
    std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;

    void check_new_name(const std::string& name) const;
    void collect(std::vector<std::pair<std::string, Tensor>>& out, const std::string& prefix, bool params,
                 bool recurse) const;
    // Every parameter and buffer in PyTorch's state_dict order: this module's parameters, its
    // buffers, then each child's, recursively (shared tensors appear under each name).
    void collect_state(std::vector<std::pair<std::string, Tensor>>& out, const std::string& prefix) const;
};

/// @brief Prints the model as PyTorch does, indented by depth, followed by the number of
/// trainable parameters, e.g.
/// @code
/// Sequential(
///   (0): Linear(in_features=784, out_features=128, bias=True)
///   (1): ReLU()
///   (2): Linear(in_features=128, out_features=10, bias=True)
/// )
/// Trainable parameters: 101,770
/// @endcode
std::ostream& operator<<(std::ostream& stream, const Module& module);

}  // namespace stepgrad::nn
