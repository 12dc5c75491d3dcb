// The IDX reader and writer: the exact bytes of the format, plain and gzipped round trips, and
// every kind of bad file refused with the file's path and the reason in words.
#include "idx_test_helpers.hpp"

#include <algorithm>

using namespace idx_test;

namespace {

const IdxArray small_images{{2, 3, 4}, std::vector<std::uint8_t>{0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11,
                                                                 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 255}};

void check_same(const IdxArray& actual, const IdxArray& expected) {
    CHECK(actual.dims == expected.dims);
    CHECK(actual.values == expected.values);
}

}  // namespace

TEST_CASE("write_idx writes the IDX bytes exactly: big-endian header, then the data", "[chapter05][idx]") {
    TempDir dir;
    const fs::path path = dir.path / "images-idx3-ubyte";
    write_idx(path, small_images, false);
    const std::string data(small_images.values.begin(), small_images.values.end());
    CHECK(read_bytes(path) == std::string("\0\0\x08\x03\0\0\0\x02\0\0\0\x03\0\0\0\x04", 16) + data);
}

TEST_CASE("a plain IDX file reads back what was written", "[chapter05][idx][ex-05.1]") {
    TempDir dir;
    const fs::path path = dir.path / "labels-idx1-ubyte";
    const IdxArray labels{{5}, {9, 0, 3, 255, 1}};
    write_idx(path, labels, false);
    check_same(read_idx(path), labels);
    write_idx(path, small_images, false);  // replaces the file
    check_same(read_idx(path), small_images);
}

TEST_CASE("a gzipped IDX file reads back what was written", "[chapter05][idx][ex-05.1]") {
    TempDir dir;
    const fs::path path = dir.path / "images-idx3-ubyte.gz";
    write_idx(path, small_images, true);
    CHECK(read_bytes(path).substr(0, 2) == "\x1f\x8b");  // gzip's magic
    check_same(read_idx(path), small_images);
}

TEST_CASE("gzip files from another writer read, across deflate blocks", "[chapter05][idx][ex-05.1]") {
    TempDir dir;
    const fs::path path = dir.path / "big-idx2-ubyte.gz";
    const std::string data = pattern_bytes(300 * 400);  // two stored blocks
    write_bytes(path, gzip_stored(idx_header({300, 400}) + data));
    const IdxArray array = read_idx(path);
    CHECK(array.dims == std::vector<std::int64_t>{300, 400});
    CHECK(std::string(array.values.begin(), array.values.end()) == data);
}

TEST_CASE("parse_idx reads bytes in memory like read_idx reads a file", "[chapter05][idx][ex-05.1]") {
    const std::string data(small_images.values.begin(), small_images.values.end());
    const std::string file = idx_header({2, 3, 4}) + data;
    const auto* bytes = reinterpret_cast<const std::uint8_t*>(file.data());
    check_same(parse_idx({bytes, file.size()}, "memory"), small_images);
    const std::string cut = file.substr(0, 20);
    const auto* cut_bytes = reinterpret_cast<const std::uint8_t*>(cut.data());
    REQUIRE_THROWS_WITH(parse_idx({cut_bytes, cut.size()}, "memory"),
                        "memory: truncated: the header promises 24 bytes of data but the file holds 4");
}

TEST_CASE("the sizes are big-endian 32-bit integers: 00 00 EA 60 is 60000", "[chapter05][idx][ex-05.1]") {
    // One dimension of 60000 (0x0000EA60): the header of MNIST's label files.
    const std::string labels = idx_header({60000}) + pattern_bytes(60000);
    const auto* label_bytes = reinterpret_cast<const std::uint8_t*>(labels.data());
    const IdxArray array = parse_idx({label_bytes, labels.size()}, "labels");
    CHECK(array.dims == std::vector<std::int64_t>{60000});
    REQUIRE(array.values.size() == 60000);
    CHECK(array.values[59999] == static_cast<std::uint8_t>((59999 * 7) % 256));
    // Four dimensions, the first 258 = 0x00000102 (two bytes); the data is 258 * 1 * 3 * 2 = 1548 bytes.
    const std::string four = idx_header({258, 1, 3, 2}) + pattern_bytes(1548);
    const auto* four_bytes = reinterpret_cast<const std::uint8_t*>(four.data());
    CHECK(parse_idx({four_bytes, four.size()}, "four").dims == std::vector<std::int64_t>{258, 1, 3, 2});
    // The largest size a header can hold, 2^32 - 1, is read as a positive number, not as -1.
    const std::string huge = idx_header({0xFFFFFFFF}) + "x";
    const auto* huge_bytes = reinterpret_cast<const std::uint8_t*>(huge.data());
    REQUIRE_THROWS_WITH(parse_idx({huge_bytes, huge.size()}, "huge"),
                        "huge: truncated: the header promises 4294967295 bytes of data but the file holds 1");
}

TEST_CASE("a truncated file is refused: data shorter than the header promises", "[chapter05][idx][ex-05.1]") {
    TempDir dir;
    const std::string short_file = idx_header({2, 3, 4}) + pattern_bytes(10);
    const std::string reason = "truncated: the header promises 24 bytes of data but the file holds 10";
    SECTION("plain") {
        const fs::path path = dir.path / "images-idx3-ubyte";
        write_bytes(path, short_file);
        check_message(idx_error_of(path), path, reason);
    }
    SECTION("gzipped: a complete gzip stream of a short file") {
        const fs::path path = dir.path / "images-idx3-ubyte.gz";
        write_bytes(path, gzip_stored(short_file));
        check_message(idx_error_of(path), path, reason);
    }
    SECTION("gzipped: the gzip stream itself cut short, as by an interrupted download") {
        const fs::path path = dir.path / "images-idx3-ubyte.gz";
        write_bytes(path, gzip_stored(idx_header({100, 100}) + pattern_bytes(10000)).substr(0, 5000));
        const std::string message = idx_error_of(path);
        check_message(message, path, "truncated: the header promises 10000 bytes of data but the file holds");
        CHECK_THAT(message, Catch::Matchers::Contains("the gzip stream ends early"));
    }
}

TEST_CASE("a file cut inside the header is refused as truncated", "[chapter05][idx][ex-05.1]") {
    TempDir dir;
    const fs::path path = dir.path / "labels-idx1-ubyte";
    write_bytes(path, "");
    check_message(idx_error_of(path), path, "the file is empty");
    write_bytes(path, std::string("\0\0", 2));
    check_message(idx_error_of(path), path, "truncated: the file holds only 2 bytes, less than the 4-byte magic");
    write_bytes(path, idx_header({60000, 28, 28}).substr(0, 10));
    check_message(idx_error_of(path), path,
                  "truncated: the header declares 3 dimensions (12 bytes of sizes) but the file ends after 6");
}

TEST_CASE("a file that is not IDX is refused by its magic number", "[chapter05][idx][ex-05.1]") {
    TempDir dir;
    const fs::path path = dir.path / "train-images-idx3-ubyte.gz";
    SECTION("neither gzip nor IDX, like an HTML error page saved by a download") {
        write_bytes(path, "<html><body>Not Found</body></html>");
        check_message(idx_error_of(path), path, "bad magic number 0x3C68746D: not gzip and not IDX");
    }
    SECTION("gzip, but of something else") {
        write_bytes(path, gzip_stored("hello, world"));
        check_message(idx_error_of(path), path, "bad magic number 0x68656C6C: the gzip stream does not hold an IDX");
    }
    SECTION("the magic number written little-endian") {
        write_bytes(path, std::string("\x03\x08\0\0", 4) + pattern_bytes(20));
        const std::string message = idx_error_of(path);
        check_message(message, path, "bad magic number 0x03080000");
        CHECK_THAT(message, Catch::Matchers::Contains("byte-swapped"));
    }
}

TEST_CASE("a type other than unsigned bytes is refused by name", "[chapter05][idx][ex-05.1]") {
    TempDir dir;
    const fs::path path = dir.path / "floats-idx1";
    write_bytes(path, idx_header({2}, 0x0D) + pattern_bytes(8));
    check_message(idx_error_of(path), path,
                  "type byte 0x0D (32-bit float) is not supported: stepgrad reads unsigned bytes (0x08)");
    write_bytes(path, idx_header({2}, 0x05) + pattern_bytes(2));
    check_message(idx_error_of(path), path, "unknown type byte 0x05");
}

TEST_CASE("a rank outside 1 to 4 is refused", "[chapter05][idx][ex-05.1]") {
    TempDir dir;
    const fs::path path = dir.path / "odd-idx";
    write_bytes(path, idx_header({}));
    check_message(idx_error_of(path), path, "the header says 0 dimensions: stepgrad reads IDX files with 1 to 4");
    write_bytes(path, idx_header({1, 1, 1, 1, 1}) + "x");
    check_message(idx_error_of(path), path, "the header says 5 dimensions");
}

TEST_CASE("bytes after the data are refused", "[chapter05][idx][ex-05.1]") {
    TempDir dir;
    const fs::path path = dir.path / "labels-idx1-ubyte";
    write_bytes(path, idx_header({4}) + pattern_bytes(7));
    check_message(idx_error_of(path), path, "3 trailing bytes after the data (the header promises 4)");
    const fs::path gzipped = dir.path / "labels-idx1-ubyte.gz";
    write_bytes(gzipped, gzip_stored(idx_header({4}) + pattern_bytes(5)));
    check_message(idx_error_of(gzipped), gzipped, "1 trailing byte after the data");
}

TEST_CASE("absurd or empty sizes are refused before any memory is allocated", "[chapter05][idx][ex-05.1]") {
    TempDir dir;
    const fs::path path = dir.path / "images-idx3-ubyte";
    write_bytes(path, idx_header({0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF}) + pattern_bytes(16));
    check_message(idx_error_of(path), path,
                  "the header's sizes 4294967295 x 4294967295 x 4294967295 ask for more than 17179869184 bytes");
    write_bytes(path, idx_header({70000, 500, 500}));  // 17.5e9 bytes: just over the limit
    check_message(idx_error_of(path), path, "ask for more than 17179869184 bytes (16 GiB)");
    write_bytes(path, idx_header({3, 0, 2}));
    check_message(idx_error_of(path), path, "dimension 1 of 3 x 0 x 2 is 0");
    // 8 GiB promised, 1 byte there: refused as truncated without allocating the 8 GiB first.
    write_bytes(path, idx_header({1U << 17, 1U << 16}) + "x");
    check_message(idx_error_of(path), path,
                  "truncated: the header promises 8589934592 bytes of data but the file holds 1");
}

TEST_CASE("a missing file or a directory is refused with its path", "[chapter05][idx]") {
    TempDir dir;
    check_message(idx_error_of(dir.path / "nowhere-idx3-ubyte.gz"), dir.path / "nowhere-idx3-ubyte.gz", "no such file");
    check_message(idx_error_of(dir.path), dir.path, "is a directory");
}

TEST_CASE("a corrupt gzip stream is refused, not read as garbage", "[chapter05][idx]") {
    TempDir dir;
    const fs::path path = dir.path / "train-images-idx3-ubyte.gz";
    SECTION("a valid gzip header, then bytes that are not deflate data") {
        write_bytes(path, gzip_stored("x").substr(0, 10) + std::string(64, '\xff'));
        check_message(idx_error_of(path), path, "corrupt gzip stream (zlib: invalid block type)");
    }
    SECTION("the data intact but its CRC-32 wrong") {
        write_bytes(path, gzip_stored(idx_header({4}) + pattern_bytes(4), 0x1));
        check_message(idx_error_of(path), path, "corrupt gzip stream (zlib: incorrect data check)");
    }
}

TEST_CASE("write_idx refuses arrays that are not valid IDX content", "[chapter05][idx]") {
    TempDir dir;
    const fs::path path = dir.path / "out-idx";
    const auto message_of = [&](const IdxArray& array) -> std::string {
        try {
            write_idx(path, array, false);
        } catch (const IdxError& error) {
            return error.what();
        }
        return "(no error)";
    };
    check_message(message_of({{2, 3}, std::vector<std::uint8_t>(5)}), path,
                  "cannot write: sizes 2 x 3 make 6 elements but there are 5 values");
    check_message(message_of({{}, {}}), path, "cannot write 0 dimensions");
    check_message(message_of({{2, 0}, {}}), path, "each must be from 1 to 2^32 - 1");
    CHECK_FALSE(fs::exists(path));
    const fs::path nowhere = dir.path / "missing-dir" / "out-idx";
    try {
        write_idx(nowhere, {{1}, {1}}, true);
        FAIL("no error for a file in a directory that does not exist");
    } catch (const IdxError& error) {
        check_message(error.what(), nowhere, "cannot open for writing: No such file or directory");
    }
}
