// Replays fuzz inputs through a fuzz target's body (../one_input.hpp) without libFuzzer:
//   stepgrad_fuzz_replay <idx|safetensors|cli> <file or directory>...
// Every file (a directory: every file in it, sorted) is fed once. An input that makes the body
// throw (a broken promise or an undocumented exception) is named with the reason and the exit
// code is 1; a crash or a sanitizer report ends the process. An empty corpus is an error too.
#include <algorithm>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

#include "one_input.hpp"

namespace {

using OneInput = void (*)(const std::uint8_t*, std::size_t);

OneInput body_of(const std::string& target) {
    if (target == "idx") return &stepgrad::fuzz::idx_one_input;
    if (target == "safetensors") return &stepgrad::fuzz::safetensors_one_input;
    if (target == "cli") return &stepgrad::fuzz::cli_one_input;
    return nullptr;
}

std::vector<std::filesystem::path> inputs_in(const std::filesystem::path& path) {
    if (!std::filesystem::is_directory(path)) return {path};
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::directory_iterator(path)) {
        if (entry.is_regular_file()) files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    return files;
}

}  // namespace

int main(int argc, char** argv) {
    const OneInput body = argc >= 3 ? body_of(argv[1]) : nullptr;
    if (body == nullptr) {
        std::cerr << "usage: stepgrad_fuzz_replay <idx|safetensors|cli> <file or directory>...\n";
        return 2;
    }
    std::size_t replayed = 0, failed = 0;
    for (int a = 2; a < argc; ++a) {
        for (const std::filesystem::path& file : inputs_in(argv[a])) {
            std::ifstream stream(file, std::ios::binary);
            if (!stream) {
                std::cerr << file.string() << ": cannot open\n";
                ++failed;
                continue;
            }
            const std::vector<char> bytes{std::istreambuf_iterator<char>(stream), std::istreambuf_iterator<char>()};
            ++replayed;
            std::cout << "  " << file.filename().string() << std::endl;  // the last name shown is a crash's input
            try {
                body(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
            } catch (const std::exception& error) {
                std::cerr << "FINDING " << file.string() << ": " << error.what() << "\n";
                ++failed;
            }
        }
    }
    std::cout << argv[1] << ": " << replayed << " inputs replayed, " << failed << " failed\n";
    if (replayed == 0) std::cerr << "no inputs found: the corpus is empty\n";
    return failed == 0 && replayed > 0 ? 0 : 1;
}
