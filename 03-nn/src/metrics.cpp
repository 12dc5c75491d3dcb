#include <stepgrad/metrics.hpp>

#include <stepgrad/shared/error.hpp>

#include <algorithm>
#include <iomanip>
#include <ostream>
#include <sstream>

namespace stepgrad::metrics {

namespace {

// Checks predictions (N) against targets (N): Int64, same length, same device.
void check_targets(const char* op, const Tensor& predictions, const Tensor& targets) {
    detail::check_defined(op, targets);
    detail::check_index_dtype(op, targets);
    STEPGRAD_CHECK(targets.dim() == 1 && targets.size(0) == predictions.size(0),
                   op << ": expected targets (" << predictions.size(0) << "), one class per example, got shape "
                      << shape_to_string(targets.shape()));
    detail::check_same_device(op, predictions, targets);
}

double ratio(std::int64_t numerator, std::int64_t denominator) {
    return denominator == 0 ? 0.0 : static_cast<double>(numerator) / static_cast<double>(denominator);
}

}  // namespace

Tensor predicted_classes(const Tensor& logits_or_predictions) {
    const Tensor& x = logits_or_predictions;
    detail::check_defined("predicted_classes", x);
    if (x.dtype() == Dtype::Int64) {
        STEPGRAD_CHECK(x.dim() == 1, "predicted_classes: Int64 predictions must be (N), got shape "
                                         << shape_to_string(x.shape()));
        return x;
    }
    STEPGRAD_CHECK(x.dim() == 2 && x.size(1) >= 1,
                   "predicted_classes: expected logits (N, C) or Int64 predictions (N), got Float32 shape "
                       << shape_to_string(x.shape()));
    if (x.size(0) == 0) return Tensor::empty({0}, x.device(), Dtype::Int64);  // argmax refuses empty tensors
    return argmax(x, 1);                                                          // (N), Int64
}

double accuracy(const Tensor& logits_or_predictions, const Tensor& targets) {
    const Tensor predictions = predicted_classes(logits_or_predictions);
    check_targets("accuracy", predictions, targets);
    const std::int64_t examples = predictions.size(0);
    if (examples == 0) return 0.0;
    // eq gives a 0/1 Float32 mask; counting it as Int64 stays exact at any N. One host read.
    const auto correct = eq(predictions, targets).to(Dtype::Int64).sum().item<std::int64_t>();
    return static_cast<double>(correct) / static_cast<double>(examples);
}

// ---- ConfusionMatrix ---------------------------------------------------------------------------

ConfusionMatrix::ConfusionMatrix(std::int64_t num_classes) : num_classes_(num_classes) {
    STEPGRAD_CHECK(num_classes >= 1, "ConfusionMatrix: num_classes must be at least 1, got " << num_classes);
    counts_.assign(static_cast<std::size_t>(num_classes * num_classes), 0);
}

void ConfusionMatrix::update(const Tensor& logits_or_predictions, const Tensor& targets) {
    const Tensor predictions = predicted_classes(logits_or_predictions);
    check_targets("ConfusionMatrix::update", predictions, targets);
    if (logits_or_predictions.dtype() == Dtype::Float32) {
        STEPGRAD_CHECK(logits_or_predictions.size(1) == num_classes_,
                       "ConfusionMatrix::update: logits have " << logits_or_predictions.size(1)
                                                               << " classes but the matrix has " << num_classes_);
    }
    // exercise 05.4: the confusion matrix: count each (true class, predicted class) pair
    // hint: bring predictions and targets to the host in one read: stack them into (2, N) and
    // hint: take to_vector<std::int64_t>() (row 0 the predictions, row 1 the targets).
    // hint: first check every class is in [0, num_classes_), throwing with STEPGRAD_CHECK a message
    // hint: that names it ("prediction 7" or "target 7"), so a bad batch adds nothing; then count:
    // hint: counts_ is row-major (C, C), the row the true class, the column the prediction.
    const std::int64_t examples = predictions.size(0);
    if (examples == 0) return;
    // pairs is (2, N): row 0 the predictions, row 1 the targets; one host read for both.
    const std::vector<std::int64_t> pairs = stack({predictions, targets}, 0).to_vector<std::int64_t>();
    const auto n = static_cast<std::size_t>(examples);
    for (std::size_t i = 0; i < 2 * n; ++i) {
        STEPGRAD_CHECK(pairs[i] >= 0 && pairs[i] < num_classes_,
                       "ConfusionMatrix::update: " << (i < n ? "prediction " : "target ") << pairs[i] << " (example "
                                                   << (i % n) << ") is not a class in [0, " << num_classes_ << ")");
    }
    for (std::size_t i = 0; i < n; ++i) {
        ++counts_[static_cast<std::size_t>(pairs[n + i] * num_classes_ + pairs[i])];  // row = target, column = prediction
    }
    // end exercise
}

void ConfusionMatrix::reset() { std::fill(counts_.begin(), counts_.end(), 0); }

Tensor ConfusionMatrix::matrix() const {
    return from_vector(counts_, {num_classes_, num_classes_}, TensorOptions().device(Device::CPU).dtype(Dtype::Int64));
}

void ConfusionMatrix::check_class(const char* op, std::int64_t c) const {
    STEPGRAD_CHECK(c >= 0 && c < num_classes_, op << ": class " << c << " is not in [0, " << num_classes_ << ")");
}

std::int64_t ConfusionMatrix::count(std::int64_t true_class, std::int64_t predicted_class) const {
    check_class("ConfusionMatrix::count", true_class);
    check_class("ConfusionMatrix::count", predicted_class);
    return counts_[static_cast<std::size_t>(true_class * num_classes_ + predicted_class)];
}

std::int64_t ConfusionMatrix::row_sum(std::int64_t row) const {
    std::int64_t sum = 0;
    for (std::int64_t j = 0; j < num_classes_; ++j) sum += counts_[static_cast<std::size_t>(row * num_classes_ + j)];
    return sum;
}

std::int64_t ConfusionMatrix::column_sum(std::int64_t column) const {
    std::int64_t sum = 0;
    for (std::int64_t i = 0; i < num_classes_; ++i) sum += counts_[static_cast<std::size_t>(i * num_classes_ + column)];
    return sum;
}

std::int64_t ConfusionMatrix::total() const {
    std::int64_t sum = 0;
    for (std::int64_t value : counts_) sum += value;
    return sum;
}

double ConfusionMatrix::accuracy() const {
    std::int64_t correct = 0;
    for (std::int64_t c = 0; c < num_classes_; ++c) correct += counts_[static_cast<std::size_t>(c * num_classes_ + c)];
    return ratio(correct, total());
}

double ConfusionMatrix::precision(std::int64_t c) const {
    check_class("ConfusionMatrix::precision", c);
    return ratio(count(c, c), column_sum(c));
}

double ConfusionMatrix::recall(std::int64_t c) const {
    check_class("ConfusionMatrix::recall", c);
    return ratio(count(c, c), row_sum(c));
}

double ConfusionMatrix::f1(std::int64_t c) const {
    const double p = precision(c);
    const double r = recall(c);
    return p + r == 0.0 ? 0.0 : 2.0 * p * r / (p + r);
}

std::vector<double> ConfusionMatrix::per_class_accuracy() const {
    std::vector<double> result;
    for (std::int64_t c = 0; c < num_classes_; ++c) result.push_back(recall(c));
    return result;
}

std::vector<Confusion> ConfusionMatrix::most_confused(std::int64_t k) const {
    STEPGRAD_CHECK(k >= 0, "ConfusionMatrix::most_confused: k must be non-negative, got " << k);
    std::vector<Confusion> cells;
    for (std::int64_t i = 0; i < num_classes_; ++i) {
        for (std::int64_t j = 0; j < num_classes_; ++j) {
            const std::int64_t n = counts_[static_cast<std::size_t>(i * num_classes_ + j)];
            if (i != j && n > 0) cells.push_back({i, j, n});
        }
    }
    // stable: equal counts keep their row-major order
    std::stable_sort(cells.begin(), cells.end(), [](const Confusion& a, const Confusion& b) { return a.count > b.count; });
    if (static_cast<std::int64_t>(cells.size()) > k) cells.resize(static_cast<std::size_t>(k));
    return cells;
}

// ---- printing ----------------------------------------------------------------------------------

void ConfusionMatrix::print(std::ostream& stream, const std::vector<std::string>& class_names) const {
    STEPGRAD_CHECK(class_names.empty() || static_cast<std::int64_t>(class_names.size()) == num_classes_,
                   "ConfusionMatrix::print: give one name per class (" << num_classes_ << "), got "
                                                                        << class_names.size());
    std::vector<std::string> names;
    for (std::int64_t c = 0; c < num_classes_; ++c) {
        names.push_back(class_names.empty() ? std::to_string(c) : class_names[static_cast<std::size_t>(c)]);
    }
    const std::string corner = "true \\ predicted";
    const std::string recall_title = "recall";
    // The row labels' width, then each column's: its name or its widest count.
    std::size_t label_width = corner.size();
    for (const std::string& name : names) label_width = std::max(label_width, name.size());
    std::vector<std::size_t> widths;
    for (std::int64_t j = 0; j < num_classes_; ++j) {
        std::size_t width = names[static_cast<std::size_t>(j)].size();
        for (std::int64_t i = 0; i < num_classes_; ++i) width = std::max(width, std::to_string(count(i, j)).size());
        widths.push_back(width);
    }
    std::ostringstream out;  // formatting flags stay local to this stream
    out << std::left << std::setw(static_cast<int>(label_width)) << corner << std::right;
    for (std::int64_t j = 0; j < num_classes_; ++j) {
        out << "  " << std::setw(static_cast<int>(widths[static_cast<std::size_t>(j)])) << names[static_cast<std::size_t>(j)];
    }
    out << "  " << recall_title << "\n";
    for (std::int64_t i = 0; i < num_classes_; ++i) {
        out << std::left << std::setw(static_cast<int>(label_width)) << names[static_cast<std::size_t>(i)] << std::right;
        for (std::int64_t j = 0; j < num_classes_; ++j) {
            out << "  " << std::setw(static_cast<int>(widths[static_cast<std::size_t>(j)])) << count(i, j);
        }
        out << "  " << std::setw(static_cast<int>(recall_title.size())) << std::fixed << std::setprecision(3)
            << recall(i) << "\n";
    }
    stream << out.str();
}

std::string ConfusionMatrix::to_string(const std::vector<std::string>& class_names) const {
    std::ostringstream out;
    print(out, class_names);
    return out.str();
}

std::ostream& operator<<(std::ostream& stream, const ConfusionMatrix& matrix) {
    matrix.print(stream);
    return stream;
}

}  // namespace stepgrad::metrics
