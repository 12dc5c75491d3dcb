#pragma once
/// @file container.hpp
/// @brief Containers of modules: `Sequential` (a chain) and `Residual` (`block(x) + x`).
#include <stepgrad/nn/module.hpp>

#include <cstddef>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

namespace stepgrad::nn {

/// @brief Modules applied one after the other, PyTorch's `nn.Sequential`: `forward(x)` is
/// `m_n(...m_1(m_0(x)))`. The modules are children named "0", "1", ..., so parameters are
/// named "0.weight", "2.bias", ... exactly as in PyTorch.
///
/// Example:
/// @code
/// using namespace stepgrad::nn;
/// auto mlp = std::make_shared<Sequential>(std::initializer_list<std::shared_ptr<Module>>{
///     std::make_shared<Linear>(784, 128), std::make_shared<ReLU>(), std::make_shared<Linear>(128, 10)});
/// stepgrad::Tensor logits = mlp->forward(stepgrad::randn({64, 784}));  // (64, 10)
/// std::cout << *mlp;  // Sequential( (0): Linear(...) (1): ReLU() (2): Linear(...) ) and the parameter count
/// @endcode
class Sequential : public Module {
public:
    /// @brief An empty chain (its forward returns the input).
    Sequential() : Module("Sequential") {}
    /// @brief The chain of `modules`, in order, named "0", "1", ...
    Sequential(std::initializer_list<std::shared_ptr<Module>> modules);
    /// @brief The chain of `modules`, in order, named "0", "1", ...
    explicit Sequential(const std::vector<std::shared_ptr<Module>>& modules);

    /// @brief Appends `module`, named by its position (`std::to_string(size())`).
    void push_back(std::shared_ptr<Module> module);
    /// @brief Appends `module` under `name` (same naming rules as register_module).
    void push_back(const std::string& name, std::shared_ptr<Module> module);
    /// @brief How many modules the chain holds.
    [[nodiscard]] std::size_t size() const { return children().size(); }
    /// @brief The module at `index` (throws std::out_of_range past the end).
    [[nodiscard]] std::shared_ptr<Module> operator[](std::size_t index) const;
    /// @brief The module at `index` as its own type `M` (throws std::invalid_argument if it is not one).
    ///
    /// Example: `auto fc = model->ptr<Linear>(0); fc->weight;`
    template <class M>
    [[nodiscard]] std::shared_ptr<M> ptr(std::size_t index) const {
        auto typed = std::dynamic_pointer_cast<M>((*this)[index]);
        if (!typed) throw_wrong_type(index);
        return typed;
    }

    /// @brief Applies every module in order to `input`.
    Tensor forward(const Tensor& input) override;

private:
    [[noreturn]] void throw_wrong_type(std::size_t index) const;
};

/// @brief A residual block: `forward(x) = block(x) + shortcut(x)`, or `block(x) + x` without a
/// shortcut (ResNet's skip connection: the block learns a correction to the identity, and the
/// gradient reaches `x` through the `+` unchanged).
///
/// The block's output must have the shape of the shortcut's (or of `x`): when the block
/// changes the shape, pass a shortcut that maps `x` to it (a Linear, a 1x1 Conv2d).
///
/// Example:
/// @code
/// using namespace stepgrad::nn;
/// auto block = std::make_shared<Sequential>(std::initializer_list<std::shared_ptr<Module>>{
///     std::make_shared<Linear>(64, 64), std::make_shared<ReLU>(), std::make_shared<Linear>(64, 64)});
/// auto residual = std::make_shared<Residual>(block);
/// stepgrad::Tensor y = residual->forward(stepgrad::randn({8, 64}));  // (8, 64)
/// @endcode
class Residual : public Module {
public:
    /// @brief `block(x) + shortcut(x)`; with a null `shortcut`, `block(x) + x`.
    explicit Residual(std::shared_ptr<Module> block, std::shared_ptr<Module> shortcut = nullptr);
    /// @brief `block(input) + shortcut(input)` (or `+ input`); throws std::invalid_argument
    /// naming both shapes when they differ.
    Tensor forward(const Tensor& input) override;

    std::shared_ptr<Module> block;     ///< the main path (child "block")
    std::shared_ptr<Module> shortcut;  ///< the skip path (child "shortcut"), or null for the identity
};

}  // namespace stepgrad::nn
