// stepgrad-mnist: train, evaluate and use an MLP or a CNN on MNIST-format data.
// Everything is in the library (cli.hpp); main only hands it the arguments and the terminal.
#include <iostream>
#include <string>
#include <vector>

#include "stepgrad/mnist/cli.hpp"
#include "stepgrad/shared/progress.hpp"

#if defined(STEPGRAD_WITH_GPU)
#include <stepgrad/gpu/gpu.hpp>
#endif

int main(int argc, char** argv) {
    const std::vector<std::string> args(argv + 1, argv + argc);
#if defined(STEPGRAD_WITH_GPU)  // chapter 4's backend is linked: report its launches per step
    stepgrad::mnist::set_launch_counter(&stepgrad::gpu::kernel_launches);
#endif
    return stepgrad::mnist::run_cli(args, std::cout, std::cerr, stepgrad::stdout_is_terminal());
}
