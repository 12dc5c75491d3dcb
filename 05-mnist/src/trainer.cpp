// The training loop of chapter 5. One epoch reads like the PyTorch loop it mirrors:
//   for images, labels in loader: zero_grad; loss = cross_entropy(model(images), labels);
//   loss.backward(); optimizer.step()
// followed by an evaluation on the test split. Saving and resuming are in training_checkpoint.cpp.
#include "stepgrad/mnist/trainer.hpp"

#include <stepgrad/shared/error.hpp>

#include <sys/resource.h>

#include <chrono>
#include <cmath>
#include <stdexcept>

#include "training_loop.hpp"

namespace stepgrad::mnist {

namespace {

void check_options(const TrainOptions& options) {
    auto require = [](bool ok, const std::string& message) {
        if (!ok) throw std::invalid_argument(message);
    };
    require(options.epochs >= 1, "--epochs must be at least 1, got " + std::to_string(options.epochs));
    require(options.batch_size >= 1, "--batch-size must be at least 1, got " + std::to_string(options.batch_size));
    require(!options.lr || (*options.lr > 0.0 && std::isfinite(*options.lr)), "--lr must be a positive number");
    require(options.momentum >= 0.0 && options.momentum < 1.0, "--momentum must be in [0, 1)");
    require(options.weight_decay >= 0.0 && std::isfinite(options.weight_decay), "--weight-decay must be >= 0");
    require(options.train_limit >= 0, "--limit must be >= 0 (0: all training images)");
    check_device(options.device);
}

// How many rows of the logits (B, classes) have their largest value (the first one; a NaN counts
// as largest, as in argmax) at the row's label, counted on the CPU, in place: the tensor
// operations of metrics::accuracy cost more than counting a few hundred numbers.
std::int64_t count_correct(const Tensor& logits, const Tensor& labels) {
    const std::int64_t rows = logits.size(0);
    const std::int64_t classes = logits.size(1);
    const float* row = logits.data_ptr<float>();
    const std::int64_t* label = labels.data_ptr<std::int64_t>();
    std::int64_t correct = 0;
    for (std::int64_t r = 0; r < rows; ++r, row += classes) {
        std::int64_t best = 0;
        for (std::int64_t c = 1; c < classes; ++c) {
            if (row[c] > row[best] || (std::isnan(row[c]) && !std::isnan(row[best]))) best = c;
        }
        correct += best == label[r] ? 1 : 0;
    }
    return correct;
}

double peak_rss_mib() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return static_cast<double>(usage.ru_maxrss) / 1024.0;  // Linux reports kibibytes
}

}  // namespace

// ---- the training loop --------------------------------------------------------------------

EpochTotals::EpochTotals(Device device, std::int64_t batches) : device_(device), batches_total_(batches) {}

void EpochTotals::add(const Tensor& loss, const Tensor& logits, const Tensor& labels) {
    const std::int64_t batch_size = labels.size(0);
    seen_ += batch_size;
    ++batches_done_;
    if (device_ == Device::CPU) {
        loss_sum_ += loss.item<double>() * static_cast<double>(batch_size);
        correct_ += count_correct(logits, labels);
        return;
    }
    // On a device: add up there; read the sums (and wait) only now and then.
    const Tensor batch_loss = loss.detach() * static_cast<double>(batch_size);
    const Tensor hits = eq(argmax(logits.detach(), 1), labels).sum();
    device_loss_sum_ = device_loss_sum_.defined() ? device_loss_sum_ + batch_loss : batch_loss;
    device_correct_ = device_correct_.defined() ? device_correct_ + hits : hits;
    if (batches_done_ % read_every == 0 || batches_done_ == batches_total_) {
        loss_sum_ = device_loss_sum_.item<double>();
        correct_ = std::llround(device_correct_.item<double>());
    }
}

double EpochTotals::mean_loss() const { return seen_ > 0 ? loss_sum_ / static_cast<double>(seen_) : 0.0; }

double EpochTotals::accuracy() const {
    return seen_ > 0 ? static_cast<double>(correct_) / static_cast<double>(seen_) : 0.0;
}

//! [training loop]
EpochTotals train_batches([[maybe_unused]] nn::Module& model, [[maybe_unused]] optim::Optimizer& optimizer,
                          [[maybe_unused]] optim::LRScheduler* per_batch_scheduler,
                          [[maybe_unused]] data::DataLoader& loader, [[maybe_unused]] Device device,
                          [[maybe_unused]] const BatchCallback& on_batch) {
    // exercise 05.2: the training loop: one epoch of zero_grad, forward, loss, backward, step
    // hint: the model trains in train mode (dropout on, batch norm on the batch's statistics).
    // hint: for each data::Batch of the loader: move batch.data (B, C, H, W) and batch.target (B)
    // hint: to `device`; clear the old gradients; logits = the model's forward; the loss is
    // hint: nn::functional::cross_entropy of logits and labels; backpropagate it; step the
    // hint: optimizer, then the per-batch scheduler if there is one.
    // hint: add each batch to an EpochTotals(device, loader.size()), report it to on_batch (when
    // hint: set) and return the totals.
    model.train();
    EpochTotals totals(device, loader.size());
    for (data::Batch& batch : loader) {
        const Tensor images = batch.data.to(device);   // (B, C, H, W), normalised
        const Tensor labels = batch.target.to(device);  // (B), Int64
        optimizer.zero_grad();
        const Tensor logits = model.forward(images);  // (B, classes)
        const Tensor loss = nn::functional::cross_entropy(logits, labels);
        loss.backward();
        optimizer.step();
        if (per_batch_scheduler != nullptr) per_batch_scheduler->step();
        totals.add(loss, logits, labels);
        if (on_batch) on_batch(totals.batches(), loader.size(), totals.mean_loss(), totals.accuracy());
    }
    return totals;
    // end exercise
}
//! [training loop]

void check_device(Device device) {
    if (has_backend(device)) return;
    std::string reason = "this build has no CUDA backend";
    try {
        (void)get_backend(device);
    } catch (const std::exception& error) {
        reason = error.what();  // not built, or built but no GPU (and why)
    }
    throw std::invalid_argument("--device " + to_string(device) + ": " + reason);
}

std::string to_string(OptimizerKind kind) {
    switch (kind) {
        case OptimizerKind::SGD: return "sgd";
        case OptimizerKind::Adam: return "adam";
        case OptimizerKind::AdamW: return "adamw";
    }
    return "?";
}

std::string to_string(SchedulerKind kind) {
    switch (kind) {
        case SchedulerKind::None: return "none";
        case SchedulerKind::Step: return "step";
        case SchedulerKind::Cosine: return "cosine";
        case SchedulerKind::OneCycle: return "onecycle";
    }
    return "?";
}

double default_lr(OptimizerKind kind) { return kind == OptimizerKind::SGD ? 0.01 : 0.001; }

Trainer::Trainer(const MnistData& data, TrainOptions options) : Trainer(data, std::move(options), FromCheckpoint{}) {
    build();
}

// Everything but the model's weights: options checked and completed, the training split chosen,
// its statistics measured, and the generator seeded. build() then makes the model.
Trainer::Trainer(const MnistData& data, TrainOptions options, FromCheckpoint) : data_(&data), options_(std::move(options)) {
    check_options(options_);
    if (!options_.lr) options_.lr = default_lr(options_.optimizer);
    const Shape& image_shape = data.train.images.shape();  // (N, C, H, W)
    options_.model.image_channels = image_shape[1];
    options_.model.image_height = image_shape[2];
    options_.model.image_width = image_shape[3];
    options_.model.num_classes = data.num_classes;

    train_images_ = data.train.images;
    train_labels_ = data.train.labels;
    if (options_.train_limit > 0 && options_.train_limit < train_images_.size(0)) {
        train_images_ = narrow(train_images_, 0, 0, options_.train_limit);
        train_labels_ = narrow(train_labels_, 0, 0, options_.train_limit);
    }
    std::tie(pixel_mean_, pixel_std_) = pixel_mean_std(train_images_);
    manual_seed(options_.seed);
}

// The model, the optimizer over its parameters (on the device), the schedule and the loader.
void Trainer::build() {
    model_ = make_model(options_.model);
    model_->to(options_.device);
    const std::vector<Tensor> parameters = model_->parameters();
    const double lr = *options_.lr;
    switch (options_.optimizer) {
        case OptimizerKind::SGD:
            optimizer_ = std::make_unique<optim::SGD>(
                parameters, optim::SGDOptions(lr).momentum(options_.momentum).weight_decay(options_.weight_decay));
            break;
        case OptimizerKind::Adam:
            optimizer_ = std::make_unique<optim::Adam>(parameters, optim::AdamOptions(lr).weight_decay(options_.weight_decay));
            break;
        case OptimizerKind::AdamW:
            optimizer_ = std::make_unique<optim::AdamW>(parameters, optim::AdamWOptions(lr).weight_decay(options_.weight_decay));
            break;
    }
    make_loader();
    const std::int64_t epochs = options_.epochs;
    switch (options_.scheduler) {
        case SchedulerKind::None: scheduler_.reset(); break;
        case SchedulerKind::Step:
            scheduler_ = std::make_unique<optim::StepLR>(*optimizer_, std::max<std::int64_t>(1, epochs / 3), 0.1);
            break;
        case SchedulerKind::Cosine: scheduler_ = std::make_unique<optim::CosineAnnealingLR>(*optimizer_, epochs); break;
        case SchedulerKind::OneCycle: {
            // SGD without momentum has no momentum to cycle (PyTorch refuses it too).
            const bool cycle_momentum = options_.optimizer != OptimizerKind::SGD || options_.momentum > 0.0;
            scheduler_ = std::make_unique<optim::OneCycleLR>(
                *optimizer_, optim::OneCycleLROptions(lr, epochs * loader_->size()).cycle_momentum(cycle_momentum));
            break;
        }
    }
}

// Shuffled batches, reseeded per epoch from the run's seed; shifts (when augmenting) draw from
// the loader's own generator, so each epoch's batches depend on the seed and the epoch alone.
void Trainer::make_loader() {
    // Without shifts the images are normalised once, here; with them, after each batch's shift
    // (a shift fills with black, which only means black before normalisation).
    Tensor images = train_images_;
    if (!options_.augment) {
        images = Tensor::empty(train_images_.shape());  // one copy, no temporaries
        const float* pixels = train_images_.data_ptr<float>();
        float* normalized = images.data_ptr<float>();
        const auto mean = static_cast<float>(pixel_mean_);
        const auto stddev = static_cast<float>(pixel_std_);
        const std::int64_t count = images.numel();
        for (std::int64_t i = 0; i < count; ++i) normalized[i] = (pixels[i] - mean) / stddev;
    }
    const auto train_set = std::make_shared<data::TensorDataset>(images, train_labels_);
    // Batch norm cannot train on a last batch of one image: drop it in that one case.
    const bool lone_last_batch = train_set->size() % options_.batch_size == 1 && train_set->size() > 1;
    loader_ = std::make_unique<data::DataLoader>(
        train_set,
        data::DataLoaderOptions(options_.batch_size).shuffle(true).drop_last(lone_last_batch).seed(options_.seed));
    if (options_.augment) {
        loader_->add_transform(data::RandomShift(2, loader_->generator()));
        loader_->add_transform(data::Normalize({pixel_mean_}, {pixel_std_}));
    }
}

EpochMetrics Trainer::train_epoch(const BatchCallback& on_batch) {
    const bool per_batch_schedule = options_.scheduler == SchedulerKind::OneCycle;
    // The rate the epoch's last step used, for the metrics: a per-batch schedule changes it after
    // every step, so it is the rate set after the next-to-last batch.
    double lr_used = current_lr();
    const BatchCallback after_batch = [&](std::int64_t done, std::int64_t total, double loss, double accuracy) {
        if (done < total) lr_used = current_lr();
        if (on_batch) on_batch(done, total, loss, accuracy);
    };
    const auto start = std::chrono::steady_clock::now();
    const EpochTotals totals = train_batches(*model_, *optimizer_, per_batch_schedule ? scheduler_.get() : nullptr,
                                             *loader_, options_.device, after_batch);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (scheduler_ && !per_batch_schedule) scheduler_->step();

    const Evaluation test = evaluate(classifier(), data_->test, data_->num_classes);
    EpochMetrics metrics;
    metrics.epoch = epochs_done() + 1;
    metrics.train_loss = totals.mean_loss();
    metrics.train_accuracy = totals.accuracy();
    metrics.test_loss = test.loss;
    metrics.test_accuracy = test.accuracy;
    metrics.train_seconds = seconds;
    metrics.images_per_second = seconds > 0.0 ? static_cast<double>(totals.seen()) / seconds : 0.0;
    metrics.lr = lr_used;
    metrics.peak_rss_mib = peak_rss_mib();
    history_.push_back(metrics);
    return metrics;
}

Classifier Trainer::classifier() const {
    return Classifier{.model = model_, .mean = pixel_mean_, .stddev = pixel_std_, .device = options_.device,
                      .description = describe(options_.model) + ", " + std::to_string(epochs_done()) + " epochs on " + data_->name};
}

double Trainer::current_lr() const { return optimizer_->param_groups().front().options().get_lr(); }

std::int64_t Trainer::train_size() const { return train_images_.size(0); }

std::int64_t Trainer::batches_per_epoch() const { return loader_->size(); }

}  // namespace stepgrad::mnist
