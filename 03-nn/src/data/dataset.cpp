#include <stepgrad/data/dataset.hpp>

#include <stepgrad/shared/error.hpp>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>
#include <string>

namespace stepgrad::data {

namespace {

Tensor int64_tensor_on(Device device, const std::vector<std::int64_t>& values) {
    return from_vector(values, {static_cast<std::int64_t>(values.size())},
                       TensorOptions().device(device).dtype(Dtype::Int64));
}

void check_batch_indices(const char* op, const Tensor& indices) {
    detail::check_defined(op, indices);
    detail::check_index_dtype(op, indices);
    STEPGRAD_CHECK(indices.dim() == 1, op << ": indices must be 1-D, got shape " << shape_to_string(indices.shape()));
}

void check_example_index(const char* op, std::int64_t index, std::int64_t size) {
    STEPGRAD_CHECK_AS(std::out_of_range, index >= 0 && index < size,
                      op << ": index " << index << " is out of range for a dataset of " << size << " examples");
}

}  // namespace

// ---- Dataset: the generic batch is a stack of examples ----------------------------------------

Batch Dataset::get_batch(const Tensor& indices) const {
    check_batch_indices("Dataset::get_batch", indices);
    const std::vector<std::int64_t> numbers = indices.to_vector<std::int64_t>();  // one host read
    STEPGRAD_CHECK(!numbers.empty(), "Dataset::get_batch: cannot stack an empty batch (no example gives its shape)");
    std::vector<Tensor> inputs;
    std::vector<Tensor> targets;
    inputs.reserve(numbers.size());
    targets.reserve(numbers.size());
    for (std::int64_t number : numbers) {
        Example example = get(number);
        inputs.push_back(std::move(example.data));
        targets.push_back(std::move(example.target));
    }
    Batch batch;
    batch.data = stack(inputs, 0);
    if (targets.front().defined()) batch.target = stack(targets, 0);
    return batch;
}

// ---- TensorDataset: one gather per tensor -----------------------------------------------------

TensorDataset::TensorDataset(Tensor data, Tensor targets) : data_(std::move(data)), targets_(std::move(targets)) {
    detail::check_defined("TensorDataset", data_);
    detail::check_defined("TensorDataset", targets_);
    STEPGRAD_CHECK(data_.dim() >= 1 && targets_.dim() >= 1,
                   "TensorDataset: data and targets need a first (example) axis, got shapes "
                       << shape_to_string(data_.shape()) << " and " << shape_to_string(targets_.shape()));
    STEPGRAD_CHECK(data_.size(0) == targets_.size(0),
                   "TensorDataset: data and targets must have the same number of examples (first size), got shapes "
                       << shape_to_string(data_.shape()) << " and " << shape_to_string(targets_.shape())
                       << "; pass one target per example");
    detail::check_same_device("TensorDataset", data_, targets_);
}

Example TensorDataset::get(std::int64_t index) const {
    check_example_index("TensorDataset::get", index, size());
    return {data_.select(0, index), targets_.select(0, index)};
}

Batch TensorDataset::get_batch(const Tensor& indices) const {
    check_batch_indices("TensorDataset::get_batch", indices);
    const Tensor on_device = indices.to(data_.device());  // no copy when already there
    return {data_.index_select(0, on_device), targets_.index_select(0, on_device)};
}

// ---- Subset: renumbered examples of another dataset --------------------------------------------

Subset::Subset(std::shared_ptr<Dataset> dataset, const Tensor& indices) : dataset_(std::move(dataset)) {
    STEPGRAD_CHECK(dataset_ != nullptr, "Subset: the dataset is null");
    check_batch_indices("Subset", indices);
    host_indices_ = indices.to_vector<std::int64_t>();
    const std::int64_t parent_size = dataset_->size();
    for (std::int64_t number : host_indices_) {
        STEPGRAD_CHECK_AS(std::out_of_range, number >= 0 && number < parent_size,
                          "Subset: index " << number << " is out of range for a dataset of " << parent_size
                                           << " examples");
    }
    indices_ = int64_tensor_on(dataset_->device(), host_indices_);
}

Example Subset::get(std::int64_t index) const {
    check_example_index("Subset::get", index, size());
    return dataset_->get(host_indices_[static_cast<std::size_t>(index)]);
}

Batch Subset::get_batch(const Tensor& positions) const {
    check_batch_indices("Subset::get_batch", positions);
    // parent_numbers[j] = indices[positions[j]]: the parent's example numbers, still on the device.
    const Tensor parent_numbers = indices_.index_select(0, positions.to(indices_.device()));
    return dataset_->get_batch(parent_numbers);
}

// ---- random_split: a permutation cut into consecutive pieces ------------------------------------

namespace {

// The lengths as counts: the numbers themselves when they sum to `total`, else fractions of it.
std::vector<std::int64_t> split_counts(const std::vector<double>& lengths, std::int64_t total) {
    double sum = 0.0;
    for (double length : lengths) {
        STEPGRAD_CHECK(std::isfinite(length) && length >= 0.0,
                       "random_split: lengths must be non-negative numbers, got " << length);
        sum += length;
    }
    std::vector<std::int64_t> counts;
    const bool whole_numbers = std::all_of(lengths.begin(), lengths.end(), [](double l) { return l == std::floor(l); });
    if (whole_numbers && sum == static_cast<double>(total)) {
        for (double length : lengths) counts.push_back(static_cast<std::int64_t>(length));
        return counts;
    }
    // PyTorch: fractions summing to 1 give floor(f * n) each; what is left goes round-robin.
    STEPGRAD_CHECK(std::abs(sum - 1.0) < 1e-9,
                   "random_split: lengths sum to " << sum << ": give counts that sum to the dataset's size ("
                                                   << total << ") or fractions that sum to 1");
    std::int64_t assigned = 0;
    for (double fraction : lengths) {
        counts.push_back(static_cast<std::int64_t>(std::floor(fraction * static_cast<double>(total))));
        assigned += counts.back();
    }
    for (std::size_t i = 0; assigned < total; i = (i + 1) % counts.size(), ++assigned) ++counts[i];
    return counts;
}

}  // namespace

std::vector<std::shared_ptr<Subset>> random_split(const std::shared_ptr<Dataset>& dataset,
                                                  const std::vector<double>& lengths, Generator& generator) {
    STEPGRAD_CHECK(dataset != nullptr, "random_split: the dataset is null");
    STEPGRAD_CHECK(!lengths.empty(), "random_split: give at least one length");
    const std::int64_t total = dataset->size();
    const std::vector<std::int64_t> counts = split_counts(lengths, total);
    const Tensor order = randperm(total, generator, TensorOptions().dtype(Dtype::Int64));  // on the host
    std::vector<std::shared_ptr<Subset>> parts;
    std::int64_t offset = 0;
    for (std::int64_t count : counts) {
        parts.push_back(std::make_shared<Subset>(dataset, order.slice(0, offset, offset + count)));
        offset += count;
    }
    return parts;
}

}  // namespace stepgrad::data
