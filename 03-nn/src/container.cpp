// Sequential (a chain of modules) and Residual (a block plus a skip connection).
#include <stepgrad/nn/container.hpp>
#include <stepgrad/shared/error.hpp>

#include <sstream>
#include <stdexcept>

namespace stepgrad::nn {

Sequential::Sequential(std::initializer_list<std::shared_ptr<Module>> modules) : Module("Sequential") {
    for (const auto& module : modules) push_back(module);
}

Sequential::Sequential(const std::vector<std::shared_ptr<Module>>& modules) : Module("Sequential") {
    for (const auto& module : modules) push_back(module);
}

void Sequential::push_back(std::shared_ptr<Module> module) { push_back(std::to_string(size()), std::move(module)); }

void Sequential::push_back(const std::string& name, std::shared_ptr<Module> module) {
    register_child(name, std::move(module));
}

std::shared_ptr<Module> Sequential::operator[](std::size_t index) const {
    const auto modules = children();
    if (index >= modules.size()) {
        throw std::out_of_range("Sequential: index " + std::to_string(index) + " is past the end (the chain holds " +
                                std::to_string(modules.size()) + " modules)");
    }
    return modules[index];
}

void Sequential::throw_wrong_type(std::size_t index) const {
    std::ostringstream shown;
    (*this)[index]->pretty_print(shown);
    STEPGRAD_CHECK(false, "Sequential: module " << index << " is " << shown.str() << ", not the type asked for");
    throw std::logic_error("unreachable");
}

// y = m_n(...m_1(m_0(x))): each module's output is the next one's input.
Tensor Sequential::forward(const Tensor& input) {
    Tensor x = input;
    for (const auto& module : children()) x = module->forward(x);
    return x;
}

Residual::Residual(std::shared_ptr<Module> block_, std::shared_ptr<Module> shortcut_)
    : Module("Residual"), block(std::move(block_)), shortcut(std::move(shortcut_)) {
    STEPGRAD_CHECK(block != nullptr, "Residual: the block is a null pointer");
    register_child("block", block);
    if (shortcut) register_child("shortcut", shortcut);
}

// d(block(x) + x)/dx = d block/dx + I: the identity path carries the gradient back unchanged.
Tensor Residual::forward(const Tensor& input) {
    const Tensor main = block->forward(input);
    const Tensor skip = shortcut ? shortcut->forward(input) : input;
    STEPGRAD_CHECK(main.shape() == skip.shape(),
                   "Residual: the block's output has shape "
                       << shape_to_string(main.shape()) << " but the "
                       << (shortcut ? "shortcut's output" : "input (no shortcut)") << " has shape "
                       << shape_to_string(skip.shape())
                       << "; give the block a shortcut that maps the input to the block's output shape");
    return main + skip;
}

}  // namespace stepgrad::nn
