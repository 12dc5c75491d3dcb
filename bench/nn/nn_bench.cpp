// Chapter 3's benchmarks: the cases that bench/run-nn times against PyTorch.
//
//   bench_nn [CASE...]      (default: all cases)
//
// Each case prints "RESULT <case> <microseconds per iteration>", the median of several timed
// blocks after a warm-up. torch_nn_bench.py times the same cases in PyTorch. Thread settings
// come from the environment (OPENBLAS_NUM_THREADS), which bench/run-nn sets for both sides.
#include <algorithm>
#include <cstdint>
#include <chrono>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "../bench_timing.hpp"
#include "stepgrad/nn.hpp"

namespace {

using stepgrad::Shape;
using stepgrad::Tensor;
namespace nn = stepgrad::nn;
namespace F = stepgrad::nn::functional;

using stepgrad::bench::time_per_call;

// One training step at batch 64: forward, cross-entropy, backward, SGD with momentum 0.9.
double training_step(const std::shared_ptr<nn::Module>& model, const Shape& input_shape, int iterations) {
    stepgrad::Generator gen(0);
    const Tensor images = stepgrad::randn(input_shape, gen);
    std::vector<std::int64_t> classes;
    for (std::int64_t i = 0; i < input_shape[0]; ++i) classes.push_back(static_cast<std::int64_t>(gen.uniform() * 10) % 10);
    const Tensor labels = stepgrad::from_vector(classes, {input_shape[0]});
    stepgrad::optim::SGD optimizer(model->parameters(), stepgrad::optim::SGDOptions(0.01).momentum(0.9));
    return time_per_call([&] {
        optimizer.zero_grad();
        Tensor loss = F::cross_entropy(model->forward(images), labels);
        loss.backward();
        optimizer.step();
    }, iterations);
}

// The MLP 784-128-10.
double mlp_step() {
    stepgrad::manual_seed(0);
    auto model = std::make_shared<nn::Sequential>(std::initializer_list<std::shared_ptr<nn::Module>>{
        std::make_shared<nn::Linear>(784, 128), std::make_shared<nn::ReLU>(), std::make_shared<nn::Linear>(128, 10)});
    return training_step(model, {64, 784}, 200);
}

// The CNN: Conv 1->8 3x3 pad 1, ReLU, MaxPool 2, Conv 8->16 3x3 pad 1, ReLU, MaxPool 2, Linear 784->10.
double cnn_step() {
    stepgrad::manual_seed(0);
    auto model = std::make_shared<nn::Sequential>(std::initializer_list<std::shared_ptr<nn::Module>>{
        std::make_shared<nn::Conv2d>(nn::Conv2dOptions(1, 8, 3).padding(1)), std::make_shared<nn::ReLU>(),
        std::make_shared<nn::MaxPool2d>(nn::MaxPool2dOptions(2)),
        std::make_shared<nn::Conv2d>(nn::Conv2dOptions(8, 16, 3).padding(1)), std::make_shared<nn::ReLU>(),
        std::make_shared<nn::MaxPool2d>(nn::MaxPool2dOptions(2)), std::make_shared<nn::Flatten>(),
        std::make_shared<nn::Linear>(784, 10)});
    return training_step(model, {64, 1, 28, 28}, 50);
}

// One layer forward and backward alone (the upstream gradient is a fixed random tensor).
double layer_case(const std::shared_ptr<nn::Module>& layer, const Shape& input_shape, int iterations) {
    stepgrad::Generator gen(1);
    Tensor x = stepgrad::randn(input_shape, gen).requires_grad_();
    const Tensor upstream = stepgrad::randn_like(layer->forward(x).detach());
    const std::vector<Tensor> params = layer->parameters();
    return time_per_call([&] {
        x.set_grad(Tensor());
        for (Tensor p : params) p.set_grad(Tensor());
        layer->forward(x).backward(upstream);
    }, iterations);
}

}  // namespace

int main(int argc, char** argv) {
    const std::map<std::string, std::function<double()>> cases = {
        {"mlp_step_b64", mlp_step},
        {"cnn_step_b64", cnn_step},
        {"conv1_1to8_28x28",
         [] { return layer_case(std::make_shared<nn::Conv2d>(nn::Conv2dOptions(1, 8, 3).padding(1)), {64, 1, 28, 28}, 100); }},
        {"conv2_8to16_14x14",
         [] { return layer_case(std::make_shared<nn::Conv2d>(nn::Conv2dOptions(8, 16, 3).padding(1)), {64, 8, 14, 14}, 100); }},
        {"maxpool1_8x28x28",
         [] { return layer_case(std::make_shared<nn::MaxPool2d>(nn::MaxPool2dOptions(2)), {64, 8, 28, 28}, 200); }},
        {"maxpool2_16x14x14",
         [] { return layer_case(std::make_shared<nn::MaxPool2d>(nn::MaxPool2dOptions(2)), {64, 16, 14, 14}, 400); }},
    };
    return stepgrad::bench::run_cases("bench_nn", cases, argc, argv);
}
