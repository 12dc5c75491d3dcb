#pragma once
/// @file cli.hpp
/// @brief The `stepgrad-mnist` command line: `train`, `eval` and `predict`.
///
/// Kept in the library, apart from `main`, so that tests run it with any arguments and read
/// what it prints and the exit code it returns.

#include <iosfwd>
#include <string>
#include <vector>

namespace stepgrad::mnist {

/// @brief Exit codes of `stepgrad-mnist`.
enum ExitCode : int {
    kExitOk = 0,          ///< done
    kExitFailure = 1,     ///< something broke while running, not the user's input (a full disk: `failed:`)
    kExitBadInput = 2,    ///< a bad flag or value, missing or malformed data, an unfit checkpoint
};

/// @brief Runs `stepgrad-mnist` with `args` (without the program name) and returns its exit code.
///
/// It is check_cli()'s parsing, then the command. Reports go to `out`. An error is one line
/// on `err` (`stepgrad-mnist: error: ...`), never
/// an exception. `interactive` says that `out` is a terminal: progress is then drawn as a bar
/// that redraws itself, else printed as plain periodic lines.
/// Example: `run_cli({"train", "--epochs", "2"}, std::cout, std::cerr, true)`.
int run_cli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err, bool interactive);

/// @brief Parses and checks `args` as run_cli() does, without running the command: it reads no
/// data or checkpoint and writes no file.
///
/// Every flag and every value is checked (a value that needs the data, such as `--index` past
/// the split's end, only when the command runs). Help goes to `out` and the one-line error
/// to `err`, exactly as run_cli() prints them. The libFuzzer target for the command line runs
/// this. Example: `check_cli({"train", "--epochs", "0"}, out, err)` prints
/// `stepgrad-mnist: error: --epochs must be at least 1, got 0` and returns kExitBadInput.
/// @return kExitOk when the command would run, else the exit code run_cli() would return
///         (kExitOk after help, kExitBadInput after an error).
int check_cli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

/// @brief A function returning how many kernels the device backend has launched so far.
using LaunchCounter = long long (*)();

/// @brief Lets `train --device cuda` print, after each epoch, the kernels launched per training
/// step (the mean over the epoch's steps after the first). `main` installs chapter 4's
/// stepgrad::gpu::kernel_launches when the GPU backend is linked; without one nothing is printed.
void set_launch_counter(LaunchCounter counter);

}  // namespace stepgrad::mnist
