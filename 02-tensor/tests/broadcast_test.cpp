// Broadcasting and sum_to (exercise 02.1), and the gradients of broadcast binary ops.
#include "test_helpers.hpp"

using namespace stepgrad;
using namespace stepgrad::testing;

TEST_CASE("broadcast_shapes aligns at the last axis and stretches size 1", "[chapter02][broadcast]") {
    CHECK(broadcast_shapes("add", {64, 128}, {128}) == Shape{64, 128});
    CHECK(broadcast_shapes("add", {2, 1, 4}, {3, 1}) == Shape{2, 3, 4});
    CHECK(broadcast_shapes("add", {}, {2, 3}) == Shape{2, 3});
    CHECK(broadcast_shapes("add", {0, 3}, {1, 3}) == Shape{0, 3});
}

TEST_CASE("a shape mismatch names the operation and both shapes", "[chapter02][broadcast]") {
    const Tensor a = zeros({2, 3});
    const Tensor b = zeros({4});
    try {
        (void)(a + b);
        FAIL("expected std::invalid_argument");
    } catch (const std::invalid_argument& error) {
        const std::string message = error.what();
        CHECK(message.find("add") != std::string::npos);
        CHECK(message.find("[2, 3]") != std::string::npos);
        CHECK(message.find("[4]") != std::string::npos);
    }
    CHECK_THROWS_AS(mul(a, zeros({3, 3})), std::invalid_argument);
    CHECK_THROWS_WITH(matmul(a, zeros({2, 3})), Catch::Contains("matmul") && Catch::Contains("[2, 3]"));
}

TEST_CASE("sum_to sums the leading axes that broadcasting added", "[chapter02][ex-02.1]") {
    const Tensor grad = ones({64, 128});
    check_tensor(sum_to(grad, {128}), {128}, std::vector<float>(128, 64.0f));
    const Tensor g = arange(24).reshape({2, 3, 4});
    // Summing (2, 3, 4) over axis 0 gives element (j, k) = g[0, j, k] + g[1, j, k] = 2 (4j + k) + 12.
    std::vector<float> expected;
    for (int j = 0; j < 3; ++j)
        for (int k = 0; k < 4; ++k) expected.push_back(static_cast<float>(2 * (4 * j + k) + 12));
    check_tensor(sum_to(g, {3, 4}), {3, 4}, expected);
    check_tensor(sum_to(g, {}), {}, {276.0f});
}

TEST_CASE("sum_to sums, keeping them, the axes where the shape had 1", "[chapter02][ex-02.1]") {
    const Tensor g = arange(24).reshape({2, 3, 4});
    check_tensor(sum_to(g, {2, 1, 4}), {2, 1, 4},
                 {12, 15, 18, 21, 48, 51, 54, 57});
    check_tensor(sum_to(g, {3, 1}), {3, 1}, {60, 92, 124});
    check_tensor(sum_to(g, {1, 1, 1}), {1, 1, 1}, {276});
    CHECK(sum_to(g, {2, 3, 4}).impl() == g.impl());  // nothing to do
    CHECK_THROWS_AS(sum_to(g, {5}), std::invalid_argument);
}

TEST_CASE("gradients of broadcast add and mul are summed to each input's shape", "[chapter02][ex-02.1]") {
    Tensor a = random_input({4, 1, 3}, 1);
    Tensor b = random_input({5, 1}, 2);
    Tensor c = a * b + b;  // (4, 5, 3)
    c.backward(ones({4, 5, 3}));  // the gradient of c.sum(), without needing sum's own rule
    REQUIRE(a.grad().shape() == Shape{4, 1, 3});
    REQUIRE(b.grad().shape() == Shape{5, 1});
    // d/da Σ a b = Σ over the broadcast axis of b; d/db = Σ a + count
    check_same(a.grad(), b.sum().detach() * ones({4, 1, 3}), 1e-4);
    check_same(b.grad(), (a.sum().detach() + 12.0) * ones({5, 1}), 1e-4);
    CHECK(gradcheck(binary_fn([](const Tensor& x, const Tensor& y) { return x * y - y / 2.0; }), {a, b}));
}

TEST_CASE("gradcheck of broadcast binary ops over size-1 and empty axes", "[chapter02][ex-02.1]") {
    const std::vector<std::pair<Shape, Shape>> cases = {
        {{3, 4}, {4}}, {{3, 1}, {1, 4}}, {{}, {2, 3}}, {{2, 1, 3}, {4, 1}}, {{0, 3}, {3}}, {{2, 0}, {1}}};
    for (const auto& [sa, sb] : cases) {
        INFO(shape_to_string(sa) << " and " << shape_to_string(sb));
        Tensor a = random_input(sa, 5);
        Tensor b = random_positive(sb, 0.5, 2.0, 6);
        CHECK(gradcheck(binary_fn([](const Tensor& x, const Tensor& y) { return x + y; }), {a, b}));
        CHECK(gradcheck(binary_fn([](const Tensor& x, const Tensor& y) { return x - y; }), {a, b}));
        CHECK(gradcheck(binary_fn([](const Tensor& x, const Tensor& y) { return x * y; }), {a, b}));
        CHECK(gradcheck(binary_fn([](const Tensor& x, const Tensor& y) { return x / y; }), {a, b}));
    }
}
