// Claim checked: chapter 1's scalar Value computes the values and gradients that LibTorch
// computes in float64 for micrograd-style expressions (every operation of chapter 1, inputs
// used several times, `+=` rebinding). Each expression is written once, as a generic lambda,
// and built from `scalar::Value`s and from 0-d double `torch::Tensor`s.
#include <stepgrad/scalar.hpp>

#include <torch/torch.h>

#include <catch2/catch.hpp>

#include <cmath>
#include <functional>
#include <string>
#include <vector>

namespace {

using stepgrad::scalar::Value;

struct Expression {
    std::string name;
    std::vector<double> inputs;
    std::function<Value(const std::vector<Value>&)> on_values;
    std::function<torch::Tensor(const std::vector<torch::Tensor>&)> on_torch;
};

template <class F>
Expression expression(std::string name, std::vector<double> inputs, F f) {
    return {std::move(name), std::move(inputs), [f](const std::vector<Value>& x) { return f(x); },
            [f](const std::vector<torch::Tensor>& x) { return f(x); }};
}

// Unqualified calls (relu, tanh, pow, ...) find chapter 1's functions for Values and ATen's
// for tensors by argument-dependent lookup.
const std::vector<Expression>& expressions() {
    static const std::vector<Expression> list = {
        expression("relu, products and sums of one input", {-4.0}, [](const auto& x) {
            auto z = 2.0 * x[0] + 2.0 + x[0];
            auto q = relu(z) + z * x[0];
            auto h = relu(z * z);
            return h + q + q * x[0];
        }),
        expression("+= rebinding, powers and division", {-4.0, 2.0}, [](const auto& x) {
            auto a = x[0];
            auto b = x[1];
            auto c = a + b;
            auto d = a * b + pow(b, 3.0);
            c = c + c + 1.0;
            c = c + 1.0 + c + (-a);
            d = d + d * 2.0 + relu(b + a);
            d = d + 3.0 * d + relu(b - a);
            auto e = c - d;
            auto f = pow(e, 2.0);
            auto g = f / 2.0;
            return g + 10.0 / f;
        }),
        expression("a neuron: tanh(w1 x1 + w2 x2 + b)", {2.0, 0.0, -3.0, 1.0, 6.8813735870195432},
                   [](const auto& x) { return tanh(x[0] * x[2] + x[1] * x[3] + x[4]); }),
        expression("exp, log, sigmoid", {0.7, -1.3}, [](const auto& x) {
            return log(exp(x[0]) + exp(x[1])) * sigmoid(x[0] - x[1]);
        }),
        expression("pow(Value, Value) and division by an input", {1.7, 0.6, -2.5}, [](const auto& x) {
            return pow(x[0], x[1]) / x[2] + pow(x[0] * x[1], -1.5);
        }),
        expression("tanh written with exp", {0.35}, [](const auto& x) {
            auto e = exp(2.0 * x[0]);
            return (e - 1.0) / (e + 1.0);
        }),
    };
    return list;
}

TEST_CASE("scalar Value matches LibTorch float64 on micrograd-style expressions", "[chapter01][torch]") {
    torch::set_num_threads(1);
    for (const Expression& e : expressions()) {
        DYNAMIC_SECTION(e.name) {
            std::vector<Value> values;
            std::vector<torch::Tensor> tensors;
            for (double v : e.inputs) {
                values.emplace_back(v);
                tensors.push_back(torch::tensor(v, torch::kDouble).requires_grad_());
            }
            Value out = e.on_values(values);
            torch::Tensor expected = e.on_torch(tensors);
            out.backward();
            expected.backward();
            CHECK(out.data() == Approx(expected.item<double>()).epsilon(1e-12).margin(1e-12));
            for (std::size_t i = 0; i < values.size(); ++i) {
                INFO("gradient of input " << i);
                CHECK(values[i].grad() == Approx(tensors[i].grad().item<double>()).epsilon(1e-12).margin(1e-12));
            }
        }
    }
}

}  // namespace
