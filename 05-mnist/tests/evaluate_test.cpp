// Chapter 5, evaluation: scoring a split (exercise 05.3) on a classifier whose every logit is
// known, so the loss and accuracy are counted by hand; then evaluate()'s confusion matrix
// (exercise 05.4) on the same classifier.
#include <catch2/catch.hpp>

#include <stepgrad/mnist/evaluate.hpp>
#include <stepgrad/nn.hpp>

#include "../src/scoring.hpp"

#include <cmath>
#include <memory>
#include <vector>

using namespace stepgrad;
using namespace stepgrad::mnist;

namespace {

// Nine images of 1 x 1 x 3 pixels and three classes; the model only flattens, so with mean 0.5
// and stddev 0.5 the logits are 2 * pixel - 1: +1 for the lit pixel, -1 for the two others.
//   labels      0 0 0 1 1 2 2 2 2
//   lit pixel   0 1 0 1 2 2 2 0 0   (the prediction)
// Five are right. An image's loss is log(e + 2/e) - 1 when right and log(e + 2/e) + 1 when wrong,
// so the mean loss is log(e + 2/e) - 5/9 + 4/9.
const std::vector<std::int64_t> kLabels{0, 0, 0, 1, 1, 2, 2, 2, 2};
const std::vector<std::int64_t> kLit{0, 1, 0, 1, 2, 2, 2, 0, 0};
const double kMeanLoss = std::log(std::exp(1.0) + 2.0 / std::exp(1.0)) - 1.0 / 9.0;

Split hand_split() {
    std::vector<float> pixels;
    for (const std::int64_t lit : kLit) {
        for (std::int64_t c = 0; c < 3; ++c) pixels.push_back(c == lit ? 1.0f : 0.0f);
    }
    return Split{.images = from_vector(pixels, {9, 1, 1, 3}), .labels = from_vector(kLabels, {9})};
}

// Records, for every batch the model sees, its size, whether a graph was being recorded and
// whether the model was in training mode; passes the batch on unchanged.
class Spy : public nn::Module {
public:
    Spy() : Module("Spy") {}
    Tensor forward(const Tensor& input) override {
        batch_sizes.push_back(input.size(0));
        recording.push_back(GradMode::is_enabled());
        training.push_back(is_training());
        return input;
    }
    std::vector<std::int64_t> batch_sizes;
    std::vector<bool> recording;
    std::vector<bool> training;
};

struct HandClassifier {
    std::shared_ptr<Spy> spy = std::make_shared<Spy>();
    Classifier classifier{.model = std::make_shared<nn::Sequential>(
                              std::vector<std::shared_ptr<nn::Module>>{std::make_shared<nn::Flatten>(), spy}),
                          .mean = 0.5,
                          .stddev = 0.5,
                          .device = Device::CPU,
                          .description = "flatten 3 pixels"};
};

}  // namespace

TEST_CASE("score_split: the mean loss and accuracy counted by hand, whatever the batch size",
          "[chapter05][evaluate][ex-05.3]") {
    HandClassifier hand;
    const Split split = hand_split();
    for (const std::int64_t batch_size : {1, 4, 9, 1000}) {
        INFO("batch size " << batch_size);
        const SplitScore score = score_split(hand.classifier, split, batch_size);
        CHECK(score.images == 9);
        CHECK(score.accuracy == Approx(5.0 / 9.0));
        // With batches of 4, 4 and 1, averaging the three batch means would give another number.
        CHECK(score.loss == Approx(kMeanLoss).epsilon(1e-6));
    }
}

TEST_CASE("score_split runs the model in eval mode, records no graph, and goes through the split in batches",
          "[chapter05][evaluate][ex-05.3]") {
    HandClassifier hand;
    hand.classifier.model->train();
    std::vector<Tensor> labels_seen;
    std::vector<bool> logits_need_grad;
    const SplitScore score = score_split(hand.classifier, hand_split(), 4, [&](const Tensor& logits, const Tensor& labels) {
        CHECK(logits.shape() == Shape{labels.size(0), 3});
        logits_need_grad.push_back(logits.requires_grad());
        labels_seen.push_back(labels);
    });
    CHECK(score.images == 9);
    CHECK(hand.spy->batch_sizes == std::vector<std::int64_t>{4, 4, 1});
    CHECK(hand.spy->recording == std::vector<bool>{false, false, false});
    CHECK(hand.spy->training == std::vector<bool>{false, false, false});
    CHECK_FALSE(hand.classifier.model->is_training());  // left in eval mode
    CHECK(GradMode::is_enabled());                      // recording is back on afterwards
    CHECK(logits_need_grad == std::vector<bool>{false, false, false});
    REQUIRE(labels_seen.size() == 3);
    CHECK(cat(labels_seen, 0).to_vector<std::int64_t>() == kLabels);  // every batch, in order
}

TEST_CASE("score_split of an empty split is 0, without calling the model", "[chapter05][evaluate][ex-05.3]") {
    HandClassifier hand;
    const Split empty{.images = zeros({0, 1, 1, 3}), .labels = from_vector(std::vector<std::int64_t>{}, {0})};
    const SplitScore score = score_split(hand.classifier, empty, 4);
    CHECK(score.images == 0);
    CHECK(score.loss == 0.0);
    CHECK(score.accuracy == 0.0);
    CHECK(hand.spy->batch_sizes.empty());
}

TEST_CASE("evaluate fills the confusion matrix: rows the true class, columns the prediction, counted by hand",
          "[chapter05][evaluate][ex-05.4]") {
    HandClassifier hand;
    const Evaluation evaluation = evaluate(hand.classifier, hand_split(), 3, /*batch_size=*/4);
    // labels 0 0 0 1 1 2 2 2 2 against predictions 0 1 0 1 2 2 2 0 0:
    //   true 0: predicted 0 twice, 1 once; true 1: 1 once, 2 once; true 2: 0 twice, 2 twice.
    CHECK(evaluation.confusion.matrix().to_vector<std::int64_t>() == std::vector<std::int64_t>{2, 1, 0, 0, 1, 1, 2, 0, 2});
    CHECK(evaluation.confusion.total() == 9);
    CHECK(evaluation.accuracy == Approx(5.0 / 9.0));
    CHECK(evaluation.confusion.accuracy() == Approx(evaluation.accuracy));
    CHECK(evaluation.loss == Approx(kMeanLoss).epsilon(1e-6));
    // Precision of class 0: of the 4 predicted 0, 2 are 0. Recall of class 2: of the 4 that are 2, 2 found.
    CHECK(evaluation.confusion.precision(0) == Approx(0.5));
    CHECK(evaluation.confusion.recall(2) == Approx(0.5));
    const std::vector<metrics::Confusion> worst = evaluation.confusion.most_confused(1);
    REQUIRE(worst.size() == 1);
    CHECK(worst[0].true_class == 2);
    CHECK(worst[0].predicted_class == 0);
    CHECK(worst[0].count == 2);
}
