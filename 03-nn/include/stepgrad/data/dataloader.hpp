#pragma once
/// @file dataloader.hpp
/// @brief `DataLoader`: a dataset in batches, shuffled with a seed, each batch one gather
/// (PyTorch's `DataLoader` for a dataset that fits in memory).
///
/// Each epoch visits every example once, in an order that is a function of (seed, epoch):
/// the identity without shuffling, else a fresh `randperm` drawn from a Generator seeded with
/// `epoch_seed(seed, epoch)`. Batch `k` of the epoch is `dataset->get_batch(order[k*B : (k+1)*B])`
/// (a slice of the permutation, no copy, then one gather per tensor on the dataset's device).
/// Because the order is a pure function of (seed, epoch), the loader's whole state is three
/// numbers (seed, epoch, batches delivered), which `state_dict()` saves so that a training run
/// resumes from a checkpoint with exactly the batches it would have seen.
#include <stepgrad/data/dataset.hpp>
#include <stepgrad/nn/state_dict.hpp>
#include <stepgrad/shared/random.hpp>
#include <stepgrad/tensor.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <iterator>
#include <memory>
#include <vector>

namespace stepgrad::data {

/// @brief How a DataLoader batches (as `torch::data::DataLoaderOptions`, with chainable setters).
///
/// Example: `DataLoaderOptions(64).shuffle(true).drop_last(true).seed(42)`.
class DataLoaderOptions {
public:
    /// @brief Options for batches of `batch_size` examples, in order, keeping a last short batch.
    explicit DataLoaderOptions(std::int64_t batch_size = 1) : batch_size_(batch_size) {}

    /// @brief Sets the number of examples per batch (positive).
    DataLoaderOptions& batch_size(std::int64_t batch_size) { batch_size_ = batch_size; return *this; }
    /// @brief Sets whether each epoch visits the examples in a new random order.
    DataLoaderOptions& shuffle(bool shuffle) { shuffle_ = shuffle; return *this; }
    /// @brief Sets whether a last batch smaller than batch_size is dropped.
    DataLoaderOptions& drop_last(bool drop_last) { drop_last_ = drop_last; return *this; }
    /// @brief Sets the seed of the shuffle and of the per-batch generator (0 by default).
    DataLoaderOptions& seed(std::uint64_t seed) { seed_ = seed; return *this; }

    /// @brief Examples per batch.
    [[nodiscard]] std::int64_t batch_size() const { return batch_size_; }
    /// @brief Whether each epoch is shuffled.
    [[nodiscard]] bool shuffle() const { return shuffle_; }
    /// @brief Whether a last short batch is dropped.
    [[nodiscard]] bool drop_last() const { return drop_last_; }
    /// @brief The seed.
    [[nodiscard]] std::uint64_t seed() const { return seed_; }

private:
    std::int64_t batch_size_ = 1;
    bool shuffle_ = false;
    bool drop_last_ = false;
    std::uint64_t seed_ = 0;
};

/// @brief A function applied to every batch the loader hands out (e.g. augmentation).
using BatchTransform = std::function<Batch(Batch)>;

/// @brief Iterates over a dataset in batches (an input range: `for (Batch& b : loader)`).
///
/// One `for` loop over the loader is one epoch. The loader remembers where it is: a loop that
/// stops early (`break`) leaves it inside that epoch, and the next loop finishes the epoch
/// (call `set_epoch` to start an epoch from its beginning instead). Only one loop may run at a
/// time. The examples stay where the dataset keeps them (CPU or GPU); the permutation is made
/// on that device too, so a batch costs one gather per tensor and no host read.
///
/// Example (a training loop that can be checkpointed mid-epoch):
/// @code
/// auto dataset = std::make_shared<stepgrad::data::TensorDataset>(images, labels);
/// stepgrad::data::DataLoader loader(dataset, stepgrad::data::DataLoaderOptions(64).shuffle(true).seed(1));
/// for (int epoch = 0; epoch < 10; ++epoch) {
///     for (stepgrad::data::Batch& batch : loader) {
///         // forward batch.data (64, 1, 28, 28), loss against batch.target (64), step ...
///     }
/// }
/// stepgrad::nn::StateDict state = loader.state_dict();  // save it with the model's
/// @endcode
class DataLoader {
public:
    /// @brief Batches `dataset` (not null) as `options` say. Throws std::invalid_argument for
    /// a batch size below 1.
    explicit DataLoader(std::shared_ptr<Dataset> dataset, DataLoaderOptions options = DataLoaderOptions());

    /// @brief The input iterator of one epoch: `*it` is the current batch, `++it` fetches the
    /// next one (or ends the epoch). Iterators compare equal only when both are at the end.
    class Iterator {
    public:
        using iterator_category = std::input_iterator_tag;  ///< a single pass
        using value_type = Batch;                           ///< what `*it` gives
        using difference_type = std::ptrdiff_t;             ///< required by the iterator traits
        using pointer = Batch*;                             ///< `it->data`
        using reference = Batch&;                           ///< `*it`

        /// @brief The end of an epoch.
        Iterator() = default;
        /// @brief The current batch.
        reference operator*() { return batch_; }
        /// @brief The current batch's members.
        pointer operator->() { return &batch_; }
        /// @brief Fetches the next batch, or becomes the end after the epoch's last one.
        Iterator& operator++();
        /// @brief Same as `++it` (an input iterator's copy would not stay valid anyway).
        void operator++(int) { ++*this; }
        /// @brief Whether both iterators are at the end (the only comparison a loop needs).
        friend bool operator==(const Iterator& a, const Iterator& b) { return a.loader_ == b.loader_; }
        /// @brief Negation of ==.
        friend bool operator!=(const Iterator& a, const Iterator& b) { return !(a == b); }

    private:
        friend class DataLoader;
        explicit Iterator(DataLoader* loader);
        DataLoader* loader_ = nullptr;  // null at the end
        Batch batch_;
    };

    /// @brief Starts (or, after a break or load_state_dict, continues) the current epoch.
    Iterator begin();
    /// @brief The end of the epoch.
    Iterator end() { return Iterator(); }

    /// @brief Batches per epoch: `ceil(N / B)`, or `floor(N / B)` with drop_last.
    [[nodiscard]] std::int64_t size() const;
    /// @brief The dataset.
    [[nodiscard]] const std::shared_ptr<Dataset>& dataset() const { return dataset_; }
    /// @brief The options.
    [[nodiscard]] const DataLoaderOptions& options() const { return options_; }

    /// @brief Adds `transform`, applied to every batch after those added before (e.g. a
    /// RandomCrop, then a Normalize). Returns *this for chaining.
    DataLoader& add_transform(BatchTransform transform);
    /// @brief Removes every transform.
    void clear_transforms() { transforms_.clear(); }

    /// @brief The epoch the next batch belongs to (0 for the first).
    [[nodiscard]] std::int64_t epoch() const { return epoch_; }
    /// @brief How many batches of the current epoch were handed out.
    [[nodiscard]] std::int64_t batches_done() const { return batches_done_; }
    /// @brief Makes the next loop run epoch `epoch` from its first batch.
    void set_epoch(std::int64_t epoch);

    /// @brief The visiting order of epoch `epoch`: a 1-D Int64 tensor of all example numbers on
    /// the dataset's device (`arange(N)` without shuffling, else `randperm(N)` from a Generator
    /// seeded with `epoch_seed(seed, epoch)`).
    [[nodiscard]] Tensor order(std::int64_t epoch) const;
    /// @brief The seed of epoch `epoch`'s permutation: the SplitMix64 hash of seed and epoch, so
    /// nearby seeds and epochs give unrelated streams.
    [[nodiscard]] static std::uint64_t epoch_seed(std::uint64_t seed, std::int64_t epoch);

    /// @brief The generator random transforms should draw from. Before each batch the loader
    /// reseeds it from (seed, epoch, batch number), so the augmentation of every batch is fixed
    /// by the loader's state and a resumed run augments exactly as the uninterrupted one. It
    /// lives as long as the loader (moving the loader keeps it at the same address).
    [[nodiscard]] Generator& generator() { return *batch_generator_; }

    /// @brief The loader's position as metadata: `seed`, `epoch`, `batches_done`, plus
    /// `batch_size`, `shuffle`, `drop_last` and `dataset_size` (checked on load). No tensors.
    [[nodiscard]] nn::StateDict state_dict() const;
    /// @brief Restores a position saved by state_dict(): the next loop continues that epoch
    /// after its saved batches. Throws std::invalid_argument (changing nothing) when a key is
    /// missing or the batch size, shuffle, drop_last or dataset size differ from this loader's.
    void load_state_dict(const nn::StateDict& state);

private:
    // The batch at position `batches_done_` of the current epoch; advances the position.
    Batch next_batch();
    // After the epoch's last batch: move on to the next epoch's beginning.
    void roll_over_finished_epoch();

    std::shared_ptr<Dataset> dataset_;
    DataLoaderOptions options_;
    std::vector<BatchTransform> transforms_;
    std::int64_t epoch_ = 0;
    std::int64_t batches_done_ = 0;
    Tensor order_;                  // order(order_epoch_), kept for the epoch in progress
    std::int64_t order_epoch_ = -1;
    std::shared_ptr<Generator> batch_generator_;
};

}  // namespace stepgrad::data
