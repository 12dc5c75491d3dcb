#pragma once
// The part both device-test runners share (thrust_host_main.cpp, gpu_main.cpp): run Catch with
// the command line, after taking out --default-cuda, which makes every factory that names no
// device make its tensor on Device::CUDA (so chapter 2's whole suite runs on the device).
#include <stepgrad/tensor/factories.hpp>

#include <stepgrad/shared/catch_runner.hpp>

#include <cstring>
#include <vector>

namespace stepgrad::gpu_test {

/// Runs the Catch session on `argv` without --default-cuda (applied first, when given).
inline int run_device_tests(int argc, char* argv[]) {
    std::vector<char*> args;
    for (int i = 0; i < argc; ++i) {
        if (std::strcmp(argv[i], "--default-cuda") == 0) {
            set_default_device(Device::CUDA);
        } else {
            args.push_back(argv[i]);
        }
    }
    return stepgrad::testing::run_catch_session(static_cast<int>(args.size()), args.data());
}

}  // namespace stepgrad::gpu_test
