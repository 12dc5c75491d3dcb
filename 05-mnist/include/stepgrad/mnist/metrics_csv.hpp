#pragma once
/// @file metrics_csv.hpp
/// @brief The training history as CSV (`metrics.csv`): one row per epoch, written atomically,
/// and read back when a run resumes from a checkpoint.
///
/// Example of the file:
/// @code
/// epoch,train_loss,train_accuracy,test_loss,test_accuracy,train_seconds,images_per_second,lr,peak_rss_mib
/// 1,0.3512345678,0.8987666667,0.1876543211,0.9443,12.5,4800,0.01,212.5
/// @endcode

#include <stepgrad/mnist/epoch_metrics.hpp>

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace stepgrad::mnist {

/// @brief The header line of the metrics CSV, exactly (no newline). The first eight columns
/// are the contract of the file; `peak_rss_mib` is an extra and comes last.
inline constexpr const char* kMetricsCsvHeader =
    "epoch,train_loss,train_accuracy,test_loss,test_accuracy,train_seconds,images_per_second,lr,peak_rss_mib";

/// @brief The CSV text: kMetricsCsvHeader, then one line per row, each ending in a newline.
///
/// The epoch is an integer; every other number is written with 10 significant digits (like
/// printf's `%.10g`, independent of the locale), enough to read losses and accuracies back to
/// about 1e-9. A diverged loss is written `nan` or `inf` and reads back as such.
std::string metrics_csv(const std::vector<EpochMetrics>& rows);

/// @brief Writes metrics_csv(rows) to `path` atomically (stepgrad::write_file_atomically: a
/// temporary file beside it, flushed, then renamed over `path`), so a crash never leaves half a file.
///
/// Throws stepgrad::FileWriteError (a std::runtime_error) naming the path, the step that failed
/// and the system's reason (e.g. "No such file or directory") when the file cannot be written. Example:
/// `write_metrics_csv("runs/mlp/metrics.csv", history);`
void write_metrics_csv(const std::filesystem::path& path, const std::vector<EpochMetrics>& rows);

/// @brief Reads the text of a metrics CSV back into rows (the inverse of metrics_csv()).
///
/// Accepts LF or CRLF line ends, and a missing newline or blank lines at the end. Throws std::runtime_error
/// naming the line number when the header is not exactly kMetricsCsvHeader, a row has the wrong
/// number of fields, or a field is not a number (the epoch must be an integer).
std::vector<EpochMetrics> parse_metrics_csv(const std::string& text);

/// @brief Writes `text` to `path` atomically: stepgrad::write_file_atomically (shared/), which
/// writes a temporary file beside `path`, flushes it to disk and renames it over `path` (an
/// existing file at `path` stays whole until the rename).
///
/// Used for the metrics CSV and the SVG curves. Throws stepgrad::FileWriteError (a
/// std::runtime_error) with the path, the step that failed and strerror(errno); the temporary
/// file is removed on failure.
void write_file_atomically(const std::filesystem::path& path, std::string_view text);

}  // namespace stepgrad::mnist
