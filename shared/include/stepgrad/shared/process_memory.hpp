#pragma once
/// @file process_memory.hpp
/// @brief The process's resident memory (RSS) and a thread with a small stack, for the tests
/// that check memory stays flat and that deep graphs never recurse. Linux only; header-only.

#include <malloc.h>
#include <pthread.h>

#include <cstddef>
#include <exception>
#include <fstream>
#include <functional>
#include <stdexcept>
#include <string>

#include <unistd.h>

/// @brief The process's resident memory and small-stack threads, for memory and recursion tests.
namespace stepgrad::process_memory {

/// @brief The process's resident memory now, in bytes (from `/proc/self/statm`); 0 if unreadable.
inline std::size_t resident_bytes() {
    std::ifstream statm("/proc/self/statm");
    std::size_t total_pages = 0;
    std::size_t resident_pages = 0;
    if (!(statm >> total_pages >> resident_pages)) return 0;
    return resident_pages * static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
}

/// @brief The process's peak resident memory since it started or since reset_peak_resident(),
/// in bytes (VmHWM in `/proc/self/status`); 0 if unreadable.
inline std::size_t peak_resident_bytes() {
    std::ifstream status("/proc/self/status");
    std::string key;
    while (status >> key) {
        if (key == "VmHWM:") {
            std::size_t kibibytes = 0;
            status >> kibibytes;
            return kibibytes * 1024;
        }
        std::getline(status, key);  // the rest of the line
    }
    return 0;
}

/// @brief Gives the heap's free memory back to the system (glibc's `malloc_trim`), so that the
/// resident memory measured next is what the program uses, not what earlier work freed.
inline void trim_heap() { malloc_trim(0); }

/// @brief Starts a new peak: peak_resident_bytes() becomes the resident memory now (writes 5 to
/// `/proc/self/clear_refs`). Returns false where the kernel does not allow it; then the peak
/// stays the process's whole-life peak.
inline bool reset_peak_resident() {
    std::ofstream clear_refs("/proc/self/clear_refs");
    clear_refs << "5";
    clear_refs.flush();
    return static_cast<bool>(clear_refs);
}

/// @brief Runs `work` on a new thread whose stack is only `stack_bytes` big, waits for it, and
/// rethrows what it threw.
///
/// A function that recursed once per graph node would overflow such a stack (a crash, not a
/// failed check) on a graph a few thousand nodes deep, so a deep graph that passes here proves
/// the code under test iterates. Throws std::runtime_error when the thread cannot be started.
inline void run_with_small_stack(std::size_t stack_bytes, const std::function<void()>& work) {
    struct Job {
        const std::function<void()>* work;
        std::exception_ptr error;
    } job{&work, nullptr};
    auto entry = [](void* argument) -> void* {
        auto* running = static_cast<Job*>(argument);
        try {
            (*running->work)();
        } catch (...) {
            running->error = std::current_exception();
        }
        return nullptr;
    };
    pthread_attr_t attributes;
    pthread_attr_init(&attributes);
    const int stack_error = pthread_attr_setstacksize(&attributes, stack_bytes);
    pthread_t thread;
    const int start_error = stack_error != 0 ? stack_error : pthread_create(&thread, &attributes, entry, &job);
    pthread_attr_destroy(&attributes);
    if (start_error != 0) {
        throw std::runtime_error("run_with_small_stack: cannot start a thread with a stack of " +
                                 std::to_string(stack_bytes) + " bytes (error " + std::to_string(start_error) + ")");
    }
    pthread_join(thread, nullptr);
    if (job.error) std::rethrow_exception(job.error);
}

}  // namespace stepgrad::process_memory
