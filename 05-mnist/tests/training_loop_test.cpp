// Chapter 5, the training loop (exercise 05.2): one pass of train_batches() over a loader, on its
// own, without the Trainer around it (which also evaluates: exercise 05.3).
#include <catch2/catch.hpp>

#include <stepgrad/mnist/dataset.hpp>
#include <stepgrad/mnist/evaluate.hpp>
#include <stepgrad/mnist/model.hpp>
#include <stepgrad/nn.hpp>

#include "../src/training_loop.hpp"
#include "synthetic_dataset.hpp"

#include <memory>
#include <vector>

using namespace stepgrad;
using namespace stepgrad::mnist;

namespace {

// The made-up training images (N, 1, 14, 14), normalised with their own mean and deviation.
Tensor normalized(const Tensor& images) {
    const auto [mean, stddev] = pixel_mean_std(images);
    return (images - mean) / stddev;
}

std::shared_ptr<nn::Sequential> small_mlp(std::uint64_t seed) {
    manual_seed(seed);
    ModelConfig config;
    config.hidden = {64};
    config.image_height = synthetic::kSide;
    config.image_width = synthetic::kSide;
    config.num_classes = synthetic::kClasses;
    return make_model(config);
}

data::DataLoader loader_over(const Split& split, std::int64_t batch_size, bool shuffle) {
    const auto dataset = std::make_shared<data::TensorDataset>(normalized(split.images), split.labels);
    return data::DataLoader(dataset, data::DataLoaderOptions(batch_size).shuffle(shuffle).seed(1));
}

}  // namespace

TEST_CASE("train_batches learns the made-up dataset: the loss falls and the accuracy rises, epoch by epoch",
          "[chapter05][train][ex-05.2]") {
    synthetic::Dataset files(600, 20);
    const MnistData data = load_mnist(files.directory.path);
    const auto model = small_mlp(7);
    optim::Adam optimizer(model->parameters(), optim::AdamOptions(0.001));
    data::DataLoader loader = loader_over(data.train, 32, true);
    std::vector<EpochTotals> epochs;
    for (int epoch = 0; epoch < 3; ++epoch) epochs.push_back(train_batches(*model, optimizer, nullptr, loader, Device::CPU));
    for (const EpochTotals& totals : epochs) {
        CHECK(totals.seen() == 600);
        CHECK(totals.batches() == loader.size());
    }
    INFO("mean loss per epoch: " << epochs[0].mean_loss() << ", " << epochs[1].mean_loss() << ", "
                                 << epochs[2].mean_loss());
    CHECK(epochs[1].mean_loss() < epochs[0].mean_loss());
    CHECK(epochs[2].mean_loss() < epochs[1].mean_loss());
    CHECK(epochs[0].mean_loss() < 2.5);  // ln 10 = 2.30 is chance: it learns within the first epoch
    CHECK(epochs[2].accuracy() > epochs[0].accuracy());
    CHECK(epochs[2].accuracy() >= 0.9);
}

TEST_CASE("train_batches with a learning rate of 0: the epoch's figures are the whole split's, the gradients the "
          "last batch's",
          "[chapter05][train][ex-05.2]") {
    synthetic::Dataset files(100, 20);
    const MnistData data = load_mnist(files.directory.path);
    const auto model = small_mlp(3);
    const std::vector<float> before = synthetic::all_weights(*model);
    optim::SGD optimizer(model->parameters(), optim::SGDOptions(0.0));  // the weights stay put
    data::DataLoader loader = loader_over(data.train, 32, false);      // batches of 32, 32, 32 and 4
    const EpochTotals totals = train_batches(*model, optimizer, nullptr, loader, Device::CPU);
    CHECK(synthetic::all_weights(*model) == before);
    CHECK(totals.seen() == 100);
    CHECK(totals.batches() == 4);

    // The same model on all 100 images at once: the epoch's mean loss and accuracy are these.
    const Tensor images = normalized(data.train.images);
    Tensor logits;
    {
        NoGradGuard no_grad;
        logits = model->forward(images);
    }
    CHECK(totals.mean_loss() == Approx(nn::functional::cross_entropy(logits, data.train.labels).item<double>()).epsilon(1e-5));
    CHECK(totals.accuracy() == Approx(metrics::accuracy(logits, data.train.labels)));

    // The gradients left behind are those of the last batch (images 96 to 99) alone: each batch
    // starts from cleared gradients.
    std::vector<Tensor> left_behind;
    for (const Tensor& parameter : model->parameters()) {
        REQUIRE(parameter.grad().defined());
        left_behind.push_back(parameter.grad().clone());
    }
    optimizer.zero_grad();
    nn::functional::cross_entropy(model->forward(narrow(images, 0, 96, 4)), narrow(data.train.labels, 0, 96, 4)).backward();
    const std::vector<Tensor> parameters = model->parameters();
    for (std::size_t i = 0; i < parameters.size(); ++i) {
        const std::vector<float> expected = parameters[i].grad().to_vector();
        const std::vector<float> actual = left_behind[i].to_vector();
        REQUIRE(actual.size() == expected.size());
        for (std::size_t j = 0; j < actual.size(); ++j) CHECK(actual[j] == Approx(expected[j]).margin(1e-6));
    }
}

TEST_CASE("train_batches trains in train mode, steps a per-batch schedule once per batch and reports every batch",
          "[chapter05][train][ex-05.2]") {
    synthetic::Dataset files(100, 20);
    const MnistData data = load_mnist(files.directory.path);
    const auto model = small_mlp(5);
    model->eval();
    optim::SGD optimizer(model->parameters(), optim::SGDOptions(0.1));
    optim::StepLR halve_each_step(optimizer, /*step_size=*/1, /*gamma=*/0.5);
    data::DataLoader loader = loader_over(data.train, 25, true);  // 4 batches

    struct Report {
        std::int64_t done, total;
        double loss, accuracy;
    };
    std::vector<Report> reports;
    const EpochTotals totals = train_batches(*model, optimizer, &halve_each_step, loader, Device::CPU,
                                             [&](std::int64_t done, std::int64_t total, double loss, double accuracy) {
                                                 reports.push_back({done, total, loss, accuracy});
                                             });
    CHECK(model->is_training());
    CHECK(optimizer.param_groups().front().options().get_lr() == Approx(0.1 / 16));  // halved 4 times
    REQUIRE(reports.size() == 4);
    for (std::size_t i = 0; i < reports.size(); ++i) {
        CHECK(reports[i].done == static_cast<std::int64_t>(i) + 1);
        CHECK(reports[i].total == 4);
        CHECK(reports[i].loss > 0.0);
    }
    CHECK(reports.back().loss == totals.mean_loss());
    CHECK(reports.back().accuracy == totals.accuracy());

    // Without a per-batch schedule the rate stays (an epoch schedule steps after the epoch).
    const EpochTotals again = train_batches(*model, optimizer, nullptr, loader, Device::CPU);
    CHECK(optimizer.param_groups().front().options().get_lr() == Approx(0.1 / 16));
    CHECK(again.batches() == 4);
}
