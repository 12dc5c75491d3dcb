#pragma once
// The three commands of stepgrad-mnist, behind the parsing in cli.cpp (private to the library).

#include "stepgrad/mnist/trainer.hpp"

#include <cstdint>
#include <filesystem>
#include <iosfwd>
#include <set>
#include <string>
#include <vector>

namespace stepgrad::mnist::cli {

// What `train` was asked to do. `given` holds the flags the user typed (e.g. "--model"), so a
// resumed run can refuse a flag that disagrees with its checkpoint.
struct TrainRequest {
    TrainOptions options;
    std::filesystem::path data;  // empty: default_data_directory()
    std::filesystem::path save, resume, metrics, plot;
    int threads = 0;  // 0: the default for the model
    std::set<std::string> given;
    bool interactive = false;
};

// What `eval` and `predict` were asked to do.
struct UseRequest {
    std::filesystem::path checkpoint;
    std::filesystem::path data;
    Device device = Device::CPU;
    int threads = 0;
    std::int64_t index = 0;           // predict: which image
    std::string split = "test";       // predict: from which split
};

// What the command line asked for, parsed and checked but not run (cli.cpp, parse_command).
// `kind` Done: nothing to run, `exit_code` says how it ended (help was printed, or the one-line
// error). Otherwise the command to run with its request (`train` or `use`).
struct Command {
    enum class Kind { Done, Train, Eval, Predict };
    Kind kind = Kind::Done;
    int exit_code = 0;
    TrainRequest train;
    UseRequest use;
};

// Parses `args` and checks every flag's value; prints help to `out` or the one-line error to
// `err` (then returns kind Done). Reads no data and writes no file.
Command parse_command(const std::vector<std::string>& args, std::ostream& out, std::ostream& err, bool interactive);

int train(const TrainRequest& request, std::ostream& out);
int eval(const UseRequest& request, std::ostream& out);
int predict(const UseRequest& request, std::ostream& out);

// ---- shared by the commands (cli_report.cpp) ----

// 60000 -> "60,000".
std::string with_commas(std::int64_t value);
// 0.8971 -> "89.71%".
std::string percent(double fraction);
// The confusion matrix with class names, each class's accuracy, and the most confused pairs.
void print_confusion_report(std::ostream& out, const metrics::ConfusionMatrix& confusion,
                            const std::vector<std::string>& class_names);
// The data from --data, or the default Fashion-MNIST.
MnistData load_data(const std::filesystem::path& directory);
// Sets the CPU threads (0: `fallback`) and returns the number in use.
int use_threads(int requested, int fallback);
// The threads training `model` is fastest with on two cores (--threads 0).
int default_threads(const ModelConfig& model);

}  // namespace stepgrad::mnist::cli
