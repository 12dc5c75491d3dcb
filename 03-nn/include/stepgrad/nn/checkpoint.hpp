#pragma once
/// @file checkpoint.hpp
/// @brief `nn::save` / `nn::load`: a model's or an optimizer's state in a safetensors file,
/// written atomically and checked on the way back in.
///
/// A model checkpoint holds `module.state_dict()` under PyTorch's names (`0.weight`,
/// `1.running_mean`, ...) with the metadata `{"format": "pt"}`, so PyTorch opens it with
/// `safetensors.torch.load_file(path)` and `model.load_state_dict(...)`, and a file that
/// PyTorch saved from the same architecture loads here. An optimizer checkpoint holds
/// `optimizer.state_dict()`: its buffers as tensors and its hyperparameters as metadata.
#include <stepgrad/nn/module.hpp>
#include <stepgrad/nn/safetensors.hpp>

#include <filesystem>

namespace stepgrad::optim {
class Optimizer;
}  // namespace stepgrad::optim

namespace stepgrad::nn {

/// @brief Saves `module`'s parameters and buffers to `path` (safetensors, atomically: see
/// save_safetensors). Tensors on any device are copied to the host.
///
/// The metadata is the state dict's, plus `format: pt` unless it sets `format` itself.
/// Throws CheckpointError naming the path when the file cannot be written; the previous file
/// at `path`, if any, is then unchanged.
///
/// Example (save after each epoch, resume later):
/// @code
/// auto model = std::make_shared<stepgrad::nn::Linear>(784, 10);
/// stepgrad::nn::save(*model, "model.safetensors");
/// auto restored = std::make_shared<stepgrad::nn::Linear>(784, 10);
/// stepgrad::nn::load(*restored, "model.safetensors");  // same weights as model
/// @endcode
/// @param module The model to save.
/// @param path The file to create or replace.
void save(const Module& module, const std::filesystem::path& path);

/// @brief Loads the checkpoint at `path` into `module`'s parameters and buffers, on whatever
/// device the module is.
///
/// The whole file is read and checked first, then `Module::load_state_dict` checks every name,
/// shape and dtype before it copies anything, so a malformed or mismatched file throws
/// CheckpointError (starting with the path, then the problem, e.g. `model.safetensors:
/// load_state_dict: "fc.weight" has shape [10, 784] in the checkpoint but [10, 128] in the
/// model`) and leaves the model unchanged.
/// @param module The model to fill.
/// @param path The file to read.
/// @param strict Whether names missing from the file, or present only in it, are errors.
void load(Module& module, const std::filesystem::path& path, bool strict = true);

/// @brief Saves `optimizer`'s state (momentum buffers, moments, step counts, hyperparameters
/// of every group) to `path`, atomically; throws CheckpointError naming the path on failure.
///
/// Example (resume training exactly):
/// @code
/// stepgrad::nn::save(*model, "model.safetensors");
/// stepgrad::nn::save(optimizer, "optimizer.safetensors");
/// // ... later, with a fresh model and an optimizer built over its parameters:
/// stepgrad::nn::load(*model, "model.safetensors");
/// stepgrad::nn::load(optimizer, "optimizer.safetensors");
/// @endcode
/// @param optimizer The optimizer whose state to save.
/// @param path The file to create or replace.
void save(const optim::Optimizer& optimizer, const std::filesystem::path& path);

/// @brief Loads an optimizer checkpoint into `optimizer` (built over the same parameters in
/// the same order) with `Optimizer::load_state_dict`; throws CheckpointError starting with
/// the path when the file is malformed or does not fit the optimizer.
/// @param optimizer The optimizer to restore.
/// @param path The file to read.
void load(optim::Optimizer& optimizer, const std::filesystem::path& path);

}  // namespace stepgrad::nn
