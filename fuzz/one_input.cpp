// The three fuzz targets' bodies (see one_input.hpp): one input in, the parser's documented
// errors caught, every other outcome left to escape as a finding.
#include "one_input.hpp"

#include <stepgrad/mnist/cli.hpp>
#include <stepgrad/mnist/idx.hpp>
#include <stepgrad/nn/linear.hpp>
#include <stepgrad/nn/safetensors.hpp>

#include <algorithm>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace stepgrad::fuzz {

namespace {

void promise(bool kept, const std::string& what) {
    if (!kept) throw BrokenPromise(what);
}

// A one-line error: starts with `prefix`, ends with its only newline.
void check_one_line(const std::string& text, const std::string& prefix, const std::string& what) {
    promise(text.rfind(prefix, 0) == 0, what + " does not start with '" + prefix + "': " + text);
    promise(std::count(text.begin(), text.end(), '\n') == 1 && text.back() == '\n',
            what + " is not exactly one line: " + text);
}

}  // namespace

void idx_one_input(const std::uint8_t* data, std::size_t size) {
    mnist::IdxArray array;
    try {
        array = mnist::parse_idx({data, size}, "fuzz-input");
    } catch (const mnist::IdxError& error) {
        promise(std::string_view(error.what()).starts_with("fuzz-input: "),
                std::string("IdxError does not start with the source name: ") + error.what());
        return;
    }
    promise(!array.dims.empty() && array.dims.size() <= 4, "parse_idx returned 0 or more than 4 sizes");
    std::uint64_t count = 1;
    for (const std::int64_t dim : array.dims) count *= static_cast<std::uint64_t>(dim);
    promise(count == array.values.size(), "parse_idx returned fewer or more values than its sizes make");
}

void safetensors_one_input(const std::uint8_t* data, std::size_t size) {
    nn::StateDict state;
    try {
        state = nn::deserialize_safetensors({reinterpret_cast<const char*>(data), size}, "fuzz-input");
    } catch (const nn::CheckpointError& error) {
        promise(std::string_view(error.what()).starts_with("fuzz-input: "),
                std::string("CheckpointError does not start with the source name: ") + error.what());
        return;
    }
    for (const auto& [name, tensor] : state) {
        promise(tensor.defined() && tensor.device() == Device::CPU, "tensor " + name + " is not a CPU tensor");
    }
    // Into a model, as a checkpoint goes: strict (names must match), then not strict.
    for (const bool strict : {true, false}) {
        nn::Linear layer(nn::LinearOptions(3, 2));
        try {
            layer.load_state_dict(state, strict);
        } catch (const std::invalid_argument&) {
        }
    }
}

void cli_one_input(const std::uint8_t* data, std::size_t size) {
    std::vector<std::string> args;
    if (size > 0) {
        const std::string_view text(reinterpret_cast<const char*>(data), size);
        for (std::size_t start = 0;;) {
            const std::size_t end = text.find('\0', start);
            args.emplace_back(text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
            if (end == std::string_view::npos) break;
            start = end + 1;
        }
    }
    std::ostringstream out, err;
    const int code = mnist::check_cli(args, out, err);
    promise(code == mnist::kExitOk || code == mnist::kExitBadInput,
            std::string("check_cli returned exit code ") + std::to_string(code));
    if (code == mnist::kExitBadInput) check_one_line(err.str(), "stepgrad-mnist: error: ", "the error");
    if (code == mnist::kExitOk) promise(err.str().empty(), "check_cli succeeded but wrote an error: " + err.str());
}

}  // namespace stepgrad::fuzz
