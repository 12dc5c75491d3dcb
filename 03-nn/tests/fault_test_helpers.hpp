#pragma once
// What the fault tests of chapters 3 and 5 share: running a body in a forked child, a tiny tmpfs
// in a private mount namespace (a real full disk), and the words an error uses for each
// system call of stepgrad::write_file_atomically that fails.
#include <catch2/catch.hpp>

#include <stepgrad/shared/atomic_file.hpp>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

namespace fault_test {

// One way to fail a system call: with `error`, or (writes only) after a short write.
struct FaultMode {
    const char* name;
    int error;
    bool short_write;
};

// Every way the fault tests fail each call: EIO, ENOSPC, and a short write followed by ENOSPC.
inline const FaultMode kFaultModes[] = {
    {"EIO", EIO, false}, {"ENOSPC", ENOSPC, false}, {"short write, then ENOSPC", ENOSPC, true}};

// The exit code of a child that could not mount its tmpfs (the test then skips).
constexpr int kCannotMount = 77;

// Runs `body` in a forked child and returns its exit status (or 128 + the signal that ended it).
// The child never returns into Catch: it leaves with std::_Exit.
inline int in_child(const std::function<int()>& body) {
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        int code = 3;
        try {
            code = body();
        } catch (...) {
            code = 4;
        }
        std::_Exit(code);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

inline bool write_proc_file(const char* path, const std::string& text) {
    const int fd = ::open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return false;
    const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
    ::close(fd);
    return ok;
}

// For a forked (single-threaded) child only: a private mount namespace, inside a user namespace
// of its own (so an unprivileged user may mount), with a tmpfs of `bytes` on `directory`.
// False when the system does not allow it (no user namespaces, no mount rights).
inline bool mount_tiny_tmpfs(const std::filesystem::path& directory, std::size_t bytes) {
    const uid_t uid = ::getuid();
    const gid_t gid = ::getgid();
    if (::unshare(CLONE_NEWUSER | CLONE_NEWNS) == 0) {
        write_proc_file("/proc/self/setgroups", "deny");
        if (!write_proc_file("/proc/self/uid_map", "0 " + std::to_string(uid) + " 1") ||
            !write_proc_file("/proc/self/gid_map", "0 " + std::to_string(gid) + " 1")) {
            return false;
        }
    } else if (::unshare(CLONE_NEWNS) != 0) {
        return false;
    }
    if (::mount("none", "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) return false;  // nothing leaks out
    const std::string options = "size=" + std::to_string(bytes);
    return ::mount("tmpfs", directory.c_str(), "tmpfs", 0, options.c_str()) == 0;
}

// What the error message names when the nth call of `call` in one save fails. A save opens,
// fsyncs and closes twice: the temporary file, then the directory (after the rename).
inline std::string failing_step(stepgrad::testing::FileCall call, int nth) {
    using stepgrad::testing::FileCall;
    if (nth == 2 && call == FileCall::open) return "saved, but opening the directory";
    if (nth == 2 && call == FileCall::fsync) return "saved, but flushing (fsync) the directory";
    switch (call) {
        case FileCall::open: return "cannot save: cannot create the temporary file";
        case FileCall::write: return "cannot save: writing the temporary file";
        case FileCall::fsync: return "cannot save: flushing the temporary file";
        case FileCall::close: return "cannot save: closing the temporary file";
        default: return "cannot save: renaming the temporary file";
    }
}

}  // namespace fault_test
