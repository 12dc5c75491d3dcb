#pragma once
/// @file svg_plot.hpp
/// @brief The training curves as one self-contained SVG picture (`curves.svg`): loss and
/// accuracy per epoch, train and test, side by side.

#include <stepgrad/mnist/epoch_metrics.hpp>

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace stepgrad::mnist {

/// @brief An SVG 1.1 picture (900 x 380) of the training curves, with no external resources.
///
/// Two panels side by side: on the left "loss" (train_loss and test_loss, the cross-entropy),
/// on the right "accuracy" (train_accuracy and test_accuracy, in percent), each against the
/// epoch. Each panel has axes, x ticks at the epochs (every k-th one past 12 epochs), y ticks
/// at round numbers (nice_axis()), axis titles, one polyline per series with a circle per
/// epoch, train in solid blue (`\#1f77b4`) and test in dashed orange (`\#ff7f0e`), and a legend.
/// `title` is drawn on top (escaped). One epoch or a constant series gets a padded range;
/// non-finite values (a diverged loss) are left out of the lines. Example:
/// @code
/// std::string svg = stepgrad::mnist::training_curves_svg(history, "MLP on MNIST");
/// @endcode
std::string training_curves_svg(const std::vector<EpochMetrics>& rows, const std::string& title);

/// @brief Writes training_curves_svg(rows, title) to `path` atomically (see
/// write_file_atomically()); throws std::runtime_error naming the path when it cannot.
void write_training_curves_svg(const std::filesystem::path& path, const std::vector<EpochMetrics>& rows,
                               const std::string& title);

/// @brief The ticks of a value axis: from `low` to `high` (both multiples of `step`) in steps of
/// 1, 2 or 5 times a power of ten.
struct AxisTicks {
    double low = 0.0;           ///< the first tick, at or below the smallest value
    double high = 1.0;          ///< the last tick, at or above the largest value
    double step = 0.2;          ///< the distance between two ticks
    std::vector<double> values; ///< the ticks, low to high
};

/// @brief Round-number ticks that cover [`low`, `high`] with about `target_ticks` intervals.
///
/// An empty range (`low == high`) is padded by 10% of the value (or by 1 around 0); non-finite
/// bounds give the axis [0, 1]. Example: `nice_axis(0.13, 0.87)` has step 0.2 and ticks
/// 0, 0.2, ..., 1; `nice_axis(92.3, 98.7)` has step 2 and ticks 92, 94, ..., 100.
/// Throws std::invalid_argument when `target_ticks` < 1.
AxisTicks nice_axis(double low, double high, int target_ticks = 5);

/// @brief A tick label: `value` with as many decimals as `step` needs, e.g. (0.4, 0.2) -> "0.4",
/// (95, 5) -> "95", (0.025, 0.005) -> "0.025".
std::string format_tick(double value, double step);

/// @brief `text` made safe inside SVG/XML text and attribute values: `&`, `<`, `>`, `"`, `'`
/// become entities, and control characters XML cannot hold are dropped.
std::string escape_xml(std::string_view text);

}  // namespace stepgrad::mnist
