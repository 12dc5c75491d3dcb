// A trained model with its normalisation, and its loss, accuracy and confusion matrix on a split.
#include "stepgrad/mnist/evaluate.hpp"

#include <cmath>

namespace stepgrad::mnist {

Tensor Classifier::logits(const Tensor& images) const {
    NoGradGuard no_grad;
    model->eval();
    const Tensor normalized = (images.to(device) - mean) / stddev;
    return model->forward(normalized);
}

Evaluation evaluate(const Classifier& classifier, const Split& split, std::int64_t num_classes,
                    std::int64_t batch_size) {
    Evaluation result{.confusion = metrics::ConfusionMatrix(num_classes)};
    const std::int64_t count = split.images.size(0);
    double loss_sum = 0.0;
    for (std::int64_t start = 0; start < count; start += batch_size) {
        const std::int64_t length = std::min(batch_size, count - start);
        const Tensor logits = classifier.logits(narrow(split.images, 0, start, length));
        const Tensor labels = narrow(split.labels, 0, start, length).to(classifier.device);
        // Summed, not averaged, per batch: the last batch may be shorter.
        const Tensor loss = nn::functional::cross_entropy(
            logits, labels, nn::functional::CrossEntropyFuncOptions().reduction(nn::Reduction::Sum));
        loss_sum += loss.item<double>();
        result.confusion.update(logits, labels);
    }
    result.loss = count > 0 ? loss_sum / static_cast<double>(count) : 0.0;
    result.accuracy = result.confusion.accuracy();
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
