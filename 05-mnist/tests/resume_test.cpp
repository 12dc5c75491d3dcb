// Chapter 5, exact resume: 2 epochs, save, resume, 2 more epochs give the very weights (bit for
// bit) of 4 epochs in one go, with every source of randomness and state in play.
#include <catch2/catch.hpp>

#include <stepgrad/mnist/trainer.hpp>

#include <cstring>

#include "synthetic_dataset.hpp"

using namespace stepgrad;
using namespace stepgrad::mnist;

namespace {

// Every tensor of the model's state (parameters and batch norm's running statistics), bitwise.
bool same_bits(const nn::Module& a, const nn::Module& b) {
    const nn::StateDict left = a.state_dict();
    const nn::StateDict right = b.state_dict();
    if (left.size() != right.size()) return false;
    for (std::size_t i = 0; i < left.size(); ++i) {
        const Tensor& x = left.items()[i].second;
        const Tensor& y = right.items()[i].second;
        if (left.items()[i].first != right.items()[i].first || x.shape() != y.shape() || x.dtype() != y.dtype()) {
            return false;
        }
        const std::size_t bytes = static_cast<std::size_t>(x.numel()) * (x.dtype() == Dtype::Int64 ? 8 : 4);
        if (std::memcmp(x.cpu().data_ptr(), y.cpu().data_ptr(), bytes) != 0) return false;
    }
    return true;
}

void check_exact_resume(const TrainOptions& options) {
    synthetic::Dataset files(300, 100);
    synthetic::TempDir checkpoints;
    const MnistData data = load_mnist(files.directory.path);

    Trainer straight(data, options);
    while (straight.epochs_done() < 4) (void)straight.train_epoch();

    {
        Trainer first_half(data, options);
        (void)first_half.train_epoch();
        (void)first_half.train_epoch();
        first_half.save(checkpoints.path / "half.safetensors");
    }
    manual_seed(12345);  // whatever the generator did meanwhile must not matter
    Trainer second_half = Trainer::resume(data, checkpoints.path / "half.safetensors");
    CHECK(second_half.epochs_done() == 2);
    while (second_half.epochs_done() < 4) (void)second_half.train_epoch();

    CHECK(same_bits(second_half.model(), straight.model()));
    REQUIRE(second_half.history().size() == 4);
    CHECK(second_half.history()[3].test_accuracy == straight.history()[3].test_accuracy);
    CHECK(second_half.history()[3].train_loss == straight.history()[3].train_loss);
    // The history came along (as the metrics CSV writes it: ten significant digits).
    CHECK(second_half.history()[0].train_loss == Approx(straight.history()[0].train_loss).epsilon(1e-9));
}

}  // namespace

TEST_CASE("exact resume: an MLP with Adam, a cosine schedule, dropout, batch norm and shifted images",
          "[chapter05][resume]") {
    TrainOptions options;
    options.model.hidden = {48, 32};
    options.model.batchnorm = true;
    options.model.dropout = 0.3;
    options.augment = true;
    options.epochs = 4;
    options.batch_size = 32;
    options.seed = 11;
    check_exact_resume(options);
}

TEST_CASE("exact resume: a CNN with SGD, momentum, weight decay and a one-cycle schedule", "[chapter05][resume]") {
    TrainOptions options;
    options.model.kind = ModelKind::CNN;
    options.model.channels = {4, 8};
    options.model.dropout = 0.1;
    options.optimizer = OptimizerKind::SGD;
    options.weight_decay = 1e-4;
    options.scheduler = SchedulerKind::OneCycle;
    options.lr = 0.05;
    options.epochs = 4;
    options.batch_size = 50;
    options.seed = 5;
    check_exact_resume(options);
}

TEST_CASE("a resumed run cannot stretch its schedule, and a checkpoint must fit the data", "[chapter05][resume]") {
    synthetic::Dataset files(100, 50);
    synthetic::TempDir checkpoints;
    const MnistData data = load_mnist(files.directory.path);
    TrainOptions options;
    options.model.hidden = {16};
    options.epochs = 2;
    Trainer trainer(data, options);
    (void)trainer.train_epoch();
    const auto path = checkpoints.path / "run.safetensors";
    trainer.save(path);

    CHECK_THROWS_WITH(Trainer::resume(data, path, 5), Catch::Contains("cosine schedule") && Catch::Contains("--epochs 2"));
    CHECK(Trainer::resume(data, path, 2).epochs_done() == 1);

    // The same checkpoint against images of another size.
    synthetic::TempDir other;
    const MnistData wrong{.train = {narrow(data.train.images, 3, 0, 10), data.train.labels},
                          .test = {narrow(data.test.images, 3, 0, 10), data.test.labels},
                          .num_classes = data.num_classes,
                          .class_names = data.class_names,
                          .name = "narrow",
                          .directory = other.path};
    CHECK_THROWS_WITH(Trainer::resume(wrong, path), Catch::Contains("14x10 images"));
    CHECK_THROWS_WITH(load_classifier(path, wrong), Catch::Contains("14x10 images"));
}

TEST_CASE("a file that is not a training checkpoint is refused by name", "[chapter05][resume]") {
    synthetic::Dataset files(50, 20);
    synthetic::TempDir checkpoints;
    const MnistData data = load_mnist(files.directory.path);
    const auto plain = checkpoints.path / "plain.safetensors";
    nn::save(*make_model(ModelConfig{}), plain);  // a model alone, from chapter 3
    CHECK_THROWS_WITH(load_classifier(plain, data), Catch::Contains("not a stepgrad-mnist checkpoint"));
    CHECK_THROWS_AS(Trainer::resume(data, checkpoints.path / "missing.safetensors"), nn::CheckpointError);
}
