#pragma once
/// @file evaluate.hpp
/// @brief A trained model with its input normalisation, and its loss, accuracy and confusion
/// matrix on a split.

#include <stepgrad/mnist/dataset.hpp>
#include <stepgrad/nn.hpp>

#include <cstdint>
#include <memory>
#include <string>

namespace stepgrad::mnist {

/// @brief A model and the normalisation its inputs need: `(pixel - mean) / stddev`.
struct Classifier {
    std::shared_ptr<nn::Sequential> model;  ///< the network (evaluated in eval mode)
    double mean = 0.0;                      ///< the training images' pixel mean
    double stddev = 1.0;                    ///< the training images' pixel standard deviation
    Device device = Device::CPU;            ///< where the model lives
    std::string description;                ///< what it is, e.g. `mlp 784-256-128-10, 15 epochs on Fashion-MNIST`

    /// @brief Logits (N, classes) for images (N, C, H, W) with pixels in [0, 1], without
    /// recording a graph. The model is left in eval mode.
    [[nodiscard]] Tensor logits(const Tensor& images) const;
};

/// @brief What evaluating a classifier on a split measured.
struct Evaluation {
    double loss = 0.0;                      ///< mean cross-entropy
    double accuracy = 0.0;                  ///< fraction classified right
    metrics::ConfusionMatrix confusion{2};  ///< rows: true class, columns: predicted
};

/// @brief Loss, accuracy and confusion matrix of `classifier` on `split`, in batches of
/// `batch_size` images. The model is left in eval mode.
Evaluation evaluate(const Classifier& classifier, const Split& split, std::int64_t num_classes,
                    std::int64_t batch_size = 1000);

/// @brief The pixel mean and standard deviation of a split's images (computed in double).
std::pair<double, double> pixel_mean_std(const Tensor& images);

}  // namespace stepgrad::mnist
