// Chapter 2, bad input: every refusal is one clear error that names the operation and what was
// wrong, and leaves the tensors, their versions and their gradients as they were. Where PyTorch
// accepts the input (empty tensors, log of a negative number) stepgrad gives PyTorch's answer.
// docs/bad_input.md lists these cases in a table; each row links to one TEST_CASE here.
#include "test_helpers.hpp"

#include "stand_in_device.hpp"

#include <stepgrad/shared/error_of.hpp>

#include <cmath>
#include <string>

using namespace stepgrad;
using namespace stepgrad::testing;

TEST_CASE("adding tensors whose shapes do not broadcast names both shapes", "[chapter02][bad-input]") {
    const Tensor a = ones({2, 3});
    const Tensor b = ones({4});
    CHECK_THAT(error_of<std::invalid_argument>([&] { (void)(a + b); }),
               Catch::Contains("add") && Catch::Contains("[2, 3]") && Catch::Contains("[4]"));
    check_tensor(a, {2, 3}, {1, 1, 1, 1, 1, 1});
    CHECK(a.version() == 0);
}

TEST_CASE("matmul of matrices whose inner sizes differ names both shapes", "[chapter02][bad-input]") {
    CHECK_THAT(error_of<std::invalid_argument>([] { (void)matmul(ones({2, 3}), ones({4, 2})); }),
               Catch::Contains("matmul") && Catch::Contains("[2, 3]") && Catch::Contains("[4, 2]"));
}

TEST_CASE("a failed in-place add leaves the tensor and its version as they were", "[chapter02][bad-input]") {
    Tensor x = tensor({1, 2});
    CHECK_THAT(error_of<std::invalid_argument>([&] { x.add_(ones({2, 3})); }),
               Catch::Contains("add_") && Catch::Contains("[2, 3]") && Catch::Contains("[2]"));
    CHECK_THAT(error_of<std::invalid_argument>([&] { x.copy_(ones({3})); }),
               Catch::Contains("copy_") && Catch::Contains("[3]"));
    CHECK_THAT(error_of<std::invalid_argument>([&] { x.mul_(tensor({2, 2}, TensorOptions().dtype(Dtype::Int64))); }),
               Catch::Contains("mul_") && Catch::Contains("int64"));
    check_tensor(x, {2}, {1, 2});
    CHECK(x.version() == 0);
}

TEST_CASE("an in-place update of a leaf that requires grad is refused and changes nothing",
          "[chapter02][bad-input]") {
    Tensor w = tensor({1, 2}).requires_grad_();
    CHECK_THAT(error_of<std::invalid_argument>([&] { w.add_(ones({2})); }),
               Catch::Contains("add_") && Catch::Contains("leaf") && Catch::Contains("NoGradGuard"));
    check_tensor(w, {2}, {1, 2});
    CHECK(w.version() == 0);
    CHECK(w.is_leaf());
}

TEST_CASE("Int64 where Float32 is needed names the operation and the dtype", "[chapter02][bad-input]") {
    const Tensor counts = tensor({1, 2}, TensorOptions().dtype(Dtype::Int64));
    CHECK_THAT(error_of<std::invalid_argument>([&] { (void)matmul(counts.reshape({1, 2}), counts.reshape({2, 1})); }),
               Catch::Contains("matmul") && Catch::Contains("Float32") && Catch::Contains("int64"));
    Tensor labels = counts;
    CHECK_THAT(error_of<std::invalid_argument>([&] { labels.requires_grad_(); }), Catch::Contains("only Float32"));
    CHECK_FALSE(labels.requires_grad());
    CHECK_THAT(error_of<std::invalid_argument>([] { (void)index_select(zeros({4}), 0, tensor({1.0})); }),
               Catch::Contains("index_select") && Catch::Contains("Int64 index"));
}

TEST_CASE("tensors on two devices in one operation name both devices", "[chapter02][bad-input][cpu-only]") {
    StandInDevice cuda;
    const Tensor a = ones({2});
    const Tensor b = ones({2}).cuda();
    CHECK_THAT(error_of<std::invalid_argument>([&] { (void)(a + b); }),
               Catch::Contains("add") && Catch::Contains("cpu") && Catch::Contains("cuda"));
    Tensor x = ones({2});
    CHECK_THAT(error_of<std::invalid_argument>([&] { x.mul_(b); }), Catch::Contains("mul_") && Catch::Contains("cuda"));
    check_tensor(x, {2}, {1, 1});
    CHECK(x.version() == 0);
}

TEST_CASE("backward of a non-scalar without a gradient is refused and fills no gradient",
          "[chapter02][bad-input]") {
    Tensor x = tensor({1, 2, 3}).requires_grad_();
    const Tensor y = x * 2.0;
    CHECK_THAT(error_of<std::runtime_error>([&] { y.backward(); }),
               Catch::Contains("backward") && Catch::Contains("one element") && Catch::Contains("[3]"));
    CHECK_FALSE(x.grad().defined());
    CHECK_THAT(error_of<std::invalid_argument>([&] { y.backward(ones({2})); }),
               Catch::Contains("backward") && Catch::Contains("[2]") && Catch::Contains("[3]"));
    CHECK_FALSE(x.grad().defined());
    y.backward(ones({3}));  // the graph is still usable
    check_tensor(x.grad(), {3}, {2, 2, 2});
}

TEST_CASE("backward of a tensor that does not require grad says what to do", "[chapter02][bad-input]") {
    CHECK_THAT(error_of<std::runtime_error>([] { tensor({1}).backward(); }),
               Catch::Contains("does not require grad") && Catch::Contains("requires_grad_()"));
}

TEST_CASE("empty tensors give PyTorch's answers: sum 0, mean NaN, empty results",
          "[chapter02][bad-input]") {
    const Tensor empty = zeros({0});
    CHECK(sum(empty).item() == 0.0f);
    CHECK(std::isnan(mean(empty).item()));
    check_tensor(log(empty), {0}, {});
    check_tensor(softmax(zeros({0, 3}), 1), {0, 3}, {});
    check_tensor(matmul(zeros({2, 0}), zeros({0, 3})), {2, 3}, {0, 0, 0, 0, 0, 0});
    check_tensor(matmul(zeros({0, 2}), zeros({2, 3})), {0, 3}, {});
    Tensor x = zeros({0}).requires_grad_();
    x.sum().backward();
    check_tensor(x.grad(), {0}, {});
}

TEST_CASE("reductions without an identity refuse an empty tensor, as PyTorch does", "[chapter02][bad-input]") {
    CHECK_THAT(error_of<std::invalid_argument>([] { (void)max(zeros({0})); }),
               Catch::Contains("max") && Catch::Contains("[0]"));
    CHECK_THAT(error_of<std::invalid_argument>([] { (void)max(zeros({0, 2}), {0}); }),
               Catch::Contains("max") && Catch::Contains("size 0"));
    CHECK_THAT(error_of<std::invalid_argument>([] { (void)argmax(zeros({0})); }),
               Catch::Contains("argmax") && Catch::Contains("[0]"));
}

TEST_CASE("log of a negative number is NaN in chapter 2, as in PyTorch", "[chapter02][bad-input]") {
    const Tensor y = log(tensor({-1.0, 1.0}));
    CHECK(std::isnan(y.to_vector()[0]));
    CHECK(y.to_vector()[1] == 0.0f);
}

TEST_CASE("anomaly mode names log when log of a negative number makes NaN", "[chapter02][bad-input]") {
    AnomalyGuard anomaly;
    const Tensor x = tensor({-1.0, 1.0}).requires_grad_();
    CHECK_THAT(error_of<std::runtime_error>([&] { (void)log(x); }),
               Catch::Contains("anomaly") && Catch::Contains("'log'") && Catch::Contains("NaN or Inf"));
    const Tensor plain = tensor({-1.0});  // also when nothing requires grad
    CHECK_THAT(error_of<std::runtime_error>([&] { (void)log(plain); }), Catch::Contains("'log'"));
}

TEST_CASE("anomaly mode names exp when exp overflows to Inf", "[chapter02][bad-input]") {
    AnomalyGuard anomaly;
    const Tensor x = tensor({100.0}).requires_grad_();
    CHECK_THAT(error_of<std::runtime_error>([&] { (void)exp(x); }),
               Catch::Contains("'exp'") && Catch::Contains("NaN or Inf"));
}

TEST_CASE("a backward pass stopped by anomaly mode leaves every gradient as it was", "[chapter02][bad-input]") {
    Tensor a = tensor({4.0}).requires_grad_();
    Tensor zero = tensor({0.0}).requires_grad_();
    a.set_grad(tensor({10.0}));
    // The engine reaches a (the later input of +) before sqrt, whose backward divides by 0.
    const Tensor loss = (sqrt(zero) + a * 3.0).sum();
    {
        AnomalyGuard anomaly;
        CHECK_THAT(error_of<std::runtime_error>([&] { loss.backward(); }),
                   Catch::Contains("anomaly") && Catch::Contains("'sqrt'") && Catch::Contains("backward"));
    }
    check_tensor(a.grad(), {1}, {10});
    CHECK_FALSE(zero.grad().defined());
}

TEST_CASE("a backward pass stopped by an in-place change leaves every gradient as it was",
          "[chapter02][bad-input]") {
    Tensor a = tensor({2.0}).requires_grad_();
    Tensor b = tensor({3.0}).requires_grad_();
    const Tensor hidden = b * 1.0;
    const Tensor loss = (hidden * hidden + a * 5.0).sum();  // a's gradient is complete first
    {
        NoGradGuard no_grad;
        Tensor(hidden).mul_(2.0);  // a saved input of hidden * hidden changes after it was saved
    }
    CHECK_THAT(error_of<std::runtime_error>([&] { loss.backward(); }),
               Catch::Contains("mul") && Catch::Contains("modified by an inplace operation"));
    CHECK_FALSE(a.grad().defined());
    CHECK_FALSE(b.grad().defined());
}

TEST_CASE("a negative size or an impossible reshape names the shape", "[chapter02][bad-input]") {
    CHECK_THAT(error_of<std::invalid_argument>([] { (void)zeros({2, -3}); }),
               Catch::Contains("negative size") && Catch::Contains("-3"));
    const Tensor x = zeros({6});
    CHECK_THAT(error_of<std::invalid_argument>([&] { (void)x.reshape({4, 2}); }),
               Catch::Contains("reshape") && Catch::Contains("[4, 2]") && Catch::Contains("[6]"));
    CHECK(x.shape() == Shape{6});
}

TEST_CASE("an axis or index out of range names the axis or index and the valid range", "[chapter02][bad-input]") {
    const Tensor m = zeros({3, 2});
    CHECK_THAT(error_of<std::invalid_argument>([&] { (void)m.sum({2}); }),
               Catch::Contains("sum: axis 2 is out of range") && Catch::Contains("2 dimension(s)"));
    CHECK_THAT(error_of<std::invalid_argument>([&] { (void)m.select(0, 3); }),
               Catch::Contains("select") && Catch::Contains("3"));
    CHECK_THAT(error_of<std::invalid_argument>([&] { (void)m.item(); }),
               Catch::Contains("item") && Catch::Contains("[3, 2]"));
}
