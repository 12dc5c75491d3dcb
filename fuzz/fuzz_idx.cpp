// libFuzzer target: the IDX parser (stepgrad::mnist::parse_idx, exercise 05.1's read_idx_from).
// The body is stepgrad::fuzz::idx_one_input, shared with the corpus-replay test.
#include "one_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    stepgrad::fuzz::idx_one_input(data, size);
    return 0;
}
