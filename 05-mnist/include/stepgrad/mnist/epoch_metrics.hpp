#pragma once
/// @file epoch_metrics.hpp
/// @brief What one training epoch measured: the row of the metrics CSV and a point of the plot.

#include <cstdint>

namespace stepgrad::mnist {

/// @brief The figures of one epoch, as `stepgrad-mnist train` reports them.
///
/// Accuracies are fractions in [0, 1]. `train_seconds` times the training loop alone (no
/// evaluation), and `images_per_second` is the training images divided by it.
struct EpochMetrics {
    std::int64_t epoch = 0;          ///< 1 for the first epoch
    double train_loss = 0.0;         ///< mean cross-entropy over the epoch's training batches
    double train_accuracy = 0.0;     ///< fraction of training images classified right (in train mode)
    double test_loss = 0.0;          ///< mean cross-entropy on the test set (eval mode)
    double test_accuracy = 0.0;      ///< fraction of test images classified right
    double train_seconds = 0.0;      ///< wall time of the training loop alone
    double images_per_second = 0.0;  ///< training images per second of `train_seconds`
    double lr = 0.0;                 ///< learning rate at the end of the epoch
    double peak_rss_mib = 0.0;       ///< the process's peak resident memory so far, in MiB
};

}  // namespace stepgrad::mnist
