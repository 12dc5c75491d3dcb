// Ten training steps of chapter 5's MNIST models on Device::CUDA follow the CPU's trajectory:
// the same seed, the same batch, the same optimizer; the losses of every step and the final
// weights must agree. Tolerances: each step's loss within 1e-4 (relative); final weights within
// 1e-4 after SGD, 2e-3 after Adam (Adam divides by the root of tiny second moments, so a
// gradient of ~1e-9 whose sign depends on the summation order moves a weight by up to 2 lr).
// A wrong gradient anywhere in the network moves the losses far more within ten steps.
#include <stepgrad/gpu/gpu.hpp>

#include <catch2/catch.hpp>

#if defined(STEPGRAD_HAVE_MNIST)
#include <stepgrad/mnist/model.hpp>
#include <stepgrad/mnist/trainer.hpp>
#include <stepgrad/nn.hpp>

#include "synthetic_dataset.hpp"  // chapter 5's made-up MNIST-format data set

#include <cmath>
#include <memory>
#include <vector>

using namespace stepgrad;

namespace {

struct Trajectory {
    std::vector<float> losses;          // one per step
    std::vector<Tensor> parameters;     // after the last step, on the CPU
    long long reads_during_steps = 0;   // synchronising reads the ten steps made
};

enum class Optim { SGD, Adam };

Trajectory train_ten_steps(const mnist::ModelConfig& config, Optim optim, Device device) {
    // The batch: 32 images of 28x28 in [0, 1) and their labels, made on the CPU, then moved.
    Generator data_generator(5);
    const Tensor images = rand({32, 1, 28, 28}, data_generator).to(device);
    std::vector<std::int64_t> label_values;
    for (int i = 0; i < 32; ++i) label_values.push_back(static_cast<std::int64_t>(data_generator.below(10)));
    const Tensor labels = from_vector(label_values, {32}).to(device);

    manual_seed(0);  // the same weights, and the same dropout masks (drawn on the host)
    auto model = mnist::make_model(config);
    model->to(device);
    model->train();
    std::unique_ptr<optim::Optimizer> optimizer;
    if (optim == Optim::SGD) {
        optimizer = std::make_unique<optim::SGD>(model->parameters(), optim::SGDOptions(0.05).momentum(0.9).weight_decay(1e-4));
    } else {
        optimizer = std::make_unique<optim::Adam>(model->parameters(), optim::AdamOptions(1e-3));
    }
    Trajectory result;
    std::vector<Tensor> losses;
    const long long reads_before = gpu::synchronising_reads();
    for (int step = 0; step < 10; ++step) {
        optimizer->zero_grad();
        Tensor loss = nn::functional::cross_entropy(model->forward(images), labels);
        loss.backward();
        optimizer->step();
        losses.push_back(loss.detach());
    }
    result.reads_during_steps = gpu::synchronising_reads() - reads_before;
    for (const Tensor& loss : losses) result.losses.push_back(loss.item());
    for (const Tensor& p : model->parameters()) result.parameters.push_back(p.detach().cpu());
    for (const auto& [name, buffer] : model->named_buffers()) result.parameters.push_back(buffer.cpu());
    return result;
}

void check_follows(const Trajectory& device, const Trajectory& cpu, double weight_tolerance) {
    REQUIRE(device.losses.size() == cpu.losses.size());
    for (std::size_t step = 0; step < cpu.losses.size(); ++step) {
        INFO("step " << step + 1 << ": loss on the device " << device.losses[step] << ", on the CPU " << cpu.losses[step]);
        CHECK(std::abs(device.losses[step] - cpu.losses[step]) <= 1e-4 * std::abs(cpu.losses[step]));
    }
    CHECK(cpu.losses.back() < cpu.losses.front());  // it learned something
    REQUIRE(device.parameters.size() == cpu.parameters.size());
    for (std::size_t i = 0; i < cpu.parameters.size(); ++i) {
        const auto a = device.parameters[i].to_vector<float>(), b = cpu.parameters[i].to_vector<float>();
        REQUIRE(a.size() == b.size());
        double worst = 0.0;
        for (std::size_t j = 0; j < a.size(); ++j) worst = std::max(worst, std::abs(static_cast<double>(a[j]) - b[j]));
        INFO("parameter/buffer " << i << " of shape " << shape_to_string(cpu.parameters[i].shape()));
        CHECK(worst <= weight_tolerance);
    }
    CHECK(device.reads_during_steps == 0);  // nothing in a training step waits for the device
}

}  // namespace

TEST_CASE("ten SGD steps of the MNIST MLP (dropout) on the device follow the CPU", "[chapter04][training]") {
    mnist::ModelConfig config;
    config.hidden = {128, 64};
    config.dropout = 0.2;
    const Trajectory on_cpu = train_ten_steps(config, Optim::SGD, Device::CPU);
    const Trajectory on_device = train_ten_steps(config, Optim::SGD, Device::CUDA);
    check_follows(on_device, on_cpu, 1e-4);
}

TEST_CASE("ten Adam steps of the MNIST CNN (batch norm, dropout) on the device follow the CPU",
          "[chapter04][training]") {
    mnist::ModelConfig config;
    config.kind = mnist::ModelKind::CNN;
    config.channels = {8, 16};
    config.batchnorm = true;
    config.dropout = 0.25;
    const Trajectory on_cpu = train_ten_steps(config, Optim::Adam, Device::CPU);
    const Trajectory on_device = train_ten_steps(config, Optim::Adam, Device::CUDA);
    check_follows(on_device, on_cpu, 2e-3);
}

TEST_CASE("chapter 5's Trainer runs whole epochs on the device like on the CPU, reading it rarely",
          "[chapter04][training]") {
    synthetic::Dataset files(320, 100);
    const mnist::MnistData data = mnist::load_mnist(files.directory.path);
    auto run = [&](Device device) {
        mnist::TrainOptions options;
        options.model.hidden = {64};
        options.epochs = 2;
        options.batch_size = 32;
        options.seed = 3;
        options.device = device;
        mnist::Trainer trainer(data, options);
        std::vector<mnist::EpochMetrics> epochs;
        const long long reads_before = gpu::synchronising_reads();
        epochs.push_back(trainer.train_epoch());
        const long long reads = gpu::synchronising_reads() - reads_before;
        epochs.push_back(trainer.train_epoch());
        return std::make_pair(epochs, reads);
    };
    const auto [on_cpu, cpu_reads] = run(Device::CPU);
    const auto [on_device, device_reads] = run(Device::CUDA);
    for (std::size_t e = 0; e < on_cpu.size(); ++e) {
        INFO("epoch " << e + 1);
        CHECK(on_device[e].train_loss == Approx(on_cpu[e].train_loss).epsilon(1e-4));
        CHECK(on_device[e].train_accuracy == Approx(on_cpu[e].train_accuracy).margin(1.0 / 320));
        CHECK(on_device[e].test_loss == Approx(on_cpu[e].test_loss).epsilon(1e-4));
        CHECK(on_device[e].test_accuracy == Approx(on_cpu[e].test_accuracy).margin(1.0 / 100));
    }
    // 10 batches: the running totals are read once at the end (every 20 batches otherwise), plus
    // what the evaluation of the test set reads; never once per batch.
    INFO("synchronising reads in one device epoch: " << device_reads);
    CHECK(device_reads < 10);
}

#else
TEST_CASE("the MNIST training steps need chapter 5 (configure from the project root)", "[chapter04][training]") {
    SUCCEED("chapter 5 is not part of this build");
}
#endif
