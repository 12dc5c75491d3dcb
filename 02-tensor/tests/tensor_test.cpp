// Tensor basics: construction from xtensor and lists, factories, data access, printing.
#include "test_helpers.hpp"

#include <xtensor/xview.hpp>

#include <sstream>

using namespace stepgrad;
using namespace stepgrad::testing;

TEST_CASE("tensors come from nested lists and give back xtensor arrays", "[chapter02][tensor][cpu-only]") {
    const Tensor t = tensor({{1, 2}, {3, 4}});
    CHECK(t.shape() == Shape{2, 2});
    CHECK(t.dim() == 2);
    CHECK(t.numel() == 4);
    CHECK(t.size(-1) == 2);
    CHECK(t.device() == Device::CPU);
    const xt::xarray<float> expected = {{1.0f, 2.0f}, {3.0f, 4.0f}};
    const bool same = t.data() == expected;
    CHECK(same);
    check_tensor(tensor({{{1, 2}}, {{3, 4}}}), {2, 1, 2}, {1, 2, 3, 4});
    CHECK_THROWS_AS(tensor({{1, 2}, {3}}), std::invalid_argument);
}

TEST_CASE("tensors take xtensor arrays and non-contiguous expressions", "[chapter02][tensor]") {
    xt::xarray<float> a = {{1.0f, 2.0f, 3.0f}, {4.0f, 5.0f, 6.0f}};
    const Tensor from_transpose(xt::transpose(a));
    check_tensor(from_transpose, {3, 2}, {1, 4, 2, 5, 3, 6});
    const Tensor from_view(xt::view(a, xt::all(), xt::range(0, 3, 2)));
    check_tensor(from_view, {2, 2}, {1, 3, 4, 6});
    const Tensor from_expression(a * 2.0f + 1.0f);
    check_tensor(from_expression, {2, 3}, {3, 5, 7, 9, 11, 13});
    xt::xarray<float, xt::layout_type::column_major> column_major = {{1.0f, 2.0f}, {3.0f, 4.0f}};
    check_tensor(Tensor(column_major), {2, 2}, {1, 2, 3, 4});
    const Tensor moved(std::move(a), /*requires_grad=*/true);
    CHECK(moved.requires_grad());
}

TEST_CASE("factories fill, count and draw reproducibly", "[chapter02][tensor]") {
    check_tensor(zeros({2, 2}), {2, 2}, {0, 0, 0, 0});
    check_tensor(ones({3}), {3}, {1, 1, 1});
    check_tensor(full({2}, 7.5), {2}, {7.5, 7.5});
    check_tensor(arange(4), {4}, {0, 1, 2, 3});
    check_tensor(arange(1, 2, 0.25), {4}, {1, 1.25, 1.5, 1.75});
    check_tensor(arange(3, 0, -1), {3}, {3, 2, 1});
    check_tensor(eye(2), {2, 2}, {1, 0, 0, 1});
    check_tensor(scalar_tensor(3), {}, {3});
    check_tensor(zeros({0, 3}), {0, 3}, {});
    const Tensor x = randn({2, 3});
    check_tensor(zeros_like(x), {2, 3}, std::vector<float>(6, 0.0f));
    check_tensor(ones_like(x), {2, 3}, std::vector<float>(6, 1.0f));
    check_tensor(full_like(x, 2), {2, 3}, std::vector<float>(6, 2.0f));
    CHECK(rand_like(x).shape() == x.shape());
    CHECK(randn_like(x).shape() == x.shape());
    CHECK(zeros({2}, TensorOptions().requires_grad(true)).requires_grad());

    manual_seed(42);
    const Tensor first = randn({100});
    manual_seed(42);
    const Tensor second = randn({100});
    check_same(first, second, 0.0);
    const Tensor u = rand({1000});
    CHECK(u.min().item() >= 0.0f);
    CHECK(u.max().item() < 1.0f);
    CHECK(u.mean().item() == Approx(0.5).margin(0.05));
    Generator generator(7);
    const Tensor n = randn({10000}, generator);
    CHECK(n.mean().item() == Approx(0.0).margin(0.05));
    CHECK(n.var().item() == Approx(1.0).margin(0.05));
}

TEST_CASE("item, to_vector, clone and in-place updates", "[chapter02][tensor]") {
    const Tensor t = tensor({5});
    CHECK(t.item() == 5.0f);
    CHECK_THROWS_AS(tensor({1, 2}).item(), std::invalid_argument);
    Tensor a = tensor({1, 2, 3});
    Tensor b = a.clone();
    b.add_(tensor({1, 1, 1}), 2.0);
    check_tensor(a, {3}, {1, 2, 3});
    check_tensor(b, {3}, {3, 4, 5});
    b.mul_(2.0).sub_(tensor({1}));
    check_tensor(b, {3}, {5, 7, 9});
    b.mul_(tensor({0, 1, 2}));
    check_tensor(b, {3}, {0, 7, 18});
    b.copy_(tensor({4}));
    check_tensor(b, {3}, {4, 4, 4});
    b.zero_();
    check_tensor(b, {3}, {0, 0, 0});
    CHECK_THROWS_AS(b.add_(zeros({2, 3})), std::invalid_argument);

    Tensor w = tensor({1, 2}).requires_grad_();
    CHECK_THROWS_AS(w.add_(tensor({1, 1})), std::invalid_argument);
    {
        NoGradGuard no_grad;
        w.add_(tensor({1, 1}), -0.5);
    }
    check_tensor(w, {2}, {0.5, 1.5});
    // detach() shares the data, as in PyTorch.
    Tensor view = w.detach();
    view.fill_(3);
    check_tensor(w, {2}, {3, 3});
}

TEST_CASE("tensors print in PyTorch's style", "[chapter02][print][cpu-only]") {
    CHECK(to_string(tensor({{1, 2}, {3, 4}})) == "tensor([[1., 2.],\n        [3., 4.]])");
    CHECK(to_string(tensor({0.5, -1.25})) == "tensor([ 0.5000, -1.2500])");
    CHECK(to_string(scalar_tensor(3)) == "tensor(3.)");
    CHECK(to_string(tensor({1e-5, 1})) == "tensor([1.0000e-05, 1.0000e+00])");
    CHECK(to_string(zeros({0})) == "tensor([])");
    CHECK(to_string(zeros({0, 3})) == "tensor([], size=(0, 3))");
    CHECK(to_string(tensor({1, 2}).requires_grad_()) == "tensor([1., 2.], requires_grad=True)");
    const Tensor y = tensor({1, 2}).requires_grad_() * 2.0;
    CHECK(to_string(y) == "tensor([2., 4.], grad_fn=<MulBackward0>)");
    CHECK(to_string(arange(8).reshape({2, 2, 2})) ==
          "tensor([[[0., 1.],\n         [2., 3.]],\n\n        [[4., 5.],\n         [6., 7.]]])");
    CHECK(to_string(arange(1000, 3000)) == "tensor([1000., 1001., 1002.,  ..., 2997., 2998., 2999.])");
    CHECK(to_string(arange(2000)) ==
          "tensor([0.0000e+00, 1.0000e+00, 2.0000e+00,  ..., 1.9970e+03, 1.9980e+03,\n        1.9990e+03])");
    CHECK(to_string(arange(3000).reshape({1000, 3}) + 0.5) ==
          "tensor([[5.0000e-01, 1.5000e+00, 2.5000e+00],\n        [3.5000e+00, 4.5000e+00, 5.5000e+00],\n"
          "        [6.5000e+00, 7.5000e+00, 8.5000e+00],\n        ...,\n"
          "        [2.9915e+03, 2.9925e+03, 2.9935e+03],\n        [2.9945e+03, 2.9955e+03, 2.9965e+03],\n"
          "        [2.9975e+03, 2.9985e+03, 2.9995e+03]])");
    CHECK(to_string(tensor({std::nan(""), 1.5})) == "tensor([   nan, 1.5000])");
    std::ostringstream stream;
    stream << tensor({1});
    CHECK(stream.str() == "tensor([1.])");
    CHECK(Tensor().to_string() == "tensor(undefined)");
}
