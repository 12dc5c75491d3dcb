#pragma once
/// @file storage.hpp
/// @brief `Storage`: a plain buffer of bytes on one device, shared by a tensor and its views,
/// with the version counter that makes in-place updates safe for autograd.

#include <stepgrad/tensor/allocator.hpp>
#include <stepgrad/tensor/device.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

namespace stepgrad {

/// @brief A buffer from a device's caching allocator, owned by one or more tensors.
///
/// A tensor is (storage, offset, shape, dtype); `reshape`, `view`, `squeeze`, `unsqueeze`,
/// `flatten`, `detach()` and contiguous slices (`x[i]`, `x.slice(0, a, b)`) make new tensors on
/// the same storage. The buffer goes back to the
/// allocator's cache when the last of them goes.
///
/// Every in-place operation bumps `version()`. A tensor saved for backward remembers the
/// version it was saved at, and backward refuses to use it if the version has moved
/// (PyTorch's "modified by an inplace operation" error).
class Storage {
public:
    /// @brief `bytes` of uninitialised memory from `allocator` (which the storage keeps alive).
    Storage(std::shared_ptr<CachingAllocator> allocator, std::size_t bytes)
        : allocator_(std::move(allocator)), bytes_(bytes), data_(allocator_->allocate(bytes)) {}
    /// @brief Gives the buffer back to the allocator's cache.
    ~Storage() { allocator_->release(data_, bytes_); }
    Storage(const Storage&) = delete;             ///< not copyable: share it through shared_ptr
    Storage& operator=(const Storage&) = delete;  ///< not copyable

    /// @brief The device the buffer lives on.
    [[nodiscard]] Device device() const { return allocator_->device(); }
    /// @brief The first byte (a device pointer for CUDA; null for an empty buffer).
    [[nodiscard]] void* data() const { return data_; }
    /// @brief The size requested, in bytes.
    [[nodiscard]] std::size_t bytes() const { return bytes_; }
    /// @brief How many in-place updates the data has seen.
    [[nodiscard]] std::uint64_t version() const { return version_.load(std::memory_order_acquire); }
    /// @brief Records one in-place update (called by every in-place operation).
    void bump_version() { version_.fetch_add(1, std::memory_order_acq_rel); }

private:
    std::shared_ptr<CachingAllocator> allocator_;
    std::size_t bytes_;
    void* data_;
    std::atomic<std::uint64_t> version_{0};
};

}  // namespace stepgrad
