// Chapter 5, the command line: what train, eval and predict print and write, and every bad
// input answered by one line on stderr and exit code 2.
#include <catch2/catch.hpp>

#include <stepgrad/mnist/cli.hpp>
#include <stepgrad/nn.hpp>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "cli_run.hpp"
#include "synthetic_dataset.hpp"

using namespace stepgrad;
using namespace stepgrad::mnist;

namespace {

using Run = stepgrad::mnist::testing::CliRun;

Run run(const std::vector<std::string>& args) { return stepgrad::mnist::testing::run_captured(args); }

std::string read_text(const std::filesystem::path& path) {
    std::ifstream file(path);
    return {std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
}

// One line on stderr, naming the error, and exit code 2.
void check_bad_input(const Run& result, const std::string& expected) {
    INFO("stderr: " << result.err);
    CHECK(result.code == 2);
    CHECK(result.err.rfind("stepgrad-mnist: error: ", 0) == 0);
    CHECK(std::count(result.err.begin(), result.err.end(), '\n') == 1);
    CHECK_THAT(result.err, Catch::Contains(expected));
}

// A small, fast run on the made-up dataset.
std::vector<std::string> quick_train(const synthetic::Dataset& files, std::vector<std::string> more = {},
                                     const std::string& epochs = "2") {
    std::vector<std::string> args{"train", "--data", files.directory.path.string(), "--hidden", "32", "--epochs", epochs,
                                  "--batch-size", "32"};
    args.insert(args.end(), more.begin(), more.end());
    return args;
}

}  // namespace

TEST_CASE("cli: --help lists the commands and exits 0", "[chapter05][cli]") {
    const Run result = run({"--help"});
    CHECK(result.code == 0);
    CHECK_THAT(result.out, Catch::Contains("train") && Catch::Contains("eval") && Catch::Contains("predict"));
    const Run train_help = run({"train", "--help"});
    CHECK(train_help.code == 0);
    CHECK_THAT(train_help.out, Catch::Contains("--scheduler") && Catch::Contains("--resume"));
}

TEST_CASE("cli: bad flags and values are one line and exit code 2", "[chapter05][cli]") {
    check_bad_input(run({}), "subcommand");
    check_bad_input(run({"train", "--bogus"}), "--bogus");
    check_bad_input(run({"fly"}), "fly");
    check_bad_input(run({"train", "--model", "rnn"}), "rnn");
    check_bad_input(run({"train", "--epochs", "-1"}), "--epochs");
    check_bad_input(run({"train", "--epochs", "many"}), "--epochs");
    check_bad_input(run({"train", "--hidden", "256,abc"}), "--hidden");
    check_bad_input(run({"train", "--threads", "-2", "--data", "/nonexistent/stepgrad-data"}), "--threads");
    check_bad_input(run({"eval"}), "--checkpoint");
}

TEST_CASE("cli: a missing data directory and a missing checkpoint are named", "[chapter05][cli]") {
    check_bad_input(run({"train", "--data", "/nonexistent/stepgrad-data"}), "/nonexistent/stepgrad-data");
    synthetic::Dataset files(60, 20);
    check_bad_input(run({"eval", "--checkpoint", "/nonexistent/run.safetensors", "--data", files.directory.path.string()}),
                    "/nonexistent/run.safetensors");
}

TEST_CASE("cli: --device cuda without a CUDA backend is a bad value", "[chapter05][cli]") {
    if (has_backend(Device::CUDA)) {
        SUCCEED("this build has a CUDA backend");
        return;
    }
    synthetic::Dataset files(60, 20);
    check_bad_input(run(quick_train(files, {"--device", "cuda"})), "CUDA backend");
    check_bad_input(run({"eval", "--checkpoint", "any.safetensors", "--device", "cuda"}), "CUDA backend");
}

TEST_CASE("cli: train prints epochs and a confusion report, and writes the checkpoint, CSV and SVG",
          "[chapter05][cli]") {
    synthetic::Dataset files(300, 100);
    synthetic::TempDir outputs;
    const auto checkpoint = outputs.path / "run.safetensors";
    const auto csv = outputs.path / "metrics.csv";
    const auto svg = outputs.path / "curves.svg";
    const Run result = run(quick_train(files, {"--save", checkpoint.string(), "--metrics", csv.string(), "--plot", svg.string()}));
    INFO(result.err);
    REQUIRE(result.code == 0);
    CHECK_THAT(result.out, Catch::Contains("epoch  1/2") && Catch::Contains("epoch  2/2"));
    CHECK_THAT(result.out, Catch::Contains("confusion matrix") && Catch::Contains("most confused"));
    CHECK_THAT(result.out, Catch::Contains("test accuracy"));
    CHECK(result.out.find('\r') == std::string::npos);  // not a terminal: plain lines only

    // The CSV: the contract's columns first, one row per epoch, accuracies as fractions.
    std::istringstream rows(read_text(csv));
    std::string header;
    std::getline(rows, header);
    CHECK(header.rfind("epoch,train_loss,train_accuracy,test_loss,test_accuracy,train_seconds,images_per_second,lr", 0) == 0);
    std::string row;
    int count = 0;
    while (std::getline(rows, row)) {
        ++count;
        std::vector<double> fields;
        std::istringstream cells(row);
        for (std::string cell; std::getline(cells, cell, ',');) fields.push_back(std::stod(cell));
        REQUIRE(fields.size() >= 8);
        CHECK(fields[0] == count);
        CHECK((fields[2] >= 0.0 && fields[2] <= 1.0));
        CHECK((fields[4] >= 0.0 && fields[4] <= 1.0));
        CHECK(fields[5] > 0.0);
    }
    CHECK(count == 2);

    const std::string plot = read_text(svg);
    CHECK_THAT(plot, Catch::Contains("<svg") && Catch::Contains("</svg>"));

    // eval and predict use the checkpoint.
    const Run evaluation = run({"eval", "--checkpoint", checkpoint.string(), "--data", files.directory.path.string()});
    CHECK(evaluation.code == 0);
    CHECK_THAT(evaluation.out, Catch::Contains("test accuracy") && Catch::Contains("confusion matrix"));
    const Run prediction = run({"predict", "--checkpoint", checkpoint.string(), "--data", files.directory.path.string(),
                                "--index", "3"});
    CHECK(prediction.code == 0);
    CHECK_THAT(prediction.out, Catch::Contains("true label") && Catch::Contains("top 3") && Catch::Contains("█"));
    check_bad_input(run({"predict", "--checkpoint", checkpoint.string(), "--data", files.directory.path.string(),
                         "--index", "100"}),
                    "out of range");
}

TEST_CASE("cli: a checkpoint from another model or other data is refused", "[chapter05][cli]") {
    synthetic::Dataset files(100, 40);
    synthetic::TempDir outputs;
    const auto checkpoint = outputs.path / "mlp.safetensors";
    REQUIRE(run(quick_train(files, {"--save", checkpoint.string()}, "1")).code == 0);

    check_bad_input(run(quick_train(files, {"--resume", checkpoint.string(), "--model", "cnn"}, "1")),
                    "--model cnn disagrees");
    check_bad_input(run(quick_train(files, {"--resume", checkpoint.string(), "--hidden", "64"}, "1")),
                    "--hidden 64 disagrees");

    // The same checkpoint on a dataset of 7x7 images.
    synthetic::TempDir small;
    IdxArray images{{20, 7, 7}, std::vector<std::uint8_t>(20 * 49, 9)};
    IdxArray labels{{20}, std::vector<std::uint8_t>(20, 0)};
    labels.values[1] = 1;
    for (const char* prefix : {"train", "t10k"}) {
        write_idx(small.path / (std::string(prefix) + "-images-idx3-ubyte"), images, false);
        write_idx(small.path / (std::string(prefix) + "-labels-idx1-ubyte"), labels, false);
    }
    check_bad_input(run({"eval", "--checkpoint", checkpoint.string(), "--data", small.path.string()}), "14x14 images");

    // A file that is not a checkpoint at all.
    const auto text = outputs.path / "notes.txt";
    std::ofstream(text) << "not a checkpoint";
    check_bad_input(run({"eval", "--checkpoint", text.string(), "--data", files.directory.path.string()}), text.string());
}

TEST_CASE("cli: train 2 epochs, save, resume for 2 more: the same weights as 4 epochs in one go",
          "[chapter05][cli][resume]") {
    synthetic::Dataset files(200, 50);
    synthetic::TempDir outputs;
    const std::string data = files.directory.path.string();
    const auto half = (outputs.path / "half.safetensors").string();
    const auto resumed = (outputs.path / "resumed.safetensors").string();
    const auto straight = (outputs.path / "straight.safetensors").string();
    const std::vector<std::string> common{"--data", data, "--hidden", "32", "--dropout", "0.2", "--augment",
                                          "--scheduler", "none", "--seed", "3"};
    auto train = [&](std::vector<std::string> args) {
        args.insert(args.begin(), "train");
        args.insert(args.end(), common.begin(), common.end());
        const Run result = run(args);
        INFO(result.err);
        REQUIRE(result.code == 0);
        return result;
    };
    train({"--epochs", "2", "--save", half});
    const Run continued = train({"--epochs", "4", "--resume", half, "--save", resumed});
    CHECK_THAT(continued.out, Catch::Contains("resumed from") && Catch::Contains("epoch  3/4"));
    CHECK(continued.out.find("epoch  1/4") == std::string::npos);
    train({"--epochs", "4", "--save", straight});

    const nn::StateDict a = nn::load_safetensors(resumed);
    const nn::StateDict b = nn::load_safetensors(straight);
    REQUIRE(a.size() == b.size());
    for (std::size_t i = 0; i < a.size(); ++i) {
        INFO(a.items()[i].first);
        CHECK(a.items()[i].first == b.items()[i].first);
        if (a.items()[i].second.dtype() == Dtype::Float32) {
            CHECK(a.items()[i].second.to_vector() == b.items()[i].second.to_vector());
        }
    }
}
