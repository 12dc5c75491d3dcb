// Chapter 3's layers on another device: a CNN's training steps on chapter 2's strict stand-in
// device (a GPU's rules on the CPU: its memory cannot be read by the host) give the CPU's
// numbers, and the steps themselves read nothing back to the host.
#include "stand_in_device.hpp"
#include "test_helpers.hpp"

#include <stepgrad/nn.hpp>

#include <catch2/catch.hpp>

using namespace stepgrad;
using namespace stepgrad::testing;
namespace F = stepgrad::nn::functional;

namespace {

// Conv 1->4 3x3 pad 1, BatchNorm, ReLU, MaxPool 2, Conv 4->6 3x3 stride 2 pad 1, ReLU,
// AvgPool 2, Flatten, Dropout, Linear 6*2*2->10: every layer kind an image classifier uses.
std::shared_ptr<nn::Sequential> make_cnn() {
    manual_seed(3);
    return std::make_shared<nn::Sequential>(std::initializer_list<std::shared_ptr<nn::Module>>{
        std::make_shared<nn::Conv2d>(nn::Conv2dOptions(1, 4, 3).padding(1)),
        std::make_shared<nn::BatchNorm2d>(nn::BatchNormOptions(4)), std::make_shared<nn::ReLU>(),
        std::make_shared<nn::MaxPool2d>(nn::MaxPool2dOptions(2)),
        std::make_shared<nn::Conv2d>(nn::Conv2dOptions(4, 6, 3).stride(2).padding(1)), std::make_shared<nn::ReLU>(),
        std::make_shared<nn::AvgPool2d>(nn::AvgPool2dOptions(2)), std::make_shared<nn::Flatten>(),
        std::make_shared<nn::Dropout>(nn::DropoutOptions(0.0)), std::make_shared<nn::Linear>(24, 10)});
}

}  // namespace

TEST_CASE("a CNN's training steps on the stand-in device match the CPU, with no host reads",
          "[chapter03][device]") {
    StandInDevice stand_in;
    Generator generator(5);
    const Tensor images = randn({8, 1, 16, 16}, generator);
    const Tensor labels = from_vector(std::vector<std::int64_t>{3, 0, 9, 5, 1, 1, 7, 2}, {8});

    auto run = [&](Device device) {
        auto model = make_cnn();
        model->to(device);
        const Tensor x = images.to(device), y = labels.to(device);
        optim::SGD optimizer(model->parameters(), optim::SGDOptions(0.1).momentum(0.9).weight_decay(1e-4));
        const std::uint64_t reads_before = stand_in_host_reads();
        Tensor loss;
        for (int step = 0; step < 3; ++step) {
            optimizer.zero_grad();
            loss = F::cross_entropy(model->forward(x), y);
            loss.backward();
            optimizer.step();
        }
        if (device == Device::CUDA) CHECK(stand_in_host_reads() == reads_before);  // nothing synchronised
        std::vector<Tensor> results{loss.detach().cpu()};
        for (const auto& [name, tensor] : model->state_dict()) results.push_back(tensor.detach().cpu());
        return results;
    };
    const auto on_cpu = run(Device::CPU);
    const auto on_device = run(Device::CUDA);
    REQUIRE(on_cpu.size() == on_device.size());
    for (std::size_t i = 0; i < on_cpu.size(); ++i) {
        INFO("result " << i);
        if (on_cpu[i].dtype() == Dtype::Int64) {
            CHECK(on_device[i].to_vector<std::int64_t>() == on_cpu[i].to_vector<std::int64_t>());
        } else {
            check_same(on_device[i], on_cpu[i], 1e-5);
        }
    }
    CHECK(on_cpu[0].item() > 0.0f);
}
