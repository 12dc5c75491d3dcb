// Chapter 5, training: seeded runs on a made-up dataset learn it, repeat exactly, and keep their
// memory flat from one epoch to the next.
#include <catch2/catch.hpp>

#include <stepgrad/mnist/metrics_csv.hpp>
#include <stepgrad/mnist/trainer.hpp>

#include "synthetic_dataset.hpp"

using namespace stepgrad;
using namespace stepgrad::mnist;

namespace {

TrainOptions quick_options(ModelKind kind) {
    TrainOptions options;
    options.model.kind = kind;
    options.model.hidden = {64};
    options.model.channels = {8, 16};
    options.epochs = 3;
    options.batch_size = 32;
    options.seed = 7;
    return options;
}

}  // namespace

TEST_CASE("a seeded MLP learns the made-up dataset: test accuracy at least 90% after 3 epochs", "[chapter05][train]") {
    synthetic::Dataset files;
    const MnistData data = load_mnist(files.directory.path);
    Trainer trainer(data, quick_options(ModelKind::MLP));
    const double untrained = evaluate(trainer.classifier(), data.test, data.num_classes).accuracy;
    CHECK(untrained < 0.3);  // chance is 10%: the task is not solved before training
    std::vector<EpochMetrics> epochs;
    while (trainer.epochs_done() < 3) epochs.push_back(trainer.train_epoch());
    CHECK(epochs.back().test_accuracy >= 0.90);
    CHECK(epochs.back().train_loss < epochs.front().train_loss);
    CHECK(epochs.back().epoch == 3);
    CHECK(epochs.back().train_seconds > 0.0);
    CHECK(epochs.back().images_per_second == Approx(600.0 / epochs.back().train_seconds));
}

TEST_CASE("a seeded CNN with batch norm, dropout and shifted images learns the made-up dataset",
          "[chapter05][train]") {
    synthetic::Dataset files;
    const MnistData data = load_mnist(files.directory.path);
    TrainOptions options = quick_options(ModelKind::CNN);
    options.model.batchnorm = true;
    options.model.dropout = 0.25;
    options.augment = true;
    options.scheduler = SchedulerKind::OneCycle;
    options.lr = 0.01;
    Trainer trainer(data, options);
    EpochMetrics last;
    while (trainer.epochs_done() < 3) last = trainer.train_epoch();
    CHECK(last.test_accuracy >= 0.85);
}

TEST_CASE("the same seed trains the same weights; another seed, other weights", "[chapter05][train]") {
    synthetic::Dataset files;
    const MnistData data = load_mnist(files.directory.path);
    TrainOptions options = quick_options(ModelKind::MLP);
    options.model.dropout = 0.2;
    options.augment = true;
    auto weights_after_one_epoch = [&](std::uint64_t seed) {
        options.seed = seed;
        Trainer trainer(data, options);
        (void)trainer.train_epoch();
        return synthetic::all_weights(trainer.model());
    };
    const std::vector<float> first = weights_after_one_epoch(3);
    CHECK(weights_after_one_epoch(3) == first);
    CHECK(weights_after_one_epoch(4) != first);
}

TEST_CASE("memory stays flat after the first epoch: no tensor and no page outlives its epoch",
          "[chapter05][train][memory]") {
    synthetic::Dataset files(2000, 200);
    const MnistData data = load_mnist(files.directory.path);
    TrainOptions options = quick_options(ModelKind::CNN);
    options.epochs = 6;
    Trainer trainer(data, options);
    const EpochMetrics first = trainer.train_epoch();
    const std::size_t in_use_after_first = memory_stats(Device::CPU).bytes_in_use;
    EpochMetrics last;
    while (trainer.epochs_done() < options.epochs) last = trainer.train_epoch();
    // The tensors alive between epochs (weights, optimizer state, data) are the same ones.
    CHECK(memory_stats(Device::CPU).bytes_in_use == in_use_after_first);
    // The process's peak resident memory grows by less than 2 MiB over five more epochs.
    // (Not under AddressSanitizer: its quarantine keeps freed memory resident on purpose.)
#if !defined(__SANITIZE_ADDRESS__)
    CHECK(last.peak_rss_mib - first.peak_rss_mib < 2.0);
#else
    (void)first;
    (void)last;
#endif
}

TEST_CASE("bad training options are refused with the flag's name", "[chapter05][train]") {
    synthetic::Dataset files(50, 20);
    const MnistData data = load_mnist(files.directory.path);
    TrainOptions options = quick_options(ModelKind::MLP);
    options.epochs = -1;
    CHECK_THROWS_WITH(Trainer(data, options), Catch::Contains("--epochs must be at least 1"));
    options = quick_options(ModelKind::MLP);
    options.batch_size = 0;
    CHECK_THROWS_WITH(Trainer(data, options), Catch::Contains("--batch-size"));
    options = quick_options(ModelKind::MLP);
    options.model.dropout = 1.0;
    CHECK_THROWS_WITH(Trainer(data, options), Catch::Contains("dropout must be in [0, 1)"));
    options = quick_options(ModelKind::CNN);
    options.model.channels = {4, 4, 4, 4};  // 14 -> 7 -> 3 -> 1 -> 0
    CHECK_THROWS_WITH(Trainer(data, options), Catch::Contains("use fewer --channels"));
}
