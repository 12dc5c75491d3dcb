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

void Backend::random_uniform(float* out, std::size_t count, float low, float high,
                             Generator& generator) {
    std::vector<float> host(count);
    for (float& value : host) value = static_cast<float>(generator.uniform(low, high));
    copy_from_host(host.data(), out, count);
}

void Backend::random_normal(float* out, std::size_t count, float mean, float stddev,
                            Generator& generator) {
    std::vector<float> host(count);
    for (float& value : host) value = static_cast<float>(generator.normal(mean, stddev));
    copy_from_host(host.data(), out, count);
}

}  // namespace stepgrad
