// Atomic file writing (temporary file, write, fsync, close, rename, directory fsync) through a
// replaceable table of system calls, and the fault injector the tests put in that table.
#include <stepgrad/shared/atomic_file.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <iterator>
#include <utility>

#include <fcntl.h>
#include <unistd.h>

namespace stepgrad {
namespace testing {
namespace {

int system_open(const char* path, int flags, mode_t mode) { return ::open(path, flags, mode); }

constexpr FileCalls kSystemCalls{system_open, ::write, ::fsync, ::close, ::rename, ::unlink};

std::atomic<const FileCalls*> active_calls{&kSystemCalls};

// ---- the injector's state (one injector at a time) ------------------------------------------

struct Armed {
    FileFault fault;
    bool fired = false;
};

struct InjectorState {
    bool installed = false;
    std::array<int, std::size(kAllFileCalls)> counts{};
    std::vector<Armed> faults;
    int pending_write_error = 0;  // set by a short write: the next write fails with it
    const FileCalls* below = &kSystemCalls;
};

InjectorState state;

// Counts the call; returns the errno it must fail with, or 0 to let it through.
int next_fault(FileCall call) {
    const int nth = ++state.counts[static_cast<std::size_t>(call)];
    for (Armed& armed : state.faults) {
        if (!armed.fired && armed.fault.call == call && armed.fault.nth == nth) {
            armed.fired = true;
            return armed.fault.error != 0 ? armed.fault.error : EIO;
        }
    }
    return 0;
}

// The fault that fires at this write, if any (to see whether it asks for a short write).
const Armed* short_write_due(int nth) {
    for (const Armed& armed : state.faults) {
        if (armed.fault.call == FileCall::write && armed.fault.nth == nth && armed.fault.short_write) return &armed;
    }
    return nullptr;
}

int injected_open(const char* path, int flags, mode_t mode) {
    if (const int error = next_fault(FileCall::open)) return errno = error, -1;
    return state.below->open(path, flags, mode);
}

ssize_t injected_write(int fd, const void* data, std::size_t size) {
    if (state.pending_write_error != 0) {
        ++state.counts[static_cast<std::size_t>(FileCall::write)];
        errno = std::exchange(state.pending_write_error, 0);
        return -1;
    }
    const Armed* short_write = short_write_due(state.counts[static_cast<std::size_t>(FileCall::write)] + 1);
    const int error = next_fault(FileCall::write);
    if (error == 0) return state.below->write(fd, data, size);
    if (short_write == nullptr || size < 2) return errno = error, -1;
    state.pending_write_error = error;  // this one writes half, the next one fails
    return state.below->write(fd, data, size / 2);
}

int injected_fsync(int fd) {
    if (const int error = next_fault(FileCall::fsync)) return errno = error, -1;
    return state.below->fsync(fd);
}

int injected_close(int fd) {
    if (const int error = next_fault(FileCall::close)) {
        state.below->close(fd);  // as Linux does: the descriptor is gone even when close fails
        return errno = error, -1;
    }
    return state.below->close(fd);
}

int injected_rename(const char* from, const char* to) {
    if (const int error = next_fault(FileCall::rename)) return errno = error, -1;
    return state.below->rename(from, to);
}

int injected_unlink(const char* path) {
    if (const int error = next_fault(FileCall::unlink)) return errno = error, -1;
    return state.below->unlink(path);
}

constexpr FileCalls kInjectedCalls{injected_open,   injected_write,  injected_fsync,
                                   injected_close,  injected_rename, injected_unlink};

}  // namespace

const char* to_string(FileCall call) {
    switch (call) {
        case FileCall::open: return "open";
        case FileCall::write: return "write";
        case FileCall::fsync: return "fsync";
        case FileCall::close: return "close";
        case FileCall::rename: return "rename";
        case FileCall::unlink: return "unlink";
    }
    return "?";
}

const FileCalls& system_file_calls() { return kSystemCalls; }

const FileCalls& file_calls() { return *active_calls.load(std::memory_order_acquire); }

const FileCalls& set_file_calls(const FileCalls& calls) {
    return *active_calls.exchange(&calls, std::memory_order_acq_rel);
}

FileFaultInjector::FileFaultInjector() : FileFaultInjector(std::vector<FileFault>{}) {}

FileFaultInjector::FileFaultInjector(std::vector<FileFault> faults) {
    if (state.installed) throw std::logic_error("FileFaultInjector: another injector is already installed");
    state = InjectorState{};
    state.installed = true;
    for (const FileFault& fault : faults) state.faults.push_back({fault});
    state.below = &file_calls();
    previous_ = &set_file_calls(kInjectedCalls);
}

FileFaultInjector::~FileFaultInjector() {
    set_file_calls(*previous_);
    state.installed = false;
}

int FileFaultInjector::calls(FileCall call) const { return state.counts[static_cast<std::size_t>(call)]; }

int FileFaultInjector::fired() const {
    return static_cast<int>(std::count_if(state.faults.begin(), state.faults.end(),
                                          [](const Armed& armed) { return armed.fired; }));
}

}  // namespace testing

namespace {

// The system's words for an errno value. Callers copy errno first: building a message allocates,
// and a library call may change errno even when it succeeds.
std::string errno_text(int error) { return std::strerror(error); }

std::string concat(std::initializer_list<std::string_view> parts) {
    std::string text;
    for (std::string_view part : parts) text += part;
    return text;
}

// Closes a descriptor it still holds when it goes out of scope (after an exception).
struct OwnedDescriptor {
    int fd = -1;
    OwnedDescriptor() = default;
    explicit OwnedDescriptor(int descriptor) : fd(descriptor) {}
    OwnedDescriptor(const OwnedDescriptor&) = delete;
    OwnedDescriptor& operator=(const OwnedDescriptor&) = delete;
    ~OwnedDescriptor() {
        if (fd >= 0) testing::file_calls().close(fd);
    }
    int release() { return std::exchange(fd, -1); }
};

// Flushes a directory's entries (the rename in it) to disk: 0, or the errno and the step.
std::pair<int, const char*> sync_directory(const std::filesystem::path& directory) {
    const testing::FileCalls& calls = testing::file_calls();
    OwnedDescriptor dir{calls.open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0)};
    if (dir.fd < 0) return {errno, "opening"};
    // EINVAL: this file system cannot sync a directory, and has nothing to flush.
    if (calls.fsync(dir.fd) != 0 && errno != EINVAL) return {errno, "flushing (fsync)"};
    calls.close(dir.release());  // read-only: closing it cannot lose anything
    return {0, ""};
}

}  // namespace

void write_file_atomically(const std::filesystem::path& path, std::string_view bytes) {
    static std::atomic<unsigned> counter{0};
    const testing::FileCalls& calls = testing::file_calls();
    const std::string target = path.string();
    std::string temp;
    OwnedDescriptor file;
    for (int attempt = 0; file.fd < 0; ++attempt) {
        temp = concat({target, ".tmp.", std::to_string(::getpid()), ".", std::to_string(counter++)});
        file.fd = calls.open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        const int error = errno;
        if (file.fd < 0 && (error != EEXIST || attempt == 100)) {
            throw FileWriteError(concat({target, ": cannot save: cannot create the temporary file ", temp, ": ",
                                         errno_text(error), " (the previous file, if any, is unchanged)"}),
                                 error);
        }
    }
    // Called right after a failed call with its errno: removes the temporary file and throws.
    const auto abandon = [&](int error, std::string_view step, std::string_view detail = "") {
        if (file.fd >= 0) calls.close(file.release());
        std::string cleanup;
        if (calls.unlink(temp.c_str()) != 0) {
            cleanup = concat({"; removing the temporary file failed too: ", errno_text(errno)});
        }
        throw FileWriteError(concat({target, ": cannot save: ", step, " the temporary file ", temp, detail,
                                     " failed: ", errno_text(error), cleanup,
                                     " (the previous file, if any, is unchanged)"}),
                             error);
    };
    for (std::size_t written = 0; written < bytes.size();) {
        const ssize_t n = calls.write(file.fd, bytes.data() + written, std::min<std::size_t>(bytes.size() - written, 1 << 30));
        const int error = errno;
        if (n < 0 && error == EINTR) continue;
        if (n < 0) abandon(error, "writing");
        if (n == 0) abandon(EIO, "writing", " (write made no progress)");
        written += static_cast<std::size_t>(n);
    }
    if (calls.fsync(file.fd) != 0) abandon(errno, "flushing", " to disk (fsync)");
    if (calls.close(file.release()) != 0) abandon(errno, "closing");
    if (calls.rename(temp.c_str(), target.c_str()) != 0) abandon(errno, "renaming", " over the target");
    const std::filesystem::path directory = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
    if (const auto [error, step] = sync_directory(directory); error != 0) {
        throw FileWriteError(concat({target, ": saved, but ", step, " the directory ", directory.string(),
                                     " failed: ", errno_text(error),
                                     " (the new file is in place but the rename may not survive a power cut)"}),
                             error);
    }
}

}  // namespace stepgrad
