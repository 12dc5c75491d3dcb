// The backend registry, and the default random fills (drawn on the host, then copied).
#include <stepgrad/shared/random.hpp>
#include <stepgrad/tensor/backend.hpp>
#include <stepgrad/tensor/cpu_backend.hpp>

#include <array>
#include <atomic>
#include <mutex>
#include <string>
#include <stdexcept>

namespace stepgrad {

namespace {

// One slot per device: the backend (read without a lock once set), and the factory that makes
// it on first use with the reason it failed, if it did.
struct Slot {
    std::unique_ptr<Backend> owned;
    std::atomic<Backend*> backend{nullptr};
    std::function<std::unique_ptr<Backend>()> factory;
    std::string factory_error;
};

std::mutex registry_mutex;

std::array<Slot, 2>& registry() {
    static std::array<Slot, 2> slots;
    static const bool cpu_ready = [] {
        slots[0].owned = std::make_unique<CpuBackend>();
        slots[0].backend = slots[0].owned.get();
        return true;
    }();
    (void)cpu_ready;
    return slots;
}

// Makes the backend from its factory (once), under the lock. Returns it, or nullptr.
Backend* from_factory(Slot& slot) {
    std::lock_guard<std::mutex> lock(registry_mutex);
    if (Backend* ready = slot.backend.load()) return ready;
    if (!slot.factory || !slot.factory_error.empty()) return nullptr;
    try {
        slot.owned = slot.factory();
        slot.backend = slot.owned.get();
    } catch (const std::exception& error) {
        slot.factory_error = error.what();
    }
    return slot.backend.load();
}

}  // namespace

Backend& get_backend(Device device) {
    Slot& slot = registry()[static_cast<std::size_t>(device)];
    Backend* backend = slot.backend.load(std::memory_order_acquire);
    if (backend == nullptr) backend = from_factory(slot);
    if (backend == nullptr) {
        if (!slot.factory_error.empty()) throw std::runtime_error(slot.factory_error);
        throw std::runtime_error(
            "CUDA backend not built/no GPU: stepgrad has no backend registered for device '" +
            to_string(device) +
            "'. Configure with -DSTEPGRAD_CUDA=ON on a machine with the CUDA toolkit and a GPU "
            "(chapter 4), or keep the tensors on the CPU.");
    }
    return *backend;
}

bool has_backend(Device device) {
    Slot& slot = registry()[static_cast<std::size_t>(device)];
    return slot.backend.load(std::memory_order_acquire) != nullptr || from_factory(slot) != nullptr;
}

void set_backend(Device device, std::unique_ptr<Backend> backend) {
    if (device == Device::CPU && backend == nullptr) {
        throw std::invalid_argument("set_backend: the CPU backend cannot be removed");
    }
    std::lock_guard<std::mutex> lock(registry_mutex);
    Slot& slot = registry()[static_cast<std::size_t>(device)];
    slot.backend = backend.get();
    slot.owned = std::move(backend);
}

void set_backend_factory(Device device, std::function<std::unique_ptr<Backend>()> factory) {
    std::lock_guard<std::mutex> lock(registry_mutex);
    Slot& slot = registry()[static_cast<std::size_t>(device)];
    slot.factory = std::move(factory);
    slot.factory_error.clear();
}

AllocatorStats memory_stats(Device device) { return get_backend(device).allocator()->stats(); }

void empty_cache(Device device) { get_backend(device).allocator()->empty_cache(); }

void Backend::random_uniform(float* out, std::size_t count, float low, float high,
                             Generator& generator) {
    std::vector<float> host(count);
    for (float& value : host) value = static_cast<float>(generator.uniform(low, high));
    copy_from_host(host.data(), out, count * sizeof(float));
}

void Backend::random_normal(float* out, std::size_t count, float mean, float stddev,
                            Generator& generator) {
    std::vector<float> host(count);
    for (float& value : host) value = static_cast<float>(generator.normal(mean, stddev));
    copy_from_host(host.data(), out, count * sizeof(float));
}

void Backend::randperm(std::int64_t* out, std::int64_t n, Generator& generator) {
    std::vector<std::int64_t> host(static_cast<std::size_t>(n));
    for (std::int64_t i = 0; i < n; ++i) host[static_cast<std::size_t>(i)] = i;
    // Fisher-Yates: swap each position with a uniformly chosen one at or before it.
    for (std::int64_t i = n - 1; i > 0; --i) {
        const auto j = static_cast<std::int64_t>(generator.below(static_cast<std::uint64_t>(i + 1)));
        std::swap(host[static_cast<std::size_t>(i)], host[static_cast<std::size_t>(j)]);
    }
    copy_from_host(host.data(), out, host.size() * sizeof(std::int64_t));
}

}  // namespace stepgrad
