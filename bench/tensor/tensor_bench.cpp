// Chapter 2's benchmarks: the cases that bench/run-tensor times against PyTorch.
//
//   bench_tensor [CASE...]      (default: all cases)
//
// Each case prints "RESULT <case> <microseconds per iteration>", the median of several timed
// blocks after a warm-up. torch_bench.py times the same cases in PyTorch. Thread settings come
// from the environment (OPENBLAS_NUM_THREADS), which bench/run-tensor sets for both sides.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "../bench_timing.hpp"
#include "stepgrad/shared/random.hpp"
#include "stepgrad/tensor.hpp"

namespace {

using stepgrad::Tensor;

using stepgrad::bench::time_per_call;

// relu(x @ W + b) forward and backward, x 64x784, W 784x128: one MLP layer's step.
double linear_relu() {
    stepgrad::Generator gen(0);
    Tensor x = stepgrad::randn({64, 784}, gen);
    Tensor weight = stepgrad::randn({784, 128}, gen).mul_(0.05).requires_grad_();
    Tensor bias = stepgrad::randn({128}, gen).requires_grad_();
    return time_per_call([&] {
        weight.set_grad(Tensor());
        bias.set_grad(Tensor());
        Tensor y = stepgrad::relu(stepgrad::matmul(x, weight) + bias);
        y.sum().backward();
    }, 200);
}

// softmax (or log_softmax) over the rows of a 64x10 batch, forward and backward.
double softmax_case(bool log) {
    stepgrad::Generator gen(1);
    Tensor logits = stepgrad::randn({64, 10}, gen).requires_grad_();
    Tensor upstream = stepgrad::randn({64, 10}, gen);
    return time_per_call([&] {
        logits.set_grad(Tensor());
        Tensor y = log ? stepgrad::log_softmax(logits, 1) : stepgrad::softmax(logits, 1);
        (y * upstream).sum().backward();
    }, 2000);
}

// The framework's cost of one tiny elementwise op (the arithmetic is negligible).
double add_overhead(bool requires_grad) {
    Tensor a = stepgrad::ones({4});
    Tensor b = stepgrad::ones({4});
    if (requires_grad) a.requires_grad_();
    return time_per_call([&] {
        Tensor c = a + b;
        (void)c;
    }, 20000);
}

}  // namespace

int main(int argc, char** argv) {
    const std::map<std::string, std::function<double()>> cases = {
        {"linear_relu_64x784x128", linear_relu},
        {"softmax_64x10", [] { return softmax_case(false); }},
        {"log_softmax_64x10", [] { return softmax_case(true); }},
        {"add_overhead_4", [] { return add_overhead(false); }},
        {"add_overhead_4_grad", [] { return add_overhead(true); }},
    };
    return stepgrad::bench::run_cases("bench_tensor", cases, argc, argv);
}
