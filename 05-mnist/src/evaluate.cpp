// A trained model with its normalisation, and its loss, accuracy and confusion matrix on a split.
#include "stepgrad/mnist/evaluate.hpp"

#include <stepgrad/shared/error.hpp>

#include <cmath>

#include "scoring.hpp"

namespace stepgrad::mnist {

Tensor Classifier::logits(const Tensor& images) const {
    NoGradGuard no_grad;
    model->eval();
    const Tensor normalized = (images.to(device) - mean) / stddev;
    return model->forward(normalized);
}

SplitScore score_split([[maybe_unused]] const Classifier& classifier, [[maybe_unused]] const Split& split,
                       std::int64_t batch_size, [[maybe_unused]] const BatchHook& each_batch) {
    STEPGRAD_CHECK(batch_size >= 1, "evaluate: batch_size must be at least 1, got " << batch_size);
    // exercise 05.3: evaluation: loss and accuracy over a whole split, in eval mode, without a graph
    // hint: record no graph (a NoGradGuard for the whole function) and put the model in eval mode.
    // hint: walk the split in slices of batch_size images (narrow along axis 0; the last may be
    // hint: shorter), normalise the images as (x - mean) / stddev on the classifier's device, and
    // hint: take the model's logits.
    // hint: sum the cross-entropy over the images (CrossEntropyFuncOptions().reduction(nn::Reduction::Sum))
    // hint: and count the rows whose argmax is the label; give each batch to each_batch when set.
    // hint: divide both totals by the number of images at the end (an empty split scores 0).
    NoGradGuard no_grad;
    classifier.model->eval();
    const std::int64_t count = split.images.size(0);
    double loss_sum = 0.0;
    double correct = 0.0;
    for (std::int64_t start = 0; start < count; start += batch_size) {
        const std::int64_t length = std::min(batch_size, count - start);
        const Tensor images = narrow(split.images, 0, start, length).to(classifier.device);  // (B, C, H, W)
        const Tensor labels = narrow(split.labels, 0, start, length).to(classifier.device);  // (B)
        const Tensor logits = classifier.model->forward((images - classifier.mean) / classifier.stddev);
        const Tensor loss = nn::functional::cross_entropy(
            logits, labels, nn::functional::CrossEntropyFuncOptions().reduction(nn::Reduction::Sum));
        loss_sum += loss.item<double>();
        correct += eq(argmax(logits, 1), labels).sum().item<double>();
        if (each_batch) each_batch(logits, labels);
    }
    SplitScore score;
    score.images = count;
    score.loss = count > 0 ? loss_sum / static_cast<double>(count) : 0.0;
    score.accuracy = count > 0 ? correct / static_cast<double>(count) : 0.0;
    return score;
    // end exercise
}

Evaluation evaluate(const Classifier& classifier, const Split& split, std::int64_t num_classes,
                    std::int64_t batch_size) {
    Evaluation result{.confusion = metrics::ConfusionMatrix(num_classes)};
    const SplitScore score = score_split(classifier, split, batch_size, [&](const Tensor& logits, const Tensor& labels) {
        result.confusion.update(logits, labels);
    });
    result.loss = score.loss;
    result.accuracy = score.accuracy;
    return result;
}

std::pair<double, double> pixel_mean_std(const Tensor& images) {
    const Tensor host = images.cpu();
    const float* pixels = host.data_ptr<float>();
    const std::int64_t count = host.numel();
    double sum = 0.0;
    double sum_of_squares = 0.0;
    for (std::int64_t i = 0; i < count; ++i) {
        sum += pixels[i];
        sum_of_squares += static_cast<double>(pixels[i]) * pixels[i];
    }
    const double n = static_cast<double>(std::max<std::int64_t>(count, 1));
    const double mean = sum / n;
    const double variance = std::max(sum_of_squares / n - mean * mean, 0.0);
    return {mean, variance > 0.0 ? std::sqrt(variance) : 1.0};
}

}  // namespace stepgrad::mnist
