// Shape operations: values and gradients.
#include "test_helpers.hpp"

using namespace stepgrad;
using namespace stepgrad::testing;

TEST_CASE("reshape, view and flatten keep the elements in order", "[chapter02][shape]") {
    const Tensor x = arange(6);
    check_tensor(reshape(x, {2, 3}), {2, 3}, {0, 1, 2, 3, 4, 5});
    check_tensor(x.view({3, -1}), {3, 2}, {0, 1, 2, 3, 4, 5});
    check_tensor(x.reshape({1, 2, 3}).flatten(), {6}, {0, 1, 2, 3, 4, 5});
    CHECK(zeros({4, 1, 2, 3}).flatten(1).shape() == Shape{4, 6});
    CHECK(zeros({4, 2, 3, 5}).flatten(1, 2).shape() == Shape{4, 6, 5});
    CHECK(scalar_tensor(2).flatten().shape() == Shape{1});
    CHECK(zeros({0, 3}).reshape({3, -1, 1}).shape() == Shape{3, 0, 1});
    CHECK_THROWS_WITH(x.reshape({4, 2}), Catch::Contains("reshape") && Catch::Contains("[4, 2]") && Catch::Contains("[6]"));
    CHECK_THROWS_AS(x.reshape({-1, -1}), std::invalid_argument);
}

TEST_CASE("transpose, permute, unsqueeze and squeeze", "[chapter02][shape]") {
    const Tensor m = tensor({{1, 2, 3}, {4, 5, 6}});
    check_tensor(m.t(), {3, 2}, {1, 4, 2, 5, 3, 6});
    check_tensor(transpose(m, 0, -1), {3, 2}, {1, 4, 2, 5, 3, 6});
    const Tensor c = arange(24).reshape({2, 3, 4});
    const Tensor p = permute(c, {2, 0, 1});
    REQUIRE(p.shape() == Shape{4, 2, 3});
    // p[k, i, j] = c[i, j, k] = 12 i + 4 j + k
    CHECK(p.select(0, 3).select(0, 1).select(0, 2).item() == 12 + 8 + 3);
    check_same(p.permute({1, 2, 0}), c, 0.0);
    CHECK(unsqueeze(m, 0).shape() == Shape{1, 2, 3});
    CHECK(m.unsqueeze(-1).shape() == Shape{2, 3, 1});
    CHECK(zeros({1, 2, 1}).squeeze().shape() == Shape{2});
    CHECK(zeros({1, 2, 1}).squeeze(-1).shape() == Shape{1, 2});
    CHECK(zeros({1, 2, 1}).squeeze(1).shape() == Shape{1, 2, 1});
    CHECK_THROWS_AS(permute(c, {0, 0, 1}), std::invalid_argument);
    CHECK_THROWS_AS(permute(c, {0, 1}), std::invalid_argument);
    CHECK_THROWS_AS(m.t().unsqueeze(3), std::invalid_argument);
    CHECK_THROWS_AS(c.t(), std::invalid_argument);
}

TEST_CASE("expand copies along size-1 and new axes", "[chapter02][shape]") {
    check_tensor(expand(tensor({1, 2}), {3, 2}), {3, 2}, {1, 2, 1, 2, 1, 2});
    check_tensor(tensor({{1}, {2}}).expand({-1, 3}), {2, 3}, {1, 1, 1, 2, 2, 2});
    check_tensor(broadcast_to(scalar_tensor(5), {2}), {2}, {5, 5});
    CHECK_THROWS_AS(expand(tensor({1, 2}), {3, 3}), std::invalid_argument);
    CHECK_THROWS_AS(expand(zeros({2, 2}), {2}), std::invalid_argument);
}

TEST_CASE("cat, stack and pad", "[chapter02][shape]") {
    const Tensor a = tensor({{1, 2}});
    const Tensor b = tensor({{3, 4}, {5, 6}});
    check_tensor(cat({a, b}), {3, 2}, {1, 2, 3, 4, 5, 6});
    check_tensor(cat({b, b.t()}, 1), {2, 4}, {3, 4, 3, 5, 5, 6, 4, 6});
    check_tensor(cat({a, zeros({0, 2}), a}, 0), {2, 2}, {1, 2, 1, 2});
    check_tensor(stack({tensor({1, 2}), tensor({3, 4})}), {2, 2}, {1, 2, 3, 4});
    check_tensor(stack({tensor({1, 2}), tensor({3, 4})}, 1), {2, 2}, {1, 3, 2, 4});
    CHECK_THROWS_AS(cat({a, zeros({2, 3})}), std::invalid_argument);
    CHECK_THROWS_AS(cat({}), std::invalid_argument);
    CHECK_THROWS_AS(stack({a, b}), std::invalid_argument);
    check_tensor(pad(a, {1, 2}), {1, 5}, {0, 1, 2, 0, 0});
    check_tensor(pad(a, {0, 0, 1, 0}, -1.0), {2, 2}, {-1, -1, 1, 2});
    check_tensor(pad(tensor({1}), {1, 1}, 9.0), {3}, {9, 1, 9});
    CHECK_THROWS_AS(pad(a, {1}), std::invalid_argument);
    CHECK_THROWS_AS(pad(a, {-1, 0}), std::invalid_argument);
}

TEST_CASE("gradcheck of the shape operations", "[chapter02][shape][gradcheck]") {
    const Tensor x = random_input({2, 3, 4}, 61);
    const Tensor y = random_input({2, 1, 4}, 62);
    CHECK(gradcheck(unary_fn([](const Tensor& t) { return t.reshape({4, -1}) * 2.0; }), {x}));
    CHECK(gradcheck(unary_fn([](const Tensor& t) { return t.flatten(1); }), {x}));
    CHECK(gradcheck(unary_fn([](const Tensor& t) { return t.transpose(0, 2); }), {x}));
    CHECK(gradcheck(unary_fn([](const Tensor& t) { return t.permute({1, 2, 0}).exp(); }), {x}));
    CHECK(gradcheck(unary_fn([](const Tensor& t) { return t.unsqueeze(1).squeeze(); }), {x}));
    CHECK(gradcheck(unary_fn([](const Tensor& t) { return t.expand({3, 2, 5, 4}); }), {y}));
    CHECK(gradcheck(binary_fn([](const Tensor& s, const Tensor& t) { return cat({s, t, s}, 1); }), {x, y}));
    CHECK(gradcheck(binary_fn([](const Tensor& s, const Tensor& t) { return stack({s.sum({1}), t.squeeze(1)}, 2); }),
                    {x, y}));
    CHECK(gradcheck(unary_fn([](const Tensor& t) { return pad(t, {1, 0, 2, 1}, 3.0).pow(2.0); }), {x}));
    CHECK(gradcheck(unary_fn([](const Tensor& t) { return t.reshape({0, 5}); }), {random_input({5, 0})}));
}
