// Chapter 3, metrics: accuracy and the confusion matrix, on hand-computed examples. Counting the
// confusion matrix (ConfusionMatrix::update) is exercise 05.4, when chapter 5 evaluates a model.
#include <stepgrad/metrics.hpp>

#include "../../02-tensor/tests/test_helpers.hpp"

#include <catch2/catch.hpp>

#include <sstream>
#include <stdexcept>
#include <vector>

using namespace stepgrad;
using stepgrad::testing::indices;

namespace {

// The hand-computed example: 9 examples of 3 classes.
//   targets     0 0 0 1 1 2 2 2 2
//   predictions 0 1 0 1 2 2 2 0 0
// rows = true class, columns = predicted:
//   [[2, 1, 0],
//    [0, 1, 1],
//    [2, 0, 2]]
// accuracy 5/9; precision = diagonal / column sums = 2/4, 1/2, 2/3;
// recall = diagonal / row sums = 2/3, 1/2, 2/4.
Tensor example_targets() { return indices({0, 0, 0, 1, 1, 2, 2, 2, 2}); }
Tensor example_predictions() { return indices({0, 1, 0, 1, 2, 2, 2, 0, 0}); }

// Logits whose row-wise argmax is `classes` (the chosen class gets 1, the others -1 .. -3).
Tensor logits_for(const std::vector<std::int64_t>& classes, std::int64_t num_classes) {
    std::vector<float> values;
    for (std::int64_t c : classes) {
        for (std::int64_t j = 0; j < num_classes; ++j) values.push_back(j == c ? 1.0f : -static_cast<float>(j + 1));
    }
    return from_vector(values, {static_cast<std::int64_t>(classes.size()), num_classes});
}

}  // namespace

TEST_CASE("accuracy of logits (argmax per row) and of Int64 predictions", "[chapter03][metrics]") {
    CHECK(metrics::accuracy(example_predictions(), example_targets()) == Approx(5.0 / 9.0));
    const Tensor logits = logits_for({0, 1, 0, 1, 2, 2, 2, 0, 0}, 3);
    CHECK(metrics::accuracy(logits, example_targets()) == Approx(5.0 / 9.0));
    // ties go to the first maximum, as argmax
    CHECK(metrics::accuracy(tensor({{2, 2}, {0, 1}}), indices({0, 1})) == 1.0);
    CHECK(metrics::accuracy(zeros({0, 4}), zeros({0}, TensorOptions().dtype(Dtype::Int64))) == 0.0);
}

TEST_CASE("accuracy refuses mismatched shapes and dtypes with a clear error", "[chapter03][metrics]") {
    CHECK_THROWS_WITH(metrics::accuracy(zeros({4, 3}), indices({0, 1})), Catch::Contains("targets (4)"));
    CHECK_THROWS_AS(metrics::accuracy(zeros({4}), indices({0, 1, 2, 3})), std::invalid_argument);  // float (N)
    CHECK_THROWS_AS(metrics::accuracy(zeros({4, 3}), zeros({4})), std::invalid_argument);         // float targets
}

TEST_CASE("ConfusionMatrix: counts, accuracy, precision and recall of the hand example", "[chapter03][metrics][ex-05.4]") {
    metrics::ConfusionMatrix confusion(3);
    confusion.update(example_predictions(), example_targets());
    const Tensor matrix = confusion.matrix();
    CHECK(matrix.dtype() == Dtype::Int64);
    CHECK(matrix.shape() == Shape{3, 3});
    CHECK(matrix.to_vector<std::int64_t>() == std::vector<std::int64_t>{2, 1, 0, 0, 1, 1, 2, 0, 2});
    CHECK(confusion.count(2, 0) == 2);
    CHECK(confusion.total() == 9);
    CHECK(confusion.accuracy() == Approx(5.0 / 9.0));
    CHECK(confusion.precision(0) == Approx(2.0 / 4.0));
    CHECK(confusion.precision(1) == Approx(1.0 / 2.0));
    CHECK(confusion.precision(2) == Approx(2.0 / 3.0));
    CHECK(confusion.recall(0) == Approx(2.0 / 3.0));
    CHECK(confusion.recall(1) == Approx(1.0 / 2.0));
    CHECK(confusion.recall(2) == Approx(2.0 / 4.0));
    CHECK(confusion.f1(2) == Approx(2.0 * (2.0 / 3.0) * 0.5 / (2.0 / 3.0 + 0.5)));
    const std::vector<double> per_class = confusion.per_class_accuracy();
    REQUIRE(per_class.size() == 3);
    CHECK(per_class[0] == Approx(2.0 / 3.0));
    CHECK(per_class[2] == Approx(0.5));
    CHECK_THROWS_AS(confusion.precision(3), std::invalid_argument);
}

TEST_CASE("ConfusionMatrix: updates accumulate, logits work, reset clears", "[chapter03][metrics][ex-05.4]") {
    metrics::ConfusionMatrix confusion(3);
    // the hand example in two batches, the second as logits
    confusion.update(indices({0, 1, 0, 1}), indices({0, 0, 0, 1}));
    confusion.update(logits_for({2, 2, 2, 0, 0}, 3), indices({1, 2, 2, 2, 2}));
    CHECK(confusion.matrix().to_vector<std::int64_t>() == std::vector<std::int64_t>{2, 1, 0, 0, 1, 1, 2, 0, 2});
    confusion.reset();
    CHECK(confusion.total() == 0);
    CHECK(confusion.accuracy() == 0.0);
    CHECK_THROWS_AS(confusion.update(logits_for({0}, 4), indices({0})), std::invalid_argument);  // 4 classes != 3
}

TEST_CASE("ConfusionMatrix: 0/0 precision and recall are 0 (scikit-learn's zero_division=0)", "[chapter03][metrics][ex-05.4]") {
    metrics::ConfusionMatrix confusion(3);
    confusion.update(indices({0, 0, 1}), indices({0, 1, 1}));  // nothing of class 2, nothing predicted 2
    CHECK(confusion.precision(2) == 0.0);
    CHECK(confusion.recall(2) == 0.0);
    CHECK(confusion.f1(2) == 0.0);
    CHECK(confusion.precision(0) == Approx(0.5));
    CHECK(confusion.recall(1) == Approx(0.5));
}

TEST_CASE("ConfusionMatrix: a class out of range is refused and nothing is added", "[chapter03][metrics][ex-05.4]") {
    metrics::ConfusionMatrix confusion(3);
    CHECK_THROWS_WITH(confusion.update(indices({0, 1}), indices({0, 3})), Catch::Contains("target 3"));
    CHECK_THROWS_WITH(confusion.update(indices({-1, 1}), indices({0, 1})), Catch::Contains("prediction -1"));
    CHECK(confusion.total() == 0);
    CHECK_THROWS_AS(metrics::ConfusionMatrix(0), std::invalid_argument);
}

TEST_CASE("ConfusionMatrix: most_confused lists the largest mistakes first", "[chapter03][metrics][ex-05.4]") {
    metrics::ConfusionMatrix confusion(3);
    confusion.update(example_predictions(), example_targets());
    const auto top = confusion.most_confused(2);
    REQUIRE(top.size() == 2);
    CHECK(top[0].true_class == 2);  // 2 predicted as 0, twice
    CHECK(top[0].predicted_class == 0);
    CHECK(top[0].count == 2);
    CHECK(top[1].true_class == 0);  // then the ones, in row order: (0 -> 1)
    CHECK(top[1].predicted_class == 1);
    CHECK(top[1].count == 1);
    CHECK(confusion.most_confused(10).size() == 3);  // only the non-zero off-diagonal cells
}

TEST_CASE("ConfusionMatrix prints aligned columns, with class names or numbers", "[chapter03][metrics][ex-05.4]") {
    metrics::ConfusionMatrix confusion(3);
    confusion.update(example_predictions(), example_targets());
    CHECK(confusion.to_string({"cat", "dog", "bird"}) ==
          "true \\ predicted  cat  dog  bird  recall\n"
          "cat                 2    1     0   0.667\n"
          "dog                 0    1     1   0.500\n"
          "bird                2    0     2   0.500\n");
    std::ostringstream out;
    out << confusion;
    CHECK(out.str() ==
          "true \\ predicted  0  1  2  recall\n"
          "0                 2  1  0   0.667\n"
          "1                 0  1  1   0.500\n"
          "2                 2  0  2   0.500\n");
    CHECK_THROWS_AS(confusion.to_string({"cat"}), std::invalid_argument);
}
