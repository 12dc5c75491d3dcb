// The metrics CSV: numbers written with std::to_chars (10 significant digits, no locale), read
// back with std::from_chars; one table of the double columns serves both directions.
#include <stepgrad/mnist/metrics_csv.hpp>
#include <stepgrad/shared/atomic_file.hpp>

#include <array>
#include <charconv>
#include <stdexcept>
#include <type_traits>

namespace stepgrad::mnist {
namespace {

struct DoubleColumn {
    const char* name;
    double EpochMetrics::*field;
};

// The columns after `epoch`, in the order of kMetricsCsvHeader.
constexpr std::array<DoubleColumn, 8> kDoubleColumns = {{
    {"train_loss", &EpochMetrics::train_loss},
    {"train_accuracy", &EpochMetrics::train_accuracy},
    {"test_loss", &EpochMetrics::test_loss},
    {"test_accuracy", &EpochMetrics::test_accuracy},
    {"train_seconds", &EpochMetrics::train_seconds},
    {"images_per_second", &EpochMetrics::images_per_second},
    {"lr", &EpochMetrics::lr},
    {"peak_rss_mib", &EpochMetrics::peak_rss_mib},
}};
constexpr std::size_t kFieldCount = kDoubleColumns.size() + 1;

// `value` as printf("%.10g") writes it in the C locale.
std::string number_text(double value) {
    std::array<char, 64> buffer{};
    const auto result = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value,
                                      std::chars_format::general, 10);
    return std::string(buffer.data(), result.ptr);
}

[[noreturn]] void fail_at(std::size_t line_number, const std::string& what) {
    throw std::runtime_error("metrics CSV line " + std::to_string(line_number) + ": " + what);
}

std::vector<std::string_view> split_fields(std::string_view line) {
    std::vector<std::string_view> fields;
    for (std::size_t start = 0;;) {
        const std::size_t comma = line.find(',', start);
        fields.push_back(line.substr(start, comma - start));
        if (comma == std::string_view::npos) return fields;
        start = comma + 1;
    }
}

// Parses the whole of `field` as a T (from_chars stops early on "1.5x"; that is an error too).
template <class T>
T parse_field(std::string_view field, std::size_t line_number, const char* column) {
    T value{};
    const auto [end, error] = std::from_chars(field.data(), field.data() + field.size(), value);
    if (field.empty() || error != std::errc() || end != field.data() + field.size()) {
        fail_at(line_number, std::string("column ") + column + ": '" + std::string(field) + "' is not " +
                                 (std::is_integral_v<T> ? "an integer" : "a number"));
    }
    return value;
}

EpochMetrics parse_row(std::string_view line, std::size_t line_number) {
    const std::vector<std::string_view> fields = split_fields(line);
    if (fields.size() != kFieldCount) {
        fail_at(line_number, "expected " + std::to_string(kFieldCount) + " comma-separated fields, got " +
                                 std::to_string(fields.size()) + ": '" + std::string(line) + "'");
    }
    EpochMetrics row;
    row.epoch = parse_field<std::int64_t>(fields[0], line_number, "epoch");
    for (std::size_t i = 0; i < kDoubleColumns.size(); ++i) {
        row.*kDoubleColumns[i].field = parse_field<double>(fields[i + 1], line_number, kDoubleColumns[i].name);
    }
    return row;
}

// Splits text into lines without their '\n' or "\r\n"; a final newline ends the last line.
std::vector<std::string_view> split_lines(std::string_view text) {
    std::vector<std::string_view> lines;
    while (!text.empty()) {
        const std::size_t newline = text.find('\n');
        std::string_view line = text.substr(0, newline);
        if (line.ends_with('\r')) line.remove_suffix(1);
        lines.push_back(line);
        if (newline == std::string_view::npos) break;
        text.remove_prefix(newline + 1);
    }
    return lines;
}

}  // namespace

std::string metrics_csv(const std::vector<EpochMetrics>& rows) {
    std::string text = std::string(kMetricsCsvHeader) + "\n";
    for (const EpochMetrics& row : rows) {
        text += std::to_string(row.epoch);
        for (const DoubleColumn& column : kDoubleColumns) {
            text += ',';
            text += number_text(row.*column.field);
        }
        text += "\n";
    }
    return text;
}

void write_metrics_csv(const std::filesystem::path& path, const std::vector<EpochMetrics>& rows) {
    write_file_atomically(path, metrics_csv(rows));
}

std::vector<EpochMetrics> parse_metrics_csv(const std::string& text) {
    std::vector<std::string_view> lines = split_lines(text);
    while (lines.size() > 1 && lines.back().empty()) lines.pop_back();  // blank lines at the end
    if (lines.empty()) fail_at(1, "the text is empty; expected the header '" + std::string(kMetricsCsvHeader) + "'");
    if (lines[0] != kMetricsCsvHeader) {
        fail_at(1, "expected the header '" + std::string(kMetricsCsvHeader) + "', got '" + std::string(lines[0]) + "'");
    }
    std::vector<EpochMetrics> rows;
    for (std::size_t i = 1; i < lines.size(); ++i) rows.push_back(parse_row(lines[i], i + 1));
    return rows;
}

void write_file_atomically(const std::filesystem::path& path, std::string_view text) {
    stepgrad::write_file_atomically(path, text);  // shared/: throws FileWriteError, a std::runtime_error
}

}  // namespace stepgrad::mnist
