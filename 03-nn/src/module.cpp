// nn::Module: registration of named parameters, buffers and children, the walks over the tree
// (parameters, modules, apply, train/eval, to, zero_grad), state dicts and printing.
#include <stepgrad/nn/module.hpp>
#include <stepgrad/shared/error.hpp>

#include <algorithm>
#include <ostream>
#include <sstream>
#include <stdexcept>
#include <unordered_set>

namespace stepgrad::nn {

namespace {

// "'a', 'b', 'c'" for error messages.
std::string quoted_list(const std::vector<std::string>& names) {
    std::string text;
    for (std::size_t i = 0; i < names.size(); ++i) text += (i ? ", '" : "'") + names[i] + "'";
    return text;
}

// Keeps the first pair of each tensor (same TensorImpl): a shared parameter is trained once.
std::vector<std::pair<std::string, Tensor>> without_duplicates(std::vector<std::pair<std::string, Tensor>> named) {
    std::unordered_set<const TensorImpl*> seen;
    std::vector<std::pair<std::string, Tensor>> unique;
    for (auto& item : named) {
        if (seen.insert(item.second.impl().get()).second) unique.push_back(std::move(item));
    }
    return unique;
}

std::vector<Tensor> tensors_of(const std::vector<std::pair<std::string, Tensor>>& named) {
    std::vector<Tensor> tensors;
    tensors.reserve(named.size());
    for (const auto& item : named) tensors.push_back(item.second);
    return tensors;
}

// 101770 -> "101,770".
std::string with_thousands_separators(std::int64_t value) {
    const std::string digits = std::to_string(value < 0 ? -value : value);
    std::string text = value < 0 ? "-" : "";
    for (std::size_t i = 0; i < digits.size(); ++i) {
        if (i > 0 && (digits.size() - i) % 3 == 0) text += ',';
        text += digits[i];
    }
    return text;
}

// Writes `module` as PyTorch's repr does; `indent` is the column of the line it starts on.
void print_tree(std::ostream& stream, const Module& module, std::size_t indent) {
    std::ostringstream own;
    module.pretty_print(own);
    std::string text = own.str();
    const auto children = module.named_children();
    if (children.empty()) {
        // A leaf that prints only its type name gets PyTorch's empty parentheses: "Mlp()".
        stream << (text == module.name() ? text + "()" : text);
        return;
    }
    // A module with children: "Name(", its own arguments (if any) on their own line, one line
    // per child, then ")". `Name(args)` from pretty_print is split into the two parts.
    std::string arguments;
    const std::size_t open = text.find('(');
    if (open != std::string::npos && !text.empty() && text.back() == ')') {
        arguments = text.substr(open + 1, text.size() - open - 2);
        text = text.substr(0, open);
    }
    const std::string inner(indent + 2, ' ');
    stream << text << "(\n";
    if (!arguments.empty()) stream << inner << arguments << "\n";
    for (const auto& [name, child] : children) {
        stream << inner << "(" << name << "): ";
        print_tree(stream, *child, indent + 2);
        stream << "\n";
    }
    stream << std::string(indent, ' ') << ")";
}

}  // namespace

Module::Module(std::string name) : name_(std::move(name)) {}

Tensor Module::forward(const Tensor& /*input*/) {
    throw std::logic_error("Module '" + name_ +
                           "' has no one-input forward(): override forward(const Tensor&) in the subclass, or call "
                           "the module's own forward with its arguments");
}

// ---- registration ------------------------------------------------------------------------------

void Module::check_new_name(const std::string& name) const {
    STEPGRAD_CHECK(!name.empty(), name_ << ": a parameter, buffer or submodule needs a non-empty name");
    STEPGRAD_CHECK(name.find('.') == std::string::npos,
                   name_ << ": the name '" << name << "' contains '.', which separates the parts of dotted names "
                         << "such as 'fc1.weight'; use '_' instead");
    auto same = [&](const auto& item) { return item.name == name; };
    const bool taken = std::any_of(parameters_.begin(), parameters_.end(), same) ||
                       std::any_of(buffers_.begin(), buffers_.end(), same) ||
                       std::any_of(children_.begin(), children_.end(), [&](const auto& c) { return c.first == name; });
    STEPGRAD_CHECK(!taken, name_ << ": the name '" << name
                                 << "' is already registered (as a parameter, buffer or submodule); pick another one");
}

Tensor& Module::register_parameter(const std::string& name, Tensor tensor, bool requires_grad) {
    check_new_name(name);
    if (tensor.defined()) {
        STEPGRAD_CHECK(tensor.is_leaf(), name_ << ": parameter '" << name
                                               << "' is the result of a recorded operation; register a leaf "
                                               << "tensor (e.g. its detach())");
        tensor.requires_grad_(requires_grad);
    }
    parameters_.push_back({name, std::move(tensor)});
    return parameters_.back().tensor;
}

Tensor& Module::register_buffer(const std::string& name, Tensor tensor) {
    check_new_name(name);
    STEPGRAD_CHECK(!tensor.defined() || tensor.is_leaf(),
                   name_ << ": buffer '" << name << "' is the result of a recorded operation; register its detach()");
    buffers_.push_back({name, std::move(tensor)});
    return buffers_.back().tensor;
}

void Module::register_child(const std::string& name, std::shared_ptr<Module> module) {
    check_new_name(name);
    STEPGRAD_CHECK(module != nullptr, name_ << ": submodule '" << name << "' is a null pointer");
    // A module that contains this one would make the tree a cycle (and every walk endless).
    STEPGRAD_CHECK(module.get() != this, name_ << ": a module cannot be its own submodule ('" << name << "')");
    for (const auto& descendant : module->modules()) {
        STEPGRAD_CHECK(descendant.get() != this,
                       name_ << ": submodule '" << name << "' contains this module, which would make a cycle");
    }
    children_.emplace_back(name, std::move(module));
}

void Module::replace_module(const std::string& name, std::shared_ptr<Module> module) {
    STEPGRAD_CHECK(module != nullptr, name_ << ": replace_module('" << name << "') with a null pointer");
    for (auto& [child_name, child] : children_) {
        if (child_name == name) {
            child = std::move(module);
            return;
        }
    }
    std::vector<std::string> names;
    for (const auto& child : children_) names.push_back(child.first);
    STEPGRAD_CHECK(false, name_ << ": replace_module: no submodule named '" << name
                                << "' (submodules: " << (names.empty() ? "none" : quoted_list(names)) << ")");
}

// ---- walks over the tree -----------------------------------------------------------------------

void Module::collect(std::vector<std::pair<std::string, Tensor>>& out, const std::string& prefix, bool params,
                     bool recurse) const {
    for (const Named& item : params ? parameters_ : buffers_) {
        if (item.tensor.defined()) out.emplace_back(prefix + item.name, item.tensor);
    }
    if (!recurse) return;
    for (const auto& [name, child] : children_) child->collect(out, prefix + name + ".", params, true);
}

void Module::collect_state(std::vector<std::pair<std::string, Tensor>>& out, const std::string& prefix) const {
    collect(out, prefix, /*params=*/true, /*recurse=*/false);
    collect(out, prefix, /*params=*/false, /*recurse=*/false);
    for (const auto& [name, child] : children_) child->collect_state(out, prefix + name + ".");
}

std::vector<Tensor> Module::parameters(bool recurse) const { return tensors_of(named_parameters(recurse)); }

std::vector<std::pair<std::string, Tensor>> Module::named_parameters(bool recurse) const {
    std::vector<std::pair<std::string, Tensor>> out;
    collect(out, "", /*params=*/true, recurse);
    return without_duplicates(std::move(out));
}

std::vector<Tensor> Module::buffers(bool recurse) const { return tensors_of(named_buffers(recurse)); }

std::vector<std::pair<std::string, Tensor>> Module::named_buffers(bool recurse) const {
    std::vector<std::pair<std::string, Tensor>> out;
    collect(out, "", /*params=*/false, recurse);
    return without_duplicates(std::move(out));
}

std::vector<std::shared_ptr<Module>> Module::children() const {
    std::vector<std::shared_ptr<Module>> out;
    for (const auto& child : children_) out.push_back(child.second);
    return out;
}

std::vector<std::pair<std::string, std::shared_ptr<Module>>> Module::named_children() const { return children_; }

std::vector<std::shared_ptr<Module>> Module::modules() {
    std::shared_ptr<Module> self = weak_from_this().lock();
    if (!self) {
        throw std::logic_error("Module '" + name_ +
                               "': modules() needs the module to be held by a std::shared_ptr "
                               "(create it with std::make_shared)");
    }
    // Depth first, pre-order; a module reachable twice (shared) is listed once.
    std::vector<std::shared_ptr<Module>> out;
    std::unordered_set<const Module*> seen;
    std::vector<std::shared_ptr<Module>> stack{self};
    while (!stack.empty()) {
        std::shared_ptr<Module> module = std::move(stack.back());
        stack.pop_back();
        if (!seen.insert(module.get()).second) continue;
        out.push_back(module);
        for (auto it = module->children_.rbegin(); it != module->children_.rend(); ++it) stack.push_back(it->second);
    }
    return out;
}

void Module::apply(const std::function<void(Module&)>& fn) {
    for (const auto& child : children_) child.second->apply(fn);
    fn(*this);
}

void Module::train(bool on) {
    training_ = on;
    for (const auto& child : children_) child.second->train(on);
}

// set_data repoints each tensor's shared state at the moved copy, so the handles that the layers
// (and optimizers) hold see the new device; the gradient moves with it.
void Module::to(Device device) {
    std::vector<std::pair<std::string, Tensor>> tensors;
    collect_state(tensors, "");
    for (const auto& [name, tensor] : tensors) {
        if (tensor.device() != device) detail::set_data(tensor, tensor.detach().to(device));
    }
}

void Module::zero_grad(bool set_to_none) {
    NoGradGuard no_grad;
    for (Tensor p : parameters()) {
        if (set_to_none) {
            p.set_grad(Tensor());
        } else if (Tensor grad = p.grad(); grad.defined()) {
            grad.zero_();
        }
    }
}

// ---- state dicts -------------------------------------------------------------------------------

StateDict Module::state_dict() const {
    std::vector<std::pair<std::string, Tensor>> tensors;
    collect_state(tensors, "");
    StateDict state;
    for (const auto& [name, tensor] : tensors) state.insert(name, tensor.detach());
    return state;
}

void Module::load_state_dict(const StateDict& state, bool strict) {
    std::vector<std::pair<std::string, Tensor>> targets;
    collect_state(targets, "");
    // Check everything first: a checkpoint that does not fit must leave the model as it was.
    std::vector<std::string> problems, missing, unexpected;
    for (const auto& [name, target] : targets) {
        const Tensor* source = state.find(name);
        if (source == nullptr) {
            missing.push_back(name);
        } else if (!source->defined()) {
            problems.push_back("'" + name + "' is an undefined tensor in the checkpoint");
        } else if (source->dtype() != target.dtype()) {
            problems.push_back("'" + name + "' has dtype " + to_string(source->dtype()) + " in the checkpoint but " +
                               to_string(target.dtype()) + " in the model");
        } else if (source->shape() != target.shape()) {
            problems.push_back("'" + name + "' has shape " + shape_to_string(source->shape()) +
                               " in the checkpoint but " + shape_to_string(target.shape()) + " in the model");
        }
    }
    for (const auto& item : state) {
        const std::string& name = item.first;  // not a structured binding: clang 14 cannot capture one
        const bool known = std::any_of(targets.begin(), targets.end(), [&](const auto& t) { return t.first == name; });
        if (!known) unexpected.push_back(name);
    }
    if (strict && !missing.empty()) {
        problems.push_back("missing from the checkpoint: " + quoted_list(missing));
    }
    if (strict && !unexpected.empty()) {
        problems.push_back("unexpected in the checkpoint (not in the model): " + quoted_list(unexpected));
    }
    if (!problems.empty()) {
        std::string message = "load_state_dict: ";
        for (std::size_t i = 0; i < problems.size(); ++i) message += (i ? "; " : "") + problems[i];
        if (strict && (!missing.empty() || !unexpected.empty())) message += " (strict=false ignores names that differ)";
        STEPGRAD_CHECK(false, message);
    }
    NoGradGuard no_grad;
    for (const auto& [name, target] : targets) {
        const Tensor* source = state.find(name);
        if (source == nullptr) continue;
        const bool same_data =
            source->impl()->storage == target.impl()->storage && source->impl()->offset == target.impl()->offset;
        if (!same_data) Tensor(target).copy_(*source);  // copy_ moves across devices as needed
    }
}

std::int64_t Module::parameter_count() const {
    std::int64_t count = 0;
    for (const Tensor& p : parameters()) {
        if (p.requires_grad()) count += p.numel();
    }
    return count;
}

void Module::pretty_print(std::ostream& stream) const { stream << name_; }

std::ostream& operator<<(std::ostream& stream, const Module& module) {
    print_tree(stream, module, 0);
    return stream << "\nTrainable parameters: " << with_thousands_separators(module.parameter_count());
}

}  // namespace stepgrad::nn
