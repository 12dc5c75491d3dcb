#pragma once
/// @file trainer.hpp
/// @brief The training loop of chapter 5: model, optimizer, schedule and data, one epoch at a
/// time, with checkpoints that resume exactly.

#include <stepgrad/mnist/dataset.hpp>
#include <stepgrad/mnist/epoch_metrics.hpp>
#include <stepgrad/mnist/evaluate.hpp>
#include <stepgrad/mnist/model.hpp>
#include <stepgrad/nn.hpp>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace stepgrad::mnist {

/// @brief The optimizers `--optimizer` offers.
enum class OptimizerKind { SGD, Adam, AdamW };

/// @brief The learning-rate schedules `--scheduler` offers.
///
/// `Step` divides the rate by 10 after each third of the epochs, `Cosine` anneals it to zero
/// over the epochs (stepped once per epoch), `OneCycle` warms up to `lr` over the first 30% of
/// the batches and anneals it to nearly zero by the last (stepped once per batch).
enum class SchedulerKind { None, Step, Cosine, OneCycle };

/// @brief `"sgd"`, `"adam"` or `"adamw"`.
std::string to_string(OptimizerKind kind);
/// @brief `"none"`, `"step"`, `"cosine"` or `"onecycle"`.
std::string to_string(SchedulerKind kind);

/// @brief Everything a training run is made of, with the defaults of the bare `scripts/run`.
struct TrainOptions {
    ModelConfig model;                              ///< the architecture (its sizes come from the data)
    std::int64_t epochs = 15;                       ///< epochs in all (a resumed run counts the earlier ones)
    std::int64_t batch_size = 128;                  ///< images per training batch
    std::optional<double> lr;                       ///< learning rate; unset: default_lr(optimizer)
    OptimizerKind optimizer = OptimizerKind::Adam;  ///< the update rule
    double momentum = 0.9;                          ///< SGD's momentum (Adam's β1 stays 0.9)
    double weight_decay = 0.0;                      ///< L2 penalty (AdamW: decoupled decay)
    SchedulerKind scheduler = SchedulerKind::Cosine;  ///< how the learning rate changes
    bool augment = false;                           ///< shift training images by up to 2 pixels
    std::uint64_t seed = 0;                         ///< seeds the weights, shuffles, dropout, shifts
    Device device = Device::CPU;                    ///< where the model trains
    std::int64_t train_limit = 0;                   ///< use only the first N training images (0: all)
};

/// @brief Throws std::invalid_argument when this build cannot compute on `device` (CUDA
/// without chapter 4's backend).
void check_device(Device device);

/// @brief 0.001 for Adam and AdamW, 0.01 for SGD: where each optimizer usually starts.
double default_lr(OptimizerKind kind);

/// @brief Called after each training batch: batches done, batches in the epoch, and the
/// epoch's running mean loss and accuracy so far.
using BatchCallback = std::function<void(std::int64_t done, std::int64_t total, double loss, double accuracy)>;

/// @brief Trains one model on one dataset, epoch by epoch, and saves or resumes it exactly.
///
/// A fresh trainer seeds the default generator with `options.seed`, builds the model, moves it
/// to the device, and makes the optimizer and the schedule. Every random number training draws
/// (shuffles, shifts, dropout) comes from that seed, so a run is repeatable, and save() stores
/// the generators' states so that resume() continues bit for bit.
///
/// Example:
/// @code
/// mnist::MnistData data = mnist::load_mnist(mnist::default_data_directory());
/// mnist::Trainer trainer(data, mnist::TrainOptions{});
/// while (trainer.epochs_done() < trainer.options().epochs) {
///     mnist::EpochMetrics m = trainer.train_epoch();
///     std::cout << m.epoch << ": " << m.test_accuracy << "\n";
/// }
/// @endcode
class Trainer {
public:
    /// @brief A fresh run on `data` (the model's image size and classes are taken from it).
    /// `data` must outlive the trainer. Throws std::invalid_argument for bad options.
    Trainer(const MnistData& data, TrainOptions options);

    /// @brief The run saved in `checkpoint`, ready to train its next epoch.
    ///
    /// `epochs` (when set) changes how many epochs the run has in all; a schedule planned for
    /// another number of epochs cannot stretch, so that is refused unless the schedule is none.
    /// Throws std::invalid_argument when the checkpoint does not fit `data` (another image size
    /// or number of classes) and nn::CheckpointError when the file is bad.
    /// The run continues on `device` (the checkpoint holds CPU tensors; any device fits).
    static Trainer resume(const MnistData& data, const std::filesystem::path& checkpoint,
                          std::optional<std::int64_t> epochs = std::nullopt, Device device = Device::CPU);

    /// @brief Trains one epoch, evaluates on the test split, and returns the epoch's figures.
    EpochMetrics train_epoch(const BatchCallback& on_batch = {});

    /// @brief The model with the normalisation it was trained with, ready to evaluate.
    [[nodiscard]] Classifier classifier() const;

    /// @brief Writes model, optimizer, schedule, generator states, epoch and history atomically.
    void save(const std::filesystem::path& checkpoint) const;

    /// @brief Epochs finished so far.
    [[nodiscard]] std::int64_t epochs_done() const { return static_cast<std::int64_t>(history_.size()); }
    /// @brief The figures of every finished epoch, oldest first.
    [[nodiscard]] const std::vector<EpochMetrics>& history() const { return history_; }
    /// @brief The options of the run (with the model's sizes filled in from the data).
    [[nodiscard]] const TrainOptions& options() const { return options_; }
    /// @brief The learning rate the optimizer will use next.
    [[nodiscard]] double current_lr() const;
    /// @brief The network being trained.
    [[nodiscard]] nn::Sequential& model() const { return *model_; }
    /// @brief The training images actually used (after `train_limit`).
    [[nodiscard]] std::int64_t train_size() const;
    /// @brief Training batches in one epoch.
    [[nodiscard]] std::int64_t batches_per_epoch() const;

private:
    struct FromCheckpoint {};
    Trainer(const MnistData& data, TrainOptions options, FromCheckpoint);
    void build();
    void make_loader();

    const MnistData* data_;
    TrainOptions options_;
    std::shared_ptr<nn::Sequential> model_;
    std::unique_ptr<optim::Optimizer> optimizer_;
    std::unique_ptr<optim::LRScheduler> scheduler_;
    Tensor train_images_;  // the training split (its first train_limit images), pixels in [0, 1]
    Tensor train_labels_;
    std::unique_ptr<data::DataLoader> loader_;
    double pixel_mean_ = 0.0;  // the train split's statistics: inputs are (x - mean) / std
    double pixel_std_ = 1.0;
    std::vector<EpochMetrics> history_;
};

/// @brief The model of a checkpoint written by Trainer::save, in eval mode, with the
/// normalisation it was trained with: what `eval` and `predict` use.
///
/// Throws nn::CheckpointError for a bad file or one that is not a stepgrad-mnist checkpoint,
/// and std::invalid_argument when `data` has another image size or number of classes.
Classifier load_classifier(const std::filesystem::path& checkpoint, const MnistData& data,
                           Device device = Device::CPU);

}  // namespace stepgrad::mnist
