// The runner of chapter 2's suite on the stand-in device: every factory that names no device
// makes its tensor on the stand-in (registered as CUDA), whose memory the host cannot read.
#define CATCH_CONFIG_RUNNER
#include "stand_in_device.hpp"

#include <stepgrad/tensor/factories.hpp>

#include <catch2/catch.hpp>

int main(int argc, char* argv[]) {
    stepgrad::testing::install_stand_in_device();
    stepgrad::set_default_device(stepgrad::Device::CUDA);
    return Catch::Session().run(argc, argv);
}
