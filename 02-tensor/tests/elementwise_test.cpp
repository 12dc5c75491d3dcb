// Elementwise operations: forward values against hand-computed cases, gradients by gradcheck.
#include "test_helpers.hpp"

#include <cmath>

using namespace stepgrad;
using namespace stepgrad::testing;

TEST_CASE("arithmetic with broadcasting and scalars on either side", "[chapter02][elementwise]") {
    const Tensor a = tensor({{1, 2, 3}, {4, 5, 6}});
    const Tensor b = tensor({10, 20, 30});
    check_tensor(a + b, {2, 3}, {11, 22, 33, 14, 25, 36});
    check_tensor(a - b, {2, 3}, {-9, -18, -27, -6, -15, -24});
    check_tensor(a * b, {2, 3}, {10, 40, 90, 40, 100, 180});
    check_tensor(b / a, {2, 3}, {10, 10, 10, 2.5, 4, 5});
    check_tensor(a + 1.0, {2, 3}, {2, 3, 4, 5, 6, 7});
    check_tensor(1.0 + a, {2, 3}, {2, 3, 4, 5, 6, 7});
    check_tensor(a - 1.0, {2, 3}, {0, 1, 2, 3, 4, 5});
    check_tensor(1.0 - a, {2, 3}, {0, -1, -2, -3, -4, -5});
    check_tensor(a * 2.0, {2, 3}, {2, 4, 6, 8, 10, 12});
    check_tensor(2.0 * a, {2, 3}, {2, 4, 6, 8, 10, 12});
    check_tensor(a / 2.0, {2, 3}, {0.5, 1, 1.5, 2, 2.5, 3});
    check_tensor(6.0 / a, {2, 3}, {6, 3, 2, 1.5, 1.2, 1});
    check_tensor(-a, {2, 3}, {-1, -2, -3, -4, -5, -6});
    check_tensor(tensor({{1}, {2}}) * tensor({3, 4}), {2, 2}, {3, 4, 6, 8});
    check_tensor(add(zeros({0, 3}), b), {0, 3}, {});
}

TEST_CASE("powers, exponentials and roots", "[chapter02][elementwise]") {
    const Tensor x = tensor({1, 2, 4});
    check_tensor(pow(x, 2.0), {3}, {1, 4, 16});
    check_tensor(x.pow(0.5), {3}, {1, std::sqrt(2.0f), 2});
    check_tensor(pow(x, tensor({3, 2, 0.5})), {3}, {1, 4, 2});
    check_tensor(pow(2.0, x), {3}, {2, 4, 16});
    check_tensor(exp(tensor({0, 1})), {2}, {1, std::exp(1.0f)});
    check_tensor(log(tensor({1, std::exp(2.0f)})), {2}, {0, 2});
    check_tensor(sqrt(tensor({9, 0.25})), {2}, {3, 0.5});
    check_tensor(abs(tensor({-2, 0, 3})), {3}, {2, 0, 3});
    CHECK(std::isnan(log(tensor({-1})).item()));
    CHECK(std::isinf(log(tensor({0})).item()));
}

TEST_CASE("activations", "[chapter02][elementwise]") {
    const Tensor x = tensor({-2, 0, 3});
    check_tensor(relu(x), {3}, {0, 0, 3});
    check_tensor(leaky_relu(x, 0.1), {3}, {-0.2f, 0, 3});
    check_tensor(sigmoid(tensor({0, 100, -100})), {3}, {0.5, 1, 0});
    check_tensor(sigmoid(tensor({1})), {1}, {1.0f / (1.0f + std::exp(-1.0f))});
    check_tensor(tanh(tensor({0, 1})), {2}, {0, std::tanh(1.0f)});
    // gelu(x) = x Φ(x): Φ(1) = 0.841345, Φ(-1) = 0.158655
    check_tensor(gelu(tensor({-1, 0, 1})), {3}, {-0.158655f, 0, 0.841345f});
    check_tensor(clamp(x, -1.0, 1.0), {3}, {-1, 0, 1});
    check_tensor(clamp(x, std::nullopt, 1.0), {3}, {-2, 0, 1});
    check_tensor(x.clamp(0.0, std::nullopt), {3}, {0, 0, 3});
}

TEST_CASE("comparisons, where, maximum and minimum", "[chapter02][elementwise]") {
    const Tensor a = tensor({1, 5, 3});
    const Tensor b = tensor({2, 5, 1});
    check_tensor(gt(a, b), {3}, {0, 0, 1});
    check_tensor(a >= b, {3}, {0, 1, 1});
    check_tensor(a < b, {3}, {1, 0, 0});
    check_tensor(le(a, b), {3}, {1, 1, 0});
    check_tensor(eq(a, b), {3}, {0, 1, 0});
    check_tensor(ne(a, b), {3}, {1, 0, 1});
    check_tensor(a > 2.0, {3}, {0, 1, 1});
    check_tensor(a <= 3.0, {3}, {1, 0, 1});
    check_tensor(a < 3.0, {3}, {1, 0, 0});
    check_tensor(a >= 3.0, {3}, {0, 1, 1});
    CHECK_FALSE(gt(a.detach().requires_grad_(), b).requires_grad());
    check_tensor(where(a > 2.0, a, b), {3}, {2, 5, 3});
    check_tensor(where(a > 2.0, a, 0.0), {3}, {0, 5, 3});
    check_tensor(where(tensor({{1}, {0}}), 7.0, b), {2, 3}, {7, 7, 7, 2, 5, 1});
    check_tensor(maximum(a, b), {3}, {2, 5, 3});
    check_tensor(minimum(a, tensor({2})), {3}, {1, 2, 2});
}

TEST_CASE("gradcheck of unary functions on random shapes", "[chapter02][elementwise][gradcheck]") {
    const std::vector<Shape> shapes = {{5}, {3, 4}, {2, 1, 3}, {}, {0, 2}};
    for (const Shape& shape : shapes) {
        INFO("shape " << shape_to_string(shape));
        const Tensor x = random_input(shape, 11);
        const Tensor positive = random_positive(shape, 0.5, 2.0, 12);
        const Tensor off_zero = random_away_from(shape, 0.0f, 0.1f, 13);
        CHECK(gradcheck(unary_fn([](const Tensor& t) { return neg(t); }), {x}));
        CHECK(gradcheck(unary_fn([](const Tensor& t) { return exp(t); }), {x}));
        CHECK(gradcheck(unary_fn([](const Tensor& t) { return sigmoid(t); }), {x}));
        CHECK(gradcheck(unary_fn([](const Tensor& t) { return tanh(t); }), {x}));
        CHECK(gradcheck(unary_fn([](const Tensor& t) { return gelu(t); }), {x}));
        CHECK(gradcheck(unary_fn([](const Tensor& t) { return log(t); }), {positive}));
        CHECK(gradcheck(unary_fn([](const Tensor& t) { return sqrt(t); }), {positive}));
        CHECK(gradcheck(unary_fn([](const Tensor& t) { return pow(t, 3.0); }), {x}));
        CHECK(gradcheck(unary_fn([](const Tensor& t) { return pow(t, -1.5); }), {positive}));
        CHECK(gradcheck(unary_fn([](const Tensor& t) { return pow(1.7, t); }), {x}));
        CHECK(gradcheck(unary_fn([](const Tensor& t) { return abs(t); }), {off_zero}));
        CHECK(gradcheck(unary_fn([](const Tensor& t) { return relu(t); }), {off_zero}));
        CHECK(gradcheck(unary_fn([](const Tensor& t) { return leaky_relu(t, 0.2); }), {off_zero}));
        CHECK(gradcheck(unary_fn([](const Tensor& t) { return 3.0 - t * 2.0 + 1.0; }), {x}));
        CHECK(gradcheck(unary_fn([](const Tensor& t) { return 2.0 / t - t / 4.0; }), {positive}));
    }
}

TEST_CASE("gradient values of the kinked functions", "[chapter02][elementwise]") {
    Tensor x = tensor({-2, -0.5, 0.5, 2}).requires_grad_();
    clamp(x, -1.0, 1.0).sum().backward();
    check_tensor(x.grad(), {4}, {0, 1, 1, 0});
    x.set_grad(Tensor());
    relu(x).sum().backward();
    check_tensor(x.grad(), {4}, {0, 0, 1, 1});
    x.set_grad(Tensor());
    abs(x).sum().backward();
    check_tensor(x.grad(), {4}, {-1, -1, 1, 1});
    Tensor zero = tensor({0}).requires_grad_();
    relu(zero).sum().backward();
    check_tensor(zero.grad(), {1}, {0});  // PyTorch's choice at the kink
}

TEST_CASE("gradcheck of binary functions, where, maximum and clamp", "[chapter02][elementwise][gradcheck]") {
    const Tensor a = random_positive({3, 4}, 0.5, 2.0, 21);
    const Tensor b = random_input({4}, 22);
    const Tensor exponent = random_input({3, 1}, 23);
    CHECK(gradcheck(binary_fn([](const Tensor& x, const Tensor& y) { return pow(x, y); }), {a, exponent}));
    CHECK(gradcheck(binary_fn([](const Tensor& x, const Tensor& y) { return maximum(x, y); }), {a, b}));
    CHECK(gradcheck(binary_fn([](const Tensor& x, const Tensor& y) { return minimum(x, y); }), {a, b}));
    CHECK(gradcheck(binary_fn([](const Tensor& x, const Tensor& y) { return where(x > 1.0, x * 2.0, y); }), {a, b}));
    const Tensor off_edges = random_away_from({3, 4}, 0.5f, 0.1f, 24);
    CHECK(gradcheck(unary_fn([](const Tensor& x) { return clamp(x, -1.0, 0.5); }), {off_edges}));
    // Ties split the gradient evenly, as in PyTorch.
    Tensor p = tensor({1, 2}).requires_grad_();
    Tensor q = tensor({1, 1}).requires_grad_();
    maximum(p, q).sum().backward();
    check_tensor(p.grad(), {2}, {0.5, 1});
    check_tensor(q.grad(), {2}, {0.5, 0});
}

TEST_CASE("gradcheck with non-contiguous inputs", "[chapter02][elementwise][gradcheck][cpu-only]") {
    // An xtensor transpose goes in through the constructor; a transposed tensor feeds an op.
    xt::xarray<float> base = {{0.3f, -1.2f, 0.7f}, {1.5f, 0.1f, -0.4f}};
    const Tensor from_view = Tensor(xt::transpose(base)).requires_grad_();
    const Tensor other = random_input({2, 3}, 31);
    CHECK(gradcheck(binary_fn([](const Tensor& x, const Tensor& y) { return x.t() * y + y.t().exp().t(); }),
                    {from_view, other}));
    const Tensor cube = random_input({2, 3, 4}, 32);
    CHECK(gradcheck(unary_fn([](const Tensor& x) { return tanh(x.permute({2, 0, 1})) * x.transpose(0, 2).transpose(1, 2); }),
                    {cube}));
}
