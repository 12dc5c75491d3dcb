// ProgressBar: the interactive bar redraws one line with '\r' (padding with spaces over what a
// longer previous line left), the plain mode prints a line at about every tenth of the steps.
// Both take their time from an injectable clock, so tests can check the ETA and the throttling.
#include "stepgrad/shared/progress.hpp"

#include "stepgrad/shared/error.hpp"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <ostream>
#include <string_view>
#include <utility>

namespace stepgrad {
namespace {

constexpr std::string_view kFullBlock = "█";
// The blocks for 1/8 .. 7/8 of a cell, left-aligned.
constexpr std::array<std::string_view, 7> kEighthBlocks = {"▏", "▎", "▍", "▌", "▋", "▊", "▉"};

double steady_seconds() {
    using std::chrono::duration;
    return duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Columns a UTF-8 string takes on a terminal, counting each code point as one (true for the
// block characters and ASCII this file writes).
std::size_t columns_of(std::string_view text) {
    return static_cast<std::size_t>(
        std::count_if(text.begin(), text.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

// The first `columns` code points of a UTF-8 string.
std::string first_columns(std::string_view text, std::size_t columns) {
    std::size_t seen = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const bool starts_code_point = (static_cast<unsigned char>(text[i]) & 0xC0) != 0x80;
        if (starts_code_point && seen++ == columns) return std::string(text.substr(0, i));
    }
    return std::string(text);
}

// `value` right-aligned in the width of `widest`, e.g. " 42" for 42 of 938.
std::string count_text(std::int64_t value, std::int64_t widest) {
    std::string text = std::to_string(value);
    const std::size_t width = std::to_string(widest).size();
    if (text.size() < width) text.insert(0, width - text.size(), ' ');
    return text;
}

// The estimated time left: `elapsed / done * (total - done)`, "-:--" before the first step.
std::string time_left_text(std::int64_t done, std::int64_t total, double elapsed_seconds) {
    const std::int64_t remaining = std::max<std::int64_t>(total - done, 0);
    if (remaining == 0) return format_duration(0);
    if (done <= 0) return "-:--";
    return format_duration(elapsed_seconds / static_cast<double>(done) * static_cast<double>(remaining));
}

double fraction_done(std::int64_t done, std::int64_t total) {
    return total > 0 ? static_cast<double>(done) / static_cast<double>(total) : 1.0;
}

}  // namespace

std::string format_duration(double seconds) {
    const auto whole = std::isfinite(seconds) && seconds > 0 ? static_cast<std::int64_t>(seconds) : 0;
    const std::int64_t hours = whole / 3600;
    const std::int64_t minutes = whole / 60 % 60;
    const std::int64_t secs = whole % 60;
    const auto two_digits = [](std::int64_t n) {
        std::string digits = std::to_string(n);
        if (digits.size() < 2) digits.insert(digits.begin(), '0');
        return digits;
    };
    if (hours > 0) return std::to_string(hours) + ":" + two_digits(minutes) + ":" + two_digits(secs);
    return std::to_string(minutes) + ":" + two_digits(secs);
}

std::string eighth_block_bar(double fraction, int width) {
    STEPGRAD_CHECK(width >= 0, "eighth_block_bar: the width must be >= 0, got " << width);
    const double clamped = std::isfinite(fraction) ? std::clamp(fraction, 0.0, 1.0) : 0.0;
    const auto eighths = static_cast<std::int64_t>(std::floor(clamped * width * 8));
    const std::int64_t full_cells = eighths / 8;
    std::string bar;
    for (std::int64_t i = 0; i < full_cells; ++i) bar += kFullBlock;
    std::int64_t cells = full_cells;
    if (eighths % 8 != 0) {
        bar += kEighthBlocks[static_cast<std::size_t>(eighths % 8 - 1)];
        ++cells;
    }
    bar.append(static_cast<std::size_t>(width - cells), ' ');
    return bar;
}

ProgressBar::ProgressBar(std::ostream& out, std::int64_t total, std::string label, bool interactive)
    : ProgressBar(out, total, std::move(label), interactive, steady_seconds) {}

ProgressBar::ProgressBar(std::ostream& out, std::int64_t total, std::string label, bool interactive,
                         SecondsClock seconds_now)
    : out_(out), total_(total), label_(std::move(label)), interactive_(interactive),
      seconds_now_(std::move(seconds_now)) {
    STEPGRAD_CHECK(total >= 0, "ProgressBar: the number of steps must be >= 0, got " << total);
    STEPGRAD_CHECK(seconds_now_ != nullptr, "ProgressBar: the clock must be a callable, got an empty function");
    start_seconds_ = seconds_now_();
    plain_every_ = std::max<std::int64_t>(1, (total + 9) / 10);
    next_plain_done_ = plain_every_;
}

ProgressBar::~ProgressBar() {
    try {
        finish();
    } catch (...) {  // a destructor must not throw; a failed last redraw loses nothing
    }
}

void ProgressBar::update(std::int64_t done, const std::string& status) {
    STEPGRAD_CHECK(done >= 0 && done <= total_,
                   "ProgressBar::update: step " << done << " is outside 0.." << total_ << " (" << label_ << ")");
    done_ = done;
    status_ = status;
    pending_ = true;
    const double now = seconds_now_();
    if (due(now)) show(now);
}

void ProgressBar::finish() {
    if (finished_) return;
    finished_ = true;
    if (pending_) show(seconds_now_());
    if (interactive_ && shown_done_ >= 0) out_ << '\n' << std::flush;
}

// Interactive: the first update, then at most every kRedrawSeconds, and the last step once.
// Plain: about every tenth of the steps, and the last step once.
bool ProgressBar::due(double now) const {
    const bool last_step_unseen = done_ == total_ && shown_done_ != total_;
    if (interactive_) return shown_done_ < 0 || now - last_draw_seconds_ >= kRedrawSeconds || last_step_unseen;
    return done_ >= next_plain_done_ || last_step_unseen;
}

void ProgressBar::show(double now) {
    const double elapsed = now - start_seconds_;
    if (interactive_) {
        const std::string line = bar_line(done_, status_, elapsed);
        const std::size_t columns = columns_of(line);
        out_ << '\r' << line;
        if (columns < last_columns_) out_ << std::string(last_columns_ - columns, ' ');
        last_columns_ = columns;
        last_draw_seconds_ = now;
    } else {
        out_ << plain_line(done_, status_, elapsed) << '\n';
        next_plain_done_ = (done_ / plain_every_ + 1) * plain_every_;
    }
    out_ << std::flush;
    shown_done_ = done_;
    pending_ = false;
}

std::string ProgressBar::bar_line(std::int64_t done, const std::string& status, double elapsed_seconds) const {
    const std::string head = label_ + " [" + eighth_block_bar(fraction_done(done, total_), kBarCells) + "]  " +
                             count_text(done, total_) + "/" + std::to_string(total_);
    const std::string times =
        "  " + format_duration(elapsed_seconds) + " ETA " + time_left_text(done, total_, elapsed_seconds);
    const std::size_t used = columns_of(head) + columns_of(times);
    const std::size_t room = used + 2 < kMaxColumns ? kMaxColumns - used - 2 : 0;
    const std::string shown_status = first_columns(status, room);
    return head + (shown_status.empty() ? "" : "  " + shown_status) + times;
}

std::string ProgressBar::plain_line(std::int64_t done, const std::string& status, double elapsed_seconds) const {
    const auto percent = static_cast<int>(std::floor(fraction_done(done, total_) * 100.0));
    std::string line = label_ + "  " + count_text(done, total_) + "/" + std::to_string(total_) + " (" +
                       std::to_string(percent) + "%)";
    if (!status.empty()) line += "  " + status;
    return line + "  elapsed " + format_duration(elapsed_seconds) + "  left " +
           time_left_text(done, total_, elapsed_seconds);
}

bool stdout_is_terminal() { return ::isatty(STDOUT_FILENO) == 1; }

}  // namespace stepgrad
