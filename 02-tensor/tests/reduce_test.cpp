// Reductions over axes with keepdim (exercise 02.3), max/min/var/argmax.
#include "test_helpers.hpp"

#include <cmath>

using namespace stepgrad;
using namespace stepgrad::testing;

namespace {
const Tensor& cube() {
    static const Tensor t = arange(24).reshape({2, 3, 4});
    return t;
}
}  // namespace

TEST_CASE("sum over any set of axes, with and without keepdim", "[chapter02][reduce]") {
    const Tensor m = tensor({{1, 2}, {3, 4}});
    check_tensor(sum(m, {0}), {2}, {4, 6});
    check_tensor(m.sum({1}), {2}, {3, 7});
    check_tensor(m.sum({-1}, true), {2, 1}, {3, 7});
    check_tensor(m.sum(), {}, {10});
    check_tensor(m.sum({0, 1}, true), {1, 1}, {10});
    check_tensor(cube().sum({0, 2}), {3}, {60, 92, 124});
    check_tensor(cube().sum({1}, true), {2, 1, 4}, {12, 15, 18, 21, 48, 51, 54, 57});
    check_tensor(sum(zeros({0, 3}), {0}), {3}, {0, 0, 0});
    check_tensor(sum(zeros({2, 0})), {}, {0});
    CHECK_THROWS_AS(m.sum({2}), std::invalid_argument);
    CHECK_THROWS_AS(m.sum({0, 0}), std::invalid_argument);
}

TEST_CASE("mean, max, min and var over axes", "[chapter02][reduce]") {
    const Tensor m = tensor({{1, 5, 3}, {4, 2, 6}});
    check_tensor(mean(m, {1}), {2}, {3, 4});
    check_tensor(m.mean(), {}, {3.5});
    check_tensor(max(m, {0}), {3}, {4, 5, 6});
    check_tensor(m.max({1}, true), {2, 1}, {5, 6});
    check_tensor(m.max(), {}, {6});
    check_tensor(min(m, {1}), {2}, {1, 2});
    check_tensor(amin(m, {0, 1}), {}, {1});
    check_tensor(amax(m, {0}), {3}, {4, 5, 6});
    check_tensor(var(tensor({1, 2, 3, 4})), {}, {5.0f / 3.0f});
    check_tensor(var(tensor({1, 2, 3, 4}), {}, /*unbiased=*/false), {}, {1.25});
    check_tensor(m.var({1}, true, true), {2, 1}, {4, 4});
    CHECK(std::isnan(max(tensor({1, std::nan(""), 3})).item()));
    CHECK_THROWS_WITH(max(zeros({0, 2}), {0}), Catch::Contains("size 0"));
    CHECK(std::isnan(mean(zeros({0})).item()));
}

TEST_CASE("argmax and argmin along an axis and overall", "[chapter02][reduce]") {
    const Tensor m = tensor({{1, 5, 5}, {7, 2, 0}});
    check_tensor(argmax(m, 1), {2}, {1, 0});  // the first of equal maxima
    check_tensor(m.argmax(0), {3}, {1, 0, 0});
    check_tensor(m.argmax(), {}, {3});
    check_tensor(m.argmax(1, true), {2, 1}, {1, 0});
    check_tensor(argmin(m, 1), {2}, {0, 2});
    check_tensor(m.argmin(), {}, {5});
    CHECK_FALSE(argmax(m.detach().requires_grad_(), 1).requires_grad());
    CHECK_THROWS_AS(argmax(zeros({0})), std::invalid_argument);
}

TEST_CASE("the gradient of sum spreads the output gradient over the reduced axes", "[chapter02][ex-02.3]") {
    Tensor x = arange(6).reshape({2, 3}).requires_grad_();
    sum(x, {1}).backward(tensor({1, 10}));
    check_tensor(x.grad(), {2, 3}, {1, 1, 1, 10, 10, 10});
    x.set_grad(Tensor());
    sum(x, {0}, /*keepdim=*/true).backward(tensor({{1, 2, 3}}));
    check_tensor(x.grad(), {2, 3}, {1, 2, 3, 1, 2, 3});
    x.set_grad(Tensor());
    x.sum().backward();
    check_tensor(x.grad(), {2, 3}, {1, 1, 1, 1, 1, 1});
}

TEST_CASE("gradcheck of sum and mean over axes with keepdim", "[chapter02][ex-02.3]") {
    const Tensor x = random_input({2, 3, 4}, 41);
    for (const std::vector<std::int64_t>& axes : std::vector<std::vector<std::int64_t>>{{}, {0}, {1}, {-1}, {0, 2}, {0, 1, 2}}) {
        for (bool keepdim : {false, true}) {
            INFO("axes " << shape_to_string(axes) << " keepdim " << keepdim);
            CHECK(gradcheck(unary_fn([&](const Tensor& t) { return sum(t, axes, keepdim); }), {x}));
            CHECK(gradcheck(unary_fn([&](const Tensor& t) { return mean(t, axes, keepdim) * 3.0; }), {x}));
        }
    }
    CHECK(gradcheck(unary_fn([](const Tensor& t) { return sum(t, {0}); }), {random_input({0, 3})}));
}

TEST_CASE("the gradient of mean is the sum's divided by the count", "[chapter02][ex-02.3]") {
    Tensor x = zeros({2, 4}).requires_grad_();
    mean(x, {1}, true).backward(tensor({{4}, {8}}));
    check_tensor(x.grad(), {2, 4}, {1, 1, 1, 1, 2, 2, 2, 2});
}

TEST_CASE("gradcheck of max, min and var", "[chapter02][reduce][gradcheck]") {
    const Tensor x = random_input({3, 4, 2}, 42);
    for (const std::vector<std::int64_t>& axes : std::vector<std::vector<std::int64_t>>{{}, {1}, {0, 2}}) {
        for (bool keepdim : {false, true}) {
            CHECK(gradcheck(unary_fn([&](const Tensor& t) { return max(t, axes, keepdim); }), {x}));
            CHECK(gradcheck(unary_fn([&](const Tensor& t) { return min(t, axes, keepdim); }), {x}));
            CHECK(gradcheck(unary_fn([&](const Tensor& t) { return var(t, axes, true, keepdim); }), {x}));
        }
    }
    // Ties share the gradient.
    Tensor t = tensor({3, 1, 3}).requires_grad_();
    max(t).backward();
    check_tensor(t.grad(), {3}, {0.5, 0, 0.5});
}
