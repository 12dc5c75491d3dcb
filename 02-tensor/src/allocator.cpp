// The caching allocator: free lists by size class, statistics, and a retry after emptying the
// cache when the device is out of memory.
#include <stepgrad/tensor/allocator.hpp>

#include <cstdio>
#include <stdexcept>

namespace stepgrad {

namespace {

constexpr std::size_t kSmallStep = 512;        // small requests round up to 512 bytes
constexpr std::size_t kLargeStep = 1u << 20;   // large ones (>= 1 MiB) to 1 MiB

std::string mebibytes(std::size_t bytes) {
    char text[32];
    std::snprintf(text, sizeof text, "%.1f MiB", static_cast<double>(bytes) / (1u << 20));
    return text;
}

}  // namespace

std::string to_string(const AllocatorStats& stats) {
    return "in use " + mebibytes(stats.bytes_in_use) + " (peak " + mebibytes(stats.peak_bytes_in_use) +
           "), cached " + mebibytes(stats.bytes_cached) + ", hits " + std::to_string(stats.hits) + ", misses " +
           std::to_string(stats.misses);
}

CachingAllocator::CachingAllocator(Device device, RawAllocate raw_allocate, RawFree raw_free)
    : device_(device), raw_allocate_(std::move(raw_allocate)), raw_free_(std::move(raw_free)) {}

CachingAllocator::~CachingAllocator() { empty_cache_locked(); }

std::size_t CachingAllocator::size_class(std::size_t bytes) {
    const std::size_t step = bytes < kLargeStep ? kSmallStep : kLargeStep;
    return (bytes + step - 1) / step * step;
}

void* CachingAllocator::allocate(std::size_t bytes) {
    if (bytes == 0) return nullptr;
    const std::size_t size = size_class(bytes);
    std::lock_guard<std::mutex> lock(mutex_);
    void* pointer = nullptr;
    auto cached = free_lists_.find(size);
    if (cached != free_lists_.end() && !cached->second.empty()) {
        pointer = cached->second.back();
        cached->second.pop_back();
        stats_.bytes_cached -= size;
        ++stats_.hits;
    } else {
        pointer = raw_allocate_(size);
        if (pointer == nullptr) {  // out of memory: give the cache back and try once more
            empty_cache_locked();
            pointer = raw_allocate_(size);
        }
        if (pointer == nullptr) {
            throw std::runtime_error("out of memory on " + to_string(device_) + ": tried to allocate " +
                                     mebibytes(size) + " with " + mebibytes(stats_.bytes_in_use) +
                                     " already in use");
        }
        ++stats_.misses;
    }
    stats_.bytes_in_use += size;
    if (stats_.bytes_in_use > stats_.peak_bytes_in_use) stats_.peak_bytes_in_use = stats_.bytes_in_use;
    return pointer;
}

// Without the free list (the exercise's stub) a released buffer goes straight back to the
// device, as a plain malloc/free allocator does: everything works, nothing is ever reused.
void CachingAllocator::release(void* pointer, std::size_t bytes) {
    if (pointer == nullptr) return;
    // exercise 04.4: the caching allocator's free list, keeping a released buffer for reuse
    // hint: the buffer was handed out at size_class(bytes); allocate() looks for a free buffer
    // hint: in free_lists_ under its size class and takes the last one
    // hint: the buffer stops counting as in use and starts counting as cached (stats_); the
    // hint: mutex guards both free_lists_ and stats_
    // stub: { std::lock_guard<std::mutex> lock(mutex_); stats_.bytes_in_use -= size_class(bytes); raw_free_(pointer, size_class(bytes)); }
    const std::size_t size = size_class(bytes);
    std::lock_guard<std::mutex> lock(mutex_);
    free_lists_[size].push_back(pointer);
    stats_.bytes_in_use -= size;
    stats_.bytes_cached += size;
    // end exercise
}

void CachingAllocator::empty_cache() {
    std::lock_guard<std::mutex> lock(mutex_);
    empty_cache_locked();
}

void CachingAllocator::empty_cache_locked() {
    for (auto& [size, pointers] : free_lists_) {
        for (void* pointer : pointers) raw_free_(pointer, size);
    }
    free_lists_.clear();
    stats_.bytes_cached = 0;
}

AllocatorStats CachingAllocator::stats() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return stats_;
}

}  // namespace stepgrad
