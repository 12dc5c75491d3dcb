#pragma once
// Runs stepgrad-mnist in the test process and keeps what it printed: the tests of the command
// line (cli_test.cpp, cli_bad_input_test.cpp) and of interrupted saves (resume_faults_test.cpp).
#include <stepgrad/mnist/cli.hpp>

#include <sstream>
#include <string>
#include <vector>

namespace stepgrad::mnist::testing {

/// @brief What one run of the command line returned and printed.
struct CliRun {
    int code = -1;    ///< the exit code
    std::string out;  ///< what it printed on stdout
    std::string err;  ///< what it printed on stderr
};

/// @brief Runs `stepgrad-mnist args...` (not interactive) and returns its exit code and output.
inline CliRun run_captured(const std::vector<std::string>& args) {
    std::ostringstream out, err;
    CliRun result;
    result.code = run_cli(args, out, err, false);
    result.out = out.str();
    result.err = err.str();
    return result;
}

}  // namespace stepgrad::mnist::testing
