#pragma once
/// @file dataset.hpp
/// @brief Datasets: numbered examples (`Dataset`), a dataset held in two tensors
/// (`TensorDataset`), a view on some of another dataset's examples (`Subset`), and
/// `random_split` (PyTorch's `torch.utils.data`).
///
/// A dataset answers two questions: how many examples it has (`size()`) and what example `i`
/// is (`get(i)`). A training loop wants whole batches, so a dataset also answers
/// `get_batch(indices)`. The default stacks `get(i)` one by one; a dataset that holds its
/// examples in tensors overrides it with one `index_select` per tensor, which is how the whole
/// of MNIST is batched without a per-example allocation.
#include <stepgrad/shared/random.hpp>
#include <stepgrad/tensor.hpp>

#include <cstdint>
#include <memory>
#include <vector>

namespace stepgrad::data {

/// @brief One example: its input (e.g. an image `(1, 28, 28)`) and its target (e.g. the
/// label, a 0-dimensional Int64 tensor). `target` may be undefined for unlabelled data.
struct Example {
    Tensor data;    ///< the input of one example
    Tensor target;  ///< what the model should predict for it
};

/// @brief A batch of examples: the inputs stacked along a new first axis (e.g. `(64, 1, 28,
/// 28)`) and the targets likewise (e.g. `(64)`).
struct Batch {
    Tensor data;    ///< the inputs, batch first
    Tensor target;  ///< the targets, batch first (undefined when the examples have none)
};

/// @brief Numbered examples `0 .. size()-1` (PyTorch's map-style `Dataset`).
///
/// Subclasses define `size()` and `get(index)`; those that can gather a whole batch at once
/// also override `get_batch` (the DataLoader only calls `get_batch`).
///
/// Example (a dataset of squares, made on the fly):
/// @code
/// class Squares : public stepgrad::data::Dataset {
/// public:
///     std::int64_t size() const override { return 100; }
///     stepgrad::data::Example get(std::int64_t i) const override {
///         return {stepgrad::tensor({double(i)}), stepgrad::tensor({double(i * i)})};
///     }
/// };
/// @endcode
class Dataset {
public:
    Dataset() = default;           ///< an empty base
    virtual ~Dataset() = default;  ///< datasets are used through base pointers
    Dataset(const Dataset&) = default;             ///< datasets may be copied
    Dataset& operator=(const Dataset&) = default;  ///< datasets may be copied

    /// @brief The number of examples.
    [[nodiscard]] virtual std::int64_t size() const = 0;
    /// @brief Example `index`, in `[0, size())`. Throws std::out_of_range otherwise.
    [[nodiscard]] virtual Example get(std::int64_t index) const = 0;
    /// @brief The examples named by `indices` (a 1-D Int64 tensor, any device), stacked.
    ///
    /// The default reads the indices to the host and stacks `get(i)` for each one (one small
    /// tensor per example): correct for any dataset, slow for big batches. Datasets stored in
    /// tensors override it with one gather per tensor.
    [[nodiscard]] virtual Batch get_batch(const Tensor& indices) const;
    /// @brief The device the examples live on (the DataLoader builds its index tensors there).
    /// The default is the CPU.
    [[nodiscard]] virtual Device device() const { return Device::CPU; }
};

/// @brief A dataset whose examples are the rows of two tensors: example `i` is
/// `(data[i], targets[i])` (PyTorch's `TensorDataset`). The tensors stay where they are (CPU
/// or GPU) and are shared, not copied.
///
/// Example:
/// @code
/// stepgrad::Tensor images = stepgrad::randn({1000, 1, 28, 28});
/// stepgrad::Tensor labels = stepgrad::zeros({1000}, stepgrad::TensorOptions().dtype(stepgrad::Dtype::Int64));
/// auto dataset = std::make_shared<stepgrad::data::TensorDataset>(images, labels);
/// auto first = stepgrad::arange(64, stepgrad::TensorOptions().dtype(stepgrad::Dtype::Int64));
/// stepgrad::data::Batch batch = dataset->get_batch(first);
/// // batch.data is (64, 1, 28, 28), batch.target is (64)
/// @endcode
class TensorDataset : public Dataset {
public:
    /// @brief Examples `(data[i], targets[i])`. Both tensors need at least one dimension, the
    /// same first size and the same device; otherwise std::invalid_argument names the shapes
    /// or devices.
    TensorDataset(Tensor data, Tensor targets);

    /// @brief `data.size(0)`.
    [[nodiscard]] std::int64_t size() const override { return data_.size(0); }
    /// @brief `(data[index], targets[index])`; std::out_of_range outside `[0, size())`.
    [[nodiscard]] Example get(std::int64_t index) const override;
    /// @brief `(data.index_select(0, indices), targets.index_select(0, indices))`: one gather
    /// per tensor, on the tensors' device (the indices are moved there if needed).
    [[nodiscard]] Batch get_batch(const Tensor& indices) const override;
    /// @brief The device of the two tensors.
    [[nodiscard]] Device device() const override { return data_.device(); }

    /// @brief All inputs, `(size, ...)`.
    [[nodiscard]] const Tensor& data() const { return data_; }
    /// @brief All targets, `(size, ...)`.
    [[nodiscard]] const Tensor& targets() const { return targets_; }

private:
    Tensor data_;
    Tensor targets_;
};

/// @brief The examples of `dataset` at `indices`, renumbered `0 .. indices.size()-1`
/// (PyTorch's `Subset`): example `i` is `dataset->get(indices[i])`.
///
/// Example: the first 100 examples: `Subset(dataset, arange(100, TensorOptions().dtype(Dtype::Int64)))`.
class Subset : public Dataset {
public:
    /// @brief A view on `dataset`'s examples `indices` (a 1-D Int64 tensor; each in
    /// `[0, dataset->size())`, checked here, or std::out_of_range names the bad one).
    Subset(std::shared_ptr<Dataset> dataset, const Tensor& indices);

    /// @brief The number of indices.
    [[nodiscard]] std::int64_t size() const override { return static_cast<std::int64_t>(host_indices_.size()); }
    /// @brief `dataset->get(indices[index])`.
    [[nodiscard]] Example get(std::int64_t index) const override;
    /// @brief `dataset->get_batch(indices.index_select(0, positions))`: one gather of the
    /// indices, then the parent's batch gather.
    [[nodiscard]] Batch get_batch(const Tensor& positions) const override;
    /// @brief The parent dataset's device.
    [[nodiscard]] Device device() const override { return dataset_->device(); }

    /// @brief The dataset this is a view on.
    [[nodiscard]] const std::shared_ptr<Dataset>& dataset() const { return dataset_; }
    /// @brief The parent's example numbers, an Int64 tensor on the parent's device.
    [[nodiscard]] const Tensor& indices() const { return indices_; }

private:
    std::shared_ptr<Dataset> dataset_;
    Tensor indices_;                          // on the parent's device, for get_batch
    std::vector<std::int64_t> host_indices_;  // the same numbers, for get
};

/// @brief Splits `dataset` at random into non-overlapping subsets (PyTorch's `random_split`):
/// a random permutation of all examples cut into consecutive pieces.
///
/// `lengths` are either counts that sum to `dataset->size()`, or fractions that sum to 1:
/// piece `i` then gets `floor(fraction_i * size)` examples and the examples left over go one
/// each to the first pieces, in order (as PyTorch). Throws std::invalid_argument for negative
/// lengths or lengths that sum to neither.
///
/// Example (a reproducible 90/10 train/validation split):
/// @code
/// stepgrad::Generator generator(42);
/// auto parts = stepgrad::data::random_split(dataset, {0.9, 0.1}, generator);
/// auto train = parts[0], validation = parts[1];  // std::shared_ptr<Subset>
/// @endcode
std::vector<std::shared_ptr<Subset>> random_split(const std::shared_ptr<Dataset>& dataset,
                                                  const std::vector<double>& lengths, Generator& generator);

}  // namespace stepgrad::data
