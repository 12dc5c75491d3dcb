#include <catch2/catch.hpp>

#include <stepgrad/mnist/metrics_csv.hpp>
#include <stepgrad/mnist/svg_plot.hpp>
#include <stepgrad/mnist/text_art.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

using stepgrad::mnist::EpochMetrics;

namespace {

// A plausible history: losses fall, accuracies rise.
std::vector<EpochMetrics> history(int epochs) {
    std::vector<EpochMetrics> rows;
    for (int e = 1; e <= epochs; ++e) {
        EpochMetrics row;
        row.epoch = e;
        row.train_loss = 0.9 / e + 0.012345678901;
        row.train_accuracy = 1.0 - 0.2 / e;
        row.test_loss = 0.8 / e + 0.098765432109;
        row.test_accuracy = 0.99 - 0.15 / e;
        row.train_seconds = 12.25 + e;
        row.images_per_second = 60000.0 / row.train_seconds;
        row.lr = 0.01 * std::pow(0.5, e - 1);
        row.peak_rss_mib = 200.5 + e;
        rows.push_back(row);
    }
    return rows;
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
}

std::size_t count_of(const std::string& text, const std::string& piece) {
    std::size_t count = 0;
    for (std::size_t at = text.find(piece); at != std::string::npos; at = text.find(piece, at + 1)) ++count;
    return count;
}

// A small XML check: every element that opens is closed in order, self-closing tags stand
// alone, and every '&' starts one of the entities escape_xml writes. Returns "" or the problem.
std::string xml_problem(const std::string& text) {
    std::vector<std::string> open;
    for (std::size_t at = text.find('<'); at != std::string::npos; at = text.find('<', at + 1)) {
        const std::size_t end = text.find('>', at);
        if (end == std::string::npos) return "a tag at " + std::to_string(at) + " never ends";
        const std::string tag = text.substr(at + 1, end - at - 1);
        if (tag.starts_with('?')) continue;
        const bool closing = tag.starts_with('/');
        const std::size_t name_start = closing ? 1 : 0;
        const std::string name = tag.substr(name_start, tag.find_first_of(" />", name_start) - name_start);
        if (closing) {
            if (open.empty() || open.back() != name) return "</" + name + "> closes nothing open";
            open.pop_back();
        } else if (!tag.ends_with('/')) {
            open.push_back(name);
        }
    }
    if (!open.empty()) return "<" + open.back() + "> is never closed";
    for (std::size_t at = text.find('&'); at != std::string::npos; at = text.find('&', at + 1)) {
        const std::string rest = text.substr(at, 6);
        if (!rest.starts_with("&amp;") && !rest.starts_with("&lt;") && !rest.starts_with("&gt;") &&
            !rest.starts_with("&quot;") && !rest.starts_with("&#39;")) {
            return "a bare '&' at " + std::to_string(at);
        }
    }
    return "";
}

std::filesystem::path scratch_directory(const std::string& name) {
    const auto directory = std::filesystem::temp_directory_path() / ("stepgrad_report_test_" + name);
    std::filesystem::remove_all(directory);
    std::filesystem::create_directories(directory);
    return directory;
}

std::string read_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace

// ---- metrics CSV -----------------------------------------------------------------------------

TEST_CASE("the metrics CSV header is exactly the agreed one", "[chapter05][metrics-csv]") {
    CHECK(std::string(stepgrad::mnist::kMetricsCsvHeader) ==
          "epoch,train_loss,train_accuracy,test_loss,test_accuracy,train_seconds,images_per_second,lr,peak_rss_mib");
    const std::vector<std::string> lines = lines_of(stepgrad::mnist::metrics_csv({}));
    REQUIRE(lines.size() == 1);
    CHECK(lines[0] == stepgrad::mnist::kMetricsCsvHeader);
}

TEST_CASE("the metrics CSV has one row per epoch with every field", "[chapter05][metrics-csv]") {
    EpochMetrics row;
    row.epoch = 3;
    row.train_loss = 0.25;
    row.train_accuracy = 0.9;
    row.test_loss = 0.125;
    row.test_accuracy = 0.95;
    row.train_seconds = 12.5;
    row.images_per_second = 4800;
    row.lr = 0.001;
    row.peak_rss_mib = 212.75;
    const std::string csv = stepgrad::mnist::metrics_csv({row});
    CHECK(lines_of(csv)[1] == "3,0.25,0.9,0.125,0.95,12.5,4800,0.001,212.75");
    CHECK(csv.back() == '\n');
    CHECK(lines_of(stepgrad::mnist::metrics_csv(history(7))).size() == 8);
}

TEST_CASE("the metrics CSV reads back what it wrote, to about 1e-9", "[chapter05][metrics-csv]") {
    std::vector<EpochMetrics> rows = history(5);
    rows[4].test_loss = std::numeric_limits<double>::quiet_NaN();  // a diverged run
    rows[3].train_loss = std::numeric_limits<double>::infinity();
    const std::string csv = stepgrad::mnist::metrics_csv(rows);
    const std::vector<EpochMetrics> back = stepgrad::mnist::parse_metrics_csv(csv);
    REQUIRE(back.size() == rows.size());
    for (std::size_t i = 0; i < rows.size(); ++i) {
        CHECK(back[i].epoch == rows[i].epoch);
        CHECK(back[i].train_accuracy == Approx(rows[i].train_accuracy).epsilon(1e-9));
        CHECK(back[i].test_accuracy == Approx(rows[i].test_accuracy).epsilon(1e-9));
        CHECK(back[i].train_seconds == Approx(rows[i].train_seconds).epsilon(1e-9));
        CHECK(back[i].images_per_second == Approx(rows[i].images_per_second).epsilon(1e-9));
        CHECK(back[i].lr == Approx(rows[i].lr).epsilon(1e-9));
        CHECK(back[i].peak_rss_mib == Approx(rows[i].peak_rss_mib).epsilon(1e-9));
    }
    CHECK(back[0].train_loss == Approx(rows[0].train_loss).epsilon(1e-9));
    CHECK(back[0].test_loss == Approx(rows[0].test_loss).epsilon(1e-9));
    CHECK(std::isinf(back[3].train_loss));
    CHECK(std::isnan(back[4].test_loss));
    CHECK(stepgrad::mnist::metrics_csv(back) == csv);  // a resumed history prints the same
}

TEST_CASE("parse_metrics_csv accepts CRLF and a missing final newline", "[chapter05][metrics-csv]") {
    const std::string header = stepgrad::mnist::kMetricsCsvHeader;
    const auto rows =
        stepgrad::mnist::parse_metrics_csv(header + "\r\n1,1,0.5,2,0.25,3,4,0.1,5\r\n2,1,0.5,2,0.25,3,4,0.1,5");
    REQUIRE(rows.size() == 2);
    CHECK(rows[1].epoch == 2);
    CHECK(rows[1].test_accuracy == 0.25);
    CHECK(stepgrad::mnist::parse_metrics_csv(header + "\n").empty());
}

TEST_CASE("parse_metrics_csv rejects a wrong header and malformed rows, naming the line",
          "[chapter05][metrics-csv]") {
    using Catch::Matchers::Contains;
    const std::string header = std::string(stepgrad::mnist::kMetricsCsvHeader) + "\n";
    const std::string good = "1,1,0.5,2,0.25,3,4,0.1,5\n";
    CHECK_THROWS_WITH(stepgrad::mnist::parse_metrics_csv(""), Contains("line 1") && Contains("empty"));
    CHECK_THROWS_WITH(stepgrad::mnist::parse_metrics_csv("epoch,train_loss\n" + good),
                      Contains("line 1") && Contains("header"));
    CHECK_THROWS_WITH(stepgrad::mnist::parse_metrics_csv(header + good + "2,1,0.5,2,0.25,3,4,0.1\n"),
                      Contains("line 3") && Contains("expected 9") && Contains("got 8"));
    CHECK_THROWS_WITH(stepgrad::mnist::parse_metrics_csv(header + good + good + "3,1,0.5,abc,0.25,3,4,0.1,5\n"),
                      Contains("line 4") && Contains("test_loss") && Contains("'abc'"));
    CHECK_THROWS_WITH(stepgrad::mnist::parse_metrics_csv(header + "1.5,1,0.5,2,0.25,3,4,0.1,5\n"),
                      Contains("line 2") && Contains("epoch"));
    CHECK_THROWS_WITH(stepgrad::mnist::parse_metrics_csv(header + "1,1,0.5,2,0.25x,3,4,0.1,5\n"),
                      Contains("line 2") && Contains("test_accuracy"));
    CHECK_THROWS_WITH(stepgrad::mnist::parse_metrics_csv(header + "\n" + good), Contains("line 2"));
    CHECK_THROWS_AS(stepgrad::mnist::parse_metrics_csv(header + "1,1,0.5,,0.25,3,4,0.1,5\n"), std::runtime_error);
}

TEST_CASE("write_metrics_csv replaces the file whole and leaves no temporary file",
          "[chapter05][metrics-csv]") {
    const auto directory = scratch_directory("csv");
    const auto path = directory / "metrics.csv";
    stepgrad::mnist::write_metrics_csv(path, history(2));
    stepgrad::mnist::write_metrics_csv(path, history(3));
    CHECK(read_file(path) == stepgrad::mnist::metrics_csv(history(3)));
    CHECK_FALSE(std::filesystem::exists(directory / "metrics.csv.tmp"));
    std::filesystem::remove_all(directory);
}

TEST_CASE("write_metrics_csv names the path and the system's reason when it cannot write",
          "[chapter05][metrics-csv]") {
    using Catch::Matchers::Contains;
    const auto directory = scratch_directory("csv_missing");
    const auto path = directory / "no" / "such" / "dir" / "metrics.csv";
    CHECK_THROWS_AS(stepgrad::mnist::write_metrics_csv(path, history(1)), std::runtime_error);
    CHECK_THROWS_WITH(stepgrad::mnist::write_metrics_csv(path, history(1)),
                      Contains(path.string()) && Contains("No such file or directory"));
    std::filesystem::remove_all(directory);
}

// ---- SVG curves ------------------------------------------------------------------------------

TEST_CASE("nice_axis picks 1-2-5 steps that cover the data", "[chapter05][svg]") {
    const auto fractions = stepgrad::mnist::nice_axis(0.13, 0.87);
    CHECK(fractions.step == Approx(0.2));
    CHECK(fractions.low == Approx(0.0).margin(1e-12));
    CHECK(fractions.high == Approx(1.0));
    CHECK(fractions.values.size() == 6);
    const auto percent = stepgrad::mnist::nice_axis(92.3, 98.7);
    CHECK(percent.step == Approx(2.0));
    CHECK(percent.low == Approx(92.0));
    CHECK(percent.high == Approx(100.0));
    const auto loss = stepgrad::mnist::nice_axis(0.0312, 0.0488);
    CHECK(loss.step == Approx(0.005));
    CHECK(loss.low <= 0.0312);
    CHECK(loss.high >= 0.0488);
    const auto constant = stepgrad::mnist::nice_axis(0.5, 0.5);  // padded, not divided by zero
    CHECK(constant.low < 0.5);
    CHECK(constant.high > 0.5);
    const auto zero = stepgrad::mnist::nice_axis(0.0, 0.0);
    CHECK(zero.low < 0.0);
    CHECK(zero.high > 0.0);
    CHECK_THROWS_AS(stepgrad::mnist::nice_axis(0.0, 1.0, 0), std::invalid_argument);
}

TEST_CASE("format_tick shows as many decimals as the step needs", "[chapter05][svg]") {
    CHECK(stepgrad::mnist::format_tick(0.4, 0.2) == "0.4");
    CHECK(stepgrad::mnist::format_tick(95.0, 5.0) == "95");
    CHECK(stepgrad::mnist::format_tick(0.025, 0.005) == "0.025");
    CHECK(stepgrad::mnist::format_tick(-1e-17, 0.1) == "0.0");
}

TEST_CASE("escape_xml escapes markup characters", "[chapter05][svg]") {
    CHECK(stepgrad::mnist::escape_xml("a < b & \"c\" > 'd'") == "a &lt; b &amp; &quot;c&quot; &gt; &#39;d&#39;");
    CHECK(stepgrad::mnist::escape_xml(std::string("bell\a")) == "bell");
}

TEST_CASE("the training curves are a well-formed SVG with an escaped title", "[chapter05][svg]") {
    const std::string svg = stepgrad::mnist::training_curves_svg(history(10), "MLP <h=128> & \"Adam\"");
    CHECK((svg.starts_with("<svg") || svg.starts_with("<?xml")));
    CHECK(svg.find("xmlns=\"http://www.w3.org/2000/svg\"") != std::string::npos);
    CHECK(svg.find("viewBox=\"0 0 900 380\"") != std::string::npos);
    CHECK(xml_problem(svg) == "");
    CHECK(svg.find("MLP &lt;h=128&gt; &amp; &quot;Adam&quot;") != std::string::npos);
    CHECK(svg.find("<h=128>") == std::string::npos);
    CHECK(svg.find("href") == std::string::npos);  // no external resources
}

TEST_CASE("the training curves draw four series with a circle per epoch", "[chapter05][svg]") {
    const std::string svg = stepgrad::mnist::training_curves_svg(history(10), "t");
    CHECK(count_of(svg, "<polyline") == 4);
    CHECK(count_of(svg, "<circle") == 40);
    CHECK(count_of(svg, "stroke=\"#1f77b4\"") >= 2);
    CHECK(count_of(svg, "stroke=\"#ff7f0e\"") >= 2);
    CHECK(count_of(svg, "fill=\"#ff7f0e\"") == 20);
}

TEST_CASE("the training curves have axis titles, a legend and tick labels", "[chapter05][svg]") {
    const std::string svg = stepgrad::mnist::training_curves_svg(history(10), "t");
    for (const char* label :
         {">loss<", ">accuracy<", ">epoch<", ">cross-entropy<", ">accuracy (%)<", ">train<", ">test<"}) {
        CHECK(svg.find(label) != std::string::npos);
    }
    for (int epoch = 1; epoch <= 10; ++epoch) {
        const std::string label = std::to_string(epoch);
        CHECK(svg.find(std::string(">").append(label).append("</text>")) != std::string::npos);
    }
    // The accuracy runs from 80% to 97.5%: nice ticks every 5 (or 2) percent are labelled.
    CHECK(svg.find(">90</text>") != std::string::npos);
    CHECK(svg.find("font-family=\"sans-serif\"") != std::string::npos);
}

TEST_CASE("the training curves thin out the epoch ticks of a long run", "[chapter05][svg]") {
    const std::string svg = stepgrad::mnist::training_curves_svg(history(50), "long");
    CHECK(svg.find(">10</text>") != std::string::npos);
    CHECK(svg.find(">50</text>") != std::string::npos);
    CHECK(svg.find(">7</text>") == std::string::npos);
    CHECK(count_of(svg, "<circle") == 200);
}

TEST_CASE("the training curves work for one epoch, constant series and no data", "[chapter05][svg]") {
    std::vector<EpochMetrics> constant = history(4);
    for (auto& row : constant) row.train_accuracy = row.test_accuracy = 1.0;
    for (const auto& rows : {history(1), constant, std::vector<EpochMetrics>{}}) {
        const std::string svg = stepgrad::mnist::training_curves_svg(rows, "edge case");
        CHECK(xml_problem(svg) == "");
        CHECK(count_of(svg, "<polyline") == 4);
        CHECK(svg.find("nan") == std::string::npos);
        CHECK(svg.find("inf") == std::string::npos);
    }
    CHECK(stepgrad::mnist::training_curves_svg(history(1), "one").find(">1</text>") != std::string::npos);
}

TEST_CASE("the training curves leave out a diverged (non-finite) loss", "[chapter05][svg]") {
    std::vector<EpochMetrics> rows = history(3);
    rows[2].train_loss = std::numeric_limits<double>::quiet_NaN();
    const std::string svg = stepgrad::mnist::training_curves_svg(rows, "diverged");
    CHECK(svg.find("nan") == std::string::npos);
    CHECK(count_of(svg, "<circle") == 11);
}

// Hidden (not run by `ctest` through discovery): writes training_curves_sample.svg in the
// working directory for the CTest that parses it with Python's XML parser.
TEST_CASE("write a sample SVG for the XML parser check", "[.write-sample-svg]") {
    stepgrad::mnist::write_training_curves_svg("training_curves_sample.svg", history(15),
                                               "sample <curves> & \"escapes\"");
    CHECK(std::filesystem::exists("training_curves_sample.svg"));
}

// ---- text art --------------------------------------------------------------------------------

TEST_CASE("image_as_text draws each pixel twice in one of five shades", "[chapter05][text-art]") {
    const std::vector<float> pixels = {0.0f, 0.3f, 0.5f, 0.7f, 1.0f, 0.1f};
    const stepgrad::Tensor image = stepgrad::from_vector(pixels, {2, 3});
    CHECK(stepgrad::mnist::image_as_text(image) == "  ░░▒▒\n▓▓██  \n");
    const stepgrad::Tensor channel = stepgrad::from_vector(pixels, {1, 2, 3});
    CHECK(stepgrad::mnist::image_as_text(channel) == "  ░░▒▒\n▓▓██  \n");
}

TEST_CASE("image_as_text clamps values below 0 and above 1", "[chapter05][text-art]") {
    const stepgrad::Tensor image = stepgrad::from_vector(std::vector<float>{-3.0f, 7.0f}, {1, 2});
    CHECK(stepgrad::mnist::image_as_text(image) == "  ██\n");
}

TEST_CASE("image_as_text rejects other ranks and dtypes, naming the shape", "[chapter05][text-art]") {
    using Catch::Matchers::Contains;
    CHECK_THROWS_WITH(stepgrad::mnist::image_as_text(stepgrad::zeros({2, 2, 2})), Contains("[2, 2, 2]"));
    CHECK_THROWS_AS(stepgrad::mnist::image_as_text(stepgrad::zeros({4})), std::invalid_argument);
    CHECK_THROWS_AS(stepgrad::mnist::image_as_text(stepgrad::zeros({1, 1, 2, 2})), std::invalid_argument);
    const stepgrad::Tensor labels = stepgrad::from_vector(std::vector<std::int64_t>{1, 2}, {1, 2});
    CHECK_THROWS_WITH(stepgrad::mnist::image_as_text(labels), Contains("Float32") && Contains("[1, 2]"));
    CHECK_THROWS_AS(stepgrad::mnist::image_as_text(stepgrad::Tensor()), std::invalid_argument);
}

TEST_CASE("probability_bar is exactly `width` columns", "[chapter05][text-art]") {
    CHECK(stepgrad::mnist::probability_bar(0.54, 10) == "█████▍    ");
    CHECK(stepgrad::mnist::probability_bar(1.0, 5) == "█████");
    CHECK(stepgrad::mnist::probability_bar(0.0, 3) == "   ");
    CHECK(stepgrad::mnist::probability_bar(0.7, 0).empty());
    for (int width : {1, 8, 30}) {
        for (double p : {0.0, 0.123, 0.5, 0.999, 1.0, 1.5}) {
            const std::string bar = stepgrad::mnist::probability_bar(p, width);
            const auto columns = std::count_if(bar.begin(), bar.end(),
                                               [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; });
            CHECK(columns == width);
        }
    }
    CHECK_THROWS_AS(stepgrad::mnist::probability_bar(0.5, -1), std::invalid_argument);
}
