#pragma once
/// @file progress.hpp
/// @brief A progress bar for long loops (an epoch's batches): a redrawn bar on a terminal,
/// plain periodic lines in a log file.

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <string>

namespace stepgrad {

/// @brief Formats a duration in seconds as `m:ss`, or `h:mm:ss` from one hour on.
///
/// Fractions of a second are dropped; negative or non-finite values read as 0.
/// Examples: `format_duration(59) == "0:59"`, `format_duration(61) == "1:01"`,
/// `format_duration(3661) == "1:01:01"`.
std::string format_duration(double seconds);

/// @brief A bar of exactly `width` columns, filled to `fraction` (clamped to [0, 1]) with full
/// blocks `█` and one of the eighth blocks `▏▎▍▌▋▊▉` for the part of a cell, then spaces.
///
/// UTF-8 text; every block character is one column wide. The fill rounds down, so the bar is
/// full only at 1. Example: `eighth_block_bar(0.5, 4) == "██  "`,
/// `eighth_block_bar(0.3, 4)` is `█▏` and two spaces (1.2 cells). Throws std::invalid_argument
/// for a negative width.
std::string eighth_block_bar(double fraction, int width);

/// @brief Shows how far a loop of `total` steps has come, with the elapsed time and an estimate
/// of the time left.
///
/// On a terminal (`interactive`) it draws one line that redraws itself after a carriage
/// return, at most about ten times a second and always at the last step:
/// @code
/// epoch 3/10 [██████████▌         ]  412/938  loss 0.4123  acc 85.1%  0:03 ETA 0:04
/// @endcode
/// The bar has a fixed width of `kBarCells` columns and the whole line stays within
/// `kMaxColumns` (the status is cut short if needed). Elsewhere (a log file, CI) it prints a
/// plain line at about every tenth of the steps and at the last one, never a carriage return:
/// @code
/// epoch 3/10  400/938 (43%)  loss 0.4123  acc 85.1%  elapsed 0:03  left 0:04
/// @endcode
/// The time left is `elapsed / done * (total - done)`, timed by the bar's own clock from its
/// construction. Example:
/// @code
/// stepgrad::ProgressBar bar(std::cout, batches, "epoch 1/10", stepgrad::stdout_is_terminal());
/// for (std::int64_t b = 1; b <= batches; ++b) {
///     train_one_batch();
///     bar.update(b, "loss 0.4123");
/// }
/// bar.finish();
/// @endcode
class ProgressBar {
public:
    /// @brief A clock in seconds (any origin): steady_clock by default, a fake one in tests.
    using SecondsClock = std::function<double()>;

    /// @brief Columns of the bar between its brackets.
    static constexpr int kBarCells = 20;
    /// @brief The widest an interactive line gets, in columns.
    static constexpr int kMaxColumns = 100;
    /// @brief Seconds between two interactive redraws, at least.
    static constexpr double kRedrawSeconds = 0.1;

    /// @brief A bar over `total` steps (batches) writing to `out`.
    /// @param out Where to write (usually std::cout); it must outlive the bar.
    /// @param total Number of steps, >= 0 (throws std::invalid_argument when negative).
    /// @param label Shown first on each line, e.g. "epoch 3/10".
    /// @param interactive True for a terminal (a bar redrawn after carriage returns), false
    /// for plain lines (a log file).
    ProgressBar(std::ostream& out, std::int64_t total, std::string label, bool interactive);

    /// @brief The same, timed by `seconds_now` instead of std::chrono::steady_clock (for tests).
    ProgressBar(std::ostream& out, std::int64_t total, std::string label, bool interactive,
                SecondsClock seconds_now);

    /// @brief Ends an unfinished bar (see finish()); never throws.
    ~ProgressBar();

    ProgressBar(const ProgressBar&) = delete;             ///< not copyable: it owns a screen line
    ProgressBar& operator=(const ProgressBar&) = delete;  ///< not copyable

    /// @brief Records that step `done` (0..total) is complete; `status` is the caller's text,
    /// e.g. "loss 0.4123  acc 85.1%  21,403 img/s". Draws or prints when it is time to.
    ///
    /// Throws std::invalid_argument when `done` is outside [0, total].
    void update(std::int64_t done, const std::string& status);

    /// @brief Ends the bar: shows the latest update if it was skipped, and on a terminal ends
    /// the line with a newline (nothing is cleared). Later calls do nothing.
    void finish();

    /// @brief The interactive line for `done` steps after `elapsed_seconds`, without the
    /// carriage return, e.g. `epoch 1 [██████████          ]   5/10  loss 1.0  0:05 ETA 0:05`
    /// (`done` is right-aligned to the width of `total`; the ETA reads `-:--` before the first
    /// step).
    [[nodiscard]] std::string bar_line(std::int64_t done, const std::string& status,
                                       double elapsed_seconds) const;

    /// @brief The plain line for `done` steps after `elapsed_seconds` (no newline), e.g.
    /// `epoch 1   5/10 (50%)  loss 1.0  elapsed 0:05  left 0:05`.
    [[nodiscard]] std::string plain_line(std::int64_t done, const std::string& status,
                                         double elapsed_seconds) const;

private:
    [[nodiscard]] bool due(double now) const;
    void show(double now);

    std::ostream& out_;
    std::int64_t total_;
    std::string label_;
    bool interactive_;
    SecondsClock seconds_now_;
    double start_seconds_;
    std::int64_t done_ = 0;              // the latest update
    std::string status_;                 // its status
    bool pending_ = false;               // the latest update is not shown yet
    bool finished_ = false;
    std::int64_t shown_done_ = -1;       // the step of the last line shown, -1 before any
    double last_draw_seconds_ = 0.0;     // interactive: when the line was last drawn
    std::size_t last_columns_ = 0;       // interactive: the width of the last line drawn
    std::int64_t plain_every_ = 1;       // plain: steps between two lines (about total / 10)
    std::int64_t next_plain_done_ = 1;   // plain: the step from which the next line is due
};

/// @brief Whether standard output is a terminal (`isatty(STDOUT_FILENO)`): pass it as the
/// `interactive` argument of ProgressBar.
bool stdout_is_terminal();

}  // namespace stepgrad
