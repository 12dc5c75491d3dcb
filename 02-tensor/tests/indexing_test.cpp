// Slicing and integer-array indexing with their gradients.
#include "test_helpers.hpp"

using namespace stepgrad;
using namespace stepgrad::testing;

TEST_CASE("slice follows Python's start:end:step", "[chapter02][indexing]") {
    const Tensor x = arange(10);
    check_tensor(slice(x, 0, 2, 8, 3), {2}, {2, 5});
    check_tensor(x.slice(0, -3, std::nullopt), {3}, {7, 8, 9});
    check_tensor(x.slice(0, std::nullopt, 2), {2}, {0, 1});
    check_tensor(x.slice(0, 5, 100), {5}, {5, 6, 7, 8, 9});
    check_tensor(x.slice(0, 6, 2), {0}, {});
    const Tensor m = arange(12).reshape({3, 4});
    check_tensor(slice(m, 1, 1, 3), {3, 2}, {1, 2, 5, 6, 9, 10});
    check_tensor(slice(m, 0, 0, std::nullopt, 2), {2, 4}, {0, 1, 2, 3, 8, 9, 10, 11});
    check_tensor(narrow(m, 1, 2, 2), {3, 2}, {2, 3, 6, 7, 10, 11});
    check_tensor(m.select(1, -1), {3}, {3, 7, 11});
    check_tensor(m[1], {4}, {4, 5, 6, 7});
    CHECK_THROWS_AS(m.select(0, 3), std::invalid_argument);
    CHECK_THROWS_AS(slice(m, 0, 0, 2, 0), std::invalid_argument);
}

TEST_CASE("integer-array indexing, index_select and gather", "[chapter02][indexing]") {
    const Tensor m = arange(12).reshape({3, 4});
    check_tensor(index_select(m, 0, indices({2, 0, 2})), {3, 4}, {8, 9, 10, 11, 0, 1, 2, 3, 8, 9, 10, 11});
    check_tensor(m.index_select(1, indices({-1, 1})), {3, 2}, {3, 1, 7, 5, 11, 9});
    check_tensor(m.index(indices({{1}, {0}})), {2, 1, 4}, {4, 5, 6, 7, 0, 1, 2, 3});
    check_tensor(index(arange(5) * 2.0, indices({4, 4, 1})), {3}, {8, 8, 2});
    check_tensor(gather(m, 1, indices({{0}, {3}, {1}})), {3, 1}, {0, 7, 9});
    check_tensor(m.gather(0, indices({{2, 1, 0, 0}})), {1, 4}, {8, 5, 2, 3});
    check_tensor(index_select(m, 0, zeros({0}, TensorOptions().dtype(Dtype::Int64))), {0, 4}, {});
    CHECK_THROWS_WITH(index_select(m, 0, indices({3})).to_vector(), Catch::Contains("out of range"));
    CHECK_THROWS_WITH(index_select(m, 0, tensor({0.5})), Catch::Contains("Int64"));
    CHECK_THROWS_AS(index_select(m, 0, tensor({1.0})), std::invalid_argument);  // float indices are refused
    CHECK_THROWS_AS(gather(m, 1, indices({{0}, {1}})), std::invalid_argument);
}

TEST_CASE("indexing gradients add up repeated indices", "[chapter02][indexing]") {
    Tensor x = arange(4).requires_grad_();
    index_select(x, 0, indices({1, 1, 3})).sum().backward();
    check_tensor(x.grad(), {4}, {0, 2, 0, 1});
    Tensor m = zeros({2, 3}).requires_grad_();
    gather(m, 1, indices({{2, 2}, {0, 1}})).backward(tensor({{1, 2}, {3, 4}}));
    check_tensor(m.grad(), {2, 3}, {0, 0, 3, 3, 4, 0});
}

TEST_CASE("gradcheck of slicing and indexing", "[chapter02][indexing][gradcheck]") {
    const Tensor x = random_input({4, 5}, 71);
    CHECK(gradcheck(unary_fn([](const Tensor& t) { return slice(t, 1, 1, 5, 2) * 2.0; }), {x}));
    CHECK(gradcheck(unary_fn([](const Tensor& t) { return t.select(0, -2); }), {x}));
    CHECK(gradcheck(unary_fn([](const Tensor& t) { return t.slice(0, 3, 1); }), {x}));
    CHECK(gradcheck(unary_fn([](const Tensor& t) { return t.index_select(1, indices({4, 0, 4})).exp(); }), {x}));
    CHECK(gradcheck(unary_fn([](const Tensor& t) { return t.index(indices({{3, 1}, {1, 1}})); }), {x}));
    CHECK(gradcheck(unary_fn([](const Tensor& t) { return t.t().gather(1, indices({{0}, {3}, {3}, {1}, {2}})); }), {x}));
}
