// The matrix product: against the plain triple loop, PyTorch's shape rules, gradients (exercise 02.2).
#include "test_helpers.hpp"

using namespace stepgrad;
using namespace stepgrad::testing;

TEST_CASE("matmul of matrices agrees with the hand-computed product and matmul_naive", "[chapter02][matmul]") {
    const Tensor a = tensor({{1, 2, 3}, {4, 5, 6}});
    const Tensor b = tensor({{7, 8}, {9, 10}, {11, 12}});
    check_tensor(matmul(a, b), {2, 2}, {58, 64, 139, 154});
    check_tensor(matmul_naive(a, b), {2, 2}, {58, 64, 139, 154});
    check_tensor(a.matmul(b), {2, 2}, {58, 64, 139, 154});
    check_tensor(mm(a, b), {2, 2}, {58, 64, 139, 154});
    Generator generator(5);
    const Tensor x = randn({33, 70}, generator);
    const Tensor w = randn({70, 17}, generator);
    check_same(matmul(x, w), matmul_naive(x, w), 1e-4);
    CHECK_THROWS_AS(matmul_naive(x, x), std::invalid_argument);
    CHECK_THROWS_AS(mm(tensor({1, 2}), b), std::invalid_argument);
}

TEST_CASE("matmul follows PyTorch's rules for vectors and batches", "[chapter02][matmul]") {
    const Tensor v = tensor({1, 2, 3});
    const Tensor m = tensor({{1, 0}, {0, 1}, {1, 1}});
    check_tensor(matmul(v, v), {}, {14});
    check_tensor(matmul(v, m), {2}, {4, 5});
    check_tensor(matmul(m.t(), v), {2}, {4, 5});
    const Tensor batch = stack({m.t(), m.t() * 2.0});  // (2, 2, 3)
    check_tensor(matmul(batch, v), {2, 2}, {4, 5, 8, 10});
    check_tensor(matmul(v, stack({m, m})), {2, 2}, {4, 5, 4, 5});
    check_tensor(matmul(batch, m), {2, 2, 2}, {2, 1, 1, 2, 4, 2, 2, 4});
    // Batch axes broadcast: (2, 1, 2, 3) @ (3, 3, 2) -> (2, 3, 2, 2).
    Generator generator(6);
    const Tensor a = randn({2, 1, 2, 3}, generator);
    const Tensor b = randn({3, 3, 2}, generator);
    const Tensor c = matmul(a, b);
    REQUIRE(c.shape() == Shape{2, 3, 2, 2});
    for (std::int64_t i = 0; i < 2; ++i) {
        for (std::int64_t j = 0; j < 3; ++j) {
            check_same(c.select(0, i).select(0, j), matmul_naive(a.select(0, i).select(0, 0), b.select(0, j)), 1e-5);
        }
    }
    // Partly broadcast batches: (2, 3, ...) @ (3, ...) and (2, 1, ...) @ (1, 3, ...).
    const Tensor p = randn({2, 3, 2, 4}, generator);
    const Tensor q = randn({3, 4, 2}, generator);
    check_same(matmul(p, q).select(0, 1).select(0, 2), matmul_naive(p.select(0, 1).select(0, 2), q.select(0, 2)), 1e-5);
    check_tensor(matmul(zeros({2, 0}), zeros({0, 3})), {2, 3}, std::vector<float>(6, 0.0f));
    check_tensor(matmul(zeros({0, 4}), zeros({4, 3})), {0, 3}, {});
    CHECK_THROWS_WITH(matmul(zeros({2, 3}), zeros({4, 2})), Catch::Contains("[2, 3]") && Catch::Contains("[4, 2]"));
    CHECK_THROWS_AS(matmul(zeros({2, 2, 3}), zeros({3, 3, 2})), std::invalid_argument);
    CHECK_THROWS_AS(matmul(scalar_tensor(1), v), std::invalid_argument);
}

TEST_CASE("the gradient of a matrix product is the product with the other operand transposed", "[chapter02][ex-02.2]") {
    Tensor a = tensor({{1, 2}, {3, 4}}).requires_grad_();
    Tensor b = tensor({{5, 6}, {7, 8}}).requires_grad_();
    matmul(a, b).backward(tensor({{1, 0}, {0, 1}}));
    check_tensor(a.grad(), {2, 2}, {5, 7, 6, 8});  // G B^T = B^T
    check_tensor(b.grad(), {2, 2}, {1, 3, 2, 4});  // A^T G = A^T
}

TEST_CASE("gradcheck of matmul for matrices, vectors and broadcast batches", "[chapter02][ex-02.2]") {
    const std::vector<std::pair<Shape, Shape>> cases = {
        {{3, 4}, {4, 2}}, {{4}, {4}}, {{4}, {4, 3}}, {{3, 4}, {4}}, {{2, 3, 4}, {4, 5}},
        {{2, 1, 3, 4}, {3, 4, 2}}, {{5, 4}, {2, 4, 3}}, {{2, 3, 4}, {4}}, {{1, 4}, {4, 1}}, {{0, 3}, {3, 2}}};
    for (const auto& [sa, sb] : cases) {
        INFO(shape_to_string(sa) << " @ " << shape_to_string(sb));
        CHECK(gradcheck(binary_fn([](const Tensor& x, const Tensor& y) { return matmul(x, y); }),
                        {random_input(sa, 51), random_input(sb, 52)}));
    }
}

TEST_CASE("gradcheck of the linear layer sigmoid(x @ W^T + b) with transposed inputs", "[chapter02][ex-02.2]") {
    const Tensor x = random_input({6, 5}, 53);
    const Tensor w = random_input({3, 5}, 54);
    const Tensor b = random_input({3}, 55);
    CHECK(gradcheck([](const std::vector<Tensor>& in) { return sigmoid(matmul(in[0], in[1].t()) + in[2]); }, {x, w, b}));
    Tensor constant_input = x.detach();
    CHECK(gradcheck([](const std::vector<Tensor>& in) { return matmul(in[0], in[1].t()); }, {constant_input, w}));
}

TEST_CASE("set_num_threads sets the threads of the matrix products, and the result does not depend on them",
          "[chapter02][matmul][threads]") {
    const int before = stepgrad::get_num_threads();
    stepgrad::Generator generator(4);
    const stepgrad::Tensor a = stepgrad::randn({96, 200}, generator);
    const stepgrad::Tensor b = stepgrad::randn({200, 64}, generator);
    stepgrad::set_num_threads(1);
    CHECK(stepgrad::get_num_threads() == 1);
    const std::vector<float> one_thread = stepgrad::matmul(a, b).to_vector();
    stepgrad::set_num_threads(0);  // at least one
    CHECK(stepgrad::get_num_threads() == 1);
    stepgrad::set_num_threads(2);
    CHECK(stepgrad::get_num_threads() >= 1);  // OpenBLAS caps it at the machine's cores
    const std::vector<float> two_threads = stepgrad::matmul(a, b).to_vector();
    CHECK(two_threads.size() == one_thread.size());
    for (std::size_t i = 0; i < one_thread.size(); ++i) CHECK(two_threads[i] == Approx(one_thread[i]).margin(1e-4));
    stepgrad::set_num_threads(before);
}
