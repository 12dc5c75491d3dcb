// The metrics CSV: numbers written with std::to_chars (10 significant digits, no locale), read
// back with std::from_chars; one table of the double columns serves both directions.
#include <stepgrad/mnist/metrics_csv.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <stdexcept>
#include <type_traits>
#include <utility>

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

struct FileDescriptor {
    int fd = -1;
    ~FileDescriptor() {
        if (fd >= 0) ::close(fd);
    }
};

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
    const std::string target = path.string();
    const std::string temp = target + ".tmp";
    // Called right after a failed call, while errno still says why.
    const auto fail = [&](const std::string& what) {
        const int error = errno;
        ::unlink(temp.c_str());
        throw std::runtime_error("cannot write " + target + ": " + what + ": " + std::strerror(error));
    };
    FileDescriptor file{::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666)};
    if (file.fd < 0) fail("cannot create the temporary file " + temp);
    for (std::size_t written = 0; written < text.size();) {
        const ssize_t n = ::write(file.fd, text.data() + written, text.size() - written);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) fail("writing " + temp + " failed");
        written += static_cast<std::size_t>(n);
    }
    if (::fsync(file.fd) != 0) fail("flushing " + temp + " to disk failed");
    const int fd = std::exchange(file.fd, -1);
    if (::close(fd) != 0) fail("closing " + temp + " failed");
    if (::rename(temp.c_str(), target.c_str()) != 0) fail("renaming " + temp + " over it failed");
}

}  // namespace stepgrad::mnist
