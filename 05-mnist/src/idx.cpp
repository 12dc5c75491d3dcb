// The IDX reader and writer. One parser, read_idx_from(), reads from any "reader" with a
// `read(destination, count)` member: GzipFileReader for files (zlib reads plain and gzipped
// files alike) and MemoryReader for bytes in memory (parse_idx, the fuzzer's entry point).
#include <stepgrad/mnist/idx.hpp>
#include <stepgrad/shared/error.hpp>

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <system_error>

namespace stepgrad::mnist {
namespace {

constexpr std::uint8_t unsigned_byte_type = 0x08;
constexpr int max_rank = 4;
constexpr std::int64_t max_dimension = 0xFFFFFFFFLL;  // a size is an unsigned 32-bit integer
constexpr std::size_t max_chunk = std::size_t{1} << 26;  // 64 MiB per read or write call

[[noreturn]] void fail(const std::string& source_name, const std::string& reason) {
    throw IdxError(source_name + ": " + reason);
}

std::string hex8(std::uint8_t value) {
    char text[5];
    std::snprintf(text, sizeof text, "0x%02X", value);
    return text;
}

/// The IDX types other than unsigned bytes, by name, for the error that refuses them.
const char* idx_type_name(std::uint8_t type) {
    switch (type) {
        case 0x09: return "signed byte";
        case 0x0B: return "16-bit integer";
        case 0x0C: return "32-bit integer";
        case 0x0D: return "32-bit float";
        case 0x0E: return "64-bit float";
        default: return nullptr;
    }
}

// ---- readers ------------------------------------------------------------------------------

/// Reads a file through zlib: gzipped files are decompressed, others are read as they are.
class GzipFileReader {
public:
    explicit GzipFileReader(const std::filesystem::path& path) : name_(path.string()) {
        std::error_code error;
        const auto status = std::filesystem::status(path, error);
        if (status.type() == std::filesystem::file_type::not_found) fail(name_, "no such file");
        if (error) fail(name_, "cannot open: " + error.message());
        if (std::filesystem::is_directory(status)) fail(name_, "is a directory, not an IDX file");
        errno = 0;
        file_.reset(gzopen(path.c_str(), "rb"));
        if (!file_) fail(name_, std::string("cannot open: ") + (errno ? std::strerror(errno) : "out of memory"));
        gzbuffer(file_.get(), 1U << 17);
    }

    /// Reads up to `count` bytes; fewer only at the end of the data. Throws on a corrupt stream.
    std::size_t read(std::uint8_t* destination, std::size_t count) {
        std::size_t total = 0;
        while (total < count) {
            const auto chunk = static_cast<unsigned>(std::min(count - total, max_chunk));
            const int got = gzread(file_.get(), destination + total, chunk);
            if (got < 0) throw_stream_error();
            total += static_cast<std::size_t>(got);
            if (static_cast<unsigned>(got) < chunk) break;
        }
        return total;
    }

    /// How the data is stored, for "not an IDX file" errors.
    [[nodiscard]] std::string not_idx_reason() const {
        return gzdirect(file_.get()) ? "not gzip and not IDX" : "the gzip stream does not hold an IDX file";
    }

    /// Why the data ended early, when the gzip stream itself was cut short.
    [[nodiscard]] std::string end_note() const {
        int code = Z_OK;
        gzerror(file_.get(), &code);
        return code == Z_BUF_ERROR ? " (the gzip stream ends early: the download was cut short?)" : "";
    }

private:
    [[noreturn]] void throw_stream_error() const {
        int code = Z_OK;
        std::string message = gzerror(file_.get(), &code);
        if (code == Z_ERRNO) fail(name_, std::string("read error: ") + std::strerror(errno));
        if (message.rfind(name_ + ": ", 0) == 0) message.erase(0, name_.size() + 2);  // zlib adds the path
        fail(name_, "corrupt gzip stream (zlib: " + message + ")");
    }

    struct Closer {
        void operator()(gzFile file) const { gzclose(file); }
    };
    std::string name_;
    std::unique_ptr<gzFile_s, Closer> file_;
};

/// Reads bytes already in memory.
class MemoryReader {
public:
    explicit MemoryReader(std::span<const std::uint8_t> bytes) : bytes_(bytes) {}

    std::size_t read(std::uint8_t* destination, std::size_t count) {
        const std::size_t available = std::min(count, bytes_.size() - position_);
        std::copy_n(bytes_.data() + position_, available, destination);
        position_ += available;
        return available;
    }
    [[nodiscard]] std::string not_idx_reason() const { return "not an IDX file"; }
    [[nodiscard]] std::string end_note() const { return ""; }

private:
    std::span<const std::uint8_t> bytes_;
    std::size_t position_ = 0;
};

// ---- the parser ---------------------------------------------------------------------------

std::string join_dims(const std::vector<std::int64_t>& dims) {
    std::string text;
    for (std::size_t i = 0; i < dims.size(); ++i) text += (i ? " x " : "") + std::to_string(dims[i]);
    return text;
}

/// What read_idx_from() says when it refuses a file. Each member throws IdxError with the
/// file's name and the reason in words; the parser decides when, these say what.
class Refuse {
public:
    explicit Refuse(const std::string& name) : name_(name) {}

    /// Fewer than the 4 bytes of the magic number: `got` of them. `end_note` is the reader's.
    [[noreturn]] void short_magic(std::size_t got, const std::string& end_note) const {
        if (got == 0) fail(name_, "the file is empty" + end_note);
        fail(name_, "truncated: the file holds only " + std::to_string(got) +
                        " bytes, less than the 4-byte magic number" + end_note);
    }

    /// A magic number that does not start with two zero bytes and the type 0x08: says whether
    /// it is not IDX at all (`not_idx_reason`, the reader's), byte-swapped, or another IDX type.
    [[noreturn]] void magic(const std::array<std::uint8_t, 4>& magic, const std::string& not_idx_reason) const {
        if (magic[0] != 0 || magic[1] != 0) {
            char number[11];
            std::snprintf(number, sizeof number, "0x%02X%02X%02X%02X", magic[0], magic[1], magic[2], magic[3]);
            std::string reason = std::string("bad magic number ") + number + ": " + not_idx_reason +
                                 " (an IDX file starts with two zero bytes, the type and the number of dimensions)";
            if (magic[2] == 0 && magic[3] == 0 && magic[0] <= max_rank && magic[1] == unsigned_byte_type) {
                reason += "; it looks byte-swapped: was the magic number written little-endian?";
            }
            fail(name_, reason);
        }
        const std::uint8_t type = magic[2];
        if (const char* type_name = idx_type_name(type)) {
            fail(name_, "type byte " + hex8(type) + " (" + type_name +
                            ") is not supported: stepgrad reads unsigned bytes (0x08), the type MNIST uses");
        }
        fail(name_, "unknown type byte " + hex8(type) +
                        " (IDX types are 0x08, 0x09, 0x0B, 0x0C, 0x0D and 0x0E): not an IDX file");
    }

    /// A number of dimensions outside 1 to max_rank.
    [[noreturn]] void rank(int rank) const {
        fail(name_, "the header says " + std::to_string(rank) +
                        " dimensions: stepgrad reads IDX files with 1 to 4 (MNIST's have 1 or 3)");
    }

    /// The file ends inside the sizes: `got` of the 4 * rank bytes are there.
    [[noreturn]] void short_sizes(int rank, std::size_t got, const std::string& end_note) const {
        fail(name_, "truncated: the header declares " + std::to_string(rank) + " dimensions (" +
                        std::to_string(4 * rank) + " bytes of sizes) but the file ends after " + std::to_string(got) +
                        " of them" + end_note);
    }

    /// dims[axis] is 0: the file would hold no data.
    [[noreturn]] void empty_dimension(const std::vector<std::int64_t>& dims, std::size_t axis) const {
        fail(name_, "dimension " + std::to_string(axis) + " of " + join_dims(dims) +
                        " is 0: the file holds no data (a damaged header?)");
    }

    /// The sizes multiply to more than max_idx_data_bytes.
    [[noreturn]] void too_large(const std::vector<std::int64_t>& dims) const {
        fail(name_, "the header's sizes " + join_dims(dims) + " ask for more than " +
                        std::to_string(max_idx_data_bytes) + " bytes (16 GiB): a damaged header?");
    }

private:
    const std::string& name_;
};

/// Reads `count` bytes. The buffer grows only as data arrives, in chunks as large as what is
/// already there (64 KiB to 64 MiB), so a header that promises more than the file holds costs
/// little memory and time.
template <class Reader>
std::vector<std::uint8_t> read_data(Reader& reader, std::int64_t count, const std::string& name) {
    const auto wanted = static_cast<std::size_t>(count);
    std::vector<std::uint8_t> values;
    while (values.size() < wanted) {
        const std::size_t filled = values.size();
        if (filled > 0) values.reserve(std::min(wanted, max_chunk));  // data is coming: allocate once
        const std::size_t chunk = std::min(wanted - filled, std::clamp(filled, std::size_t{1} << 16, max_chunk));
        values.resize(filled + chunk);
        const std::size_t got = reader.read(values.data() + filled, chunk);
        if (got < chunk) {
            fail(name, "truncated: the header promises " + std::to_string(wanted) +
                           " bytes of data but the file holds " + std::to_string(filled + got) + reader.end_note());
        }
    }
    return values;
}

/// Counts what is left after the data; a valid file has nothing.
template <class Reader>
void check_nothing_after(Reader& reader, std::int64_t count, const std::string& name) {
    std::array<std::uint8_t, 1 << 16> scratch{};
    std::uint64_t trailing = 0;
    for (std::size_t got; (got = reader.read(scratch.data(), scratch.size())) > 0;) trailing += got;
    if (trailing > 0) {
        fail(name, std::to_string(trailing) + (trailing == 1 ? " trailing byte" : " trailing bytes") +
                       " after the data (the header promises " +
                       std::to_string(count) + "): the sizes in the header are wrong, or two files are joined");
    }
}

/// The parser: the header, checked field by field, then exactly the data it promises.
/// `reader.read(destination, count)` returns how many bytes it read (fewer only at the end).
template <class Reader>
IdxArray read_idx_from([[maybe_unused]] Reader& reader, [[maybe_unused]] const std::string& name) {
    // exercise 05.1: the IDX reader: magic number, sizes, and exactly that much data
    // hint: make a `const Refuse refuse(name);` and let it word every error (see class Refuse).
    // hint: read the 4 magic bytes (refuse.short_magic when fewer come). Bytes 0 and 1 must be 0
    // hint: and byte 2 unsigned_byte_type, else refuse.magic; byte 3 is the rank, 1 to max_rank.
    // hint: then read 4 bytes per dimension and decode each size big-endian (the first byte is
    // hint: the most significant) into IdxArray::dims, as std::int64_t.
    // hint: the data is as many bytes as the sizes multiply to: refuse a size of 0, and a product
    // hint: above max_idx_data_bytes, tested before each multiplication so that it cannot overflow.
    // hint: read_data() reads the data, check_nothing_after() refuses bytes after it.
    const Refuse refuse(name);
    std::array<std::uint8_t, 4> magic{};
    const std::size_t got = reader.read(magic.data(), magic.size());
    if (got < magic.size()) refuse.short_magic(got, reader.end_note());
    if (magic[0] != 0 || magic[1] != 0 || magic[2] != unsigned_byte_type) refuse.magic(magic, reader.not_idx_reason());
    const int rank = magic[3];
    if (rank < 1 || rank > max_rank) refuse.rank(rank);

    std::array<std::uint8_t, 4 * max_rank> size_bytes{};
    const std::size_t wanted = 4 * static_cast<std::size_t>(rank);
    const std::size_t got_sizes = reader.read(size_bytes.data(), wanted);
    if (got_sizes < wanted) refuse.short_sizes(rank, got_sizes, reader.end_note());
    IdxArray array;
    for (std::size_t offset = 0; offset < wanted; offset += 4) {
        const std::uint8_t* bytes = size_bytes.data() + offset;  // big-endian: most significant first
        array.dims.push_back(std::int64_t{bytes[0]} << 24 | std::int64_t{bytes[1]} << 16 |
                             std::int64_t{bytes[2]} << 8 | std::int64_t{bytes[3]});
    }
    std::int64_t count = 1;
    for (std::size_t axis = 0; axis < array.dims.size(); ++axis) {
        const std::int64_t size = array.dims[axis];
        if (size == 0) refuse.empty_dimension(array.dims, axis);
        if (count > max_idx_data_bytes / size) refuse.too_large(array.dims);  // count * size would be too many
        count *= size;
    }
    array.values = read_data(reader, count, name);
    check_nothing_after(reader, count, name);
    return array;
    // end exercise
}

// ---- the writer ---------------------------------------------------------------------------

void check_writable(const IdxArray& array, const std::string& name) {
    const auto rank = static_cast<int>(array.dims.size());
    if (rank < 1 || rank > max_rank) {
        fail(name, "cannot write " + std::to_string(rank) + " dimensions: IDX files here have 1 to 4");
    }
    for (const std::int64_t size : array.dims) {
        if (size < 1 || size > max_dimension) {
            fail(name, "cannot write sizes " + join_dims(array.dims) + ": each must be from 1 to 2^32 - 1");
        }
    }
    std::int64_t count = 1;
    for (const std::int64_t size : array.dims) {
        if (__builtin_mul_overflow(count, size, &count) || count > max_idx_data_bytes) {
            fail(name, "cannot write sizes " + join_dims(array.dims) + ": more than " +
                           std::to_string(max_idx_data_bytes) + " bytes (16 GiB)");
        }
    }
    if (static_cast<std::uint64_t>(count) != array.values.size()) {
        fail(name, "cannot write: sizes " + join_dims(array.dims) + " make " + std::to_string(count) +
                       " elements but there are " + std::to_string(array.values.size()) + " values");
    }
}

std::vector<std::uint8_t> header_bytes(const IdxArray& array) {
    std::vector<std::uint8_t> header{0, 0, unsigned_byte_type, static_cast<std::uint8_t>(array.dims.size())};
    for (const std::int64_t size : array.dims) {
        for (int shift = 24; shift >= 0; shift -= 8) header.push_back(static_cast<std::uint8_t>(size >> shift));
    }
    return header;
}

bool write_all(gzFile file, const std::uint8_t* bytes, std::size_t count) {
    for (std::size_t done = 0; done < count;) {
        const auto chunk = static_cast<unsigned>(std::min(count - done, max_chunk));
        if (gzwrite(file, bytes + done, chunk) != static_cast<int>(chunk)) return false;
        done += chunk;
    }
    return true;
}

}  // namespace

IdxArray read_idx(const std::filesystem::path& path) {
    GzipFileReader reader(path);
    return read_idx_from(reader, path.string());
}

IdxArray parse_idx(std::span<const std::uint8_t> bytes, const std::string& source_name) {
    MemoryReader reader(bytes);
    return read_idx_from(reader, source_name);
}

void write_idx(const std::filesystem::path& path, const IdxArray& array, bool gzip) {
    const std::string name = path.string();
    check_writable(array, name);
    errno = 0;
    gzFile file = gzopen(path.c_str(), gzip ? "wb" : "wbT");  // "T": write plain, uncompressed
    if (file == nullptr) fail(name, std::string("cannot open for writing: ") + std::strerror(errno));
    const std::vector<std::uint8_t> header = header_bytes(array);
    bool written = write_all(file, header.data(), header.size()) &&
                   write_all(file, array.values.data(), array.values.size());
    int ignored = 0;
    const std::string zlib_message = written ? "" : gzerror(file, &ignored);
    written = (gzclose(file) == Z_OK) && written;
    if (!written) {
        fail(name, "cannot write: " + (zlib_message.empty() ? std::string(std::strerror(errno)) : zlib_message));
    }
}

}  // namespace stepgrad::mnist
