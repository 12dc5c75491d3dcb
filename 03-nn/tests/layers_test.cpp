// Claims checked: each layer computes the plain chapter-2 tensor expression it stands for
// (values and gradients): Linear is matmul(x, wᵀ) + b, the activations and Flatten are their
// chapter-2 functions, Sequential chains, Residual adds its input; Dropout keeps 1 - p of the
// elements scaled by 1 / (1 - p) in training and is the identity in evaluation; nn::init draws
// from the distributions it names; the fused linear passes gradcheck and runs on a device
// without a single host read.
#include "../../02-tensor/tests/stand_in_device.hpp"
#include "../../02-tensor/tests/test_helpers.hpp"

#include <stepgrad/nn/activation.hpp>
#include <stepgrad/nn/container.hpp>
#include <stepgrad/nn/dropout.hpp>
#include <stepgrad/nn/init.hpp>
#include <stepgrad/nn/linear.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <functional>
#include <string>
#include <vector>

namespace {

using namespace stepgrad;
using Catch::Matchers::Contains;
using stepgrad::testing::check_same;
using stepgrad::testing::check_tensor;
using stepgrad::testing::random_input;
namespace F = stepgrad::nn::functional;

using ModuleList = std::initializer_list<std::shared_ptr<nn::Module>>;

// The layer's weight and bias as independent leaves with the same values.
struct PlainCopy {
    Tensor weight, bias;
};
PlainCopy plain_copy(const nn::Linear& layer) {
    PlainCopy copy{layer.weight.detach().clone().requires_grad_(), Tensor()};
    if (layer.bias.defined()) copy.bias = layer.bias.detach().clone().requires_grad_();
    return copy;
}

// Back-propagates the same seeded upstream gradient through `out`.
void backward_with(const Tensor& out, std::uint64_t seed) {
    Generator generator(seed);
    out.backward(randn(out.shape(), generator));
}

double mean_of(const std::vector<float>& v) {
    double total = 0.0;
    for (float x : v) total += x;
    return total / static_cast<double>(v.size());
}

double std_of(const std::vector<float>& v) {
    const double mean = mean_of(v);
    double total = 0.0;
    for (float x : v) total += (x - mean) * (x - mean);
    return std::sqrt(total / static_cast<double>(v.size()));
}

double max_abs(const std::vector<float>& v) {
    double largest = 0.0;
    for (float x : v) largest = std::max(largest, std::abs(static_cast<double>(x)));
    return largest;
}

}  // namespace

// ---- Linear ------------------------------------------------------------------------------------

TEST_CASE("Linear equals matmul(x, w.t()) + b, values and every gradient", "[chapter03][layers][linear][ex-03.1]") {
    manual_seed(3);
    struct Case {
        std::string name;
        Shape input_shape;
        bool bias;
    };
    for (const Case& c : {Case{"2-D input", {5, 4}, true}, Case{"3-D input", {2, 3, 4}, true},
                          Case{"no bias", {5, 4}, false}, Case{"1-D input", {4}, true}}) {
        DYNAMIC_SECTION(c.name) {
            nn::Linear layer(nn::LinearOptions(4, 3).bias(c.bias));
            CHECK(layer.bias.defined() == c.bias);
            const PlainCopy plain = plain_copy(layer);
            const Tensor x = random_input(c.input_shape, 11);
            const Tensor x_plain = x.detach().clone().requires_grad_();

            const Tensor out = layer.forward(x);
            Tensor expected = matmul(x_plain, plain.weight.t());
            if (c.bias) expected = expected + plain.bias;
            check_same(out, expected, 1e-6);
            backward_with(out, 5);
            backward_with(expected, 5);
            check_same(x.grad(), x_plain.grad(), 1e-5);
            check_same(layer.weight.grad(), plain.weight.grad(), 1e-5);
            if (c.bias) check_same(layer.bias.grad(), plain.bias.grad(), 1e-5);
        }
    }
}

namespace {

// y[r, o] = b[o] + Σ_i x[r, i] W[o, i]: the definition, one output at a time, in double.
std::vector<float> linear_by_loops(const std::vector<float>& x, const std::vector<float>& w,
                                   const std::vector<float>& b, std::size_t in_features) {
    const std::size_t rows = x.size() / in_features, out_features = w.size() / in_features;
    std::vector<float> y;
    for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t o = 0; o < out_features; ++o) {
            double sum = b.empty() ? 0.0 : b[o];
            for (std::size_t i = 0; i < in_features; ++i)
                sum += double{x[r * in_features + i]} * w[o * in_features + i];
            y.push_back(static_cast<float>(sum));
        }
    return y;
}

}  // namespace

TEST_CASE("linear's forward is x Wᵀ + b, by hand and by plain loops", "[chapter03][layers][linear][ex-03.1]") {
    // W is (out_features 3, in_features 2): row o holds the weights of output o.
    const Tensor w = tensor({{1.0, 2.0}, {0.0, -1.0}, {3.0, 0.5}});
    const Tensor b = tensor({10.0, 20.0, 30.0});
    SECTION("a batch (N, in) gives (N, out); without a bias nothing is added") {
        const Tensor x = tensor({{1.0, 1.0}, {2.0, -4.0}});
        // x[0] = (1, 1): (1 + 2, 0 - 1, 3 + 0.5); x[1] = (2, -4): (2 - 8, 0 + 4, 6 - 2)
        check_tensor(F::linear(x, w), {2, 3}, {3, -1, 3.5, -6, 4, 4});
        check_tensor(F::linear(x, w, b), {2, 3}, {13, 19, 33.5, 4, 24, 34});
    }
    SECTION("leading axes are kept: (2, 2, in) gives (2, 2, out), (in) gives (out)") {
        const Tensor x = tensor({{{1.0, 1.0}, {2.0, -4.0}}, {{0.0, 0.0}, {-1.0, 2.0}}});
        check_tensor(F::linear(x, w, b), {2, 2, 3}, {13, 19, 33.5, 4, 24, 34, 10, 20, 30, 13, 18, 28});
        check_tensor(F::linear(tensor({-1.0, 2.0}), w, b), {3}, {13, 18, 28});
    }
    SECTION("an empty batch (0, in) gives (0, out)") {
        check_tensor(F::linear(zeros({0, 2}), w, b), {0, 3}, {});
    }
    SECTION("random sizes against the sum written as loops") {
        const Tensor x = random_input({5, 7}, 31), weight = random_input({4, 7}, 32), bias = random_input({4}, 33);
        const std::vector<float> with_bias = linear_by_loops(x.to_vector(), weight.to_vector(), bias.to_vector(), 7);
        check_tensor(F::linear(x, weight, bias), {5, 4}, with_bias);
        nn::Linear layer(7, 4);  // the module's forward is the same function on its own parameters
        check_tensor(layer.forward(x), {5, 4},
                     linear_by_loops(x.to_vector(), layer.weight.to_vector(), layer.bias.to_vector(), 7));
        const std::vector<float> without_bias = linear_by_loops(x.to_vector(), weight.to_vector(), {}, 7);
        check_tensor(F::linear(x, weight), {5, 4}, without_bias);
    }
}

TEST_CASE("linear computes only the gradients its inputs need", "[chapter03][layers][linear]") {
    const Tensor x = randn({6, 4});  // data: no gradient
    const Tensor w = random_input({3, 4}, 1);
    const Tensor b = randn({3});  // a frozen bias
    F::linear(x, w, b).sum().backward();
    CHECK(w.grad().defined());
    CHECK_FALSE(b.grad().defined());
    // Nothing requires grad: nothing is recorded.
    CHECK_FALSE(F::linear(x, w.detach(), b).requires_grad());
    // Under NoGradGuard nothing is recorded either.
    NoGradGuard no_grad;
    CHECK_FALSE(F::linear(x, w, b).requires_grad());
}

TEST_CASE("linear refuses shapes that do not fit, naming them", "[chapter03][layers][linear]") {
    const Tensor w = zeros({3, 4});
    REQUIRE_THROWS_WITH(F::linear(zeros({2, 5}), w), Contains("[2, 5]") && Contains("[3, 4]"));
    REQUIRE_THROWS_WITH(F::linear(zeros({2, 4}), zeros({4})), Contains("weight must be (out_features, in_features)"));
    REQUIRE_THROWS_WITH(F::linear(zeros({2, 4}), w, zeros({4})), Contains("bias must be (out_features) = (3)"));
    REQUIRE_THROWS_AS(F::linear(zeros({}), w), std::invalid_argument);
}

TEST_CASE("the fused linear passes gradcheck", "[chapter03][layers][linear][gradcheck]") {
    GradcheckOptions linear_in_each_input;  // linear in x, w and b: a long step has no truncation error
    linear_in_each_input.eps = 5e-2;
    const Tensor x = random_input({2, 3, 5}, 21), w = random_input({4, 5}, 22), b = random_input({4}, 23);
    CHECK(gradcheck([](const std::vector<Tensor>& in) { return F::linear(in[0], in[1], in[2]); }, {x, w, b},
                    linear_in_each_input));
    CHECK(gradcheck([](const std::vector<Tensor>& in) { return F::linear(in[0], in[1]); },
                    {random_input({3, 5}, 24), w}, linear_in_each_input));
}

TEST_CASE("Linear starts as PyTorch: weight and bias uniform in ±1/sqrt(in_features)", "[chapter03][layers][init]") {
    manual_seed(0);
    nn::Linear layer(400, 300);
    const double bound = 1.0 / std::sqrt(400.0);
    const std::vector<float> w = layer.weight.to_vector(), b = layer.bias.to_vector();
    CHECK(max_abs(w) <= bound);
    CHECK(max_abs(b) <= bound);
    CHECK(max_abs(w) > 0.99 * bound);  // the whole range is used
    // U(-c, c) has std c/sqrt(3). With 120000 draws the sample std is within 0.1% of it at one
    // sigma (see the init test below); 1% is over 5 sigma.
    CHECK(std_of(w) == Approx(bound / std::sqrt(3.0)).epsilon(0.01));
    CHECK(std::abs(mean_of(w)) < 0.01 * bound);
    // Re-drawing gives new numbers from the same distribution.
    layer.reset_parameters();
    CHECK(layer.weight.to_vector() != w);
}

// ---- activations, Flatten, Identity ----------------------------------------------------------

TEST_CASE("each activation module equals its chapter-2 function, values and gradient",
          "[chapter03][layers][activation]") {
    struct Case {
        std::string name;
        std::shared_ptr<nn::Module> module;
        std::function<Tensor(const Tensor&)> plain;
    };
    const std::vector<Case> cases = {
        {"ReLU", std::make_shared<nn::ReLU>(), [](const Tensor& x) { return relu(x); }},
        {"LeakyReLU", std::make_shared<nn::LeakyReLU>(nn::LeakyReLUOptions().negative_slope(0.2)),
         [](const Tensor& x) { return where(x > 0.0, x, x * 0.2); }},
        {"Sigmoid", std::make_shared<nn::Sigmoid>(), [](const Tensor& x) { return 1.0 / (1.0 + exp(-x)); }},
        {"Tanh", std::make_shared<nn::Tanh>(), [](const Tensor& x) { return tanh(x); }},
        {"GELU", std::make_shared<nn::GELU>(), [](const Tensor& x) { return gelu(x); }},
        {"Softmax", std::make_shared<nn::Softmax>(1),
         [](const Tensor& x) { return exp(x) / sum(exp(x), {1}, /*keepdim=*/true); }},
        {"LogSoftmax", std::make_shared<nn::LogSoftmax>(-1),
         [](const Tensor& x) { return x - log(sum(exp(x), {-1}, /*keepdim=*/true)); }},
        {"Identity", std::make_shared<nn::Identity>(), [](const Tensor& x) { return x * 1.0; }},
    };
    for (const Case& c : cases) {
        DYNAMIC_SECTION(c.name) {
            const Tensor x = testing::random_away_from({4, 5}, 0.0f);  // away from the kink at 0
            const Tensor x_plain = x.detach().clone().requires_grad_();
            const Tensor out = c.module->forward(x);
            const Tensor expected = c.plain(x_plain);
            check_same(out, expected, 1e-6);
            backward_with(out, 9);
            backward_with(expected, 9);
            check_same(x.grad(), x_plain.grad(), 1e-5);
        }
    }
    const Tensor x = randn({2, 2});
    CHECK(nn::Identity().forward(x).impl() == x.impl());  // the same tensor
    check_same(F::softmax(x, 0), softmax(x, 0), 0.0);
    check_same(F::leaky_relu(x), leaky_relu(x, 0.01), 0.0);
}

TEST_CASE("Flatten merges start_dim..end_dim without copying", "[chapter03][layers][activation]") {
    const Tensor x = randn({2, 3, 4, 5});
    const Tensor flat = nn::Flatten().forward(x);
    CHECK(flat.shape() == Shape{2, 60});
    CHECK(flat.data_ptr() == x.data_ptr());
    check_same(flat, x.reshape({2, 60}), 0.0);
    CHECK(nn::Flatten(nn::FlattenOptions().start_dim(2)).forward(x).shape() == Shape{2, 3, 20});
    CHECK(nn::Flatten(nn::FlattenOptions().start_dim(0).end_dim(1)).forward(x).shape() == Shape{6, 4, 5});
}

// ---- containers --------------------------------------------------------------------------------

TEST_CASE("Sequential chains its modules, named 0, 1, ...", "[chapter03][layers][container]") {
    manual_seed(1);
    auto fc1 = std::make_shared<nn::Linear>(4, 8);
    auto fc2 = std::make_shared<nn::Linear>(8, 2);
    auto model = std::make_shared<nn::Sequential>(ModuleList{fc1, std::make_shared<nn::Tanh>(), fc2});
    CHECK(model->size() == 3);
    CHECK((*model)[0] == fc1);
    CHECK(model->ptr<nn::Linear>(2) == fc2);
    CHECK_THROWS_WITH(model->ptr<nn::Linear>(1), Contains("module 1 is Tanh()"));
    CHECK_THROWS_AS((*model)[3], std::out_of_range);
    std::vector<std::string> names;
    for (const auto& [name, p] : model->named_parameters()) names.push_back(name);
    CHECK(names == std::vector<std::string>{"0.weight", "0.bias", "2.weight", "2.bias"});

    const Tensor x = randn({5, 4});
    const Tensor expected = matmul(tanh(matmul(x, fc1->weight.t()) + fc1->bias), fc2->weight.t()) + fc2->bias;
    check_same((*model)(x), expected, 1e-6);

    model->push_back("head", std::make_shared<nn::Sigmoid>());
    model->push_back(std::make_shared<nn::ReLU>());
    CHECK(model->named_children()[3].first == "head");
    CHECK(model->named_children()[4].first == "4");
    check_same(model->forward(x), relu(sigmoid(expected)), 1e-6);

    const nn::Sequential from_vector(std::vector<std::shared_ptr<nn::Module>>{std::make_shared<nn::ReLU>()});
    CHECK(from_vector.size() == 1);
    nn::Sequential empty;
    CHECK(empty.forward(x).impl() == x.impl());
}

TEST_CASE("Residual adds the input (or the shortcut) to the block's output", "[chapter03][layers][container]") {
    manual_seed(2);
    auto fc = std::make_shared<nn::Linear>(4, 4);
    nn::Residual residual(std::make_shared<nn::Sequential>(ModuleList{fc, std::make_shared<nn::Tanh>()}));
    const Tensor x = random_input({3, 4}, 4);
    const Tensor x_plain = x.detach().clone().requires_grad_();
    const PlainCopy plain = plain_copy(*fc);
    const Tensor out = residual.forward(x);
    const Tensor expected = tanh(matmul(x_plain, plain.weight.t()) + plain.bias) + x_plain;
    check_same(out, expected, 1e-6);
    backward_with(out, 3);
    backward_with(expected, 3);
    check_same(x.grad(), x_plain.grad(), 1e-5);  // the skip path adds the upstream gradient
    check_same(fc->weight.grad(), plain.weight.grad(), 1e-5);

    auto widen = std::make_shared<nn::Linear>(4, 6);
    auto projection = std::make_shared<nn::Linear>(4, 6);
    nn::Residual projected(widen, projection);
    const Tensor y = randn({2, 4});
    check_same(projected.forward(y), widen->forward(y) + projection->forward(y), 1e-6);
    CHECK(projected.named_children().size() == 2);

    nn::Residual mismatched(std::make_shared<nn::Linear>(4, 6));
    REQUIRE_THROWS_WITH(mismatched.forward(y), Contains("[2, 6]") && Contains("[2, 4]") && Contains("shortcut"));
}

// ---- Dropout -----------------------------------------------------------------------------------

TEST_CASE("Dropout in evaluation mode, or with p = 0, returns the input itself", "[chapter03][layers][dropout]") {
    const Tensor x = randn({4, 4});
    nn::Dropout dropout(nn::DropoutOptions(0.3));
    dropout.eval();
    CHECK(dropout.forward(x).impl() == x.impl());
    CHECK(F::dropout(x, 0.3, /*training=*/false).impl() == x.impl());
    CHECK(F::dropout(x, 0.0, /*training=*/true).impl() == x.impl());
    check_same(F::dropout(x, 1.0, true), zeros({4, 4}), 0.0);
    REQUIRE_THROWS_WITH(F::dropout(x, 1.5, true), Contains("[0, 1], got 1.5"));
    REQUIRE_THROWS_AS(F::dropout(x, -0.1, false), std::invalid_argument);
    REQUIRE_THROWS_AS(nn::Dropout(nn::DropoutOptions(2.0)), std::invalid_argument);
}

TEST_CASE("Dropout in training keeps 1 - p of the elements, scaled by 1 / (1 - p)", "[chapter03][layers][dropout]") {
    const double p = 0.3;
    const std::int64_t n = 100000;
    Generator data(1);
    const Tensor x = uniform({n}, 1.0, 2.0, data).requires_grad_();  // no element is 0
    Generator masks(42);
    const Tensor out = F::dropout(x, p, true, &masks);
    out.sum().backward();
    const std::vector<float> xs = x.detach().to_vector(), ys = out.detach().to_vector(), gs = x.grad().to_vector();
    const float scale = static_cast<float>(1.0 / (1.0 - p));
    std::int64_t kept = 0, wrong_value = 0, wrong_grad = 0;
    for (std::size_t i = 0; i < xs.size(); ++i) {
        const bool keep = ys[i] != 0.0f;
        kept += keep;
        wrong_value += keep && ys[i] != xs[i] * scale;  // exactly x * (1 / (1 - p)), as PyTorch
        wrong_grad += gs[i] != (keep ? scale : 0.0f);   // the gradient is the scaled mask
    }
    CHECK(wrong_value == 0);
    CHECK(wrong_grad == 0);
    // The kept count is Binomial(n, 1 - p): sigma = sqrt(p (1 - p) / n) = 0.00145 in the fraction.
    // The bound is 5 sigma (0.0072), which a fair coin misses once in ~3.5 million runs.
    const double keep_fraction = static_cast<double>(kept) / static_cast<double>(n);
    const double five_sigma = 5.0 * std::sqrt(p * (1.0 - p) / static_cast<double>(n));
    CHECK(std::abs(keep_fraction - (1.0 - p)) < five_sigma);
    // The same seed gives the same mask; the module draws from the default generator.
    Generator again(42);
    check_same(F::dropout(x.detach(), p, true, &again), out.detach(), 0.0);
    nn::Dropout module(p);
    manual_seed(7);
    const Tensor first = module.forward(x.detach());
    manual_seed(7);
    check_same(module.forward(x.detach()), first, 0.0);
}

TEST_CASE("dropout with a fixed mask passes gradcheck", "[chapter03][layers][dropout][gradcheck]") {
    GradcheckOptions linear_in_x;
    linear_in_x.eps = 5e-2;
    const auto fixed_mask = [](const std::vector<Tensor>& in) {
        Generator generator(5);  // the same mask at every evaluation
        return F::dropout(in[0], 0.4, true, &generator);
    };
    CHECK(gradcheck(fixed_mask, {random_input({3, 7}, 8)}, linear_in_x));
}

// ---- nn::init ----------------------------------------------------------------------------------

// Tolerances of the statistical checks: with N = 262144 draws the sample std of U(-c, c) is
// off by sqrt(0.8 / N) / 2 = 0.09% at one sigma (for a normal: sqrt(2 / N) / 2 = 0.14%), and
// the sample mean by 0.2% of the std. 1% on the std and 0.01 std on the mean are over 5 sigma.
TEST_CASE("init draws from the distributions it names", "[chapter03][layers][init]") {
    manual_seed(11);
    const Tensor w = zeros({512, 512}).requires_grad_();  // fan_in = fan_out = 512
    const double fan = 512.0;

    SECTION("kaiming_uniform_ (ReLU gain): U(±sqrt(6 / fan_in))") {
        const Tensor& result =
            nn::init::kaiming_uniform_(w, 0.0, nn::init::FanMode::FanIn, nn::init::Nonlinearity::ReLU);
        CHECK(result.impl() == w.impl());
        CHECK(w.requires_grad());
        const double bound = std::sqrt(6.0 / fan);
        const std::vector<float> v = w.detach().to_vector();
        CHECK(max_abs(v) <= bound);
        CHECK(max_abs(v) > 0.999 * bound);
        CHECK(std_of(v) == Approx(bound / std::sqrt(3.0)).epsilon(0.01));
        CHECK(std::abs(mean_of(v)) < 0.01 * std_of(v));
    }
    SECTION("kaiming_uniform_ with a = sqrt(5) (PyTorch's Linear): U(±1 / sqrt(fan_in))") {
        nn::init::kaiming_uniform_(w, std::sqrt(5.0));
        const std::vector<float> v = w.detach().to_vector();
        CHECK(max_abs(v) <= 1.0 / std::sqrt(fan));
        CHECK(max_abs(v) > 0.999 / std::sqrt(fan));
    }
    SECTION("kaiming_normal_: N(0, 2 / fan_out) in fan-out mode") {
        const Tensor rect = zeros({256, 1024});  // fan_in 1024, fan_out 256
        nn::init::kaiming_normal_(rect, 0.0, nn::init::FanMode::FanOut, nn::init::Nonlinearity::ReLU);
        const std::vector<float> v = rect.to_vector();
        CHECK(std_of(v) == Approx(std::sqrt(2.0 / 256.0)).epsilon(0.01));
        CHECK(std::abs(mean_of(v)) < 0.01 * std_of(v));
    }
    SECTION("xavier_uniform_ and xavier_normal_: variance 2 / (fan_in + fan_out)") {
        const Tensor rect = zeros({256, 1024});
        const double expected_std = std::sqrt(2.0 / (256.0 + 1024.0));
        nn::init::xavier_uniform_(rect);
        std::vector<float> v = rect.to_vector();
        CHECK(max_abs(v) <= std::sqrt(3.0) * expected_std);
        CHECK(std_of(v) == Approx(expected_std).epsilon(0.01));
        nn::init::xavier_normal_(rect, 2.0);
        v = rect.to_vector();
        CHECK(std_of(v) == Approx(2.0 * expected_std).epsilon(0.01));
        CHECK(std::abs(mean_of(v)) < 0.01 * std_of(v));
    }
    SECTION("uniform_, normal_, constant_, zeros_, ones_") {
        nn::init::uniform_(w, 2.0, 3.0);
        std::vector<float> v = w.detach().to_vector();
        CHECK(*std::min_element(v.begin(), v.end()) >= 2.0f);
        CHECK(*std::max_element(v.begin(), v.end()) < 3.0f);
        CHECK(mean_of(v) == Approx(2.5).epsilon(0.01));
        nn::init::normal_(w, 1.0, 0.5);
        v = w.detach().to_vector();
        CHECK(mean_of(v) == Approx(1.0).margin(0.005));
        CHECK(std_of(v) == Approx(0.5).epsilon(0.01));
        nn::init::constant_(w, 0.25);
        CHECK(w.detach().min().item() == 0.25f);
        CHECK(w.detach().max().item() == 0.25f);
        nn::init::zeros_(w);
        CHECK(w.detach().abs().sum().item() == 0.0f);
        nn::init::ones_(w);
        CHECK(w.detach().sum().item() == 512.0f * 512.0f);
    }
}

TEST_CASE("calculate_gain and the fans are PyTorch's", "[chapter03][layers][init]") {
    using nn::init::Nonlinearity;
    CHECK(nn::init::calculate_gain(Nonlinearity::Linear) == 1.0);
    CHECK(nn::init::calculate_gain(Nonlinearity::Sigmoid) == 1.0);
    CHECK(nn::init::calculate_gain(Nonlinearity::Tanh) == Approx(5.0 / 3.0));
    CHECK(nn::init::calculate_gain(Nonlinearity::ReLU) == Approx(std::sqrt(2.0)));
    CHECK(nn::init::calculate_gain(Nonlinearity::LeakyReLU, 0.2) == Approx(std::sqrt(2.0 / 1.04)));
    CHECK(nn::init::calculate_gain(Nonlinearity::SELU) == Approx(0.75));
    CHECK(nn::init::calculate_fan_in_and_fan_out(zeros({128, 784})) == std::pair<std::int64_t, std::int64_t>{784, 128});
    CHECK(nn::init::calculate_fan_in_and_fan_out(zeros({8, 3, 5, 5})) ==
          std::pair<std::int64_t, std::int64_t>{75, 200});
    REQUIRE_THROWS_WITH(nn::init::kaiming_uniform_(zeros({10})), Contains("at least 2 dimensions"));
    REQUIRE_THROWS_AS(nn::init::normal_(zeros({2}, TensorOptions().dtype(Dtype::Int64))), std::invalid_argument);
}

TEST_CASE("init is reproducible from manual_seed", "[chapter03][layers][init]") {
    manual_seed(5);
    const nn::Linear a(10, 10);
    manual_seed(5);
    const nn::Linear b(10, 10);
    check_same(a.weight, b.weight.detach(), 0.0);
    check_same(a.bias, b.bias.detach(), 0.0);
}

// ---- on a device -------------------------------------------------------------------------------

TEST_CASE("Linear, Dropout and init run on a device as on the CPU, with no host reads", "[chapter03][layers][device]") {
    testing::StandInDevice stand_in;
    manual_seed(4);
    auto model = std::make_shared<nn::Sequential>(ModuleList{
        std::make_shared<nn::Linear>(6, 5), std::make_shared<nn::ReLU>(), std::make_shared<nn::Linear>(5, 2)});
    const Tensor x = randn({3, 2, 6});
    const Tensor expected = model->forward(x);
    backward_with(expected, 1);
    std::vector<Tensor> cpu_grads;
    for (const Tensor& p : model->parameters()) cpu_grads.push_back(p.grad().clone());

    model->to(Device::CUDA);
    model->zero_grad();
    const Tensor x_device = x.to(Device::CUDA);
    Generator upstream_generator(1);
    const Tensor upstream = randn(expected.shape(), upstream_generator).to(Device::CUDA);
    const std::uint64_t reads_before = testing::stand_in_host_reads();
    const Tensor out = model->forward(x_device);
    out.backward(upstream);
    const Tensor dropped = F::dropout(x_device, 0.5, true);
    nn::init::kaiming_uniform_(model->ptr<nn::Linear>(0)->weight, std::sqrt(5.0));
    CHECK(testing::stand_in_host_reads() == reads_before);  // nothing synchronised
    CHECK(dropped.device() == Device::CUDA);
    check_same(out, expected.detach(), 1e-6);
    const std::vector<Tensor> params = model->parameters();
    for (std::size_t i = 0; i < params.size(); ++i) check_same(params[i].grad(), cpu_grads[i], 1e-5);
}
