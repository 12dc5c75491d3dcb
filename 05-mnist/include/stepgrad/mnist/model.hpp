#pragma once
/// @file model.hpp
/// @brief The two models of chapter 5, an MLP and a small CNN, built from chapter 3's layers.

#include <stepgrad/nn.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace stepgrad::mnist {

/// @brief Which network `make_model` builds.
enum class ModelKind { MLP, CNN };

/// @brief `"mlp"` or `"cnn"`, as the `--model` flag spells them.
std::string to_string(ModelKind kind);

/// @brief The architecture: enough to rebuild the same network from a checkpoint.
///
/// MLP: Flatten, then per hidden size `Linear → [BatchNorm1d] → ReLU → [Dropout]`, then a
/// Linear to the classes. CNN: per channel count a block `Conv2d 3x3 pad 1 → [BatchNorm2d] →
/// ReLU → MaxPool2d 2` (each block halves the image), then Flatten, [Dropout], and a Linear to
/// the classes. Brackets mark the layers `batchnorm` and `dropout > 0` add.
struct ModelConfig {
    ModelKind kind = ModelKind::MLP;             ///< MLP or CNN
    std::vector<std::int64_t> hidden{256, 128};  ///< the MLP's hidden layer sizes
    std::vector<std::int64_t> channels{32, 64};  ///< the CNN's conv block widths
    bool batchnorm = false;                      ///< a batch norm after each Linear / Conv2d
    double dropout = 0.0;                        ///< dropout probability (0: no Dropout layers)
    std::int64_t image_channels = 1;             ///< input channels (1 for MNIST)
    std::int64_t image_height = 28;              ///< input height in pixels
    std::int64_t image_width = 28;               ///< input width in pixels
    std::int64_t num_classes = 10;               ///< outputs of the last Linear
};

/// @brief Builds the network `config` describes, freshly initialised from the default generator.
///
/// Input (N, image_channels, image_height, image_width), output logits (N, num_classes).
/// Throws std::invalid_argument for sizes that cannot work (a non-positive width, a dropout
/// outside [0, 1), a CNN with so many blocks that the image shrinks to nothing).
/// Example: `auto model = make_model(ModelConfig{.kind = ModelKind::CNN});`
std::shared_ptr<nn::Sequential> make_model(const ModelConfig& config);

/// @brief One line naming the architecture, e.g. `mlp 784-256-128-10` or
/// `cnn 1x28x28 conv32-conv64 linear 3136-10, batch norm`.
std::string describe(const ModelConfig& config);

/// @brief The configuration as text pairs (keys `model.kind`, `model.hidden`, ...), for a
/// checkpoint's metadata.
std::map<std::string, std::string> to_metadata(const ModelConfig& config);

/// @brief The configuration stored by to_metadata(); throws std::invalid_argument when a key
/// is missing or malformed.
ModelConfig model_config_from_metadata(const std::map<std::string, std::string>& metadata);

/// @brief `"256,128"` for `{256, 128}`.
std::string join_sizes(const std::vector<std::int64_t>& sizes);

/// @brief `{256, 128}` for `"256,128"`; throws std::invalid_argument (naming `what`) for text
/// that is not a comma-separated list of positive integers.
std::vector<std::int64_t> parse_sizes(const std::string& text, const std::string& what);

}  // namespace stepgrad::mnist
