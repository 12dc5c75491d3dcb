#pragma once
/// @file allocator.hpp
/// @brief A caching allocator: freed buffers are kept by size class and handed out again, so a
/// training loop that allocates the same shapes every step stops asking the system for memory.

#include <stepgrad/tensor/device.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace stepgrad {

/// @brief What a caching allocator holds, as `torch.cuda.memory_stats` reports it.
struct AllocatorStats {
    std::size_t bytes_in_use = 0;       ///< bytes of buffers owned by live storages (size-class rounded)
    std::size_t peak_bytes_in_use = 0;  ///< the largest bytes_in_use so far
    std::size_t bytes_cached = 0;       ///< bytes of freed buffers kept for reuse
    std::uint64_t hits = 0;             ///< allocations served from the cache
    std::uint64_t misses = 0;           ///< allocations that went to the system (or the GPU driver)
};

/// @brief The statistics on one line, e.g. `in use 1.2 MiB (peak 3.4 MiB), cached 2.0 MiB, hits 980, misses 20`.
std::string to_string(const AllocatorStats& stats);

/// @brief Keeps freed buffers by size class and reuses them (PyTorch's CachingAllocator idea).
///
/// Requests are rounded up to a size class (a multiple of 512 bytes below 1 MiB, of 1 MiB
/// above), and a freed buffer goes back to the free list of its class instead of to the
/// system. The raw functions are the device's: aligned `malloc`/`free` on the CPU,
/// `cudaMalloc`/`cudaFree` in chapter 4.
///
/// Thread-safe: one mutex guards the free lists and the statistics, so any thread may allocate,
/// and a buffer may be released on another thread than the one that allocated it (a tensor
/// made on a worker and dropped on the main thread). There is one allocator per device for the
/// whole process, so memory_stats() counts the tensors of every thread together.
///
/// Example:
/// @code
/// std::cout << to_string(memory_stats(Device::CPU)) << "\n";  // after a few training steps
/// @endcode
class CachingAllocator {
public:
    /// @brief Gets a buffer of `bytes` from the device, or nullptr when there is no memory.
    using RawAllocate = std::function<void*(std::size_t bytes)>;
    /// @brief Gives a buffer (of the size it was allocated with) back to the device.
    using RawFree = std::function<void(void* pointer, std::size_t bytes)>;

    /// @brief An allocator for `device` on top of the device's raw functions.
    CachingAllocator(Device device, RawAllocate raw_allocate, RawFree raw_free);
    /// @brief Returns every cached buffer to the device.
    ~CachingAllocator();
    CachingAllocator(const CachingAllocator&) = delete;             ///< not copyable
    CachingAllocator& operator=(const CachingAllocator&) = delete;  ///< not copyable

    /// @brief A buffer of at least `bytes` (its size class), from the cache when one is free.
    ///
    /// Returns nullptr for 0 bytes. When the device is out of memory, the cache is emptied
    /// and the request tried once more; then std::runtime_error names the size.
    void* allocate(std::size_t bytes);
    /// @brief Takes back a buffer that allocate(bytes) returned, keeping it for reuse.
    void release(void* pointer, std::size_t bytes);
    /// @brief Returns every cached (free) buffer to the device.
    void empty_cache();
    /// @brief The current statistics.
    [[nodiscard]] AllocatorStats stats() const;
    /// @brief Starts a new peak: peak_bytes_in_use becomes bytes_in_use now (like
    /// `torch.cuda.reset_peak_memory_stats`), to measure the peak of one epoch or one step.
    void reset_peak() {
        std::lock_guard<std::mutex> lock(mutex_);
        stats_.peak_bytes_in_use = stats_.bytes_in_use;
    }
    /// @brief The device whose memory this is.
    [[nodiscard]] Device device() const { return device_; }

    /// @brief The size class of a request: what allocate(bytes) really reserves.
    static std::size_t size_class(std::size_t bytes);

private:
    void empty_cache_locked();

    Device device_;
    RawAllocate raw_allocate_;
    RawFree raw_free_;
    mutable std::mutex mutex_;
    std::unordered_map<std::size_t, std::vector<void*>> free_lists_;  // size class -> free buffers
    AllocatorStats stats_;
};

}  // namespace stepgrad
