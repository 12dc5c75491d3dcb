// The runner of chapter 2's suite on the stand-in device: every factory that names no device
// makes its tensor on the stand-in (registered as CUDA), whose memory the host cannot read.
#include "stand_in_device.hpp"

#include <stepgrad/shared/catch_runner.hpp>
#include <stepgrad/tensor/factories.hpp>

int main(int argc, char* argv[]) {
    stepgrad::testing::install_stand_in_device();
    stepgrad::set_default_device(stepgrad::Device::CUDA);
    return stepgrad::testing::run_catch_session(argc, argv);
}
