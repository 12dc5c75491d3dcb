// The training-curves SVG: a title and a legend on top, then two panels (loss, accuracy), each
// drawn by the same function from its series. Coordinates are written with std::to_chars, so the
// picture does not depend on the locale.
#include <stepgrad/mnist/metrics_csv.hpp>
#include <stepgrad/mnist/svg_plot.hpp>
#include <stepgrad/shared/error.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <limits>
#include <utility>

namespace stepgrad::mnist {
namespace {

constexpr double kWidth = 900;
constexpr double kHeight = 380;
constexpr double kPanelWidth = kWidth / 2;
constexpr double kPlotLeft = 70;    // from the panel's left edge
constexpr double kPlotRight = 430;  // from the panel's left edge
constexpr double kPlotTop = 70;
constexpr double kPlotBottom = 310;
constexpr int kMaxEpochTicks = 12;
constexpr const char* kTrainColor = "#1f77b4";
constexpr const char* kTestColor = "#ff7f0e";
constexpr const char* kTestDashes = "6 4";

using Point = std::pair<double, double>;  // (epoch, value)

struct Series {
    const char* color;
    bool dashed;
    std::vector<Point> points;
};

struct Panel {
    const char* title;
    const char* y_title;
    double left_edge;
    std::array<Series, 2> series;  // train, test
};

// A coordinate or value with one decimal (or as a tick needs), in the C locale.
std::string fixed(double value, int decimals = 1) {
    std::array<char, 64> buffer{};
    const auto result =
        std::to_chars(buffer.data(), buffer.data() + buffer.size(), value, std::chars_format::fixed, decimals);
    return std::string(buffer.data(), result.ptr);
}

std::string line_element(double x1, double y1, double x2, double y2, const std::string& style) {
    return "<line x1=\"" + fixed(x1) + "\" y1=\"" + fixed(y1) + "\" x2=\"" + fixed(x2) + "\" y2=\"" + fixed(y2) +
           "\" " + style + "/>\n";
}

// A text element; `attributes` may add text-anchor, font-size, transform...
std::string text_element(double x, double y, std::string_view content, const std::string& attributes) {
    return "<text x=\"" + fixed(x) + "\" y=\"" + fixed(y) + "\" font-family=\"sans-serif\" " + attributes + ">" +
           escape_xml(content) + "</text>\n";
}

std::string stroke_style(const Series& series) {
    std::string style = "fill=\"none\" stroke=\"" + std::string(series.color) + "\" stroke-width=\"2\"";
    if (series.dashed) style += " stroke-dasharray=\"" + std::string(kTestDashes) + "\"";
    return style;
}

// The x range of the epochs, padded a little (by 1 for a single epoch).
std::pair<double, double> epoch_range(const std::vector<EpochMetrics>& rows) {
    if (rows.empty()) return {0.0, 1.0};
    const auto [first, last] = std::minmax_element(rows.begin(), rows.end(),
                                                   [](const auto& a, const auto& b) { return a.epoch < b.epoch; });
    const auto low = static_cast<double>(first->epoch);
    const auto high = static_cast<double>(last->epoch);
    if (low == high) return {low - 1.0, high + 1.0};
    const double pad = 0.03 * (high - low);
    return {low - pad, high + pad};
}

// The epochs to mark: all of them up to kMaxEpochTicks, else the multiples of 2, 5, 10, 20...
std::vector<std::int64_t> epoch_ticks(const std::vector<EpochMetrics>& rows) {
    if (rows.empty()) return {};
    const auto [first, last] = std::minmax_element(rows.begin(), rows.end(),
                                                   [](const auto& a, const auto& b) { return a.epoch < b.epoch; });
    const std::int64_t span = last->epoch - first->epoch + 1;
    std::int64_t every = 1;
    for (std::int64_t power = 1; span > every * kMaxEpochTicks; power *= 10) {
        for (std::int64_t factor : {1, 2, 5}) {
            every = factor * power;
            if (span <= every * kMaxEpochTicks) break;
        }
    }
    std::vector<std::int64_t> ticks;
    for (std::int64_t epoch = first->epoch; epoch <= last->epoch; ++epoch) {
        if (every == 1 || epoch % every == 0) ticks.push_back(epoch);
    }
    return ticks;
}

// The smallest and largest finite value of the panel's series.
std::pair<double, double> value_range(const Panel& panel) {
    double low = std::numeric_limits<double>::infinity();
    double high = -low;
    for (const Series& series : panel.series) {
        for (const auto& [epoch, value] : series.points) {
            low = std::min(low, value);
            high = std::max(high, value);
        }
    }
    return {low, high};
}

// Where a panel's plot lies on the page, and how values map onto it.
struct PlotArea {
    double left, right;      // page x of the plot's edges
    double x_low, x_high;    // the epochs at those edges
    AxisTicks y_axis;        // the values at the bottom and top, and the ticks between

    [[nodiscard]] double x_of(double epoch) const {
        return left + (epoch - x_low) / (x_high - x_low) * (right - left);
    }
    [[nodiscard]] double y_of(double value) const {
        return kPlotBottom - (value - y_axis.low) / (y_axis.high - y_axis.low) * (kPlotBottom - kPlotTop);
    }
};

// Grid lines and y ticks, x ticks, the two axes and the panel's titles.
std::string draw_axes(const Panel& panel, const PlotArea& area, const std::vector<std::int64_t>& x_ticks) {
    const std::string axis_style = "stroke=\"#333\" stroke-width=\"1\"";
    std::string svg;
    for (double tick : area.y_axis.values) {
        const double y = area.y_of(tick);
        svg += line_element(area.left, y, area.right, y, "stroke=\"#e5e5e5\" stroke-width=\"1\"");
        svg += line_element(area.left - 5, y, area.left, y, axis_style);
        svg += text_element(area.left - 8, y + 4, format_tick(tick, area.y_axis.step),
                            "font-size=\"11\" text-anchor=\"end\"");
    }
    for (std::int64_t epoch : x_ticks) {
        const double x = area.x_of(static_cast<double>(epoch));
        svg += line_element(x, kPlotBottom, x, kPlotBottom + 5, axis_style);
        svg += text_element(x, kPlotBottom + 18, std::to_string(epoch), "font-size=\"11\" text-anchor=\"middle\"");
    }
    svg += line_element(area.left, kPlotTop, area.left, kPlotBottom, axis_style);
    svg += line_element(area.left, kPlotBottom, area.right, kPlotBottom, axis_style);
    const double middle = (area.left + area.right) / 2;
    svg += text_element(middle, kPlotTop - 10, panel.title,
                        "font-size=\"13\" font-weight=\"bold\" text-anchor=\"middle\"");
    svg += text_element(middle, kPlotBottom + 40, "epoch", "font-size=\"12\" text-anchor=\"middle\"");
    const double title_x = panel.left_edge + 20;
    const double title_y = (kPlotTop + kPlotBottom) / 2;
    const std::string rotate = "rotate(-90 " + fixed(title_x) + " " + fixed(title_y) + ")";
    svg += text_element(title_x, title_y, panel.y_title,
                        "font-size=\"12\" text-anchor=\"middle\" transform=\"" + rotate + "\"");
    return svg;
}

// One series: a polyline through its points and a circle on each.
std::string draw_series(const Series& series, const PlotArea& area) {
    std::string points;
    std::string circles;
    for (const auto& [epoch, value] : series.points) {
        const std::string x = fixed(area.x_of(epoch));
        const std::string y = fixed(area.y_of(value));
        if (!points.empty()) points += ' ';
        points += x;
        points += ',';
        points += y;
        circles += "<circle cx=\"" + x + "\" cy=\"" + y + "\" r=\"3\" fill=\"" + series.color + "\"/>\n";
    }
    return "<polyline points=\"" + points + "\" " + stroke_style(series) + "/>\n" + circles;
}

// One panel in a group: its axes, then its two series.
std::string draw_panel(const Panel& panel, std::pair<double, double> x_range,
                       const std::vector<std::int64_t>& x_ticks) {
    const auto [value_low, value_high] = value_range(panel);
    const PlotArea area{panel.left_edge + kPlotLeft, panel.left_edge + kPlotRight, x_range.first, x_range.second,
                        nice_axis(value_low, value_high)};
    std::string svg = "<g>\n" + draw_axes(panel, area, x_ticks);
    for (const Series& series : panel.series) svg += draw_series(series, area);
    return svg + "</g>\n";
}

// The points (epoch, field * scale) of the rows whose value is finite.
std::vector<Point> points_of(const std::vector<EpochMetrics>& rows, double EpochMetrics::*field, double scale) {
    std::vector<Point> points;
    for (const EpochMetrics& row : rows) {
        const double value = row.*field * scale;
        if (std::isfinite(value)) points.emplace_back(static_cast<double>(row.epoch), value);
    }
    return points;
}

std::string draw_legend() {
    const Series train{kTrainColor, false, {}};
    const Series test{kTestColor, true, {}};
    return line_element(370, 40, 400, 40, stroke_style(train)) + text_element(406, 44, "train", "font-size=\"12\"") +
           line_element(470, 40, 500, 40, stroke_style(test)) + text_element(506, 44, "test", "font-size=\"12\"");
}

}  // namespace

AxisTicks nice_axis(double low, double high, int target_ticks) {
    STEPGRAD_CHECK(target_ticks >= 1, "nice_axis: target_ticks must be >= 1, got " << target_ticks);
    if (!std::isfinite(low) || !std::isfinite(high)) {
        low = 0.0;
        high = 1.0;
    }
    if (low > high) std::swap(low, high);
    if (high - low <= 1e-12 * std::max(1.0, std::abs(high))) {
        const double pad = high != 0.0 ? 0.1 * std::abs(high) : 1.0;
        low -= pad;
        high += pad;
    }
    const double raw_step = (high - low) / target_ticks;
    const double power = std::pow(10.0, std::floor(std::log10(raw_step)));
    double step = 10.0 * power;
    for (double factor : {1.0, 2.0, 5.0}) {
        if (factor * power >= raw_step * (1 - 1e-9)) {
            step = factor * power;
            break;
        }
    }
    AxisTicks axis;
    axis.step = step;
    const auto first = static_cast<std::int64_t>(std::floor(low / step + 1e-9));
    const auto last = static_cast<std::int64_t>(std::ceil(high / step - 1e-9));
    axis.low = static_cast<double>(first) * step;
    axis.high = static_cast<double>(last) * step;
    for (std::int64_t i = first; i <= last; ++i) axis.values.push_back(static_cast<double>(i) * step);
    return axis;
}

std::string format_tick(double value, double step) {
    const int decimals = std::max(0, static_cast<int>(-std::floor(std::log10(std::abs(step)) + 1e-9)));
    if (std::abs(value) < std::abs(step) * 1e-9) value = 0.0;  // no "-0.0"
    return fixed(value, decimals);
}

std::string escape_xml(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            case '\'': out += "&#39;"; break;
            default:
                if (static_cast<unsigned char>(c) >= 0x20 || c == '\t' || c == '\n' || c == '\r') out += c;
        }
    }
    return out;
}

std::string training_curves_svg(const std::vector<EpochMetrics>& rows, const std::string& title) {
    const Panel loss{"loss", "cross-entropy", 0.0,
                     {{{kTrainColor, false, points_of(rows, &EpochMetrics::train_loss, 1.0)},
                       {kTestColor, true, points_of(rows, &EpochMetrics::test_loss, 1.0)}}}};
    const Panel accuracy{"accuracy", "accuracy (%)", kPanelWidth,
                         {{{kTrainColor, false, points_of(rows, &EpochMetrics::train_accuracy, 100.0)},
                           {kTestColor, true, points_of(rows, &EpochMetrics::test_accuracy, 100.0)}}}};
    const std::string size = "width=\"" + fixed(kWidth, 0) + "\" height=\"" + fixed(kHeight, 0) + "\"";
    std::string svg = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                      "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" " + size +
                      " viewBox=\"0 0 " + fixed(kWidth, 0) + " " + fixed(kHeight, 0) + "\">\n";
    svg += "<rect x=\"0\" y=\"0\" width=\"" + fixed(kWidth, 0) + "\" height=\"" + fixed(kHeight, 0) +
           "\" fill=\"white\"/>\n";
    svg += text_element(kWidth / 2, 24, title, "font-size=\"16\" font-weight=\"bold\" text-anchor=\"middle\"");
    svg += draw_legend();
    const auto x_range = epoch_range(rows);
    const std::vector<std::int64_t> x_ticks = epoch_ticks(rows);
    svg += draw_panel(loss, x_range, x_ticks);
    svg += draw_panel(accuracy, x_range, x_ticks);
    return svg + "</svg>\n";
}

void write_training_curves_svg(const std::filesystem::path& path, const std::vector<EpochMetrics>& rows,
                               const std::string& title) {
    write_file_atomically(path, training_curves_svg(rows, title));
}

}  // namespace stepgrad::mnist
