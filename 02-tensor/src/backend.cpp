// The backend registry, and the default random fills (drawn on the host, then copied).
#include <stepgrad/shared/random.hpp>
#include <stepgrad/tensor/backend.hpp>
#include <stepgrad/tensor/cpu_backend.hpp>

#include <array>
#include <stdexcept>

namespace stepgrad {

namespace {

std::array<std::unique_ptr<Backend>, 2>& registry() {
    static std::array<std::unique_ptr<Backend>, 2> backends{std::make_unique<CpuBackend>(), nullptr};
    return backends;
}

}  // namespace

Backend& get_backend(Device device) {
    Backend* backend = registry()[static_cast<std::size_t>(device)].get();
    if (backend == nullptr) {
        throw std::runtime_error(
            "CUDA backend not built/no GPU: stepgrad has no backend registered for device '" +
            to_string(device) +
            "'. Configure with -DSTEPGRAD_CUDA=ON on a machine with the CUDA toolkit and a GPU "
            "(chapter 4), or keep the tensors on the CPU.");
    }
    return *backend;
}

bool has_backend(Device device) { return registry()[static_cast<std::size_t>(device)] != nullptr; }

void set_backend(Device device, std::unique_ptr<Backend> backend) {
    if (device == Device::CPU && backend == nullptr) {
        throw std::invalid_argument("set_backend: the CPU backend cannot be removed");
    }
    registry()[static_cast<std::size_t>(device)] = std::move(backend);
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
