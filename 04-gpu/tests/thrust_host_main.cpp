// The runner of the device tests on the host build: chapter 4's Thrust kernels, compiled by g++
// with Thrust's C++ device system, are registered as Device::CUDA before any test runs.
// With --default-cuda, every factory that names no device makes its tensor there too (the
// whole of chapter 2's suite then runs on the Thrust kernels).
#define CATCH_CONFIG_RUNNER
#include <stepgrad/gpu/gpu.hpp>
#include <stepgrad/tensor/factories.hpp>

#include <catch2/catch.hpp>

#include <cstring>
#include <vector>

int main(int argc, char* argv[]) {
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
