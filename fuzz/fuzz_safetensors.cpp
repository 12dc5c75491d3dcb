// libFuzzer target: the safetensors loader (deserialize_safetensors, then load_state_dict).
// The body is stepgrad::fuzz::safetensors_one_input, shared with the corpus-replay test.
#include "one_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    stepgrad::fuzz::safetensors_one_input(data, size);
    return 0;
}
