// Chapter 1's demo: a 2-16-16-1 MLP of scalar Values learns to separate two moons.
//
//   moons [--steps N] [--seed S] [--check]
//
// Prints the loss and training accuracy every 10 steps and at the last, then the decision
// regions as text.
// With --check it exits with status 1 unless the final accuracy is 100%.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "stepgrad/scalar.hpp"

using stepgrad::scalar::MLP;
using stepgrad::scalar::Moons;
using stepgrad::scalar::Value;

namespace {

struct Options {
    int steps = 100;
    std::uint64_t seed = 1;
    bool check = false;
};

bool parse(int argc, char** argv, Options& options) {
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        const bool has_value = i + 1 < argc;
        try {
            if (arg == "--steps" && has_value) {
                options.steps = std::stoi(argv[++i]);
            } else if (arg == "--seed" && has_value) {
                options.seed = std::stoull(argv[++i]);
            } else if (arg == "--check") {
                options.check = true;
            } else {
                std::fprintf(stderr, "moons: unknown or incomplete option '%s'\n"
                             "usage: moons [--steps N] [--seed S] [--check]\n", arg.c_str());
                return false;
            }
        } catch (const std::exception&) {
            std::fprintf(stderr, "moons: '%s' needs a number, got '%s'\n", arg.c_str(), argv[i]);
            return false;
        }
    }
    return true;
}

// The decision regions on a grid of characters: '.' where the model says +1, ' ' where -1;
// the training points drawn on top as 'x' (+1) and 'o' (-1).
void draw_regions(const MLP& model, const Moons& data) {
    constexpr int width = 64, height = 22;
    constexpr double x_min = -1.5, x_max = 2.5, y_min = -1.0, y_max = 1.5;
    std::string grid[height];
    for (int row = 0; row < height; ++row) {
        const double y = y_max - (y_max - y_min) * row / (height - 1);
        grid[row].assign(width, ' ');
        for (int col = 0; col < width; ++col) {
            const double x = x_min + (x_max - x_min) * col / (width - 1);
            if (model({Value(x), Value(y)})[0].data() > 0.0) grid[row][col] = '.';
        }
    }
    for (std::size_t i = 0; i < data.points.size(); ++i) {
        const auto [x, y] = data.points[i];
        const int col = static_cast<int>((x - x_min) / (x_max - x_min) * (width - 1) + 0.5);
        const int row = static_cast<int>((y_max - y) / (y_max - y_min) * (height - 1) + 0.5);
        if (col >= 0 && col < width && row >= 0 && row < height) {
            grid[row][col] = data.labels[i] > 0 ? 'x' : 'o';
        }
    }
    std::printf("--- regions ---\n");
    std::printf("decision regions ('.' = +1; points: x = +1, o = -1)\n");
    for (const std::string& line : grid) std::printf("|%s|\n", line.c_str());
}

}  // namespace

int main(int argc, char** argv) {
    Options options;
    if (!parse(argc, argv, options)) return 2;

    //! [setup]
    Moons data = stepgrad::scalar::make_moons(100, 0.1, options.seed);
    MLP model(2, {16, 16, 1}, options.seed);
    std::printf("MLP 2-16-16-1 with %zu parameters, %zu points\n",
                model.parameters().size(), data.points.size());
    //! [setup]

    double accuracy = 0.0;
    //! [training loop]
    for (int step = 0; step < options.steps; ++step) {
        auto [loss, step_accuracy] = stepgrad::scalar::moons_loss(model, data);
        model.zero_grad();
        loss.backward();
        const double learning_rate = 1.0 - 0.9 * step / 100.0;
        for (const Value& p : model.parameters()) p.data() -= learning_rate * p.grad();
        if (step % 10 == 0 || step == options.steps - 1) {
            std::printf("step %3d  loss %.6f  accuracy %5.1f%%\n", step, loss.data(),
                        100.0 * step_accuracy);
        }
        accuracy = step_accuracy;
    }
    //! [training loop]

    draw_regions(model, data);
    if (options.check && accuracy < 1.0) {
        std::fprintf(stderr, "moons: final training accuracy %.1f%%, expected 100%%\n",
                     100.0 * accuracy);
        return 1;
    }
    return 0;
}
