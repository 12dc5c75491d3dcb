// Softmax and log-softmax (exercise 02.4): values, stability and gradients.
#include "test_helpers.hpp"

#include <cmath>

using namespace stepgrad;
using namespace stepgrad::testing;

TEST_CASE("softmax values sum to one along the axis", "[chapter02][softmax]") {
    check_tensor(softmax(tensor({{1, 2, 3}}), 1), {1, 3}, {0.0900306f, 0.2447285f, 0.6652410f});
    const Tensor p = softmax(random_input({4, 7}, 81), 1);
    check_tensor(p.sum({1}), {4}, {1, 1, 1, 1});
    check_tensor(softmax(tensor({1000, 0}), 0), {2}, {1, 0});  // stable
    check_tensor(tensor({{0, 0}, {0, 0}}).softmax(0), {2, 2}, {0.5, 0.5, 0.5, 0.5});
    CHECK(gradcheck(unary_fn([](const Tensor& t) { return softmax(t, 1); }), {random_input({3, 5}, 82)}));
    CHECK(gradcheck(unary_fn([](const Tensor& t) { return softmax(t, 0); }), {random_input({3, 2, 2}, 83)}));
    CHECK_THROWS_AS(softmax(scalar_tensor(1), 0), std::invalid_argument);
}

TEST_CASE("log_softmax is x minus log-sum-exp, stable for large inputs", "[chapter02][ex-02.4]") {
    const float lse = std::log(std::exp(1.0f) + std::exp(2.0f) + std::exp(3.0f));
    check_tensor(log_softmax(tensor({{1, 2, 3}}), 1), {1, 3}, {1 - lse, 2 - lse, 3 - lse});
    check_tensor(log_softmax(tensor({1000, 0}), 0), {2}, {0, -1000});
    check_tensor(tensor({{-1000}, {1000}}).log_softmax(0), {2, 1}, {-2000, 0});
    const Tensor x = random_input({5, 6}, 84);
    check_same(log_softmax(x, -1).exp(), softmax(x, -1), 1e-6);
}

TEST_CASE("the gradient of log_softmax is g - softmax * sum(g)", "[chapter02][ex-02.4]") {
    Tensor x = tensor({{1, 2, 3}}).requires_grad_();
    log_softmax(x, 1).backward(tensor({{1, 0, 0}}));
    const Tensor p = softmax(tensor({{1, 2, 3}}), 1);
    check_same(x.grad(), tensor({{1, 0, 0}}) - p, 1e-6);
    CHECK(x.grad().requires_grad() == false);
}

TEST_CASE("gradcheck of log_softmax along every axis", "[chapter02][ex-02.4]") {
    const Tensor x = random_input({3, 4, 2}, 85);
    for (std::int64_t axis : {0, 1, 2, -1}) {
        INFO("axis " << axis);
        CHECK(gradcheck(unary_fn([axis](const Tensor& t) { return log_softmax(t, axis); }), {x}));
    }
    CHECK(gradcheck(unary_fn([](const Tensor& t) { return log_softmax(t * 100.0, 1); }), {random_input({2, 3}, 86)},
                    GradcheckOptions{1e-4, 1e-2, 1e-2, true}));
}
