// Helpers of chapter 3's loss tests: reductions checked at once, and references written in
// double (log-softmax by rows, PyTorch's cross-entropy formula).
#pragma once

#include <stepgrad/nn/loss.hpp>

#include "../../02-tensor/tests/test_helpers.hpp"

#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <utility>
#include <vector>

namespace stepgrad::testing::loss {

using namespace stepgrad;
using namespace stepgrad::nn;
using stepgrad::testing::check_tensor;
using stepgrad::testing::indices;
using stepgrad::testing::random_input;
namespace F = stepgrad::nn::functional;

const float kNaN = std::numeric_limits<float>::quiet_NaN();

inline std::vector<float> floats(const std::vector<double>& values) { return {values.begin(), values.end()}; }

inline double sum_of(const std::vector<double>& values) {
    double total = 0.0;
    for (double v : values) total += v;
    return total;
}

// The three reductions of per-element `expected` losses, checked against `loss_of(reduction)`.
template <class LossOf>
inline void check_reductions(LossOf loss_of, const Shape& shape, const std::vector<double>& expected, double tolerance = 1e-5) {
    check_tensor(loss_of(Reduction::None), shape, floats(expected), tolerance);
    check_tensor(loss_of(Reduction::Sum), {}, {static_cast<float>(sum_of(expected))}, tolerance);
    check_tensor(loss_of(Reduction::Mean), {}, {static_cast<float>(sum_of(expected) / expected.size())}, tolerance);
}

// log_softmax of each row of `logits` (rows x classes), in double.
inline std::vector<double> log_softmax_rows(const std::vector<float>& logits, std::size_t classes) {
    std::vector<double> out(logits.size());
    for (std::size_t row = 0; row * classes < logits.size(); ++row) {
        double largest = -INFINITY, total = 0.0;
        for (std::size_t c = 0; c < classes; ++c) largest = std::max(largest, double(logits[row * classes + c]));
        for (std::size_t c = 0; c < classes; ++c) total += std::exp(logits[row * classes + c] - largest);
        for (std::size_t c = 0; c < classes; ++c) out[row * classes + c] = logits[row * classes + c] - largest - std::log(total);
    }
    return out;
}

// PyTorch's cross-entropy, written out: per row (1 - ε)(-w_t log p_t) + ε/C Σ_c -w_c log p_c,
// ignored rows 0; the mean divides by Σ w_t over the rows that count. Returns (per row, mean).
inline std::pair<std::vector<double>, double> reference_cross_entropy(
    const std::vector<float>& logits, const std::vector<std::int64_t>& target, std::vector<double> weight,
    double smoothing, std::int64_t ignore_index = -100) {
    const std::size_t classes = logits.size() / target.size();
    if (weight.empty()) weight.assign(classes, 1.0);
    const std::vector<double> log_probs = log_softmax_rows(logits, classes);
    std::vector<double> rows(target.size(), 0.0);
    double total_weight = 0.0;
    for (std::size_t n = 0; n < target.size(); ++n) {
        if (target[n] == ignore_index) continue;
        const auto t = static_cast<std::size_t>(target[n]);
        double spread = 0.0;
        for (std::size_t c = 0; c < classes; ++c) spread -= weight[c] * log_probs[n * classes + c];
        rows[n] = (1.0 - smoothing) * -weight[t] * log_probs[n * classes + t] + smoothing / classes * spread;
        total_weight += weight[t];
    }
    return {rows, sum_of(rows) / total_weight};
}

inline std::string message_of(const std::function<void()>& action) {
    try {
        action();
    } catch (const std::exception& error) {
        return error.what();
    }
    return "(no exception)";
}

}  // namespace stepgrad::testing::loss
