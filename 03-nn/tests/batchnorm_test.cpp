// Claims checked: batch_norm (one recorded op with a closed-form backward) equals the formula
// written with chapter 2's ops, in value and gradient, for (N, C), (N, C, L) and (N, C, H, W);
// passes gradcheck in training and evaluation; updates the running statistics as PyTorch does
// (unbiased variance, momentum) and evaluation uses them; the layers register PyTorch's
// parameters and buffers, print its repr and refuse bad inputs.
#include "../../02-tensor/tests/test_helpers.hpp"

#include <stepgrad/nn/batchnorm.hpp>

#include <catch2/catch.hpp>

#include <sstream>
#include <string>
#include <vector>

using namespace stepgrad;
using namespace stepgrad::testing;
namespace F = stepgrad::nn::functional;

namespace {

const std::vector<Shape> input_shapes = {{6, 3}, {4, 3, 5}, {3, 3, 4, 2}};

// The axes statistics are taken over (all but C), and a per-channel vector shaped to broadcast.
std::vector<std::int64_t> stat_axes(const Tensor& x) {
    std::vector<std::int64_t> axes{0};
    for (std::int64_t a = 2; a < x.dim(); ++a) axes.push_back(a);
    return axes;
}
Tensor per_channel(const Tensor& v, const Tensor& x) {
    Shape shape{v.size(0)};
    for (std::int64_t a = 2; a < x.dim(); ++a) shape.push_back(1);
    return v.reshape(shape);
}

// The definition with chapter 2's differentiable ops: (x - mean) / sqrt(var + eps) * w + b.
Tensor formula(const Tensor& x, const Tensor& mean, const Tensor& var, const Tensor& w, const Tensor& b, double eps) {
    return (x - per_channel(mean, x)) / sqrt(per_channel(var, x) + eps) * per_channel(w, x) + per_channel(b, x);
}

std::string repr(const nn::Module& module) {
    std::ostringstream out;
    module.pretty_print(out);
    return out.str();
}

}  // namespace

TEST_CASE("batch_norm in training equals the formula with batch statistics, values and gradients",
          "[chapter03][batchnorm]") {
    for (const Shape& shape : input_shapes) {
        INFO("input " << shape_to_string(shape));
        const Tensor x = random_input(shape, 101), w = random_input({3}, 102), b = random_input({3}, 103);
        const Tensor out = F::batch_norm(x, Tensor(), Tensor(), w, b, /*training=*/true, 0.1, 1e-5);
        const Tensor x2 = x.detach().clone().requires_grad_(), w2 = w.detach().clone().requires_grad_(),
                     b2 = b.detach().clone().requires_grad_();
        const auto axes = stat_axes(x2);
        const Tensor mean = x2.mean(axes), var = x2.var(axes, /*unbiased=*/false);
        const Tensor expected = formula(x2, mean, var, w2, b2, 1e-5);
        check_same(out, expected, 1e-4);
        const Tensor upstream = random_input(shape, 104).detach();
        out.backward(upstream);
        expected.backward(upstream);
        check_same(x.grad(), x2.grad(), 1e-4);
        check_same(w.grad(), w2.grad(), 1e-4);
        check_same(b.grad(), b2.grad(), 1e-4);
    }
}

TEST_CASE("batch_norm passes gradcheck in training and in evaluation", "[chapter03][batchnorm][gradcheck]") {
    for (const Shape& shape : input_shapes) {
        INFO("input " << shape_to_string(shape));
        const std::vector<Tensor> inputs{random_input(shape, 111), random_input({3}, 112), random_input({3}, 113)};
        CHECK(gradcheck([](const std::vector<Tensor>& in) { return F::batch_norm(in[0], {}, {}, in[1], in[2], true); },
                        inputs));
        const Tensor mean = random_input({3}, 114).detach(), var = random_positive({3}, 0.5, 2.0, 115).detach();
        GradcheckOptions linear;  // evaluation is linear in each input
        linear.eps = 5e-2;
        CHECK(gradcheck([&](const std::vector<Tensor>& in) { return F::batch_norm(in[0], mean, var, in[1], in[2], false); },
                        inputs, linear));
    }
    // no weight and bias (affine=false)
    CHECK(gradcheck([](const std::vector<Tensor>& in) { return F::batch_norm(in[0], {}, {}, {}, {}, true); },
                    {random_input({5, 2, 3}, 116)}));
}

TEST_CASE("training updates the running statistics as PyTorch does", "[chapter03][batchnorm]") {
    auto bn = std::make_shared<nn::BatchNorm2d>(nn::BatchNormOptions(3).momentum(0.2));
    const Tensor x1 = random_input({4, 3, 2, 5}, 121).detach(), x2 = random_input({4, 3, 2, 5}, 122).detach() * 2.0 + 1.0;
    bn->forward(x1);
    bn->forward(x2);
    // running = (1 - m) running + m batch, with the unbiased variance (n = 40 values per channel)
    Tensor mean = zeros({3}), var = ones({3});
    for (const Tensor& x : {x1, x2}) {
        mean = mean * 0.8 + x.mean({0, 2, 3}) * 0.2;
        var = var * 0.8 + x.var({0, 2, 3}, /*unbiased=*/true) * 0.2;
    }
    check_same(bn->running_mean, mean);
    check_same(bn->running_var, var);
    CHECK(bn->num_batches_tracked.dtype() == Dtype::Int64);
    CHECK(bn->num_batches_tracked.dim() == 0);
    CHECK(bn->num_batches_tracked.item<std::int64_t>() == 2);

    // evaluation normalises with the running statistics and leaves them alone
    bn->eval();
    const Tensor x3 = random_input({2, 3, 2, 5}, 123).detach();
    check_same(bn->forward(x3), formula(x3, mean, var, bn->weight.detach(), bn->bias.detach(), 1e-5), 1e-5);
    check_same(bn->running_mean, mean);
    CHECK(bn->num_batches_tracked.item<std::int64_t>() == 2);
    // ... so one image's output no longer depends on the rest of its batch
    check_same(bn->forward(x3.slice(0, 0, 1)), bn->forward(x3).slice(0, 0, 1));
}

TEST_CASE("BatchNorm layers register PyTorch's parameters and buffers", "[chapter03][batchnorm]") {
    auto bn = std::make_shared<nn::BatchNorm1d>(4);
    std::vector<std::string> names;
    for (const auto& item : bn->state_dict()) names.push_back(item.first);
    CHECK(names == std::vector<std::string>{"weight", "bias", "running_mean", "running_var", "num_batches_tracked"});
    check_tensor(bn->weight, {4}, {1, 1, 1, 1});
    check_tensor(bn->bias, {4}, {0, 0, 0, 0});
    check_tensor(bn->running_var, {4}, {1, 1, 1, 1});
    CHECK(bn->parameters().size() == 2);
    CHECK_FALSE(bn->running_mean.requires_grad());

    // without affine or tracking: no parameters, no buffers, always the batch's statistics
    auto plain = std::make_shared<nn::BatchNorm1d>(nn::BatchNormOptions(3).affine(false).track_running_stats(false));
    CHECK(plain->parameters().empty());
    CHECK(plain->buffers().empty());
    plain->eval();
    const Tensor x = random_input({5, 3}, 131).detach();
    check_same(plain->forward(x), (x - x.mean({0})) / sqrt(x.var({0}, false) + 1e-5), 1e-5);
}

TEST_CASE("BatchNorm layers print PyTorch's repr", "[chapter03][batchnorm]") {
    CHECK(repr(nn::BatchNorm2d(16)) == "BatchNorm2d(16, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)");
    CHECK(repr(nn::BatchNorm1d(nn::BatchNormOptions(8).eps(1e-3).momentum(0.01).affine(false))) ==
          "BatchNorm1d(8, eps=0.001, momentum=0.01, affine=False, track_running_stats=True)");
    CHECK(repr(nn::BatchNorm1d(nn::BatchNormOptions(2).eps(0.5).momentum(1.0).track_running_stats(false))) ==
          "BatchNorm1d(2, eps=0.5, momentum=1.0, affine=True, track_running_stats=False)");
    CHECK(repr(nn::BatchNorm1d(nn::BatchNormOptions(2).eps(2.5e-7))) ==
          "BatchNorm1d(2, eps=2.5e-07, momentum=0.1, affine=True, track_running_stats=True)");
}

TEST_CASE("batch norm refuses bad inputs with clear errors", "[chapter03][batchnorm][errors]") {
    auto bn1 = std::make_shared<nn::BatchNorm1d>(3);
    auto bn2 = std::make_shared<nn::BatchNorm2d>(3);
    CHECK_THROWS_WITH(bn1->forward(random_input({2, 3, 4, 4})), Catch::Contains("2-D (N, C) or 3-D (N, C, L)"));
    CHECK_THROWS_WITH(bn2->forward(random_input({2, 3, 4})), Catch::Contains("4-D (N, C, H, W)"));
    CHECK_THROWS_WITH(bn2->forward(random_input({2, 4, 3, 3})), Catch::Contains("expected 3 channels"));
    CHECK_THROWS_WITH(bn1->forward(random_input({1, 3})), Catch::Contains("more than 1 value per channel"));
    CHECK_THROWS_WITH(F::batch_norm(random_input({2, 3}), {}, {}, {}, {}, false), Catch::Contains("needs running_mean"));
    CHECK_THROWS_WITH(F::batch_norm(random_input({2, 3}), zeros({2}), ones({2})), Catch::Contains("running_mean of shape [3]"));
    CHECK_THROWS_WITH(nn::BatchNorm2d(0), Catch::Contains("num_features must be positive"));
}
