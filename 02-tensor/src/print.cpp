// Printing in PyTorch's style: one number format for the whole tensor, aligned columns,
// nested brackets, "..." for large tensors, and the autograd/device suffixes.
#include <stepgrad/tensor/autograd.hpp>
#include <stepgrad/tensor/print.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ostream>

namespace stepgrad {

namespace {

constexpr std::int64_t kSummarizeAbove = 1000;  // PyTorch's threshold
constexpr std::int64_t kEdgeItems = 3;
constexpr std::size_t kLineWidth = 80;

enum class Style { Index, Integer, Fixed, Scientific };  // Index: Int64 elements, "3" not "3."

std::string format_number(double v, Style style) {
    if (std::isnan(v)) return "nan";
    if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
    char buffer[64];
    switch (style) {
        case Style::Index: std::snprintf(buffer, sizeof buffer, "%lld", static_cast<long long>(v)); break;
        case Style::Integer: std::snprintf(buffer, sizeof buffer, "%.0f.", static_cast<double>(v)); break;
        case Style::Fixed: std::snprintf(buffer, sizeof buffer, "%.4f", static_cast<double>(v)); break;
        case Style::Scientific: std::snprintf(buffer, sizeof buffer, "%.4e", static_cast<double>(v)); break;
    }
    return buffer;
}

// PyTorch's choice: integers print as "1.", wide ranges in scientific notation, else 4 decimals.
Style choose_style(const std::vector<double>& values, Dtype dtype) {
    if (dtype == Dtype::Int64) return Style::Index;
    bool integers = true;
    double largest = 0.0, smallest = INFINITY;
    for (double v : values) {
        if (!std::isfinite(v)) continue;
        integers = integers && std::ceil(v) == v;
        const double magnitude = std::fabs(v);
        if (magnitude == 0.0) continue;
        largest = std::max(largest, magnitude);
        smallest = std::min(smallest, magnitude);
    }
    if (largest == 0.0) return integers ? Style::Integer : Style::Fixed;
    if (integers) return (largest / smallest > 1000.0 || largest > 1e8) ? Style::Scientific : Style::Integer;
    return (largest / smallest > 1000.0 || largest > 1e8 || smallest < 1e-4) ? Style::Scientific : Style::Fixed;
}

struct Printer {
    const std::vector<double>& values;
    const Shape& shape;
    std::vector<std::int64_t> strides;
    Style style;
    std::size_t width = 0;
    bool summarize;

    // The indices printed along an axis of `size` (-1 stands for "...").
    [[nodiscard]] std::vector<std::int64_t> shown(std::int64_t size) const {
        std::vector<std::int64_t> indices;
        if (summarize && size > 2 * kEdgeItems) {
            for (std::int64_t i = 0; i < kEdgeItems; ++i) indices.push_back(i);
            indices.push_back(-1);
            for (std::int64_t i = size - kEdgeItems; i < size; ++i) indices.push_back(i);
        } else {
            for (std::int64_t i = 0; i < size; ++i) indices.push_back(i);
        }
        return indices;
    }

    [[nodiscard]] std::string element(std::int64_t offset) const {
        std::string text = format_number(values[static_cast<std::size_t>(offset)], style);
        return std::string(width - std::min(width, text.size()), ' ') + text;
    }

    [[nodiscard]] std::string format(std::size_t axis, std::int64_t offset, std::size_t indent) const {
        const std::vector<std::int64_t> indices = shown(shape[axis]);
        std::string text = "[";
        if (axis + 1 == shape.size()) {
            // The last axis: numbers separated by ", ", wrapped to the line width.
            const std::size_t per_line = std::max<std::size_t>(1, (kLineWidth - indent) / (width + 2));
            for (std::size_t n = 0; n < indices.size(); ++n) {
                if (n > 0 && n % per_line == 0) {
                    text += ",\n";
                    text.append(indent + 1, ' ');
                } else if (n > 0) {
                    text += ", ";
                }
                text += indices[n] < 0 ? std::string(" ...") : element(offset + indices[n] * strides[axis]);
            }
        } else {
            std::string separator(1, ',');
            separator.append(shape.size() - axis - 1, '\n');
            separator.append(indent + 1, ' ');
            for (std::size_t n = 0; n < indices.size(); ++n) {
                if (n > 0) text += separator;
                text += indices[n] < 0 ? std::string("...") : format(axis + 1, offset + indices[n] * strides[axis], indent + 1);
            }
        }
        return text + "]";
    }
};

}  // namespace

std::string to_string(const Tensor& t) {
    if (!t.defined()) return "tensor(undefined)";
    // Doubles hold both dtypes exactly (int64 up to 2^53, far past any index in memory).
    const std::vector<double> all = t.to_vector<double>();
    const Shape& shape = t.shape();
    std::string body;
    if (shape.empty()) {
        body = format_number(all[0], choose_style(all, t.dtype()));
    } else if (t.numel() == 0) {
        body = "[]";
    } else {
        const bool summarize = t.numel() > kSummarizeAbove;
        Printer printer{all, shape, contiguous_strides(shape), Style::Fixed, 0, summarize};
        // Format and width are chosen from the elements that are shown.
        std::vector<double> shown_values;
        if (summarize) {
            std::vector<std::int64_t> offsets{0};
            for (std::size_t axis = 0; axis < shape.size(); ++axis) {
                std::vector<std::int64_t> next;
                for (std::int64_t base : offsets) {
                    for (std::int64_t i : printer.shown(shape[axis])) {
                        if (i >= 0) next.push_back(base + i * printer.strides[axis]);
                    }
                }
                offsets = std::move(next);
            }
            for (std::int64_t offset : offsets) shown_values.push_back(all[static_cast<std::size_t>(offset)]);
        } else {
            shown_values = all;
        }
        printer.style = choose_style(shown_values, t.dtype());
        for (double v : shown_values) printer.width = std::max(printer.width, format_number(v, printer.style).size());
        body = printer.format(0, 0, 7);  // 7 = the length of "tensor("
    }
    std::string text = "tensor(" + body;
    if (t.numel() == 0 && shape.size() != 1) text += ", size=(" + shape_to_string(shape).substr(1, shape_to_string(shape).size() - 2) + ")";
    if (t.device() != Device::CPU) text += ", device='" + to_string(t.device()) + ":0'";
    // PyTorch names the dtype when the elements alone do not show it: an empty Int64 tensor.
    if (t.dtype() == Dtype::Int64 && t.numel() == 0) text += ", dtype=" + to_string(t.dtype());
    if (t.grad_fn()) {
        text += ", grad_fn=<" + t.grad_fn()->name() + ">";
    } else if (t.requires_grad()) {
        text += ", requires_grad=True";
    }
    return text + ")";
}

std::ostream& operator<<(std::ostream& out, const Tensor& t) { return out << to_string(t); }

std::string Tensor::to_string() const { return stepgrad::to_string(*this); }

}  // namespace stepgrad
