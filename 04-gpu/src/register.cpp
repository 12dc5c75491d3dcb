// Linking stepgrad::gpu is enough to use Device::CUDA: this object (whole-archive linked)
// registers a factory that makes the backend on the first use of the device, so a program
// that never touches the GPU never starts it, and one without a GPU gets a clear error then.
#include <stepgrad/gpu/gpu.hpp>
#include <stepgrad/gpu/thrust_backend.hpp>

#include <stdexcept>

namespace {

const bool registered = [] {
    stepgrad::set_backend_factory(stepgrad::Device::CUDA, []() -> std::unique_ptr<stepgrad::Backend> {
        if (!stepgrad::gpu::is_available()) {
            throw std::runtime_error("CUDA backend is built, but no GPU can be used: " +
                                     stepgrad::gpu::unavailable_reason());
        }
        return std::make_unique<stepgrad::gpu::ThrustBackend>();
    });
    return true;
}();

}  // namespace
