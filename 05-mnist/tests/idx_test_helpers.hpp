#pragma once
// What the IDX and dataset tests share: temporary directories, raw file bytes, IDX headers
// built by hand, a gzip writer independent of zlib (stored blocks), and tiny datasets.
#include <catch2/catch.hpp>

#include <stepgrad/mnist/dataset.hpp>
#include <stepgrad/mnist/idx.hpp>

#include <array>
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <unistd.h>

namespace idx_test {

namespace fs = std::filesystem;
using namespace stepgrad::mnist;

// A fresh directory under the system's temporary directory, removed with everything in it.
struct TempDir {
    fs::path path;
    TempDir() {
        static std::atomic<int> counter{0};
        path = fs::temp_directory_path() /
               ("stepgrad_idx_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
        fs::create_directories(path);
    }
    ~TempDir() {
        std::error_code ignored;
        fs::remove_all(path, ignored);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
};

inline std::string read_bytes(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline void write_bytes(const fs::path& path, const std::string& bytes) {
    std::ofstream(path, std::ios::binary) << bytes;
}

// An IDX header written by hand: two zero bytes, the type, the rank, big-endian sizes.
inline std::string idx_header(const std::vector<std::uint32_t>& dims, std::uint8_t type = 0x08) {
    std::string header{'\0', '\0', static_cast<char>(type), static_cast<char>(dims.size())};
    for (const std::uint32_t size : dims) {
        for (int shift = 24; shift >= 0; shift -= 8) header += static_cast<char>((size >> shift) & 0xFF);
    }
    return header;
}

// `count` distinct-looking bytes (0, 7, 14, ... wrapping around).
inline std::string pattern_bytes(std::size_t count) {
    std::string bytes(count, '\0');
    for (std::size_t i = 0; i < count; ++i) bytes[i] = static_cast<char>((i * 7) % 256);
    return bytes;
}

inline std::uint32_t crc32_of(const std::string& bytes) {
    std::uint32_t crc = 0xFFFFFFFFu;
    for (const char byte : bytes) {
        crc ^= static_cast<unsigned char>(byte);
        for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
    return ~crc;
}

inline void append_le32(std::string& out, std::uint32_t value) {
    for (int shift = 0; shift < 32; shift += 8) out += static_cast<char>((value >> shift) & 0xFF);
}

// A gzip file of `payload` made of uncompressed ("stored") deflate blocks, written by hand so
// the tests do not check zlib against itself. `crc_xor` != 0 damages the checksum.
inline std::string gzip_stored(const std::string& payload, std::uint32_t crc_xor = 0) {
    std::string out{'\x1f', '\x8b', '\x08', '\0', '\0', '\0', '\0', '\0', '\0', '\xff'};
    std::size_t offset = 0;
    do {
        const std::size_t length = std::min<std::size_t>(payload.size() - offset, 65535);
        const bool last = offset + length == payload.size();
        out += static_cast<char>(last ? 1 : 0);  // BFINAL, BTYPE 00 (stored)
        out += static_cast<char>(length & 0xFF);
        out += static_cast<char>(length >> 8);
        out += static_cast<char>(~length & 0xFF);
        out += static_cast<char>((~length >> 8) & 0xFF);
        out += payload.substr(offset, length);
        offset += length;
    } while (offset < payload.size());
    append_le32(out, crc32_of(payload) ^ crc_xor);
    append_le32(out, static_cast<std::uint32_t>(payload.size()));
    return out;
}

// The message of the IdxError that reading `path` throws (fails the test when none is thrown).
inline std::string idx_error_of(const fs::path& path) {
    try {
        (void)read_idx(path);
    } catch (const IdxError& error) {
        return error.what();
    }
    FAIL("read_idx(" << path << ") did not throw IdxError");
    return {};
}

// Checks that `message` starts with "<path>: " and contains `reason`.
inline void check_message(const std::string& message, const fs::path& path, const std::string& reason) {
    INFO("message: " << message);
    CHECK(message.rfind(path.string() + ": ", 0) == 0);
    CHECK_THAT(message, Catch::Matchers::Contains(reason));
}

}  // namespace idx_test
