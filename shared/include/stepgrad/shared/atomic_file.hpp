#pragma once
/// @file atomic_file.hpp
/// @brief Writing a file so that a crash, a full disk or a failed system call never leaves half
/// of it: a temporary file beside the target, flushed to disk, renamed over the target. And the
/// seam the tests use to make each of those system calls fail in turn.

#include <sys/types.h>

#include <cstddef>
#include <filesystem>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace stepgrad {

/// @brief Thrown by write_file_atomically() when the file cannot be written.
///
/// The message is one line: the target, the step that failed (creating, writing, flushing,
/// closing or renaming the temporary file, or flushing the directory), the temporary file's
/// name and the system's reason, e.g.
/// `runs/mlp.safetensors: cannot save: writing the temporary file runs/mlp.safetensors.tmp.412.0
/// failed: No space left on device (the previous file, if any, is unchanged)`.
class FileWriteError : public std::runtime_error {
public:
    /// @brief An error with the full message `what` and the errno of the call that failed.
    FileWriteError(const std::string& what, int error_number)
        : std::runtime_error(what), error_number_(error_number) {}

    /// @brief The errno value of the failed system call (ENOSPC for a full disk, EIO, ...).
    [[nodiscard]] int error_number() const noexcept { return error_number_; }

private:
    int error_number_;
};

/// @brief Writes `bytes` to `path` so that `path` holds either its old content or all of the
/// new, never a mixture, whatever fails and whenever the process dies.
///
/// The steps: create `<path>.tmp.<pid>.<n>` beside the target (O_EXCL, so two writers never
/// share one), write all the bytes (short writes continue, EINTR retries), fsync it, close it,
/// rename it over `path` (atomic within one file system), then open and fsync the directory so
/// the rename itself is on disk.
///
/// Any failure up to and including the rename removes the temporary file, leaves `path` as it
/// was and throws FileWriteError naming the path, the step and the system's reason (e.g. "No
/// space left on device"). A failure to flush the directory comes after the rename: the new
/// file is in place, and the error says "saved, but flushing the directory ... failed" because
/// the rename might not survive a power cut.
///
/// Example: `stepgrad::write_file_atomically("runs/metrics.csv", text);`
void write_file_atomically(const std::filesystem::path& path, std::string_view bytes);

/// @brief Seams for tests: the system calls write_file_atomically() makes can be replaced, one
/// table for the whole process, and FileFaultInjector uses that to fail any one of them.
namespace testing {

/// @brief The kinds of system call write_file_atomically() makes.
///
/// A save calls, in this order: open (the temporary file), write (once or more), fsync (the
/// file), close (the file), rename, open (the directory), fsync (the directory), close (the
/// directory); unlink only to remove the temporary file after a failure.
enum class FileCall { open, write, fsync, close, rename, unlink };

/// @brief Every FileCall, in declaration order (to loop over the kinds).
inline constexpr FileCall kAllFileCalls[] = {FileCall::open,  FileCall::write,  FileCall::fsync,
                                             FileCall::close, FileCall::rename, FileCall::unlink};

/// @brief The call's name, as in the C library: "open", "write", "fsync", ...
const char* to_string(FileCall call);

/// @brief The table of system calls write_file_atomically() goes through, with the signatures
/// of the POSIX functions of the same names.
struct FileCalls {
    int (*open)(const char* path, int flags, mode_t mode);           ///< POSIX `open`
    ssize_t (*write)(int fd, const void* data, std::size_t size);    ///< POSIX `write`
    int (*fsync)(int fd);                                            ///< POSIX `fsync`
    int (*close)(int fd);                                            ///< POSIX `close`
    int (*rename)(const char* from, const char* to);                 ///< POSIX `rename`
    int (*unlink)(const char* path);                                 ///< POSIX `unlink`
};

/// @brief The table that calls the real POSIX functions (the one in use unless replaced).
const FileCalls& system_file_calls();

/// @brief The table in use now.
const FileCalls& file_calls();

/// @brief Puts `calls` in place of the table for the whole process and returns the previous one.
///
/// For tests only: swap it while no other thread is writing a file, and put the previous table
/// back. `calls` must outlive its use. Unused, the seam costs one pointer load per system call.
const FileCalls& set_file_calls(const FileCalls& calls);

/// @brief One fault to inject: the `nth` call of kind `call` fails with `error`.
///
/// With `short_write` (for FileCall::write only) the `nth` write instead writes about half of
/// its bytes and returns that count, as a disk that is filling up does, and the write after it
/// fails with `error` (ENOSPC for a full disk). An `error` of EINTR simulates an interrupted
/// call, which the writer must retry for write().
struct FileFault {
    FileCall call = FileCall::write;  ///< which kind of call
    int nth = 1;                      ///< which one of that kind, counting from 1
    int error = 0;                    ///< the errno it fails with (EIO if 0)
    bool short_write = false;         ///< write only: a short write first, then the failure
};

/// @brief Injects faults into write_file_atomically() while it lives, and counts its calls.
///
/// Installs a table that counts every call by kind and fails the ones the faults name; the
/// destructor puts the previous table back. One injector at a time (a second one throws
/// std::logic_error). Not thread-safe: for single-threaded tests.
///
/// Example: fail the first fsync with EIO, then check the save threw and the old file is whole:
/// @code
/// {
///     stepgrad::testing::FileFaultInjector faults({{stepgrad::testing::FileCall::fsync, 1, EIO}});
///     CHECK_THROWS_AS(stepgrad::write_file_atomically(path, "new"), stepgrad::FileWriteError);
///     CHECK(faults.fired() == 1);
/// }
/// @endcode
class FileFaultInjector {
public:
    /// @brief Counts calls without failing any (to learn how many calls of each kind a save makes).
    FileFaultInjector();
    /// @brief Fails the calls `faults` name (each fires at most once).
    explicit FileFaultInjector(std::vector<FileFault> faults);
    /// @brief The same from a list: `FileFaultInjector({{FileCall::rename, 1, EIO}})`.
    FileFaultInjector(std::initializer_list<FileFault> faults)
        : FileFaultInjector(std::vector<FileFault>(faults)) {}
    /// @brief Puts the previous table back.
    ~FileFaultInjector();

    FileFaultInjector(const FileFaultInjector&) = delete;             ///< not copyable: it owns the table
    FileFaultInjector& operator=(const FileFaultInjector&) = delete;  ///< not assignable either

    /// @brief How many calls of kind `call` were made since construction (failed ones included).
    [[nodiscard]] int calls(FileCall call) const;
    /// @brief How many of the faults have fired.
    [[nodiscard]] int fired() const;

private:
    const FileCalls* previous_;
};

}  // namespace testing
}  // namespace stepgrad
