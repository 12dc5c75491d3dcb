#pragma once
// Scoring a split: the loss and accuracy of a classifier on every image of a split, in eval mode
// and without a graph (exercise 05.3). evaluate() adds the confusion matrix through the hook;
// the tests call it alone.
#include <stepgrad/mnist/evaluate.hpp>

#include <cstdint>
#include <functional>

namespace stepgrad::mnist {

/// @brief What scoring a split measured.
struct SplitScore {
    double loss = 0.0;        ///< the mean cross-entropy per image (0 for an empty split)
    double accuracy = 0.0;    ///< the fraction of images whose largest logit is their label
    std::int64_t images = 0;  ///< how many images were scored
};

/// @brief Called with each batch's logits (B, classes) and labels (B), both on the classifier's
/// device: evaluate() fills its confusion matrix with it.
using BatchHook = std::function<void(const Tensor& logits, const Tensor& labels)>;

/// @brief The loss and accuracy of `classifier` on `split`, in batches of `batch_size` images.
///
/// The model runs in eval mode (dropout off, batch norm on its running statistics) and records
/// no graph; its inputs are normalised as `(pixel - mean) / stddev`. Each batch's loss is summed,
/// not averaged, so a shorter last batch weighs what its images weigh. `each_batch`, when set,
/// sees every batch's logits and labels. The model is left in eval mode.
SplitScore score_split(const Classifier& classifier, const Split& split, std::int64_t batch_size,
                       const BatchHook& each_batch = {});

}  // namespace stepgrad::mnist
