#include <catch2/catch.hpp>

#include "stepgrad/shared/progress.hpp"

#include <algorithm>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

// A clock the test moves by hand.
struct FakeClock {
    double now = 100.0;
    stepgrad::ProgressBar::SecondsClock function() {
        return [this] { return now; };
    }
};

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
}

// Code points (one terminal column each for the characters the bar uses).
std::size_t columns_of(const std::string& text) {
    return static_cast<std::size_t>(std::count_if(
        text.begin(), text.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

// The text between the '[' and ']' of each redraw of an interactive bar.
std::vector<std::string> bars_of(const std::string& output) {
    std::vector<std::string> bars;
    for (std::size_t open = output.find('['); open != std::string::npos; open = output.find('[', open + 1)) {
        bars.push_back(output.substr(open + 1, output.find(']', open) - open - 1));
    }
    return bars;
}

}  // namespace

TEST_CASE("format_duration writes m:ss, and h:mm:ss from an hour on", "[shared][progress]") {
    CHECK(stepgrad::format_duration(0) == "0:00");
    CHECK(stepgrad::format_duration(59) == "0:59");
    CHECK(stepgrad::format_duration(59.9) == "0:59");
    CHECK(stepgrad::format_duration(61) == "1:01");
    CHECK(stepgrad::format_duration(3599) == "59:59");
    CHECK(stepgrad::format_duration(3661) == "1:01:01");
    CHECK(stepgrad::format_duration(36000) == "10:00:00");
    CHECK(stepgrad::format_duration(-5) == "0:00");
}

TEST_CASE("eighth_block_bar has exactly the width asked, with eighths of a cell", "[shared][progress]") {
    CHECK(stepgrad::eighth_block_bar(0.0, 4) == "    ");
    CHECK(stepgrad::eighth_block_bar(0.5, 4) == "██  ");
    CHECK(stepgrad::eighth_block_bar(1.0, 4) == "████");
    CHECK(stepgrad::eighth_block_bar(2.0, 4) == "████");
    CHECK(stepgrad::eighth_block_bar(-1.0, 3) == "   ");
    CHECK(stepgrad::eighth_block_bar(0.3, 4) == "█▏  ");  // 1.2 cells = 9.6 eighths, rounded down
    CHECK(stepgrad::eighth_block_bar(0.5, 1) == "▌");
    CHECK(stepgrad::eighth_block_bar(0.875, 1) == "▉");
    CHECK(stepgrad::eighth_block_bar(0.06, 1) == " ");  // under an eighth
    for (int width : {0, 1, 7, 20}) {
        for (double fraction : {0.0, 0.01, 0.33, 0.5, 0.99, 1.0}) {
            CHECK(columns_of(stepgrad::eighth_block_bar(fraction, width)) == static_cast<std::size_t>(width));
        }
    }
    CHECK_THROWS_AS(stepgrad::eighth_block_bar(0.5, -1), std::invalid_argument);
}

TEST_CASE("the plain mode prints about ten lines and ends at total/total", "[shared][progress]") {
    std::ostringstream out;
    FakeClock clock;
    {
        stepgrad::ProgressBar bar(out, 1000, "epoch 1/2", false, clock.function());
        for (int done = 1; done <= 1000; ++done) {
            clock.now += 0.01;
            bar.update(done, "loss 0.5");
        }
        bar.finish();
    }
    const std::string text = out.str();
    CHECK(text.find('\r') == std::string::npos);
    const std::vector<std::string> lines = lines_of(text);
    CHECK(lines.size() == 10);
    CHECK(lines.front() == "epoch 1/2   100/1000 (10%)  loss 0.5  elapsed 0:01  left 0:09");
    CHECK(lines.back() == "epoch 1/2  1000/1000 (100%)  loss 0.5  elapsed 0:10  left 0:00");
}

TEST_CASE("the plain mode shows a skipped last update at finish, once", "[shared][progress]") {
    std::ostringstream out;
    FakeClock clock;
    stepgrad::ProgressBar bar(out, 100, "eval", false, clock.function());
    bar.update(15, "");
    bar.update(17, "");
    bar.finish();
    bar.finish();
    const std::vector<std::string> lines = lines_of(out.str());
    REQUIRE(lines.size() == 2);
    CHECK(lines[0].starts_with("eval   15/100 (15%)"));
    CHECK(lines[1].starts_with("eval   17/100 (17%)"));
}

TEST_CASE("the interactive bar redraws after carriage returns, keeps its width and ends with a newline",
          "[shared][progress]") {
    std::ostringstream out;
    FakeClock clock;
    stepgrad::ProgressBar bar(out, 938, "epoch 3/10", true, clock.function());
    for (int done = 1; done <= 938; ++done) {
        clock.now += 0.0625;  // exact in binary; a redraw every second update (0.125 s >= 0.1 s)
        bar.update(done, "loss 0.4123  acc 85.1%");
    }
    bar.finish();
    const std::string text = out.str();
    CHECK(text.find('\r') != std::string::npos);
    CHECK(text.back() == '\n');
    CHECK(std::count(text.begin(), text.end(), '\n') == 1);
    const std::vector<std::string> bars = bars_of(text);
    CHECK(bars.size() == 470);  // steps 1, 3, 5, ..., 937, and the last one
    for (const std::string& drawn : bars) CHECK(columns_of(drawn) == stepgrad::ProgressBar::kBarCells);
    const std::string last = text.substr(text.rfind('\r') + 1);
    CHECK(last == "epoch 3/10 [████████████████████]  938/938  loss 0.4123  acc 85.1%  0:58 ETA 0:00\n");
}

TEST_CASE("the interactive bar redraws at most every tenth of a second, and always at the end",
          "[shared][progress]") {
    std::ostringstream out;
    FakeClock clock;
    stepgrad::ProgressBar bar(out, 1000, "fast", true, clock.function());
    for (int done = 1; done <= 1000; ++done) {
        clock.now += 0.001;  // one second in all
        bar.update(done, "");
    }
    const std::string text = out.str();
    const auto redraws = std::count(text.begin(), text.end(), '\r');
    CHECK(redraws >= 9);
    CHECK(redraws <= 12);
    CHECK(text.substr(text.rfind('\r')).find("1000/1000") != std::string::npos);
}

TEST_CASE("a shorter interactive redraw covers the longer line before it with spaces", "[shared][progress]") {
    std::ostringstream out;
    FakeClock clock;
    stepgrad::ProgressBar bar(out, 10, "e", true, clock.function());
    bar.update(1, "a long status text");
    clock.now += 1.0;
    bar.update(2, "short");
    const std::string text = out.str();
    const std::string first = text.substr(1, text.find('\r', 1) - 1);
    const std::string second = text.substr(text.find('\r', 1) + 1);
    CHECK(columns_of(second) == columns_of(first));
    CHECK(second.ends_with(std::string(13, ' ')));
}

TEST_CASE("an interactive bar left unfinished ends its line when destroyed", "[shared][progress]") {
    std::ostringstream out;
    {
        stepgrad::ProgressBar bar(out, 10, "e", true, [] { return 0.0; });
        bar.update(3, "");
    }
    CHECK(out.str().ends_with("\n"));
    std::ostringstream untouched;
    { stepgrad::ProgressBar bar(untouched, 10, "e", true, [] { return 0.0; }); }
    CHECK(untouched.str().empty());
}

TEST_CASE("the interactive ETA is elapsed / done * (total - done)", "[shared][progress]") {
    std::ostringstream out;
    FakeClock clock;
    stepgrad::ProgressBar bar(out, 10, "epoch 1", true, clock.function());
    CHECK(bar.bar_line(5, "loss 1.0", 5.0) == "epoch 1 [██████████          ]   5/10  loss 1.0  0:05 ETA 0:05");
    CHECK(bar.bar_line(1, "", 61.0).ends_with("]   1/10  1:01 ETA 9:09"));
    CHECK(bar.plain_line(4, "x", 3.0) == "epoch 1   4/10 (40%)  x  elapsed 0:03  left 0:04");
}

TEST_CASE("the interactive line stays within 100 columns, cutting a long status", "[shared][progress]") {
    std::ostringstream out;
    stepgrad::ProgressBar bar(out, 60000, "epoch 10/10", true, [] { return 0.0; });
    const std::string line = bar.bar_line(30000, std::string(200, 's'), 4000.0);
    CHECK(columns_of(line) == stepgrad::ProgressBar::kMaxColumns);
    CHECK(line.ends_with("s  1:06:40 ETA 1:06:40"));
}

TEST_CASE("done 0 and total 0 do not divide by zero", "[shared][progress]") {
    std::ostringstream out;
    stepgrad::ProgressBar bar(out, 10, "start", false, [] { return 0.0; });
    CHECK(bar.plain_line(0, "", 0.0) == "start   0/10 (0%)  elapsed 0:00  left -:--");
    CHECK(bar.bar_line(0, "", 0.0) == "start [                    ]   0/10  0:00 ETA -:--");

    std::ostringstream empty_out;
    stepgrad::ProgressBar empty(empty_out, 0, "nothing", false, [] { return 0.0; });
    empty.update(0, "");
    empty.finish();
    CHECK(empty_out.str() == "nothing  0/0 (100%)  elapsed 0:00  left 0:00\n");
}

TEST_CASE("ProgressBar rejects a negative total and a step outside 0..total", "[shared][progress]") {
    std::ostringstream out;
    CHECK_THROWS_AS(stepgrad::ProgressBar(out, -1, "x", false), std::invalid_argument);
    stepgrad::ProgressBar bar(out, 5, "x", false);
    CHECK_THROWS_AS(bar.update(6, ""), std::invalid_argument);
    CHECK_THROWS_AS(bar.update(-1, ""), std::invalid_argument);
}
