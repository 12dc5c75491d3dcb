#pragma once
/// @file state_dict.hpp
/// @brief `StateDict`: named tensors in order (PyTorch's `state_dict()`), plus string metadata,
/// the unit that checkpoints save and load.
#include <stepgrad/tensor.hpp>

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace stepgrad::nn {

/// @brief Named tensors in insertion order, as PyTorch's `state_dict()` returns them
/// (`"0.weight"`, `"0.bias"`, `"running_mean"`, ...), plus string metadata for values that are
/// not tensors (hyperparameters, step counts, format versions).
///
/// A module's state dict holds its parameters and buffers; an optimizer's holds its per-parameter
/// state and its groups' options. A checkpoint file is one state dict (safetensors: the tensors,
/// and the metadata in `__metadata__`).
///
/// Example:
/// @code
/// stepgrad::nn::StateDict state;
/// state.insert("weight", stepgrad::ones({2, 3}));
/// state.metadata["epoch"] = "3";
/// const stepgrad::Tensor* w = state.find("weight");  // nullptr when absent
/// @endcode
class StateDict {
public:
    /// @brief One entry: a name and its tensor.
    using Item = std::pair<std::string, Tensor>;

    /// @brief Adds `tensor` under `name`, or replaces the tensor already there (keeping its place).
    void insert(const std::string& name, Tensor tensor) {
        for (Item& item : items_) {
            if (item.first == name) {
                item.second = std::move(tensor);
                return;
            }
        }
        items_.emplace_back(name, std::move(tensor));
    }
    /// @brief The tensor named `name`, or nullptr.
    [[nodiscard]] const Tensor* find(const std::string& name) const {
        for (const Item& item : items_) {
            if (item.first == name) return &item.second;
        }
        return nullptr;
    }
    /// @brief Whether a tensor is named `name`.
    [[nodiscard]] bool contains(const std::string& name) const { return find(name) != nullptr; }
    /// @brief The entries, in insertion order.
    [[nodiscard]] const std::vector<Item>& items() const { return items_; }
    /// @brief How many tensors.
    [[nodiscard]] std::size_t size() const { return items_.size(); }
    /// @brief Whether there are no tensors.
    [[nodiscard]] bool empty() const { return items_.empty(); }
    /// @brief First entry (for range-for).
    [[nodiscard]] std::vector<Item>::const_iterator begin() const { return items_.begin(); }
    /// @brief One past the last entry.
    [[nodiscard]] std::vector<Item>::const_iterator end() const { return items_.end(); }

    /// @brief String values that are not tensors (saved as safetensors' `__metadata__`).
    std::map<std::string, std::string> metadata;

private:
    std::vector<Item> items_;
};

}  // namespace stepgrad::nn
