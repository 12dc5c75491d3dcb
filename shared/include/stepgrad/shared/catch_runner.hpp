#pragma once
/// @file catch_runner.hpp
/// @brief Runs the Catch2 test session: for test runners that set something up first.

namespace stepgrad::testing {

/// @brief Runs every selected Catch2 test with the command line `argv` and returns the exit code
/// (0 when all pass). Catch's implementation is compiled once, in `catch_runner.cpp`; a runner's
/// own `main` registers what it needs (a device backend, say) and then calls this.
int run_catch_session(int argc, char* argv[]);

}  // namespace stepgrad::testing
