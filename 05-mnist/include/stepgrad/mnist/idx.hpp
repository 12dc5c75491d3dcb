#pragma once
/// @file idx.hpp
/// @brief Reading and writing IDX files, the format MNIST and Fashion-MNIST come in.
///
/// An IDX file is a small header followed by the numbers, row-major (the last index moves
/// fastest), all integers big-endian:
///
/// | bytes       | what                                                                          |
/// |-------------|-------------------------------------------------------------------------------|
/// | 0 and 1     | two zero bytes                                                                |
/// | 2           | the element type: 0x08 for unsigned bytes, the type MNIST uses (see below)    |
/// | 3           | R, the number of dimensions (1 for labels, 3 for images)                     |
/// | 4 to 3 + 4R | each dimension's size, an unsigned 32-bit integer                            |
/// | the rest    | the data: as many elements as the sizes multiply to, one byte each for 0x08  |
///
/// IDX defines five more types (0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64),
/// which stepgrad refuses with a clear error. The first four bytes, read together as a
/// big-endian integer, are the "magic number": 0x00000803 for an image file (unsigned bytes,
/// 3 dimensions), 0x00000801 for a label file.
/// For example `train-images-idx3-ubyte` starts with
///
///     00 00 08 03   00 00 EA 60   00 00 00 1C   00 00 00 1C   ...47,040,000 pixel bytes
///     magic         60000 images  28 rows       28 columns
///
/// and `train-labels-idx1-ubyte` with `00 00 08 01  00 00 EA 60` and then 60000 labels.
/// The files are usually distributed gzipped (`.gz`); read_idx() reads both.
///
/// stepgrad reads only the unsigned-byte type (0x08) with 1 to 4 dimensions, and checks
/// everything before trusting it: the magic number, each size, that the sizes do not ask for
/// an absurd amount of memory, and that the data is exactly as long as the header promises.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace stepgrad::mnist {

/// @brief Thrown when an IDX file cannot be read or written, or is not a valid IDX file.
///
/// The message starts with the file's path and says the reason in words, e.g.
/// `data/train-images-idx3-ubyte.gz: truncated: the header promises 47040000 bytes of data but
/// the file holds 1000`.
class IdxError : public std::runtime_error {
public:
    /// @brief An error with the full message `what` (which starts with the path).
    explicit IdxError(const std::string& what) : std::runtime_error(what) {}
};

/// @brief The largest data section read_idx() accepts: 2^34 bytes (16 GiB).
///
/// A header whose sizes multiply to more is refused before any memory is allocated; MNIST's
/// largest file holds 47,040,000 bytes.
inline constexpr std::int64_t max_idx_data_bytes = std::int64_t{1} << 34;

/// @brief An array of unsigned bytes with its shape: the content of an IDX file of type 0x08.
///
/// Example: MNIST's training images are `dims == {60000, 28, 28}` and `values.size() ==
/// 47040000`; pixel (row r, column c) of image i is `values[(i * 28 + r) * 28 + c]`.
struct IdxArray {
    /// @brief The sizes, outermost first (1 to 4 of them, each at least 1), e.g. `{60000, 28, 28}`.
    std::vector<std::int64_t> dims;
    /// @brief The elements in row-major order; there are exactly the product of `dims` of them.
    std::vector<std::uint8_t> values;
};

/// @brief Reads the IDX file at `path`, plain or gzipped (zlib tells them apart by content).
///
/// Checks, in order: that the file exists and is readable; the magic number (two zero bytes,
/// type 0x08, 1 to 4 dimensions); that every size is at least 1 and that their product is at
/// most max_idx_data_bytes (before allocating anything); that the gzip stream, if any, is not
/// corrupt; and that the data is exactly the promised length, neither shorter ("truncated")
/// nor longer ("N trailing bytes after the data").
///
/// Example:
/// @code
/// stepgrad::mnist::IdxArray labels = stepgrad::mnist::read_idx("data/t10k-labels-idx1-ubyte.gz");
/// // labels.dims == {10000}; labels.values[0] is the first test image's class
/// @endcode
/// @param path The file, e.g. `train-images-idx3-ubyte` or `train-images-idx3-ubyte.gz`.
/// @return The sizes and the bytes.
/// @throws IdxError naming `path` and the reason, e.g. "no such file", "bad magic number
///         0x3C68746D: not gzip and not IDX ...", "corrupt gzip stream (zlib: invalid block type)".
[[nodiscard]] IdxArray read_idx(const std::filesystem::path& path);

/// @brief Parses the bytes of an uncompressed IDX file, with every check of read_idx().
///
/// read_idx() and this function share one parser; this one is for data already in memory and
/// for fuzzing the parser.
/// @param bytes The whole file's content (not gzipped).
/// @param source_name What the error messages call the data (a path, usually).
/// @return The sizes and the bytes.
/// @throws IdxError whose message starts with `source_name`.
[[nodiscard]] IdxArray parse_idx(std::span<const std::uint8_t> bytes, const std::string& source_name);

/// @brief Writes `array` to `path` as an IDX file of unsigned bytes, gzipped or not.
///
/// For tests, tools and students: e.g. to make a tiny dataset in MNIST's format. An existing
/// file is replaced.
///
/// Example:
/// @code
/// stepgrad::mnist::IdxArray labels{{3}, {7, 2, 1}};
/// stepgrad::mnist::write_idx("labels-idx1-ubyte.gz", labels, true);
/// // the file decompresses to 00 00 08 01  00 00 00 03  07 02 01
/// @endcode
/// @param path The file to create or replace.
/// @param array The array: 1 to 4 sizes, each from 1 to 2^32 - 1, and exactly their product
///        of values.
/// @param gzip Whether to compress the file with gzip (name it `.gz` then).
/// @throws IdxError naming `path` when `array` is not valid or the file cannot be written.
void write_idx(const std::filesystem::path& path, const IdxArray& array, bool gzip);

}  // namespace stepgrad::mnist
