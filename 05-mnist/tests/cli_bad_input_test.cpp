// Chapter 5, bad input on the command line: an unknown flag, subcommand or value is one line on
// stderr that names it, exit code 2, and nothing written: no checkpoint, no metrics file, and an
// existing checkpoint left byte for byte as it was.
// docs/bad_input.md lists these cases in a table; each row links to one TEST_CASE here.
#include <catch2/catch.hpp>

#include <stepgrad/mnist/cli.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "cli_run.hpp"
#include "synthetic_dataset.hpp"

using namespace stepgrad::mnist;
namespace fs = std::filesystem;

namespace {

using Run = stepgrad::mnist::testing::CliRun;

Run run(const std::vector<std::string>& args) { return stepgrad::mnist::testing::run_captured(args); }

// One line on stderr that starts as every error does and contains `expected`; exit code 2.
void check_refused(const std::vector<std::string>& args, const std::string& expected) {
    const Run result = run(args);
    std::string command;
    for (const std::string& arg : args) command += arg + " ";
    INFO("stepgrad-mnist " << command);
    INFO("stderr: " << result.err);
    CHECK(result.code == kExitBadInput);
    CHECK(result.err.rfind("stepgrad-mnist: error: ", 0) == 0);
    CHECK(std::count(result.err.begin(), result.err.end(), '\n') == 1);
    CHECK_THAT(result.err, Catch::Contains(expected));
}

std::string read_bytes(const fs::path& path) {
    std::ifstream file(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
}

}  // namespace

TEST_CASE("cli: an unknown flag or subcommand is named, exit code 2", "[chapter05][cli][bad-input]") {
    check_refused({"train", "--bogus"}, "--bogus");
    check_refused({"eval", "--checkpoint", "a.safetensors", "--epochs", "2"}, "--epochs");
    check_refused({"fly"}, "fly");
    check_refused({}, "subcommand");
}

TEST_CASE("cli: a value outside a flag's choices is named, exit code 2", "[chapter05][cli][bad-input]") {
    check_refused({"train", "--model", "rnn"}, "rnn");
    check_refused({"train", "--optimizer", "lbfgs"}, "lbfgs");
    check_refused({"train", "--scheduler", "cyclic"}, "cyclic");
    check_refused({"train", "--device", "tpu"}, "tpu");
    check_refused({"predict", "--checkpoint", "a.safetensors", "--split", "valid"}, "valid");
}

TEST_CASE("cli: a number out of range or not a number names its flag, exit code 2", "[chapter05][cli][bad-input]") {
    check_refused({"train", "--epochs", "0"}, "--epochs");
    check_refused({"train", "--epochs", "many"}, "--epochs");
    check_refused({"train", "--batch-size", "0"}, "--batch-size");
    check_refused({"train", "--lr", "-0.1"}, "--lr");
    check_refused({"train", "--momentum", "-1"}, "--momentum");
    check_refused({"train", "--weight-decay", "-1"}, "--weight-decay");
    check_refused({"train", "--dropout", "1.5"}, "--dropout");
    check_refused({"train", "--hidden", "256,abc"}, "--hidden");
    check_refused({"train", "--hidden", "0"}, "--hidden");
    check_refused({"train", "--threads", "-2"}, "--threads");
    check_refused({"predict", "--checkpoint", "a.safetensors", "--index", "-1"}, "--index");
}

TEST_CASE("cli: a refused train writes no checkpoint and no metrics", "[chapter05][cli][bad-input]") {
    synthetic::Dataset files(60, 20);
    synthetic::TempDir outputs;
    const fs::path checkpoint = outputs.path / "run.safetensors";
    const fs::path csv = outputs.path / "metrics.csv";
    check_refused({"train", "--data", files.directory.path.string(), "--hidden", "8", "--epochs", "1", "--lr", "-1",
                   "--save", checkpoint.string(), "--metrics", csv.string()},
                  "--lr");
    CHECK_FALSE(fs::exists(checkpoint));
    CHECK_FALSE(fs::exists(csv));
}

TEST_CASE("cli: a refused resume leaves the existing checkpoint byte for byte", "[chapter05][cli][bad-input]") {
    synthetic::Dataset files(60, 20);
    synthetic::TempDir outputs;
    const fs::path checkpoint = outputs.path / "run.safetensors";
    const std::vector<std::string> first{"train", "--data", files.directory.path.string(), "--hidden", "8",
                                         "--epochs", "1", "--batch-size", "32", "--scheduler", "none",
                                         "--save", checkpoint.string()};
    const Run trained = run(first);
    INFO(trained.err);
    REQUIRE(trained.code == kExitOk);
    const std::string bytes_before = read_bytes(checkpoint);
    // Resuming with another model is refused; so is a bad value next to a good resume.
    check_refused({"train", "--data", files.directory.path.string(), "--hidden", "16", "--epochs", "2",
                   "--scheduler", "none", "--resume", checkpoint.string(), "--save", checkpoint.string()},
                  "--hidden");
    check_refused({"train", "--data", files.directory.path.string(), "--hidden", "8", "--epochs", "2",
                   "--batch-size", "0", "--resume", checkpoint.string(), "--save", checkpoint.string()},
                  "--batch-size");
    CHECK(read_bytes(checkpoint) == bytes_before);
}

TEST_CASE("cli: an output file in a folder that does not exist is refused before training", "[chapter05][cli][bad-input]") {
    synthetic::Dataset files(60, 20);
    synthetic::TempDir outputs;
    const fs::path missing = outputs.path / "no-such-folder";
    const std::vector<std::string> train{"train", "--data", files.directory.path.string(), "--hidden", "8", "--epochs", "1"};
    for (const char* flag : {"--save", "--metrics", "--plot"}) {
        std::vector<std::string> args = train;
        args.insert(args.end(), {flag, (missing / "out").string()});
        check_refused(args, std::string(flag) + ": the folder " + missing.string() + " does not exist");
        std::vector<std::string> into_folder = train;
        into_folder.insert(into_folder.end(), {flag, outputs.path.string()});
        check_refused(into_folder, std::string(flag) + ": " + outputs.path.string() + " is a folder, not a file");
    }
    CHECK_FALSE(fs::exists(missing));
    CHECK(fs::is_empty(outputs.path));  // refused before the first epoch: nothing was written
}
