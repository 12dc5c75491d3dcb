// Claim checked: chapter 3's nn computes what chapter 1's scalar engine computes.
//
// Chapter 1's moons model, `MLP(2, {16, 16, 1})` (relu neurons, a linear last layer) trained on
// the max-margin loss `moons_loss`, is rebuilt with chapter 3's modules:
// `Sequential(Linear(2, 16), ReLU, Linear(16, 16), ReLU, Linear(16, 1))`, each Linear's weight
// row j holding neuron j's weights. Both start from the same numbers (chapter 1's weights and
// points rounded to float32, so both libraries hold identical values); then the loss, the
// gradient of every weight and bias, and the weights after each of three SGD steps must agree.
//
// Tolerance: chapter 1 computes in double, chapter 3 in float32. A float32 sum of n terms is off
// by about n * 6e-8 relative to its largest terms; over these 16-wide layers and 32 points the
// two agree to within 2e-7 of the largest element (measured). kTolerance = 1e-5 of the largest
// element (of the loss, of each gradient tensor, of each weight tensor, at least 1) leaves room for
// other BLAS builds and compilers, while a gradient 0.1% off fails (last test case).
#include <stepgrad/nn/activation.hpp>
#include <stepgrad/nn/container.hpp>
#include <stepgrad/nn/linear.hpp>
#include <stepgrad/scalar.hpp>
#include <stepgrad/tensor.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

namespace {

namespace nn = stepgrad::nn;
namespace scalar = stepgrad::scalar;
using stepgrad::Tensor;

constexpr double kTolerance = 1e-5;
constexpr double kAlpha = 1e-4;  // moons_loss's L2 weight
constexpr double kLearningRate = 0.1;

double to_float(double x) { return static_cast<double>(static_cast<float>(x)); }

// The chapter-3 twin of a chapter-1 MLP, with its Linear layers.
struct Twin {
    std::shared_ptr<nn::Sequential> model;
    std::vector<std::shared_ptr<nn::Linear>> linears;
};

// Rounds chapter 1's weights to float32 and copies them into an nn MLP of the same shape.
Twin twin_of(const scalar::MLP& mlp) {
    Twin twin{std::make_shared<nn::Sequential>(), {}};
    const auto& layers = mlp.layers();
    for (std::size_t l = 0; l < layers.size(); ++l) {
        const auto& neurons = layers[l].neurons();
        const auto in = static_cast<std::int64_t>(neurons.front().weights().size());
        const auto out = static_cast<std::int64_t>(neurons.size());
        std::vector<float> weight, bias;
        for (const scalar::Neuron& neuron : neurons) {
            for (const scalar::Value& w : neuron.weights()) {
                w.data() = to_float(w.data());
                weight.push_back(static_cast<float>(w.data()));
            }
            neuron.bias().data() = to_float(neuron.bias().data());
            bias.push_back(static_cast<float>(neuron.bias().data()));
        }
        auto linear = std::make_shared<nn::Linear>(in, out);
        stepgrad::NoGradGuard no_grad;
        linear->weight.copy_(stepgrad::from_vector(weight, {out, in}));
        linear->bias.copy_(stepgrad::from_vector(bias, {out}));
        twin.model->push_back(linear);
        twin.linears.push_back(linear);
        if (neurons.front().nonlinear()) twin.model->push_back(std::make_shared<nn::ReLU>());
    }
    return twin;
}

// moons_loss written with tensors: mean(relu(1 - y * score)) + alpha * Σ p².
Tensor tensor_moons_loss(nn::Module& model, const Tensor& points, const Tensor& labels) {
    const Tensor scores = model.forward(points).squeeze(1);  // (n)
    Tensor loss = stepgrad::relu(1.0 - labels * scores).mean();
    for (const Tensor& p : model.parameters()) loss = loss + kAlpha * (p * p).sum();
    return loss;
}

// |actual - expected| <= kTolerance * max(1, max |expected|), for every element.
void check_close(const std::string& what, const std::vector<float>& actual, const std::vector<double>& expected) {
    REQUIRE(actual.size() == expected.size());
    double scale = 1.0;
    for (double e : expected) scale = std::max(scale, std::abs(e));
    for (std::size_t i = 0; i < actual.size(); ++i) {
        INFO(what << "[" << i << "]: nn " << actual[i] << ", scalar " << expected[i]);
        CHECK(std::abs(actual[i] - expected[i]) <= kTolerance * scale);
    }
}

// Chapter 1's numbers for one Linear: (weights or their gradients) row by row, then the bias's.
std::vector<double> scalar_weights(const scalar::Layer& layer, bool grads) {
    std::vector<double> values;
    for (const scalar::Neuron& neuron : layer.neurons()) {
        for (const scalar::Value& w : neuron.weights()) values.push_back(grads ? w.grad() : w.data());
    }
    return values;
}
std::vector<double> scalar_biases(const scalar::Layer& layer, bool grads) {
    std::vector<double> values;
    for (const scalar::Neuron& neuron : layer.neurons())
        values.push_back(grads ? neuron.bias().grad() : neuron.bias().data());
    return values;
}

}  // namespace

TEST_CASE("a scalar MLP and an nn MLP with the same weights agree on loss, gradients and SGD steps",
          "[chapter03][cross]") {
    scalar::MLP mlp(2, {16, 16, 1}, /*seed=*/1337);
    scalar::Moons data = scalar::make_moons(32, 0.1, /*seed=*/3);
    std::vector<float> points, labels;
    for (std::size_t i = 0; i < data.points.size(); ++i) {
        for (double& coordinate : data.points[i]) {
            coordinate = to_float(coordinate);
            points.push_back(static_cast<float>(coordinate));
        }
        labels.push_back(static_cast<float>(data.labels[i]));
    }
    const auto n = static_cast<std::int64_t>(data.points.size());
    const Tensor x = stepgrad::from_vector(points, {n, 2});
    const Tensor y = stepgrad::from_vector(labels, {n});
    Twin twin = twin_of(mlp);
    REQUIRE(twin.linears.size() == 3);
    REQUIRE(twin.model->size() == 5);  // Linear, ReLU, Linear, ReLU, Linear

    for (int step = 0; step < 3; ++step) {
        INFO("step " << step);
        mlp.zero_grad();
        scalar::Value scalar_loss = scalar::moons_loss(mlp, data, kAlpha).loss;
        scalar_loss.backward();
        twin.model->zero_grad();
        const Tensor loss = tensor_moons_loss(*twin.model, x, y);
        loss.backward();

        check_close("loss", {loss.item()}, {scalar_loss.data()});
        for (std::size_t l = 0; l < twin.linears.size(); ++l) {
            const std::string layer = "layer " + std::to_string(l);
            check_close(layer + " weight grad", twin.linears[l]->weight.grad().to_vector(),
                        scalar_weights(mlp.layers()[l], true));
            check_close(layer + " bias grad", twin.linears[l]->bias.grad().to_vector(),
                        scalar_biases(mlp.layers()[l], true));
        }

        // One SGD step on each side: p -= lr * grad.
        for (const scalar::Value& p : mlp.parameters()) p.data() -= kLearningRate * p.grad();
        {
            stepgrad::NoGradGuard no_grad;
            for (Tensor p : twin.model->parameters()) p.add_(p.grad(), -kLearningRate);
        }
        for (std::size_t l = 0; l < twin.linears.size(); ++l) {
            const std::string layer = "layer " + std::to_string(l);
            check_close(layer + " weight", twin.linears[l]->weight.to_vector(), scalar_weights(mlp.layers()[l], false));
            check_close(layer + " bias", twin.linears[l]->bias.to_vector(), scalar_biases(mlp.layers()[l], false));
        }
    }
}

TEST_CASE("the scalar-vs-nn comparison fails on a gradient 0.1% off", "[chapter03][cross]") {
    // The tolerance is tight enough to catch a small error: scale one gradient by 1.001.
    const std::vector<double> expected{0.5, -1.25, 2.0};
    const std::vector<float> wrong{0.5f, -1.25f, 2.0f * 1.001f};
    const double scale = 2.0;  // the largest expected element
    CHECK(std::abs(wrong[2] - expected[2]) > kTolerance * scale);
}
