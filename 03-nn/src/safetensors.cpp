// The safetensors format: 8-byte header length, a JSON header, the raw little-endian data.
// Writing reproduces the `safetensors` Python package byte for byte; reading trusts nothing in
// the file and checks every number in the header before a tensor is made.
#include <stepgrad/nn/safetensors.hpp>
#include <stepgrad/shared/atomic_file.hpp>
#include <stepgrad/tensor/backend.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <limits>
#include <set>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

namespace stepgrad::nn {
namespace {

static_assert(std::endian::native == std::endian::little,
              "safetensors stores little-endian numbers; this code copies them as they are in memory");

using ordered_json = nlohmann::ordered_json;
using json = nlohmann::json;

constexpr std::uint64_t header_length_bytes = 8;
constexpr std::uint64_t max_header_bytes = 100'000'000;  // the reference reader's limit too
constexpr int max_header_depth = 128;  // JSON nesting; serde_json's limit, and a header needs 3
constexpr std::size_t max_quoted_json = 120;  // characters of a bad value an error message shows

[[noreturn]] void fail(const std::string& source, const std::string& problem) {
    throw CheckpointError(source + ": " + problem);
}

std::string in_quotes(const std::string& name) { return "\"" + name + "\""; }

// ---- dtypes --------------------------------------------------------------------------------

const char* dtype_code(Dtype dtype) { return dtype == Dtype::Float32 ? "F32" : "I64"; }

Dtype parse_dtype(const std::string& code, const std::string& name, const std::string& source) {
    if (code == "F32") return Dtype::Float32;
    if (code == "I64") return Dtype::Int64;
    static const std::set<std::string> other_safetensors_dtypes{
        "BOOL", "U8",  "I8",  "F8_E5M2", "F8_E4M3", "F8_E8M0", "F4",  "F6_E2M3", "F6_E3M2",
        "I16",  "U16", "F16", "BF16",    "I32",     "U32",     "F64", "U64",     "C64"};
    if (other_safetensors_dtypes.contains(code)) {
        fail(source, "tensor " + in_quotes(name) + ": dtype " + code +
                         " is not supported (stepgrad reads F32 and I64; convert the tensor in PyTorch, "
                         "e.g. with .float() or .long(), before saving)");
    }
    fail(source, "tensor " + in_quotes(name) + ": unknown dtype " + in_quotes(code) +
                     " (safetensors dtypes are spelled like F32, I64, F16, BF16)");
}

// ---- writing -------------------------------------------------------------------------------

struct Outgoing {
    const std::string* name;
    const Tensor* tensor;
    std::uint64_t bytes;
};

// The order the reference writer uses: largest alignment first (I64 before F32), then by name,
// compared bytewise (std::string compares chars as unsigned, like Rust's String).
bool written_before(const Outgoing& a, const Outgoing& b) {
    const std::size_t align_a = element_size(a.tensor->dtype());
    const std::size_t align_b = element_size(b.tensor->dtype());
    if (align_a != align_b) return align_a > align_b;
    return *a.name < *b.name;
}

std::string serialize(const StateDict& state, const std::string& source) {
    std::vector<Outgoing> outgoing;
    for (const auto& [name, tensor] : state) {
        if (!tensor.defined()) fail(source, "tensor " + in_quotes(name) + " is undefined: nothing to save");
        if (name == "__metadata__") fail(source, "\"__metadata__\" is reserved for the metadata, not a tensor name");
        const auto bytes = static_cast<std::uint64_t>(tensor.numel()) * element_size(tensor.dtype());
        outgoing.push_back({&name, &tensor, bytes});
    }
    std::sort(outgoing.begin(), outgoing.end(), written_before);

    // The header: __metadata__ first, then one entry per tensor with its slice of the data.
    ordered_json header = ordered_json::object();
    if (!state.metadata.empty()) {
        ordered_json metadata = ordered_json::object();
        for (const auto& [key, value] : state.metadata) metadata[key] = value;
        header["__metadata__"] = std::move(metadata);
    }
    std::uint64_t data_bytes = 0;
    for (const Outgoing& item : outgoing) {
        ordered_json info = ordered_json::object();
        info["dtype"] = dtype_code(item.tensor->dtype());
        info["shape"] = item.tensor->shape();
        info["data_offsets"] = ordered_json::array({data_bytes, data_bytes + item.bytes});
        header[*item.name] = std::move(info);
        data_bytes += item.bytes;
    }
    std::string header_text;
    try {
        header_text = header.dump();  // compact: no spaces, as serde_json writes it
    } catch (const json::exception&) {
        fail(source, "a tensor name or metadata string is not valid UTF-8");
    }
    header_text.append((8 - header_text.size() % 8) % 8, ' ');  // tensor data starts 8-byte aligned

    // The file: length, header, then each tensor's bytes copied from its device.
    const std::uint64_t header_size = header_text.size();
    std::string file(header_length_bytes + header_size + data_bytes, '\0');
    std::memcpy(file.data(), &header_size, header_length_bytes);
    std::memcpy(file.data() + header_length_bytes, header_text.data(), header_size);
    char* data = file.data() + header_length_bytes + header_size;
    for (const Outgoing& item : outgoing) {
        if (item.bytes > 0) get_backend(item.tensor->device()).copy_to_host(item.tensor->data_ptr(), data, item.bytes);
        data += item.bytes;
    }
    return file;
}

// ---- reading -------------------------------------------------------------------------------

// A JSON value as an error message quotes it: compact, and cut short when long.
std::string excerpt(const json& value) {
    std::string text = value.dump();
    if (text.size() <= max_quoted_json) return text;
    const std::string length = std::to_string(text.size());
    text.resize(max_quoted_json);
    return text + "... (" + length + " characters)";
}

// Parses the header, noting the first key that appears twice in one object (nlohmann keeps the
// last silently; the reader must refuse, since the two entries could describe different data).
// Nesting deeper than max_header_depth is refused while parsing: printing or destroying such a
// value recurses once per level, and a 100 MB header of `[[[[...` would overflow the stack.
json parse_header(std::string_view text, const std::string& source) {
    std::vector<std::set<std::string>> open_objects;
    std::string duplicate;
    const json::parser_callback_t note_duplicates = [&](int depth, json::parse_event_t event, json& parsed) {
        if (depth >= max_header_depth) {
            fail(source, std::string("the header nests JSON more than ") + std::to_string(max_header_depth) +
                             " levels deep: not a safetensors header");
        }
        if (event == json::parse_event_t::object_start) open_objects.emplace_back();
        if (event == json::parse_event_t::object_end) open_objects.pop_back();
        if (event == json::parse_event_t::key && !open_objects.back().insert(parsed.get<std::string>()).second &&
            duplicate.empty()) {
            duplicate = parsed.get<std::string>();
        }
        return true;
    };
    json header;
    try {
        header = json::parse(text.begin(), text.end(), note_duplicates);
    } catch (const json::exception& error) {
        std::string reason = error.what();  // "[json.exception.parse_error.101] parse error at ..."
        reason.erase(0, reason.find("] ") == std::string::npos ? 0 : reason.find("] ") + 2);
        fail(source, "the header is not valid JSON: " + reason);
    }
    if (!duplicate.empty()) fail(source, "the header names " + in_quotes(duplicate) + " twice");
    if (!header.is_object()) fail(source, "the header is JSON but not an object: " + excerpt(header));
    return header;
}

// A non-negative integer from the header (a size or an offset).
std::uint64_t read_count(const json& value, const std::string& what, const std::string& source) {
    if (value.is_number_unsigned()) return value.get<std::uint64_t>();
    if (value.is_number_integer()) fail(source, what + " is negative: " + excerpt(value));
    fail(source, what + " is not a non-negative integer: " + excerpt(value));
}

struct Incoming {
    std::string name;
    Dtype dtype = Dtype::Float32;
    Shape shape;
    std::uint64_t begin = 0, end = 0;
};

Incoming read_entry(const std::string& name, const json& info, std::uint64_t data_size, const std::string& source) {
    const std::string tensor = "tensor " + in_quotes(name);
    if (!info.is_object()) fail(source, tensor + ": entry is not an object: " + excerpt(info));
    for (const char* key : {"dtype", "shape", "data_offsets"}) {
        if (!info.contains(key)) fail(source, tensor + ": missing \"" + key + "\"");
    }
    Incoming entry;
    entry.name = name;
    if (!info["dtype"].is_string()) fail(source, tensor + ": \"dtype\" is not a string: " + excerpt(info["dtype"]));
    entry.dtype = parse_dtype(info["dtype"].get<std::string>(), name, source);

    // shape: a list of sizes whose product (times the element size) must fit in 63 bits.
    const json& shape = info["shape"];
    if (!shape.is_array()) fail(source, tensor + ": \"shape\" is not a list: " + excerpt(shape));
    std::uint64_t bytes = element_size(entry.dtype);
    for (const json& size : shape) {
        const std::uint64_t n = read_count(size, tensor + ": a size in \"shape\"", source);
        if (n > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) ||
            __builtin_mul_overflow(bytes, n, &bytes) ||
            bytes > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
            fail(source, tensor + ": shape " + excerpt(shape) + " is too large (its size overflows 64 bits)");
        }
        entry.shape.push_back(static_cast<std::int64_t>(n));
    }

    // data_offsets: [begin, end) inside the data section, exactly the tensor's size.
    const json& offsets = info["data_offsets"];
    if (!offsets.is_array() || offsets.size() != 2) {
        fail(source, tensor + ": \"data_offsets\" is not a [begin, end] pair: " + excerpt(offsets));
    }
    entry.begin = read_count(offsets[0], tensor + ": data_offsets begin", source);
    entry.end = read_count(offsets[1], tensor + ": data_offsets end", source);
    const std::string range = "data_offsets [" + std::to_string(entry.begin) + ", " + std::to_string(entry.end) + "]";
    if (entry.end < entry.begin) fail(source, tensor + ": " + range + " end before they begin");
    if (entry.end > data_size) {
        fail(source, "truncated: tensor " + in_quotes(name) + " has " + range + " but the data section has only " +
                         std::to_string(data_size) + " bytes");
    }
    if (entry.end - entry.begin != bytes) {
        fail(source, tensor + ": dtype " + dtype_code(entry.dtype) + " and shape " + shape_to_string(entry.shape) +
                         " need " + std::to_string(bytes) + " bytes but " + range + " span " +
                         std::to_string(entry.end - entry.begin));
    }
    return entry;
}

void read_metadata(const json& metadata, StateDict& state, const std::string& source) {
    if (!metadata.is_object()) fail(source, "\"__metadata__\" is not an object: " + excerpt(metadata));
    for (const auto& [key, value] : metadata.items()) {
        if (!value.is_string())
            fail(source, "\"__metadata__\" value " + in_quotes(key) + " is not a string: " + excerpt(value));
        state.metadata[key] = value.get<std::string>();
    }
}

// The tensors, sorted by offset, must tile the data section: each starts where the last ended.
void check_coverage(const std::vector<Incoming>& entries, std::uint64_t data_size, const std::string& source) {
    std::uint64_t covered = 0;
    const Incoming* previous = nullptr;
    for (const Incoming& entry : entries) {
        if (entry.begin > covered) {
            fail(source, "gap: bytes [" + std::to_string(covered) + ", " + std::to_string(entry.begin) +
                             ") of the data section belong to no tensor (before " + in_quotes(entry.name) + ")");
        }
        if (entry.begin < covered) {
            fail(source, "tensors " + in_quotes(previous->name) + " (bytes [" + std::to_string(previous->begin) + ", " +
                             std::to_string(previous->end) + ")) and " + in_quotes(entry.name) + " (bytes [" +
                             std::to_string(entry.begin) + ", " + std::to_string(entry.end) + ")) overlap");
        }
        covered = entry.end;
        previous = &entry;
    }
    if (covered != data_size) {
        fail(source, "the data section has " + std::to_string(data_size) + " bytes but the tensors end at byte " +
                         std::to_string(covered) + ": " + std::to_string(data_size - covered) +
                         " bytes at the end belong to no tensor");
    }
}

// ---- files ---------------------------------------------------------------------------------

// Closes a file descriptor when it goes out of scope.
struct FileDescriptor {
    int fd = -1;
    ~FileDescriptor() {
        if (fd >= 0) ::close(fd);
    }
};

// The system's words for an errno value. Callers copy errno first: building a message allocates,
// and a library call may change errno even when it succeeds.
std::string errno_text(int error) { return std::strerror(error); }

std::string read_whole_file(const std::filesystem::path& path) {
    FileDescriptor file{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
    if (file.fd < 0) {
        const int error = errno;
        fail(path.string(), "cannot open: " + errno_text(error));
    }
    std::string content;
    std::vector<char> chunk(1 << 20);
    for (;;) {
        const ssize_t n = ::read(file.fd, chunk.data(), chunk.size());
        const int error = errno;
        if (n < 0 && error == EINTR) continue;
        if (n < 0) fail(path.string(), "cannot read: " + errno_text(error));
        if (n == 0) return content;
        content.append(chunk.data(), static_cast<std::size_t>(n));
    }
}

}  // namespace

std::string serialize_safetensors(const StateDict& state) { return serialize(state, "serialize_safetensors"); }

StateDict deserialize_safetensors(std::string_view bytes, const std::string& source_name) {
    const std::string& source = source_name;
    if (bytes.size() < header_length_bytes) {
        fail(source, "truncated: the file has " + std::to_string(bytes.size()) +
                         " bytes, fewer than the 8 of the header length");
    }
    std::uint64_t header_size = 0;
    std::memcpy(&header_size, bytes.data(), header_length_bytes);
    if (header_size > max_header_bytes) {
        fail(source,
             "header length " + std::to_string(header_size) + " is over the 100 MB limit: not a safetensors file?");
    }
    if (header_size > bytes.size() - header_length_bytes) {
        fail(source, "truncated: header says " + std::to_string(header_size) + " bytes but the file has " +
                         std::to_string(bytes.size()) + " (" + std::to_string(bytes.size() - header_length_bytes) +
                         " after the 8-byte length)");
    }
    const json header = parse_header(bytes.substr(header_length_bytes, header_size), source);
    const std::string_view data = bytes.substr(header_length_bytes + header_size);

    StateDict state;
    std::vector<Incoming> entries;
    for (const auto& [name, info] : header.items()) {
        if (name == "__metadata__") {
            read_metadata(info, state, source);
        } else {
            entries.push_back(read_entry(name, info, data.size(), source));
        }
    }
    std::stable_sort(entries.begin(), entries.end(), [](const Incoming& a, const Incoming& b) {
        return std::pair(a.begin, a.end) < std::pair(b.begin, b.end);
    });
    check_coverage(entries, data.size(), source);

    for (const Incoming& entry : entries) {
        Tensor tensor = Tensor::empty(entry.shape, Device::CPU, entry.dtype);
        if (entry.end > entry.begin) std::memcpy(tensor.data_ptr(), data.data() + entry.begin, entry.end - entry.begin);
        state.insert(entry.name, std::move(tensor));
    }
    return state;
}

void save_safetensors(const StateDict& state, const std::filesystem::path& path) {
    const std::string bytes = serialize(state, path.string());  // every check before the disk is touched
    try {
        write_file_atomically(path, bytes);  // shared/: temporary file, fsync, rename, directory fsync
    } catch (const FileWriteError& error) {
        throw CheckpointWriteError(error.what());
    }
}

StateDict load_safetensors(const std::filesystem::path& path) {
    return deserialize_safetensors(read_whole_file(path), path.string());
}

}  // namespace stepgrad::nn
