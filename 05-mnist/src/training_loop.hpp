#pragma once
// The training loop itself, apart from the Trainer that owns its parts: one pass over the
// training batches (exercise 05.2). Trainer::train_epoch calls it and then evaluates; the tests
// call it alone, on a model, an optimizer and a loader they make.
#include <stepgrad/mnist/trainer.hpp>

#include <cstdint>

namespace stepgrad::mnist {

/// @brief The running loss and accuracy of one epoch, added up batch by batch.
///
/// On the CPU each batch is read at once. On a GPU, reading the loss after every batch
/// (item()) would make the host wait for the device, so the next batch could not be queued
/// while this one runs: the sums stay on the device and are read every `read_every` batches
/// and after the last one (the figures are then at most that many batches old).
class EpochTotals {
public:
    /// @brief Totals for an epoch of `batches` batches on `device`.
    EpochTotals(Device device, std::int64_t batches);

    /// @brief Adds one batch: its mean `loss` (a scalar), its `logits` (B, classes) and `labels` (B).
    void add(const Tensor& loss, const Tensor& logits, const Tensor& labels);

    /// @brief Batches added so far.
    [[nodiscard]] std::int64_t batches() const { return batches_done_; }
    /// @brief Images added so far.
    [[nodiscard]] std::int64_t seen() const { return seen_; }
    /// @brief The mean loss per image so far (0 before the first batch).
    [[nodiscard]] double mean_loss() const;
    /// @brief The fraction of images classified right so far (0 before the first batch).
    [[nodiscard]] double accuracy() const;

    /// @brief On a device, how many batches pass between two reads of the sums.
    static constexpr std::int64_t read_every = 20;

private:
    Device device_;
    std::int64_t batches_total_;
    std::int64_t batches_done_ = 0;
    std::int64_t seen_ = 0;
    double loss_sum_ = 0.0;        // Σ loss * batch size, as last read
    std::int64_t correct_ = 0;     // Σ hits, as last read
    Tensor device_loss_sum_;       // on a device: Σ loss * batch size, a scalar there
    Tensor device_correct_;        // on a device: Σ hits (Float32, exact below 2^24 images)
};

/// @brief One epoch of training: every batch of `loader`, in train mode.
///
/// For each batch: the images and labels go to `device`, the gradients are cleared, the model
/// computes the logits (B, classes), cross-entropy gives the mean loss, backward() fills every
/// parameter's gradient, the optimizer updates the weights, and `per_batch_scheduler` (when not
/// null) takes one step. Each batch is then added to the totals, and `on_batch` (when set) is
/// called with the batches done, the batches in the epoch and the running mean loss and accuracy.
/// @return The epoch's totals.
EpochTotals train_batches(nn::Module& model, optim::Optimizer& optimizer, optim::LRScheduler* per_batch_scheduler,
                          data::DataLoader& loader, Device device, const BatchCallback& on_batch = {});

}  // namespace stepgrad::mnist
