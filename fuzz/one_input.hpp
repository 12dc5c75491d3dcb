#pragma once
/// @file one_input.hpp
/// @brief What each fuzz target does with one input, shared by the libFuzzer targets (clang,
/// fuzz_*.cpp) and the corpus-replay test (any compiler, replay/replay_corpus.cpp).
///
/// Each function feeds the bytes to one parser of untrusted input. The errors the parser
/// documents for bad input are the expected answer and are caught here; anything else (another
/// exception type, a broken promise such as an error message that is not one line, a crash or a
/// sanitizer report) escapes and is a finding.

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace stepgrad::fuzz {

/// @brief Thrown when a parser breaks a promise its documentation makes (not a crash, but a bug).
class BrokenPromise : public std::logic_error {
public:
    /// @brief A finding described by `what`.
    explicit BrokenPromise(const std::string& what) : std::logic_error(what) {}
};

/// @brief Parses `data` as an uncompressed IDX file (stepgrad::mnist::parse_idx, which runs
/// exercise 05.1's read_idx_from). IdxError is the expected answer to bad input.
/// @throws BrokenPromise when a parsed array's sizes do not match its values.
void idx_one_input(const std::uint8_t* data, std::size_t size);

/// @brief Parses `data` as a safetensors file (stepgrad::nn::deserialize_safetensors, from
/// memory: nothing touches the disk), then loads the tensors into a small Linear layer with
/// load_state_dict (the path a checkpoint takes into a model). CheckpointError from the parser
/// and std::invalid_argument from load_state_dict are the expected answers.
/// @throws BrokenPromise when a tensor's bytes are not the size its header entry promised.
void safetensors_one_input(const std::uint8_t* data, std::size_t size);

/// @brief Splits `data` at NUL bytes into argument words and parses them as `stepgrad-mnist`'s
/// arguments with stepgrad::mnist::check_cli (parsing and checking only: nothing is read, written
/// or trained).
/// @throws BrokenPromise when the exit code is not 0 or 2, or an error is not one line starting
///         `stepgrad-mnist: error: `.
void cli_one_input(const std::uint8_t* data, std::size_t size);

}  // namespace stepgrad::fuzz
