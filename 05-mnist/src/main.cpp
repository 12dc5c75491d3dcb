// stepgrad-mnist: train, evaluate and use an MLP or a CNN on MNIST-format data.
// Everything is in the library (cli.hpp); main only hands it the arguments and the terminal.
#include <iostream>
#include <string>
#include <vector>

#include "stepgrad/mnist/cli.hpp"
#include "stepgrad/shared/progress.hpp"

int main(int argc, char** argv) {
    const std::vector<std::string> args(argv + 1, argv + argc);
    return stepgrad::mnist::run_cli(args, std::cout, std::cerr, stepgrad::stdout_is_terminal());
}
