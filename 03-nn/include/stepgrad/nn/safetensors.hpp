#pragma once
/// @file safetensors.hpp
/// @brief Reading and writing the safetensors format, the checkpoint format PyTorch and the
/// Hugging Face libraries share.
///
/// A safetensors file is three parts:
///
///     8 bytes   N, the header's length, an unsigned 64-bit little-endian integer
///     N bytes   a JSON object, padded with spaces to a multiple of 8:
///               {"__metadata__":{"format":"pt"},
///                "0.weight":{"dtype":"F32","shape":[2,3],"data_offsets":[16,40]}, ...}
///     the rest  the data section: every tensor's elements, little-endian, row-major, back to
///               back; `data_offsets` are [begin, end) byte offsets into this section
///
/// There is nothing else: no pickled code to run, so a file from anywhere is safe to open, and
/// everything the reader needs to check a file is in the header. stepgrad writes exactly the
/// bytes the `safetensors` Python package writes for the same tensors and metadata, and reads
/// only float32 ("F32") and int64 ("I64") tensors, the two dtypes a stepgrad tensor can hold.
#include <stepgrad/nn/state_dict.hpp>

#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>

namespace stepgrad::nn {

/// @brief Thrown when a checkpoint cannot be written or read, or does not match the model.
/// The message starts with the file's name and says what is wrong, e.g.
/// `model.safetensors: truncated: header says 4096 bytes but the file has 120`.
class CheckpointError : public std::runtime_error {
public:
    /// @brief An error with the full message `what`.
    explicit CheckpointError(const std::string& what) : std::runtime_error(what) {}
};

/// @brief Thrown by save_safetensors when the file system refuses the write (a full disk, an
/// I/O error, no permission): not a problem of the checkpoint's contents. The message names
/// the file, the failing step and the system's reason, e.g. `run.safetensors: cannot save:
/// writing the temporary file ...: No space left on device (the previous file, if any, is
/// unchanged)`. The previous file at that path is untouched.
class CheckpointWriteError : public CheckpointError {
public:
    /// @brief An error with the full message `what`.
    explicit CheckpointWriteError(const std::string& what) : CheckpointError(what) {}
};

/// @brief The bytes of a safetensors file holding `state`'s tensors and its metadata.
///
/// The layout is the one the `safetensors` package writes, so the bytes are identical to its
/// output for the same tensors: `__metadata__` first (left out when there is none), then the
/// tensors sorted by dtype alignment, largest first (I64 before F32), then by name (bytewise);
/// compact JSON (no spaces); the header padded with spaces to a multiple of 8 bytes, so every
/// tensor's data starts 8-byte aligned; the data in header order. Metadata keys are written in
/// sorted order (the package writes a hash map, so with several keys its order varies from run
/// to run; with one key, as PyTorch's `{"format": "pt"}`, the bytes match).
///
/// Tensors may live on any device: their elements are copied to the host. Throws
/// CheckpointError for an undefined tensor or the reserved name `__metadata__`.
/// @param state The tensors (Float32 or Int64) and string metadata to write.
/// @return The whole file's content.
[[nodiscard]] std::string serialize_safetensors(const StateDict& state);

/// @brief Parses and checks the safetensors file content `bytes`; the tensors are made on the CPU.
///
/// Everything is validated before a tensor is made: the header length against the file size,
/// the JSON, each entry's dtype, shape and `data_offsets` (an integer pair inside the data
/// section, `end - begin == numel * element size`, no size overflow), duplicate names, and that
/// the tensors cover the data section exactly, without gaps or overlaps, as the format
/// requires. The tensors come back in file order (by offset); `__metadata__` goes to
/// `StateDict::metadata`.
///
/// Throws CheckpointError whose message starts with `source_name` and names the problem,
/// e.g. `ckpt.safetensors: tensor "w": dtype F16 is not supported (stepgrad reads F32 and I64)`.
/// @param bytes The whole file.
/// @param source_name What the errors call the file (its path, usually).
/// @return The tensors and metadata.
[[nodiscard]] StateDict deserialize_safetensors(std::string_view bytes, const std::string& source_name);

/// @brief Writes `state` to `path` in the safetensors format, atomically.
///
/// The bytes go through stepgrad::write_file_atomically (shared/atomic_file.hpp): to a temporary
/// file in the same directory (`<path>.tmp.<pid>.<n>`), which is flushed to disk (fsync),
/// renamed over `path` (a rename within one file system is atomic), and the directory is
/// flushed so the rename itself survives a crash. A reader, or a crash half-way, therefore sees
/// the old file or the new one, never a mixture. On failure the temporary file is removed, the
/// previous file at `path` is untouched, and CheckpointError names the path, the step that
/// failed and the system's reason (e.g. "No space left on device"). Only a failure to flush the
/// directory comes after the rename: the new file is then in place, and the error says so.
///
/// Example:
/// @code
/// stepgrad::nn::StateDict state;
/// state.insert("weight", stepgrad::ones({2, 3}));
/// state.metadata["format"] = "pt";
/// stepgrad::nn::save_safetensors(state, "weights.safetensors");
/// // Python: safetensors.torch.load_file("weights.safetensors")["weight"] is torch.ones(2, 3)
/// @endcode
/// @param state The tensors and metadata to write.
/// @param path The file to create or replace.
void save_safetensors(const StateDict& state, const std::filesystem::path& path);

/// @brief Reads the safetensors file at `path` (see deserialize_safetensors); tensors on the CPU.
///
/// Throws CheckpointError naming the path when the file cannot be read or is malformed.
/// @param path The file to read.
/// @return The tensors, in file order, and the metadata.
[[nodiscard]] StateDict load_safetensors(const std::filesystem::path& path);

}  // namespace stepgrad::nn
