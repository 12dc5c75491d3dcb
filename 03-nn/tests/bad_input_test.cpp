// Chapter 3, bad input: invalid module options, inputs a layer cannot take, and optimizer misuse
// are each refused with one clear error that names the module and the value, and a refused call
// changes nothing: no parameter, no running statistic, no optimizer state.
// docs/bad_input.md lists these cases in a table; each row links to one TEST_CASE here.
#include "../../02-tensor/tests/stand_in_device.hpp"
#include "../../02-tensor/tests/test_helpers.hpp"

#include <stepgrad/shared/error_of.hpp>
#include <stepgrad/nn.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

using namespace stepgrad;
using namespace stepgrad::testing;
namespace F = stepgrad::nn::functional;

namespace {

Tensor parameter(const std::vector<float>& values) {
    return from_vector(values, {static_cast<std::int64_t>(values.size())}, TensorOptions().requires_grad(true));
}

}  // namespace

TEST_CASE("a layer with a negative size is refused with the size it got", "[chapter03][bad-input]") {
    CHECK_THAT(error_of<std::invalid_argument>([] { nn::Linear(-1, 3); }),
               Catch::Contains("Linear") && Catch::Contains("in_features=-1"));
    CHECK_THAT(error_of<std::invalid_argument>([] { nn::Conv2d(nn::Conv2dOptions(-1, 8, 3)); }),
               Catch::Contains("Conv2d") && Catch::Contains("-1"));
    CHECK_THAT(error_of<std::invalid_argument>([] { nn::BatchNorm1d(-1); }),
               Catch::Contains("num_features must be positive, got -1"));
}

TEST_CASE("a zero stride is refused by Conv2d and MaxPool2d", "[chapter03][bad-input]") {
    CHECK_THAT(error_of<std::invalid_argument>([] { nn::Conv2d(nn::Conv2dOptions(1, 8, 3).stride(0)); }),
               Catch::Contains("Conv2d: stride must be positive"));
    nn::MaxPool2d pool(nn::MaxPool2dOptions(2).stride(0));
    CHECK_THAT(error_of<std::invalid_argument>([&] { (void)pool.forward(zeros({1, 1, 4, 4})); }),
               Catch::Contains("max_pool2d: stride must be positive"));
}

TEST_CASE("a kernel larger than the padded input names both sizes", "[chapter03][bad-input]") {
    nn::Conv2d conv(nn::Conv2dOptions(1, 1, 5).padding(1));
    const Tensor weight_before = conv.weight.clone();
    CHECK_THAT(error_of<std::invalid_argument>([&] { (void)conv.forward(zeros({1, 1, 2, 2})); }),
               Catch::Contains("conv2d: the padded input (4 x 4) is smaller than the dilated kernel (5 x 5)"));
    check_same(conv.weight, weight_before);
    nn::MaxPool2d pool(5);
    CHECK_THAT(error_of<std::invalid_argument>([&] { (void)pool.forward(zeros({1, 1, 4, 4})); }),
               Catch::Contains("max_pool2d") && Catch::Contains("[1, 1, 4, 4]"));
}

TEST_CASE("an input with the wrong channel count names the expected count", "[chapter03][bad-input]") {
    nn::Conv2d conv(nn::Conv2dOptions(3, 1, 3));
    CHECK_THAT(error_of<std::invalid_argument>([&] { (void)conv.forward(zeros({1, 2, 5, 5})); }),
               Catch::Contains("conv2d") && Catch::Contains("[1, 2, 5, 5]"));
    nn::Linear linear(4, 2);
    CHECK_THAT(error_of<std::invalid_argument>([&] { (void)linear.forward(zeros({2, 3})); }),
               Catch::Contains("linear") && Catch::Contains("[2, 3]"));
}

TEST_CASE("a failed batch norm forward leaves the running statistics untouched", "[chapter03][bad-input]") {
    nn::BatchNorm1d bn(3);
    bn.train();
    const Tensor mean_before = bn.running_mean.clone();
    const Tensor var_before = bn.running_var.clone();
    CHECK_THAT(error_of<std::invalid_argument>([&] { (void)bn.forward(ones({4, 2})); }),
               Catch::Contains("BatchNorm1d: expected 3 channels") && Catch::Contains("[4, 2]"));
    CHECK_THAT(error_of<std::invalid_argument>([&] { (void)bn.forward(ones({1, 3})); }),
               Catch::Contains("more than 1 value per channel") && Catch::Contains("[1, 3]"));
    check_same(bn.running_mean, mean_before);
    check_same(bn.running_var, var_before);
    CHECK(bn.num_batches_tracked.item<std::int64_t>() == 0);
}

TEST_CASE("a batch norm forward stopped by anomaly mode counts no batch", "[chapter03][bad-input]") {
    nn::BatchNorm1d bn(2);
    bn.train();
    const Tensor input = tensor({{1.0, std::nan("")}, {2.0, 3.0}});
    {
        AnomalyGuard anomaly;
        CHECK_THAT(error_of<std::runtime_error>([&] { (void)bn.forward(input); }),
                   Catch::Contains("anomaly detected") && Catch::Contains("NaN or Inf"));
    }
    check_tensor(bn.running_mean, {2}, {0, 0});
    check_tensor(bn.running_var, {2}, {1, 1});
    CHECK(bn.num_batches_tracked.item<std::int64_t>() == 0);
}

TEST_CASE("a dropout probability outside [0, 1] is refused", "[chapter03][bad-input]") {
    CHECK_THAT(error_of<std::invalid_argument>([] { nn::Dropout(nn::DropoutOptions(1.5)); }),
               Catch::Contains("dropout probability must lie in [0, 1], got 1.5"));
    CHECK_THAT(error_of<std::invalid_argument>([] { (void)F::dropout(ones({2}), -0.1); }),
               Catch::Contains("got -0.1"));
}

TEST_CASE("a negative learning rate is refused and changes no parameter", "[chapter03][bad-input]") {
    Tensor p = parameter({1, 2});
    p.set_grad(ones({2}));
    CHECK_THAT(error_of<std::invalid_argument>([&] { optim::SGD({p}, optim::SGDOptions(-0.1)); }),
               Catch::Contains("SGD: Invalid learning rate: -0.1"));
    CHECK_THAT(error_of<std::invalid_argument>([&] { optim::Adam({p}, optim::AdamOptions(-0.1)); }),
               Catch::Contains("Adam: Invalid learning rate: -0.1"));
    check_tensor(p, {2}, {1, 2});
    CHECK(p.version() == 0);
}

TEST_CASE("a parameter that is not a leaf is refused and the optimizer keeps its groups",
          "[chapter03][bad-input]") {
    Tensor p = parameter({1, 2});
    const Tensor computed = p * 2.0;
    CHECK_THAT(error_of<std::invalid_argument>([&] { optim::SGD({computed}, optim::SGDOptions(0.1)); }),
               Catch::Contains("can't optimize a non-leaf Tensor"));
    optim::SGD sgd({p}, optim::SGDOptions(0.1));
    CHECK_THAT(error_of<std::invalid_argument>([&] { sgd.add_param_group(optim::OptimizerParamGroup({parameter({3}), computed})); }),
               Catch::Contains("non-leaf") && Catch::Contains("parameter 1"));
    CHECK(sgd.param_groups().size() == 1);
    CHECK(sgd.parameter_count() == 1);
    CHECK_THAT(error_of<std::invalid_argument>([] { optim::SGD(std::vector<Tensor>{}, optim::SGDOptions(0.1)); }),
               Catch::Contains("empty parameter list"));
}

TEST_CASE("a failed optimizer step changes no parameter", "[chapter03][bad-input]") {
    StandInDevice cuda;
    Tensor a = parameter({1, 2});
    Tensor b = parameter({3, 4});
    optim::SGD sgd({a, b}, optim::SGDOptions(0.1).momentum(0.9));
    a.set_grad(ones({2}));
    b.set_grad(ones({2}));
    sgd.step();  // both momentum buffers now live on the CPU
    // b moves to the other device (as Module::to moves it), its buffer does not.
    stepgrad::detail::set_data(b, b.detach().to(Device::CUDA));
    b.set_grad(ones({2}).cuda());
    const Tensor a_before = a.clone();
    const Tensor b_before = b.cpu();
    const Tensor buffer_before = sgd.state(0).find("momentum_buffer").clone();
    CHECK_THAT(error_of<std::invalid_argument>([&] { sgd.step(); }),
               Catch::Contains("SGD") && Catch::Contains("cpu") && Catch::Contains("cuda"));
    check_same(a, a_before);
    check_same(b.cpu(), b_before);
    check_same(sgd.state(0).find("momentum_buffer"), buffer_before);
}

TEST_CASE("a failed load_state_dict changes no parameter", "[chapter03][bad-input]") {
    nn::Linear linear(2, 2);
    const Tensor weight_before = linear.weight.clone();
    nn::StateDict state;
    state.insert("weight", ones({2, 2}));  // fits
    state.insert("bias", ones({3}));       // does not
    CHECK_THAT(error_of<std::invalid_argument>([&] { linear.load_state_dict(state); }),
               Catch::Contains("load_state_dict") && Catch::Contains("'bias' has shape [3]") &&
                   Catch::Contains("[2] in the model"));
    check_same(linear.weight, weight_before);
}

TEST_CASE("a loss given mismatched shapes or float class indices says which", "[chapter03][bad-input]") {
    CHECK_THAT(error_of<std::invalid_argument>([] { (void)F::mse_loss(ones({2, 3}), ones({3, 2})); }),
               Catch::Contains("mse_loss") && Catch::Contains("[2, 3]") && Catch::Contains("[3, 2]"));
    CHECK_THAT(error_of<std::invalid_argument>([] { (void)F::cross_entropy(ones({2, 3}), ones({2})); }),
               Catch::Contains("cross_entropy") && Catch::Contains("Int64"));
    CHECK_THAT(error_of<std::out_of_range>([] {
                   (void)F::cross_entropy(ones({2, 3}), tensor({0, 3}, TensorOptions().dtype(Dtype::Int64)));
               }),
               Catch::Contains("cross_entropy") && Catch::Contains("3"));
}

TEST_CASE("an empty batch goes through Linear and cross_entropy as in PyTorch", "[chapter03][bad-input]") {
    nn::Linear linear(3, 2);
    check_tensor(linear.forward(zeros({0, 3})), {0, 2}, {});
    const Tensor loss = F::cross_entropy(zeros({0, 3}), zeros({0}, TensorOptions().dtype(Dtype::Int64)));
    CHECK(std::isnan(loss.item()));
}
