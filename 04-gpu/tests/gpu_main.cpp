// The runner of the device tests on a real GPU: with no usable GPU (no driver, no device) it
// says why and exits 77, which CTest reports as "skipped" (SKIP_RETURN_CODE).
#include <stepgrad/gpu/gpu.hpp>

#include <iostream>

#include "device_test_main.hpp"

int main(int argc, char* argv[]) {
    if (!stepgrad::gpu::is_available()) {
        std::cout << "skipped: no CUDA device: " << stepgrad::gpu::unavailable_reason() << "\n";
        return 77;
    }
    std::cout << "running on " << stepgrad::gpu::device_description() << "\n";
    stepgrad::gpu::register_backend();
    return stepgrad::gpu_test::run_device_tests(argc, argv);
}
