// nn::save / nn::load: a state dict in a safetensors file. The file format and the atomic write
// live in safetensors.cpp; the checks of names, shapes and dtypes in Module::load_state_dict and
// Optimizer::load_state_dict. This file joins them and names the file in every error.
#include <stepgrad/nn/checkpoint.hpp>
#include <stepgrad/optim/optimizer.hpp>

#include <exception>
#include <string>

namespace stepgrad::nn {
namespace {

// Runs `load_into(state)`, turning any error into a CheckpointError that starts with the path.
template <class Load>
void load_or_explain(const std::filesystem::path& path, const StateDict& state, Load load_into) {
    try {
        load_into(state);
    } catch (const std::exception& error) {
        throw CheckpointError(path.string() + ": " + error.what());
    }
}

}  // namespace

void save(const Module& module, const std::filesystem::path& path) {
    StateDict state = module.state_dict();
    if (!state.metadata.contains("format")) state.metadata["format"] = "pt";  // as PyTorch's writers mark it
    save_safetensors(state, path);
}

void load(Module& module, const std::filesystem::path& path, bool strict) {
    const StateDict state = load_safetensors(path);  // its errors already name the file
    if (const auto type = state.metadata.find("optimizer"); type != state.metadata.end()) {
        throw CheckpointError(path.string() + ": this is an optimizer checkpoint (" + type->second +
                              "), not a model's: load it with load(optimizer, path)");
    }
    load_or_explain(path, state, [&](const StateDict& s) { module.load_state_dict(s, strict); });
}

void save(const optim::Optimizer& optimizer, const std::filesystem::path& path) {
    save_safetensors(optimizer.state_dict(), path);
}

void load(optim::Optimizer& optimizer, const std::filesystem::path& path) {
    const StateDict state = load_safetensors(path);
    load_or_explain(path, state, [&](const StateDict& s) { optimizer.load_state_dict(s); });
}

}  // namespace stepgrad::nn
