// Every loss on chapter 2's strict stand-in device (a GPU's rules on the CPU: device memory the
// host cannot touch): the same losses and gradients as on the CPU, and no synchronising read of
// device memory in the forward or the backward pass.
#include <stepgrad/nn/loss.hpp>

#include "../../02-tensor/tests/stand_in_device.hpp"
#include "../../02-tensor/tests/test_helpers.hpp"

#include <catch2/catch.hpp>

#include <functional>
#include <string>
#include <vector>

using namespace stepgrad;
using namespace stepgrad::nn;
using stepgrad::testing::check_same;
using stepgrad::testing::indices;
using stepgrad::testing::StandInDevice;
using stepgrad::testing::stand_in_host_reads;
namespace F = stepgrad::nn::functional;

namespace {

// A loss of (prediction, target, constant) where the prediction gets a gradient.
using LossFn = std::function<Tensor(const Tensor&, const Tensor&, const Tensor&)>;

struct Case {
    std::string name;
    Tensor prediction, target, constant;  // on the CPU; the constant is a weight or unused
    LossFn loss;
};

}  // namespace

TEST_CASE("every loss runs on the stand-in device with no host reads and the CPU's results",
          "[chapter03][loss][device]") {
    StandInDevice stand_in;
    Generator generator(3);
    const Tensor scores = randn({6, 4}, generator), other = randn({6, 4}, generator);
    const Tensor probabilities = sigmoid(scores), soft = sigmoid(other);
    const Tensor labels = indices({3, -100, 0, 2, 2, 1});
    const Tensor class_weight = tensor({0.5, 1.0, 2.0, 1.5});
    std::vector<Case> cases;
    for (Reduction r : {Reduction::None, Reduction::Mean, Reduction::Sum}) {
        const std::string suffix = " reduction " + std::to_string(static_cast<int>(r));
        cases.push_back({"mse" + suffix, scores, other, Tensor(), [r](const Tensor& x, const Tensor& t, const Tensor&) {
                             return F::mse_loss(x, t, MSELossOptions().reduction(r));
                         }});
        cases.push_back({"smooth_l1" + suffix, scores, other, Tensor(), [r](const Tensor& x, const Tensor& t, const Tensor&) {
                             return F::smooth_l1_loss(x, t, SmoothL1LossOptions().reduction(r).beta(0.5));
                         }});
        cases.push_back({"bce" + suffix, probabilities, soft, class_weight, [r](const Tensor& x, const Tensor& t, const Tensor& w) {
                             return F::binary_cross_entropy(x, t, BCELossOptions().reduction(r).weight(w));
                         }});
        cases.push_back({"bce_with_logits" + suffix, scores, soft, class_weight,
                         [r](const Tensor& x, const Tensor& t, const Tensor& w) {
                             return F::binary_cross_entropy_with_logits(x, t, BCEWithLogitsLossOptions().reduction(r).pos_weight(w));
                         }});
        cases.push_back({"nll" + suffix, scores, labels, class_weight, [r](const Tensor& x, const Tensor& t, const Tensor& w) {
                             return F::nll_loss(log_softmax(x, 1), t, NLLLossOptions().reduction(r).weight(w));
                         }});
        cases.push_back({"cross_entropy" + suffix, scores, labels, Tensor(), [r](const Tensor& x, const Tensor& t, const Tensor&) {
                             return F::cross_entropy(x, t, CrossEntropyLossOptions().reduction(r).label_smoothing(0.1));
                         }});
        cases.push_back({"weighted cross_entropy" + suffix, scores, labels, class_weight,
                         [r](const Tensor& x, const Tensor& t, const Tensor& w) {
                             return F::cross_entropy(x, t, CrossEntropyLossOptions().reduction(r).weight(w).label_smoothing(0.1));
                         }});
    }
    for (const Case& c : cases) {
        DYNAMIC_SECTION(c.name) {
            const auto run = [&](Device device) {
                Tensor x = c.prediction.clone().to(device).requires_grad_();  // a fresh leaf on each device
                const Tensor constant = c.constant.defined() ? c.constant.to(device) : Tensor();
                const Tensor target = c.target.to(device), upstream_cpu = full(c.loss(c.prediction, c.target, c.constant).shape(), 0.7);
                const Tensor upstream = upstream_cpu.to(device);
                const std::uint64_t reads_before = stand_in_host_reads();
                const Tensor loss = c.loss(x, target, constant);
                loss.backward(upstream);
                if (device == Device::CUDA) CHECK(stand_in_host_reads() == reads_before);  // nothing synchronised
                return std::pair{loss.cpu(), x.grad().cpu()};
            };
            const auto [cpu_loss, cpu_grad] = run(Device::CPU);
            const auto [device_loss, device_grad] = run(Device::CUDA);
            check_same(device_loss, cpu_loss, 1e-6);
            check_same(device_grad, cpu_grad, 1e-6);
        }
    }
}

TEST_CASE("a loss module's weight buffer moves with to(device)", "[chapter03][loss][device]") {
    StandInDevice stand_in;
    const Tensor logits = tensor({{0.5, -1.0, 2.0}, {1.0, 0.0, 0.3}}), target = indices({2, 0});
    CrossEntropyLoss criterion(CrossEntropyLossOptions().weight(tensor({0.5, 2.0, 1.0})));
    const Tensor on_cpu = criterion.forward(logits, target);
    criterion.to(Device::CUDA);
    CHECK(criterion.weight.device() == Device::CUDA);
    check_same(criterion.forward(logits.to(Device::CUDA), target.to(Device::CUDA)).cpu(), on_cpu, 1e-6);
}
