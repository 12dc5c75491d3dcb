// The runner of the device tests on a real GPU: with no usable GPU (no driver, no device) it
// says why and exits 77, which CTest reports as "skipped" (SKIP_RETURN_CODE).
#define CATCH_CONFIG_RUNNER
#include <stepgrad/gpu/gpu.hpp>
#include <stepgrad/tensor/factories.hpp>

#include <catch2/catch.hpp>

#include <cstring>
#include <iostream>
#include <vector>

int main(int argc, char* argv[]) {
    if (!stepgrad::gpu::is_available()) {
        std::cout << "skipped: no CUDA device: " << stepgrad::gpu::unavailable_reason() << "\n";
        return 77;
    }
    std::cout << "running on " << stepgrad::gpu::device_description() << "\n";
    stepgrad::gpu::register_backend();
    std::vector<char*> args;
    for (int i = 0; i < argc; ++i) {
        if (std::strcmp(argv[i], "--default-cuda") == 0) {
            stepgrad::set_default_device(stepgrad::Device::CUDA);
        } else {
            args.push_back(argv[i]);
        }
    }
    return Catch::Session().run(static_cast<int>(args.size()), args.data());
}
