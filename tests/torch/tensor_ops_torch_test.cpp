// Claim checked: chapter 2's elementwise operations, comparisons and reductions compute what
// LibTorch computes — forward values and the gradient of every input — on identical float32
// inputs, including at ties, zeros and clamp bounds (the Kinks inputs), where the rules for
// the gradient (shared equally, zero, passed through) must match LibTorch's.
#include "torch_harness.hpp"

namespace torchref {
namespace {

// Elementwise arithmetic with broadcasting and with scalars on either side.
const std::vector<Op> arithmetic = {
    {"a + b, 2x3 and 2x3", {real({2, 3}), real({2, 3})},
     [](SgIn x) { return x[0] + x[1]; }, [](ThIn x) { return x[0] + x[1]; }},
    {"a + b, 2x3 and 3", {real({2, 3}), real({3})},
     [](SgIn x) { return sg::add(x[0], x[1]); }, [](ThIn x) { return torch::add(x[0], x[1]); }},
    {"a - b, 2x1 and 1x3", {real({2, 1}), real({1, 3})},
     [](SgIn x) { return x[0] - x[1]; }, [](ThIn x) { return x[0] - x[1]; }},
    {"a * b, 2x3x4 and 3x1", {real({2, 3, 4}), real({3, 1})},
     [](SgIn x) { return x[0] * x[1]; }, [](ThIn x) { return x[0] * x[1]; }},
    {"a * b, 4 and 2x3x1", {real({4}), real({2, 3, 1})},
     [](SgIn x) { return x[0] * x[1]; }, [](ThIn x) { return x[0] * x[1]; }},
    {"a / b, 2x3 and 3", {real({2, 3}), nonzero({3})},
     [](SgIn x) { return x[0] / x[1]; }, [](ThIn x) { return x[0] / x[1]; }},
    {"a / b, 3 and 2x3", {real({3}), nonzero({2, 3})},
     [](SgIn x) { return x[0] / x[1]; }, [](ThIn x) { return x[0] / x[1]; }},
    {"a + b, 2x3 and 0-d", {real({2, 3}), real({})},
     [](SgIn x) { return x[0] + x[1]; }, [](ThIn x) { return x[0] + x[1]; }},
    {"x + 2.5", {real({2, 3})},
     [](SgIn x) { return x[0] + 2.5; }, [](ThIn x) { return x[0] + 2.5; }},
    {"2.5 + x", {real({2, 3})},
     [](SgIn x) { return 2.5 + x[0]; }, [](ThIn x) { return 2.5 + x[0]; }},
    {"x - 1.5", {real({2, 3})},
     [](SgIn x) { return x[0] - 1.5; }, [](ThIn x) { return x[0] - 1.5; }},
    {"1.5 - x", {real({2, 3})},
     [](SgIn x) { return 1.5 - x[0]; }, [](ThIn x) { return 1.5 - x[0]; }},
    {"x * -3", {real({2, 3})},
     [](SgIn x) { return x[0] * -3.0; }, [](ThIn x) { return x[0] * -3.0; }},
    {"-3 * x", {real({2, 3})},
     [](SgIn x) { return -3.0 * x[0]; }, [](ThIn x) { return -3.0 * x[0]; }},
    {"x / 4", {real({2, 3})},
     [](SgIn x) { return x[0] / 4.0; }, [](ThIn x) { return x[0] / 4.0; }},
    {"4 / x", {nonzero({2, 3})},
     [](SgIn x) { return 4.0 / x[0]; }, [](ThIn x) { return 4.0 / x[0]; }},
    {"neg", {real({2, 3})},
     [](SgIn x) { return sg::neg(x[0]); }, [](ThIn x) { return torch::neg(x[0]); }},
    {"unary minus", {real({2, 3})},
     [](SgIn x) { return -x[0]; }, [](ThIn x) { return -x[0]; }},
    {"a * a (same input twice)", {real({2, 3})},
     [](SgIn x) { return x[0] * x[0]; }, [](ThIn x) { return x[0] * x[0]; }},
};

// Powers: scalar exponent, tensor exponent (broadcast), scalar base.
const std::vector<Op> powers = {
    {"pow(x, 3)", {real({2, 3})},
     [](SgIn x) { return sg::pow(x[0], 3.0); }, [](ThIn x) { return torch::pow(x[0], 3.0); }},
    {"pow(x, 2)", {real({2, 3})},
     [](SgIn x) { return x[0].pow(2.0); }, [](ThIn x) { return x[0].pow(2.0); }},
    {"pow(x, 2.5)", {positive({2, 3})},
     [](SgIn x) { return sg::pow(x[0], 2.5); }, [](ThIn x) { return torch::pow(x[0], 2.5); }},
    {"pow(x, -0.5)", {positive({2, 3})},
     [](SgIn x) { return sg::pow(x[0], -0.5); }, [](ThIn x) { return torch::pow(x[0], -0.5); }},
    {"pow(a, b), 2x3 and 3", {positive({2, 3}), real({3})},
     [](SgIn x) { return sg::pow(x[0], x[1]); }, [](ThIn x) { return torch::pow(x[0], x[1]); }},
    {"pow(a, b), 3 and 2x1", {positive({3}), real({2, 1})},
     [](SgIn x) { return x[0].pow(x[1]); }, [](ThIn x) { return x[0].pow(x[1]); }},
    {"pow(2, x)", {real({2, 3})},
     [](SgIn x) { return sg::pow(2.0, x[0]); }, [](ThIn x) { return torch::pow(2.0, x[0]); }},
};

// Unary functions and activations.
const std::vector<Op> unary = {
    {"exp", {real({2, 3})}, [](SgIn x) { return sg::exp(x[0]); }, [](ThIn x) { return torch::exp(x[0]); }},
    {"log", {positive({2, 3})}, [](SgIn x) { return sg::log(x[0]); }, [](ThIn x) { return torch::log(x[0]); }},
    {"sqrt", {positive({2, 3})}, [](SgIn x) { return sg::sqrt(x[0]); }, [](ThIn x) { return torch::sqrt(x[0]); }},
    {"abs", {real({2, 3})}, [](SgIn x) { return sg::abs(x[0]); }, [](ThIn x) { return torch::abs(x[0]); }},
    {"relu", {real({2, 3})}, [](SgIn x) { return sg::relu(x[0]); }, [](ThIn x) { return torch::relu(x[0]); }},
    {"leaky_relu 0.01", {real({2, 3})},
     [](SgIn x) { return sg::leaky_relu(x[0]); }, [](ThIn x) { return torch::leaky_relu(x[0]); }},
    {"leaky_relu 0.2", {real({2, 3})},
     [](SgIn x) { return sg::leaky_relu(x[0], 0.2); }, [](ThIn x) { return torch::leaky_relu(x[0], 0.2); }},
    {"sigmoid", {real({2, 3})},
     [](SgIn x) { return sg::sigmoid(x[0]); }, [](ThIn x) { return torch::sigmoid(x[0]); }},
    {"sigmoid of large |x|", {real({2, 3})},
     [](SgIn x) { return sg::sigmoid(x[0] * 40.0); }, [](ThIn x) { return torch::sigmoid(x[0] * 40.0); }},
    {"tanh", {real({2, 3})}, [](SgIn x) { return sg::tanh(x[0]); }, [](ThIn x) { return torch::tanh(x[0]); }},
    {"gelu", {real({2, 3})}, [](SgIn x) { return sg::gelu(x[0]); }, [](ThIn x) { return torch::gelu(x[0]); }},
    {"clamp(x, -0.5, 0.5)", {real({2, 3})},
     [](SgIn x) { return sg::clamp(x[0], -0.5, 0.5); }, [](ThIn x) { return torch::clamp(x[0], -0.5, 0.5); }},
    {"clamp(x, min 0.2)", {real({2, 3})},
     [](SgIn x) { return x[0].clamp(0.2, std::nullopt); }, [](ThIn x) { return torch::clamp_min(x[0], 0.2); }},
    {"clamp(x, max 0.3)", {real({2, 3})},
     [](SgIn x) { return sg::clamp(x[0], std::nullopt, 0.3); }, [](ThIn x) { return torch::clamp_max(x[0], 0.3); }},
    {"maximum, 2x3 and 3", {real({2, 3}), real({3})},
     [](SgIn x) { return sg::maximum(x[0], x[1]); }, [](ThIn x) { return torch::maximum(x[0], x[1]); }},
    {"minimum, 2x1 and 2x3", {real({2, 1}), real({2, 3})},
     [](SgIn x) { return sg::minimum(x[0], x[1]); }, [](ThIn x) { return torch::minimum(x[0], x[1]); }},
    {"where(mask, a, b), 2x3, 2x3, 3", {mask({2, 3}), real({2, 3}), real({3})},
     [](SgIn x) { return sg::where(x[0], x[1], x[2]); },
     [](ThIn x) { return torch::where(x[0].to(torch::kBool), x[1], x[2]); }},
    {"where(mask, a, b), 2x1, 3, 2x3", {mask({2, 1}), real({3}), real({2, 3})},
     [](SgIn x) { return sg::where(x[0], x[1], x[2]); },
     [](ThIn x) { return torch::where(x[0].to(torch::kBool), x[1], x[2]); }},
    {"where(mask, a, 0.5)", {mask({2, 3}), real({2, 3})},
     [](SgIn x) { return sg::where(x[0], x[1], 0.5); },
     [](ThIn x) { return torch::where(x[0].to(torch::kBool), x[1], torch::full({}, 0.5)); }},
    {"where(mask, 0.5, b)", {mask({2, 3}), real({2, 3})},
     [](SgIn x) { return sg::where(x[0], 0.5, x[1]); },
     [](ThIn x) { return torch::where(x[0].to(torch::kBool), torch::full({}, 0.5), x[1]); }},
};

// At the kinks: ties, zeros, clamp bounds. The gradient conventions must be LibTorch's.
const std::vector<Op> at_kinks = {
    {"relu at 0", {kinks({4, 5})}, [](SgIn x) { return sg::relu(x[0]); }, [](ThIn x) { return torch::relu(x[0]); }},
    {"abs at 0", {kinks({4, 5})}, [](SgIn x) { return sg::abs(x[0]); }, [](ThIn x) { return torch::abs(x[0]); }},
    {"leaky_relu at 0", {kinks({4, 5})},
     [](SgIn x) { return sg::leaky_relu(x[0], 0.1); }, [](ThIn x) { return torch::leaky_relu(x[0], 0.1); }},
    {"clamp at its bounds", {kinks({4, 5})},
     [](SgIn x) { return sg::clamp(x[0], -0.5, 0.5); }, [](ThIn x) { return torch::clamp(x[0], -0.5, 0.5); }},
    {"maximum with ties", {kinks({4, 5}), kinks({4, 5})},
     [](SgIn x) { return sg::maximum(x[0], x[1]); }, [](ThIn x) { return torch::maximum(x[0], x[1]); }},
    {"minimum with ties", {kinks({4, 5}), kinks({5})},
     [](SgIn x) { return sg::minimum(x[0], x[1]); }, [](ThIn x) { return torch::minimum(x[0], x[1]); }},
    {"max over all with ties", {kinks({4, 5})},
     [](SgIn x) { return sg::max(x[0]); }, [](ThIn x) { return torch::max(x[0]); }},
    {"max over axis 1 with ties", {kinks({4, 5})},
     [](SgIn x) { return sg::max(x[0], {1}); }, [](ThIn x) { return torch::amax(x[0], {1}); }},
    {"min over axis 0 with ties, keepdim", {kinks({4, 5})},
     [](SgIn x) { return sg::min(x[0], {0}, true); }, [](ThIn x) { return torch::amin(x[0], {0}, true); }},
    {"argmax along axis 1, first of ties", {kinks({4, 5})},
     [](SgIn x) { return sg::argmax(x[0], 1); }, [](ThIn x) { return torch::argmax(x[0], 1).to(torch::kFloat); }},
};

// Comparisons: 0/1 outputs with no gradient.
const std::vector<Op> comparisons = {
    {"gt, 2x3 and 3", {kinks({2, 3}), kinks({3})},
     [](SgIn x) { return sg::gt(x[0], x[1]); }, [](ThIn x) { return torch::gt(x[0], x[1]).to(torch::kFloat); }},
    {"ge", {kinks({2, 3}), kinks({2, 3})},
     [](SgIn x) { return x[0] >= x[1]; }, [](ThIn x) { return torch::ge(x[0], x[1]).to(torch::kFloat); }},
    {"lt, 2x1 and 1x3", {kinks({2, 1}), kinks({1, 3})},
     [](SgIn x) { return x[0] < x[1]; }, [](ThIn x) { return torch::lt(x[0], x[1]).to(torch::kFloat); }},
    {"le", {kinks({2, 3}), kinks({2, 3})},
     [](SgIn x) { return sg::le(x[0], x[1]); }, [](ThIn x) { return torch::le(x[0], x[1]).to(torch::kFloat); }},
    {"eq", {kinks({3, 4}), kinks({4})},
     [](SgIn x) { return sg::eq(x[0], x[1]); }, [](ThIn x) { return torch::eq(x[0], x[1]).to(torch::kFloat); }},
    {"ne", {kinks({3, 4}), kinks({3, 4})},
     [](SgIn x) { return sg::ne(x[0], x[1]); }, [](ThIn x) { return torch::ne(x[0], x[1]).to(torch::kFloat); }},
    {"x > 0", {kinks({3, 4})},
     [](SgIn x) { return x[0] > 0.0; }, [](ThIn x) { return (x[0] > 0.0).to(torch::kFloat); }},
    {"x <= 0.5", {kinks({3, 4})},
     [](SgIn x) { return x[0] <= 0.5; }, [](ThIn x) { return (x[0] <= 0.5).to(torch::kFloat); }},
};

// Reductions over axes, with and without keepdim.
const std::vector<Op> reductions = {
    {"sum all", {real({2, 3, 4})}, [](SgIn x) { return sg::sum(x[0]); }, [](ThIn x) { return torch::sum(x[0]); }},
    {"sum axis 0", {real({2, 3})}, [](SgIn x) { return x[0].sum({0}); }, [](ThIn x) { return x[0].sum({0}); }},
    {"sum axis 1 keepdim", {real({2, 3})},
     [](SgIn x) { return sg::sum(x[0], {1}, true); }, [](ThIn x) { return torch::sum(x[0], {1}, true); }},
    {"sum axes {0, 2}", {real({2, 3, 4})},
     [](SgIn x) { return sg::sum(x[0], {0, 2}); }, [](ThIn x) { return torch::sum(x[0], torch::IntArrayRef{0, 2}); }},
    {"sum axis -1 keepdim", {real({2, 3, 4})},
     [](SgIn x) { return sg::sum(x[0], {-1}, true); }, [](ThIn x) { return torch::sum(x[0], {-1}, true); }},
    {"mean all", {real({2, 3, 4})}, [](SgIn x) { return sg::mean(x[0]); }, [](ThIn x) { return torch::mean(x[0]); }},
    {"mean axis 1", {real({2, 3})},
     [](SgIn x) { return sg::mean(x[0], {1}); }, [](ThIn x) { return torch::mean(x[0], {1}); }},
    {"mean axes {0, 2} keepdim", {real({2, 3, 4})},
     [](SgIn x) { return x[0].mean({0, 2}, true); }, [](ThIn x) { return x[0].mean(torch::IntArrayRef{0, 2}, true); }},
    {"max all", {real({2, 3, 4})}, [](SgIn x) { return sg::max(x[0]); }, [](ThIn x) { return torch::max(x[0]); }},
    {"max axis 1", {real({2, 3, 4})},
     [](SgIn x) { return x[0].max({1}); }, [](ThIn x) { return torch::amax(x[0], {1}); }},
    {"max axes {0, 2} keepdim", {real({2, 3, 4})},
     [](SgIn x) { return sg::amax(x[0], {0, 2}, true); }, [](ThIn x) { return torch::amax(x[0], {0, 2}, true); }},
    {"min all", {real({2, 3})}, [](SgIn x) { return sg::min(x[0]); }, [](ThIn x) { return torch::min(x[0]); }},
    {"min axis -1 keepdim", {real({2, 3, 4})},
     [](SgIn x) { return sg::amin(x[0], {-1}, true); }, [](ThIn x) { return torch::amin(x[0], {-1}, true); }},
    {"var all, unbiased", {real({2, 3, 4})}, [](SgIn x) { return sg::var(x[0]); }, [](ThIn x) { return torch::var(x[0]); }},
    {"var axis 1, unbiased", {real({3, 5})},
     [](SgIn x) { return sg::var(x[0], {1}); }, [](ThIn x) { return torch::var(x[0], {1}, true, false); }},
    {"var axes {0, 2}, biased, keepdim", {real({2, 3, 4})},
     [](SgIn x) { return x[0].var({0, 2}, false, true); }, [](ThIn x) { return torch::var(x[0], torch::IntArrayRef{0, 2}, false, true); }},
    {"argmax all", {real({3, 4})},
     [](SgIn x) { return sg::argmax(x[0]); }, [](ThIn x) { return torch::argmax(x[0]).to(torch::kFloat); }},
    {"argmax axis 0 keepdim", {real({3, 4})},
     [](SgIn x) { return x[0].argmax(0, true); }, [](ThIn x) { return torch::argmax(x[0], 0, true).to(torch::kFloat); }},
    {"argmin axis -1", {real({2, 3, 4})},
     [](SgIn x) { return sg::argmin(x[0], -1); }, [](ThIn x) { return torch::argmin(x[0], -1).to(torch::kFloat); }},
};

TEST_CASE("elementwise arithmetic with broadcasting and scalars matches LibTorch", "[chapter02][torch]") {
    check_all(arithmetic);
}

TEST_CASE("pow with scalar and tensor exponents matches LibTorch", "[chapter02][torch]") {
    check_all(powers);
}

TEST_CASE("unary functions, activations, clamp, maximum/minimum and where match LibTorch", "[chapter02][torch]") {
    check_all(unary);
}

TEST_CASE("gradients at ties, zeros and clamp bounds follow LibTorch's conventions", "[chapter02][torch]") {
    check_all(at_kinks);
}

TEST_CASE("comparisons match LibTorch and carry no gradient", "[chapter02][torch]") {
    check_all(comparisons);
}

TEST_CASE("sum, mean, max, min, var and argmax over axes match LibTorch", "[chapter02][torch]") {
    check_all(reductions);
}

}  // namespace
}  // namespace torchref
