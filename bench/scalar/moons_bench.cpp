// Times chapter 1's moons training step (forward, backward, SGD update) and reports
// milliseconds per step and graph nodes per second.
//
//   bench_scalar_moons [--steps N] [--dump-data FILE.csv]
//
// --dump-data writes the moons points so that the Python side (micrograd_moons.py) trains on
// exactly the same data.
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>

#include "stepgrad/scalar.hpp"

using namespace stepgrad::scalar;

int main(int argc, char** argv) {
    int steps = 100;
    std::string dump_path;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--steps" && i + 1 < argc) {
            steps = std::stoi(argv[++i]);
        } else if (arg == "--dump-data" && i + 1 < argc) {
            dump_path = argv[++i];
        } else {
            std::fprintf(stderr, "usage: bench_scalar_moons [--steps N] [--dump-data FILE.csv]\n");
            return 2;
        }
    }
    const Moons data = make_moons(100, 0.1, 1);
    if (!dump_path.empty()) {
        std::ofstream out(dump_path);
        for (std::size_t i = 0; i < data.points.size(); ++i) {
            out << data.points[i][0] << ',' << data.points[i][1] << ',' << data.labels[i] << '\n';
        }
    }
    MLP model(2, {16, 16, 1}, 1);
    std::size_t nodes_per_step = 0;
    double accuracy = 0;
    const auto start = std::chrono::steady_clock::now();
    for (int step = 0; step < steps; ++step) {
        auto [loss, step_accuracy] = moons_loss(model, data);
        model.zero_grad();
        loss.backward();
        const double learning_rate = 1.0 - 0.9 * step / 100.0;
        for (const Value& p : model.parameters()) p.data() -= learning_rate * p.grad();
        accuracy = step_accuracy;
        if (step == 0) nodes_per_step = detail::topological_order(loss.node()).size();
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const double ms_per_step = 1000.0 * seconds / steps;
    std::printf("stepgrad scalar: %d steps, %.3f ms/step, %zu nodes/step, %.1f M nodes/s, "
                "final accuracy %.0f%%\n",
                steps, ms_per_step, nodes_per_step, nodes_per_step / (ms_per_step * 1e3),
                100.0 * accuracy);
    std::printf("RESULT ms_per_step=%.6f nodes_per_step=%zu\n", ms_per_step, nodes_per_step);
    return 0;
}
