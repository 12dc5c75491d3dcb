// write_file_atomically under every fault the injector can make: each system call of a save
// fails in turn, the old file stays whole (or, after the rename, the new one is whole), no
// temporary file is left, and the error names the file, the step and the reason.
#include <catch2/catch.hpp>

#include "stepgrad/shared/atomic_file.hpp"

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <unistd.h>

namespace {

namespace fs = std::filesystem;
using namespace stepgrad;
using namespace stepgrad::testing;
using Catch::Matchers::Contains;

struct TempDir {
    fs::path path;
    TempDir() {
        static std::atomic<int> counter{0};
        path = fs::temp_directory_path() /
               ("stepgrad_atomic_file_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
        fs::create_directories(path);
    }
    ~TempDir() {
        std::error_code ignored;
        fs::remove_all(path, ignored);
    }
};

std::string read_text(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::vector<std::string> files_in(const fs::path& dir) {
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(dir)) names.push_back(entry.path().filename().string());
    return names;
}

}  // namespace

TEST_CASE("write_file_atomically writes, replaces, and leaves nothing else", "[shared][atomic-file]") {
    TempDir dir;
    const fs::path path = dir.path / "a.txt";
    write_file_atomically(path, "old");
    write_file_atomically(path, "new text");
    CHECK(read_text(path) == "new text");
    CHECK(files_in(dir.path) == std::vector<std::string>{"a.txt"});
    write_file_atomically(path, "");
    CHECK(read_text(path).empty());
}

TEST_CASE("a save makes the expected system calls, through the table", "[shared][atomic-file]") {
    TempDir dir;
    FileFaultInjector counter;
    write_file_atomically(dir.path / "a.txt", "hello");
    CHECK(counter.calls(FileCall::open) == 2);   // the temporary file, the directory
    CHECK(counter.calls(FileCall::write) == 1);
    CHECK(counter.calls(FileCall::fsync) == 2);  // the file, the directory
    CHECK(counter.calls(FileCall::close) == 2);
    CHECK(counter.calls(FileCall::rename) == 1);
    CHECK(counter.calls(FileCall::unlink) == 0);
    CHECK(counter.fired() == 0);
    CHECK_THROWS_AS(FileFaultInjector(), std::logic_error);  // one at a time
}

TEST_CASE("every system call of a save fails in turn: the old file or the new one, whole, and a clear error",
          "[shared][atomic-file]") {
    TempDir dir;
    const fs::path path = dir.path / "state.bin";
    const std::string old_bytes = "the previous file";
    const std::string new_bytes(5000, 'n');
    int failures = 0;
    for (const FileCall call : kAllFileCalls) {
        for (int nth = 1;; ++nth) {
            for (const int error : {EIO, ENOSPC}) {
                write_file_atomically(path, old_bytes);
                INFO(to_string(call) << " number " << nth << " fails with " << std::strerror(error));
                std::string message;
                bool fired = false;
                {
                    FileFaultInjector faults({{call, nth, error}});
                    try {
                        write_file_atomically(path, new_bytes);
                    } catch (const FileWriteError& caught) {
                        message = caught.what();
                        CHECK(caught.error_number() == error);
                    }
                    fired = faults.fired() == 1;
                }
                if (!fired) {
                    CHECK(message.empty());
                    CHECK(read_text(path) == new_bytes);
                    continue;
                }
                ++failures;
                CHECK(files_in(dir.path) == std::vector<std::string>{"state.bin"});  // no temporary file
                if (message.empty()) {
                    // Only closing the directory may fail silently: it was read-only, and synced.
                    CHECK((call == FileCall::close && nth == 2));
                    CHECK(read_text(path) == new_bytes);
                    continue;
                }
                CHECK_THAT(message, Contains(path.string() + ": ") && Contains(std::strerror(error)));
                const bool after_rename = (call == FileCall::open || call == FileCall::fsync) && nth == 2;
                if (after_rename) {
                    CHECK_THAT(message, Contains("saved, but") && Contains("the directory " + dir.path.string()));
                    CHECK(read_text(path) == new_bytes);
                } else {
                    const char* step = call == FileCall::open    ? "cannot create the temporary file"
                                       : call == FileCall::write ? "writing the temporary file"
                                       : call == FileCall::fsync ? "flushing the temporary file"
                                       : call == FileCall::close ? "closing the temporary file"
                                                                 : "renaming the temporary file";
                    CHECK_THAT(message, Contains(std::string("cannot save: ") + step) &&
                                            Contains("the previous file, if any, is unchanged"));
                    CHECK(read_text(path) == old_bytes);
                }
            }
            FileFaultInjector counter;  // how many calls of this kind does a save make?
            write_file_atomically(path, new_bytes);
            if (nth >= counter.calls(call)) break;
        }
    }
    CHECK(failures == 2 * 8);  // open x2, write, fsync x2, close x2, rename; twice (EIO, ENOSPC)
}

TEST_CASE("a full disk: a short write, then ENOSPC; the old file stays", "[shared][atomic-file]") {
    TempDir dir;
    const fs::path path = dir.path / "state.bin";
    write_file_atomically(path, "old");
    {
        FileFaultInjector faults({{FileCall::write, 1, ENOSPC, true}});
        CHECK_THROWS_WITH(write_file_atomically(path, std::string(4096, 'x')),
                          Contains(path.string() + ": cannot save: writing the temporary file " + path.string() + ".tmp.") &&
                              Contains("No space left on device") && Contains("the previous file, if any, is unchanged"));
        CHECK(faults.calls(FileCall::write) == 2);  // half, then the failure
        CHECK(faults.calls(FileCall::unlink) == 1);
    }
    CHECK(read_text(path) == "old");
    CHECK(files_in(dir.path) == std::vector<std::string>{"state.bin"});
}

TEST_CASE("interrupted and short writes are continued, not errors", "[shared][atomic-file]") {
    TempDir dir;
    const fs::path path = dir.path / "state.bin";
    std::string bytes(10000, '\0');
    for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>(i * 7);
    {
        // A short write whose follow-up is interrupted (EINTR): the writer retries, then finishes.
        FileFaultInjector faults({{FileCall::write, 1, EINTR, true}, {FileCall::write, 3, EINTR}});
        write_file_atomically(path, bytes);
        CHECK(faults.fired() == 2);
        CHECK(faults.calls(FileCall::write) == 4);
    }
    CHECK(read_text(path) == bytes);
}

TEST_CASE("when the temporary file cannot be removed either, the error says so", "[shared][atomic-file]") {
    TempDir dir;
    const fs::path path = dir.path / "state.bin";
    write_file_atomically(path, "old");
    {
        FileFaultInjector faults({{FileCall::fsync, 1, EIO}, {FileCall::unlink, 1, EACCES}});
        CHECK_THROWS_WITH(write_file_atomically(path, "new"),
                          Contains("flushing the temporary file") && Contains("Input/output error") &&
                              Contains("removing the temporary file failed too: Permission denied"));
    }
    CHECK(read_text(path) == "old");
    CHECK(files_in(dir.path).size() == 2);  // the old file and the temporary one the fault kept
}

TEST_CASE("the injector puts the system calls back", "[shared][atomic-file]") {
    const FileCalls* before = &file_calls();
    CHECK(before == &system_file_calls());
    {
        FileFaultInjector faults;
        CHECK(&file_calls() != before);
    }
    CHECK(&file_calls() == before);
}
