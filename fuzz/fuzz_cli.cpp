// libFuzzer target: stepgrad-mnist's argument parsing and checking (check_cli); input: NUL-separated words.
// The body is stepgrad::fuzz::cli_one_input, shared with the corpus-replay test.
#include "one_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    stepgrad::fuzz::cli_one_input(data, size);
    return 0;
}
