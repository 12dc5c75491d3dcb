#pragma once
/// @file metrics.hpp
/// @brief Classification metrics: `accuracy` of one batch, and a `ConfusionMatrix` accumulated
/// over many (with precision, recall and a printer), as scikit-learn defines them.
#include <stepgrad/tensor.hpp>

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

namespace stepgrad::metrics {

/// @brief The fraction of correct predictions, in `[0, 1]` (0 for an empty batch).
///
/// `logits_or_predictions` is either Float32 scores `(N, C)` (the prediction is the argmax of
/// each row, the first on ties) or Int64 predicted classes `(N)`; `targets` are Int64 `(N)` on
/// the same device. One host read (the count of correct predictions).
///
/// Example:
/// @code
/// stepgrad::Tensor logits = model->forward(batch.data);                 // (64, 10)
/// double acc = stepgrad::metrics::accuracy(logits, batch.target);      // e.g. 0.921875
/// @endcode
double accuracy(const Tensor& logits_or_predictions, const Tensor& targets);

/// @brief The predicted classes `(N)` (Int64): the argmax of Float32 logits `(N, C)`, or Int64
/// predictions `(N)` as they are. Throws std::invalid_argument for any other shape or dtype.
Tensor predicted_classes(const Tensor& logits_or_predictions);

/// @brief One off-diagonal cell of a confusion matrix: examples of `true_class` predicted as
/// `predicted_class`, `count` times.
struct Confusion {
    std::int64_t true_class = 0;       ///< the row: what the example is
    std::int64_t predicted_class = 0;  ///< the column: what the model said
    std::int64_t count = 0;            ///< how many times
};

/// @brief Counts of (true class, predicted class) pairs accumulated over batches: entry
/// `(i, j)` is how many examples of class `i` were predicted as `j` (rows = true class,
/// columns = prediction, as scikit-learn's `confusion_matrix`).
///
/// Example (evaluating a model on a test set):
/// @code
/// stepgrad::metrics::ConfusionMatrix confusion(10);
/// for (auto& batch : test_loader) confusion.update(model->forward(batch.data), batch.target);
/// std::cout << confusion.accuracy() << "\n" << confusion.to_string({"T-shirt", "Trouser", ...});
/// @endcode
class ConfusionMatrix {
public:
    /// @brief An all-zero matrix for classes `0 .. num_classes-1` (num_classes >= 1).
    explicit ConfusionMatrix(std::int64_t num_classes);

    /// @brief Adds one batch: logits `(N, C)` or Int64 predictions `(N)`, and Int64 targets `(N)`.
    /// One host read. Throws std::invalid_argument (adding nothing) when a class is outside
    /// `[0, num_classes)` or the shapes disagree.
    void update(const Tensor& logits_or_predictions, const Tensor& targets);
    /// @brief Sets every count back to 0.
    void reset();

    /// @brief The number of classes C.
    [[nodiscard]] std::int64_t num_classes() const { return num_classes_; }
    /// @brief The counts as an Int64 CPU tensor `(C, C)`, rows = true class, columns = predicted.
    [[nodiscard]] Tensor matrix() const;
    /// @brief The count at row `true_class`, column `predicted_class`.
    [[nodiscard]] std::int64_t count(std::int64_t true_class, std::int64_t predicted_class) const;
    /// @brief The number of examples counted so far.
    [[nodiscard]] std::int64_t total() const;

    /// @brief Correct predictions over all examples (the trace over the total); 0 when empty.
    [[nodiscard]] double accuracy() const;
    /// @brief Of the examples predicted as `c`, the fraction that are `c`: `M[c][c] / Σ_i M[i][c]`.
    /// 0 when nothing was predicted as `c` (scikit-learn's `zero_division=0`).
    [[nodiscard]] double precision(std::int64_t c) const;
    /// @brief Of the examples of class `c`, the fraction predicted as `c`: `M[c][c] / Σ_j M[c][j]`.
    /// 0 when no example is of class `c` (scikit-learn's `zero_division=0`).
    [[nodiscard]] double recall(std::int64_t c) const;
    /// @brief The harmonic mean of precision and recall of class `c` (0 when both are 0).
    [[nodiscard]] double f1(std::int64_t c) const;
    /// @brief The accuracy within each class: recall(c) for every c (0 for an absent class).
    [[nodiscard]] std::vector<double> per_class_accuracy() const;
    /// @brief The `k` largest off-diagonal cells with a non-zero count, largest first (ties in
    /// row, then column order): the mistakes the model makes most.
    [[nodiscard]] std::vector<Confusion> most_confused(std::int64_t k) const;

    /// @brief Writes the matrix as aligned text: a header of predicted classes, one row per
    /// true class, each row followed by that class's recall. Classes are named by
    /// `class_names` (one per class) or by their numbers when it is empty. Example:
    /// @code
    /// true \ predicted  cat  dog  recall
    /// cat                 5    1   0.833
    /// dog                 2    3   0.600
    /// @endcode
    void print(std::ostream& stream, const std::vector<std::string>& class_names = {}) const;
    /// @brief print() into a string.
    [[nodiscard]] std::string to_string(const std::vector<std::string>& class_names = {}) const;

private:
    void check_class(const char* op, std::int64_t c) const;
    [[nodiscard]] std::int64_t row_sum(std::int64_t row) const;
    [[nodiscard]] std::int64_t column_sum(std::int64_t column) const;

    std::int64_t num_classes_;
    std::vector<std::int64_t> counts_;  // row-major (C, C)
};

/// @brief Writes `matrix.to_string()` (classes named by number).
std::ostream& operator<<(std::ostream& stream, const ConfusionMatrix& matrix);

}  // namespace stepgrad::metrics
