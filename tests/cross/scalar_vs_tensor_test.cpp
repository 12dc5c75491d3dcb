// Claim checked: chapter 2 computes what chapter 1 computes.
//
// Each expression below is written ONCE, as a generic lambda, and built twice from the same
// numbers: with chapter 2's float32 `stepgrad::Tensor`, and with a ValueTensor that holds one
// chapter-1 `scalar::Value` (double) per element (value_tensor.hpp). The outputs must agree,
// and so must the gradients of every input after back-propagating the same random upstream
// gradient through both. The tolerance (kRelativeTolerance, relative to the largest element)
// is float32 rounding only: the last test case shows that a gradient off by 0.1% fails it.
#include "value_tensor.hpp"
#include "../common/random_inputs.hpp"

#include <stepgrad/shared/random.hpp>
#include <stepgrad/tensor.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

namespace crosscheck {
namespace {

using stepgrad::Tensor;
using namespace stepgrad::testing;

/// float32 against double: a few roundings of 6e-8 per operation over short chains. Every case
/// here passes at 1e-6 too; 1e-5 leaves room for other BLAS builds and compilers.
constexpr double kRelativeTolerance = 1e-5;

/// One expression, built from either kind of tensor.
struct Expression {
    std::string name;
    std::vector<Input> inputs;
    std::function<Tensor(const std::vector<Tensor>&)> on_tensors;
    std::function<ValueTensor(const std::vector<ValueTensor>&)> on_values;
};

/// Instantiates the generic lambda `f` once for Tensors and once for ValueTensors.
template <class F>
Expression expression(std::string name, std::vector<Input> inputs, F f) {
    return {std::move(name), std::move(inputs), [f](const std::vector<Tensor>& x) { return f(x); },
            [f](const std::vector<ValueTensor>& x) { return f(x); }};
}

/// What one build of an expression produced: output values and each input's gradient.
struct Outcome {
    Shape shape;
    std::vector<double> values;
    std::vector<std::vector<double>> grads;  // one per input (empty for masks)
};

template <class T>
std::vector<double> widen(const std::vector<T>& v) {
    return std::vector<double>(v.begin(), v.end());
}

Outcome run_tensor(const Expression& e, const std::vector<std::vector<float>>& inputs,
                   const std::vector<float>& upstream) {
    std::vector<Tensor> leaves;
    for (std::size_t i = 0; i < inputs.size(); ++i) {
        const bool differentiable = e.inputs[i].domain != Domain::Mask;
        leaves.push_back(stepgrad::from_vector(inputs[i], e.inputs[i].shape,
                                               stepgrad::TensorOptions().requires_grad(differentiable)));
    }
    const Tensor out = e.on_tensors(leaves);
    Outcome outcome{out.shape(), widen(out.to_vector()), {}};
    out.backward(stepgrad::from_vector(upstream, out.shape()));
    for (std::size_t i = 0; i < leaves.size(); ++i) {
        if (e.inputs[i].domain == Domain::Mask) {
            outcome.grads.emplace_back();
        } else if (leaves[i].grad().defined()) {
            outcome.grads.push_back(widen(leaves[i].grad().to_vector()));
        } else {  // no path from the output to this input: its gradient is zero
            outcome.grads.emplace_back(static_cast<std::size_t>(stepgrad::numel_of(e.inputs[i].shape)), 0.0);
        }
    }
    return outcome;
}

Outcome run_values(const Expression& e, const std::vector<std::vector<float>>& inputs,
                   const std::vector<float>& upstream) {
    std::vector<ValueTensor> leaves;
    for (std::size_t i = 0; i < inputs.size(); ++i) leaves.push_back(ValueTensor::leaves(inputs[i], e.inputs[i].shape));
    const ValueTensor out = e.on_values(leaves);
    Outcome outcome{out.shape, out.data(), {}};
    // d(sum_i out_i * upstream_i)/d(input) is the vector-Jacobian product Tensor::backward(upstream) computes.
    Value loss(0.0);
    for (std::size_t i = 0; i < out.values.size(); ++i) loss = loss + out.values[i] * static_cast<double>(upstream[i]);
    loss.backward();
    for (std::size_t i = 0; i < leaves.size(); ++i) {
        outcome.grads.push_back(e.inputs[i].domain == Domain::Mask ? std::vector<double>{} : leaves[i].grads());
    }
    return outcome;
}

std::string shape_text(const Shape& shape) {
    std::ostringstream out;
    out << "(";
    for (std::size_t i = 0; i < shape.size(); ++i) out << (i ? ", " : "") << shape[i];
    out << ")";
    return out.str();
}

/// "" when `actual` (float32) matches `expected` (double) element by element, else the first
/// element that does not: |actual - expected| <= tol * max(1, max |expected|).
std::string mismatch(const std::string& what, const std::vector<double>& actual, const std::vector<double>& expected) {
    std::ostringstream out;
    if (actual.size() != expected.size()) {
        out << what << ": " << actual.size() << " elements vs " << expected.size();
        return out.str();
    }
    double scale = 1.0;
    for (double e : expected) scale = std::max(scale, std::abs(e));
    for (std::size_t i = 0; i < actual.size(); ++i) {
        const double error = std::abs(actual[i] - expected[i]);
        if (!(error <= kRelativeTolerance * scale)) {
            out.precision(9);
            out << what << "[" << i << "]: Tensor gives " << actual[i] << ", Values give " << expected[i]
                << " (difference " << error << ", allowed " << kRelativeTolerance * scale << ")";
            return out.str();
        }
    }
    return "";
}

/// The seeded inputs of `e`.
std::vector<std::vector<float>> draw_inputs(const Expression& e, stepgrad::Generator& gen) {
    std::vector<std::vector<float>> inputs;
    for (const Input& input : e.inputs) inputs.push_back(draw(input, gen));
    return inputs;
}

/// Builds `e` both ways from the same seeded inputs and upstream gradient.
std::pair<Outcome, Outcome> build_both(const Expression& e, std::uint64_t seed = 2024) {
    stepgrad::Generator gen(seed);
    const std::vector<std::vector<float>> inputs = draw_inputs(e, gen);
    // The output's shape is known only after building it; draw the upstream gradient large enough.
    std::vector<float> upstream;
    for (int i = 0; i < 4096; ++i) upstream.push_back(static_cast<float>(gen.normal()));
    Outcome values = run_values(e, inputs, upstream);
    Outcome tensors = run_tensor(e, inputs, std::vector<float>(upstream.begin(), upstream.begin() + stepgrad::numel_of(values.shape)));
    return {tensors, values};
}

void check_agreement(const std::vector<Expression>& expressions) {
    for (const Expression& e : expressions) {
        DYNAMIC_SECTION(e.name) {
            for (std::uint64_t seed : {2024u, 7u, 99u}) {  // three draws of inputs and upstream gradient
                INFO("seed " << seed);
                const auto [tensors, values] = build_both(e, seed);
                INFO("output shape: Tensor " << shape_text(tensors.shape) << ", Values " << shape_text(values.shape));
                REQUIRE(tensors.shape == values.shape);
                CHECK(mismatch("value", tensors.values, values.values) == "");
                for (std::size_t i = 0; i < e.inputs.size(); ++i) {
                    if (e.inputs[i].domain == Domain::Mask) continue;
                    CHECK(mismatch("grad of input " + std::to_string(i), tensors.grads[i], values.grads[i]) == "");
                }
            }
        }
    }
}

// ---- the expressions ---------------------------------------------------------------------

// Unary operations on a 2x3 matrix.
const std::vector<Expression>& unary_expressions() {
    static const std::vector<Expression> list = {
        expression("neg", {real({2, 3})}, [](const auto& x) { return -x[0]; }),
        expression("exp", {real({2, 3})}, [](const auto& x) { return exp(x[0]); }),
        expression("log", {positive({2, 3})}, [](const auto& x) { return log(x[0]); }),
        expression("tanh", {real({2, 3})}, [](const auto& x) { return tanh(x[0]); }),
        expression("sigmoid", {real({2, 3})}, [](const auto& x) { return sigmoid(x[0]); }),
        expression("relu", {real({2, 3})}, [](const auto& x) { return relu(x[0]); }),
        expression("sqrt", {positive({2, 3})}, [](const auto& x) { return sqrt(x[0]); }),
        expression("abs", {real({2, 3})}, [](const auto& x) { return abs(x[0]); }),
        expression("leaky_relu", {real({2, 3})}, [](const auto& x) { return leaky_relu(x[0], 0.1); }),
        expression("pow(x, 3)", {real({2, 3})}, [](const auto& x) { return pow(x[0], 3.0); }),
        expression("pow(x, 2) of negatives too", {real({2, 3})}, [](const auto& x) { return pow(x[0], 2.0); }),
        expression("pow(x, -1.5)", {positive({2, 3})}, [](const auto& x) { return pow(x[0], -1.5); }),
        expression("pow(x, 0.5)", {positive({2, 3})}, [](const auto& x) { return pow(x[0], 0.5); }),
        expression("clamp(x, -0.5, 0.5)", {real({2, 3})}, [](const auto& x) { return clamp(x[0], -0.5, 0.5); }),
        expression("clamp(x, min only)", {real({2, 3})}, [](const auto& x) { return clamp(x[0], 0.2, std::nullopt); }),
        expression("x + 2", {real({2, 3})}, [](const auto& x) { return x[0] + 2.0; }),
        expression("2 - x", {real({2, 3})}, [](const auto& x) { return 2.0 - x[0]; }),
        expression("x * -3", {real({2, 3})}, [](const auto& x) { return x[0] * -3.0; }),
        expression("x / 4", {real({2, 3})}, [](const auto& x) { return x[0] / 4.0; }),
        expression("1 / x", {nonzero({2, 3})}, [](const auto& x) { return 1.0 / x[0]; }),
        expression("chain tanh(exp(x) * 0.5 - 1)", {real({2, 3})},
                   [](const auto& x) { return tanh(exp(x[0]) * 0.5 - 1.0); }),
        expression("x used three times: x*x + sigmoid(x)*x", {real({2, 3})},
                   [](const auto& x) { return x[0] * x[0] + sigmoid(x[0]) * x[0]; }),
    };
    return list;
}

// Binary operations, same shapes and broadcast (2x3 with 3, 2x1, 1x3, a 0-d tensor, 2x1 with 1x3).
const std::vector<Expression>& binary_expressions() {
    static const std::vector<Expression> list = {
        expression("a + b, 2x3 and 2x3", {real({2, 3}), real({2, 3})}, [](const auto& x) { return x[0] + x[1]; }),
        expression("a - b, 2x3 and 3", {real({2, 3}), real({3})}, [](const auto& x) { return x[0] - x[1]; }),
        expression("a * b, 2x3 and 2x1", {real({2, 3}), real({2, 1})}, [](const auto& x) { return x[0] * x[1]; }),
        expression("a / b, 2x3 and 2x3", {real({2, 3}), nonzero({2, 3})}, [](const auto& x) { return x[0] / x[1]; }),
        expression("a / b, 2x3 and 3", {real({2, 3}), nonzero({3})}, [](const auto& x) { return x[0] / x[1]; }),
        expression("a / b, 3 and 2x3 (numerator broadcast)", {real({3}), nonzero({2, 3})},
                   [](const auto& x) { return x[0] / x[1]; }),
        expression("a * b, 2x1 and 1x3 (outer)", {real({2, 1}), real({1, 3})}, [](const auto& x) { return x[0] * x[1]; }),
        expression("a + b, 2x3 and 0-d", {real({2, 3}), real({})}, [](const auto& x) { return x[0] + x[1]; }),
        expression("a * b, 2x3x4 and 3x1", {real({2, 3, 4}), real({3, 1})}, [](const auto& x) { return x[0] * x[1]; }),
        expression("pow(a, b), 2x3 and 3", {positive({2, 3}), real({3})}, [](const auto& x) { return pow(x[0], x[1]); }),
        expression("maximum(a, b), 2x3 and 3", {real({2, 3}), real({3})}, [](const auto& x) { return maximum(x[0], x[1]); }),
        expression("minimum(a, b), 2x1 and 2x3", {real({2, 1}), real({2, 3})},
                   [](const auto& x) { return minimum(x[0], x[1]); }),
        expression("where(mask, a, b), 2x3, 2x3, 3", {mask({2, 3}), real({2, 3}), real({3})},
                   [](const auto& x) { return where(x[0], x[1], x[2]); }),
        expression("where(a > b, a, b * 2), 2x3 and 2x1", {real({2, 3}), real({2, 1})},
                   [](const auto& x) { return where(x[0] > x[1], x[0], x[1] * 2.0); }),
        expression("a*b + a/b - b, 2x3 and 3", {real({2, 3}), nonzero({3})},
                   [](const auto& x) { return x[0] * x[1] + x[0] / x[1] - x[1]; }),
    };
    return list;
}

// Reductions over axes, with and without keepdim.
const std::vector<Expression>& reduction_expressions() {
    static const std::vector<Expression> list = {
        expression("sum all", {real({2, 3})}, [](const auto& x) { return sum(x[0]); }),
        expression("sum axis 0", {real({2, 3})}, [](const auto& x) { return sum(x[0], {0}); }),
        expression("sum axis 1 keepdim", {real({2, 3})}, [](const auto& x) { return sum(x[0], {1}, true); }),
        expression("sum axes {0, 2} of 2x3x4", {real({2, 3, 4})}, [](const auto& x) { return sum(x[0], {0, 2}); }),
        expression("sum axis -1 of 2x3x4", {real({2, 3, 4})}, [](const auto& x) { return sum(x[0], {-1}); }),
        expression("mean all", {real({2, 3})}, [](const auto& x) { return mean(x[0]); }),
        expression("mean axis 0 keepdim", {real({2, 3})}, [](const auto& x) { return mean(x[0], {0}, true); }),
        expression("mean axes {1, 2} of 2x3x4", {real({2, 3, 4})}, [](const auto& x) { return mean(x[0], {1, 2}); }),
        expression("max all", {real({2, 3})}, [](const auto& x) { return max(x[0]); }),
        expression("max axis 1", {real({2, 3})}, [](const auto& x) { return max(x[0], {1}); }),
        expression("max axis 0 keepdim", {real({2, 3})}, [](const auto& x) { return max(x[0], {0}, true); }),
        expression("min axis 1 keepdim of 2x3x4", {real({2, 3, 4})}, [](const auto& x) { return min(x[0], {1}, true); }),
        expression("var all (unbiased)", {real({2, 3})}, [](const auto& x) { return var(x[0]); }),
        expression("var axis 1 biased keepdim", {real({2, 3})}, [](const auto& x) { return var(x[0], {1}, false, true); }),
        expression("x - mean(x, 1, keepdim) (centering)", {real({2, 3})},
                   [](const auto& x) { return x[0] - mean(x[0], {1}, true); }),
        expression("sum(exp(x)) / sum(x * x)", {real({2, 3})},
                   [](const auto& x) { return sum(exp(x[0])) / sum(x[0] * x[0]); }),
    };
    return list;
}

// Matrix products: 2-D, 1-D operands, batched with broadcast batch axes.
const std::vector<Expression>& matmul_expressions() {
    static const std::vector<Expression> list = {
        expression("2x3 @ 3x4", {real({2, 3}), real({3, 4})}, [](const auto& x) { return matmul(x[0], x[1]); }),
        expression("3 @ 3 (dot)", {real({3}), real({3})}, [](const auto& x) { return matmul(x[0], x[1]); }),
        expression("3 @ 3x4", {real({3}), real({3, 4})}, [](const auto& x) { return matmul(x[0], x[1]); }),
        expression("2x3 @ 3", {real({2, 3}), real({3})}, [](const auto& x) { return matmul(x[0], x[1]); }),
        expression("2x2x3 @ 2x3x4 (batched)", {real({2, 2, 3}), real({2, 3, 4})},
                   [](const auto& x) { return matmul(x[0], x[1]); }),
        expression("2x1x2x3 @ 3x3x2 (broadcast batch)", {real({2, 1, 2, 3}), real({3, 3, 2})},
                   [](const auto& x) { return matmul(x[0], x[1]); }),
        expression("2x2x3 @ 3x4 (shared right operand)", {real({2, 2, 3}), real({3, 4})},
                   [](const auto& x) { return matmul(x[0], x[1]); }),
        expression("linear layer tanh(x @ w + b)", {real({2, 3}), real({3, 4}), real({4})},
                   [](const auto& x) { return tanh(matmul(x[0], x[1]) + x[2]); }),
        expression("x @ x^T (same input twice)", {real({2, 3})},
                   [](const auto& x) { return matmul(x[0], transpose(x[0], 0, 1)); }),
    };
    return list;
}

// Softmax, log-softmax and the losses built on them.
const std::vector<Expression>& softmax_expressions() {
    static const std::vector<Expression> list = {
        expression("softmax axis 1", {real({2, 3})}, [](const auto& x) { return softmax(x[0], 1); }),
        expression("softmax axis 0", {real({2, 3})}, [](const auto& x) { return softmax(x[0], 0); }),
        expression("softmax axis -1 of 2x3x4", {real({2, 3, 4})}, [](const auto& x) { return softmax(x[0], -1); }),
        expression("log_softmax axis 1", {real({2, 3})}, [](const auto& x) { return log_softmax(x[0], 1); }),
        expression("log_softmax axis 0 of large logits", {real({2, 3})},
                   [](const auto& x) { return log_softmax(x[0] * 30.0, 0); }),
        expression("cross-entropy -mean(sum(onehot * log_softmax))", {real({2, 3}), mask({2, 3})},
                   [](const auto& x) { return -mean(sum(x[1] * log_softmax(x[0], 1), {1})); }),
        expression("mse mean((x @ w - y)^2)", {real({2, 3}), real({3, 1}), real({2, 1})},
                   [](const auto& x) { return mean(pow(matmul(x[0], x[1]) - x[2], 2.0)); }),
    };
    return list;
}

// Rearrangements: their gradients put every element back where it came from.
const std::vector<Expression>& shape_expressions() {
    static const std::vector<Expression> list = {
        expression("reshape 2x3 -> 3x2, times weights", {real({2, 3}), real({3, 2})},
                   [](const auto& x) { return reshape(x[0], {3, 2}) * x[1]; }),
        expression("reshape with -1", {real({2, 3, 4})}, [](const auto& x) { return reshape(x[0], {-1, 4}); }),
        expression("flatten from axis 1", {real({2, 3, 4})}, [](const auto& x) { return flatten(x[0], 1); }),
        expression("transpose 0 2", {real({2, 3, 4})}, [](const auto& x) { return exp(transpose(x[0], 0, 2)); }),
        expression("permute {2, 0, 1}", {real({2, 3, 4})}, [](const auto& x) { return permute(x[0], {2, 0, 1}); }),
        expression("unsqueeze then broadcast", {real({3}), real({2, 3})},
                   [](const auto& x) { return unsqueeze(x[0], 0) * x[1]; }),
        expression("squeeze axis 1", {real({2, 1, 3})}, [](const auto& x) { return tanh(squeeze(x[0], 1)); }),
        expression("expand 1x3 -> 2x3", {real({1, 3}), real({2, 3})},
                   [](const auto& x) { return expand(x[0], {2, 3}) * x[1]; }),
        expression("slice columns 1:3", {real({2, 4})}, [](const auto& x) { return slice(x[0], 1, 1, 3); }),
        expression("slice rows ::2", {real({5, 2})}, [](const auto& x) { return slice(x[0], 0, std::nullopt, std::nullopt, 2); }),
        expression("select row 1", {real({3, 2})}, [](const auto& x) { return select(x[0], 0, 1) * 3.0; }),
        expression("cat axis 1", {real({2, 3}), real({2, 2})},
                   [](const auto& x) { return cat(std::vector{x[0], x[1]}, 1); }),
        expression("stack axis 0 of x and x*x", {real({2, 3})},
                   [](const auto& x) { return stack(std::vector{x[0], x[0] * x[0]}, 0); }),
    };
    return list;
}

TEST_CASE("unary operations: Tensor equals Value per element, values and gradients", "[chapter02][cross]") {
    check_agreement(unary_expressions());
}

TEST_CASE("binary operations with broadcasting: Tensor equals Value per element", "[chapter02][cross]") {
    check_agreement(binary_expressions());
}

TEST_CASE("reductions over axes: Tensor equals Value per element", "[chapter02][cross]") {
    check_agreement(reduction_expressions());
}

TEST_CASE("matmul, 1-D, 2-D and batched: Tensor equals Value per element", "[chapter02][cross]") {
    check_agreement(matmul_expressions());
}

TEST_CASE("softmax, log_softmax and losses: Tensor equals Value per element", "[chapter02][cross]") {
    check_agreement(softmax_expressions());
}

TEST_CASE("shape operations: Tensor equals Value per element", "[chapter02][cross]") {
    check_agreement(shape_expressions());
}

TEST_CASE("the comparison is tight: a gradient off by 0.1% or a swapped gradient fails", "[chapter02][cross]") {
    const Expression e = expression("a * b + tanh(a)", {real({2, 3}), real({2, 3})},
                                    [](const auto& x) { return x[0] * x[1] + tanh(x[0]); });
    auto [tensors, values] = build_both(e);
    REQUIRE(mismatch("grad", tensors.grads[0], values.grads[0]).empty());

    std::vector<double> off = values.grads[0];
    off[3] *= 1.001;
    CHECK_FALSE(mismatch("grad", tensors.grads[0], off).empty());

    // With upstream g, d/da = g (b + 1 - tanh(a)^2); a rule that forgets the square gives
    // g (b + 1 - tanh(a)). Rebuild the same inputs and upstream from the seed.
    stepgrad::Generator gen(2024);
    const std::vector<std::vector<float>> inputs = draw_inputs(e, gen);
    std::vector<double> right_rule;
    std::vector<double> wrong_rule;
    for (std::size_t i = 0; i < inputs[0].size(); ++i) {
        const double upstream = static_cast<double>(static_cast<float>(gen.normal()));
        const double t = std::tanh(static_cast<double>(inputs[0][i]));
        right_rule.push_back(upstream * (static_cast<double>(inputs[1][i]) + 1.0 - t * t));
        wrong_rule.push_back(upstream * (static_cast<double>(inputs[1][i]) + 1.0 - t));
    }
    CHECK(mismatch("grad", tensors.grads[0], right_rule).empty());
    CHECK_FALSE(mismatch("grad", tensors.grads[0], wrong_rule).empty());
    // The gradients of a and b swapped.
    CHECK_FALSE(mismatch("grad", tensors.grads[0], values.grads[1]).empty());
}

TEST_CASE("gradients accumulate the same way over two backward calls", "[chapter02][cross]") {
    // loss = sum(tanh(w * x)) built and back-propagated twice from the same leaves: both chapters
    // add the second gradient to the first (zeroing is the optimizer's job).
    const auto loss = [](const auto& w, const auto& x) { return sum(tanh(w * x)); };
    stepgrad::Generator gen(3);
    const std::vector<float> w_data = draw(real({2, 3}), gen);
    const std::vector<float> x_data = draw(real({3}), gen);

    Tensor w = stepgrad::from_vector(w_data, {2, 3}, stepgrad::TensorOptions().requires_grad(true));
    const Tensor x = stepgrad::from_vector(x_data, {3});
    loss(w, x).backward();
    const std::vector<double> once = widen(w.grad().to_vector());
    loss(w, x).backward();

    const ValueTensor w_values = ValueTensor::leaves(w_data, {2, 3});
    const ValueTensor x_values = ValueTensor::leaves(x_data, {3});
    loss(w_values, x_values).values.front().backward();
    CHECK(mismatch("grad after one backward", once, w_values.grads()) == "");
    loss(w_values, x_values).values.front().backward();
    CHECK(mismatch("grad after two backwards", widen(w.grad().to_vector()), w_values.grads()) == "");
    std::vector<double> doubled = once;
    for (double& g : doubled) g *= 2.0;
    CHECK(mismatch("twice the first grad", widen(w.grad().to_vector()), doubled) == "");
}

}  // namespace
}  // namespace crosscheck
