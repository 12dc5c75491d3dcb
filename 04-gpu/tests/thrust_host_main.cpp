// The runner of the device tests on the host build: chapter 4's Thrust kernels, compiled by g++
// with Thrust's C++ device system, are registered as Device::CUDA before any test runs.
// With --default-cuda, every factory that names no device makes its tensor there too (the
// whole of chapter 2's suite then runs on the Thrust kernels).
#include <stepgrad/gpu/gpu.hpp>

#include "device_test_main.hpp"

int main(int argc, char* argv[]) {
    stepgrad::gpu::register_backend();
    return stepgrad::gpu_test::run_device_tests(argc, argv);
}
