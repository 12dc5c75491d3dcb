#include <stepgrad/data/dataloader.hpp>

#include <stepgrad/shared/error.hpp>

#include <algorithm>
#include <string>
#include <utility>

namespace stepgrad::data {

namespace {

// SplitMix64 (Steele, Lea, Flood 2014): a bijective 64-bit hash; consecutive inputs give
// unrelated outputs, which is what seeding one generator per epoch or per batch needs.
std::uint64_t splitmix64(std::uint64_t z) {
    z += 0x9E3779B97F4A7C15ULL;
    z = (z ^ (z >> 30U)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27U)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31U);
}

// The state's metadata keys, saved as decimal text.
constexpr const char* kSeed = "seed";
constexpr const char* kEpoch = "epoch";
constexpr const char* kBatchesDone = "batches_done";
constexpr const char* kBatchSize = "batch_size";
constexpr const char* kShuffle = "shuffle";
constexpr const char* kDropLast = "drop_last";
constexpr const char* kDatasetSize = "dataset_size";

const std::string& required(const nn::StateDict& state, const char* key) {
    const auto found = state.metadata.find(key);
    STEPGRAD_CHECK(found != state.metadata.end(),
                   "DataLoader::load_state_dict: the state has no '" << key << "'; pass what DataLoader::state_dict() saved");
    return found->second;
}

std::uint64_t parse_unsigned(const nn::StateDict& state, const char* key) {
    const std::string& text = required(state, key);
    STEPGRAD_CHECK(!text.empty() && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; }),
                   "DataLoader::load_state_dict: '" << key << "' must be a non-negative integer, got '" << text << "'");
    try {
        return std::stoull(text);
    } catch (const std::exception&) {
        STEPGRAD_CHECK(false, "DataLoader::load_state_dict: '" << key << "' = '" << text << "' is out of range");
    }
    return 0;
}

}  // namespace

DataLoader::DataLoader(std::shared_ptr<Dataset> dataset, DataLoaderOptions options)
    : dataset_(std::move(dataset)), options_(options), batch_generator_(std::make_shared<Generator>(options.seed())) {
    STEPGRAD_CHECK(dataset_ != nullptr, "DataLoader: the dataset is null");
    STEPGRAD_CHECK(options_.batch_size() >= 1,
                   "DataLoader: batch_size must be at least 1, got " << options_.batch_size());
}

std::int64_t DataLoader::size() const {
    const std::int64_t examples = dataset_->size();
    const std::int64_t batch_size = options_.batch_size();
    return options_.drop_last() ? examples / batch_size : (examples + batch_size - 1) / batch_size;
}

DataLoader& DataLoader::add_transform(BatchTransform transform) {
    STEPGRAD_CHECK(static_cast<bool>(transform), "DataLoader::add_transform: the transform is empty");
    transforms_.push_back(std::move(transform));
    return *this;
}

void DataLoader::set_epoch(std::int64_t epoch) {
    STEPGRAD_CHECK(epoch >= 0, "DataLoader::set_epoch: epoch must be non-negative, got " << epoch);
    epoch_ = epoch;
    batches_done_ = 0;
}

std::uint64_t DataLoader::epoch_seed(std::uint64_t seed, std::int64_t epoch) {
    return splitmix64(splitmix64(seed) ^ static_cast<std::uint64_t>(epoch));
}

Tensor DataLoader::order(std::int64_t epoch) const {
    const TensorOptions on_device = TensorOptions().device(dataset_->device()).dtype(Dtype::Int64);
    const std::int64_t examples = dataset_->size();
    if (!options_.shuffle()) return arange(static_cast<double>(examples), on_device);
    Generator epoch_generator(epoch_seed(options_.seed(), epoch));
    return randperm(examples, epoch_generator, on_device);  // drawn on the host, copied once
}

void DataLoader::roll_over_finished_epoch() {
    if (batches_done_ > 0 && batches_done_ >= size()) {
        ++epoch_;
        batches_done_ = 0;
    }
}

Batch DataLoader::next_batch() {
    if (order_epoch_ != epoch_) {
        order_ = order(epoch_);
        order_epoch_ = epoch_;
    }
    const std::int64_t batch_size = options_.batch_size();
    const std::int64_t start = batches_done_ * batch_size;
    const std::int64_t stop = std::min(start + batch_size, dataset_->size());
    // positions is a view on the permutation (no copy); the dataset gathers with it.
    const Tensor positions = order_.slice(0, start, stop);
    batch_generator_->seed(splitmix64(epoch_seed(options_.seed(), epoch_) + static_cast<std::uint64_t>(batches_done_) + 1));
    Batch batch = dataset_->get_batch(positions);
    for (const BatchTransform& transform : transforms_) batch = transform(std::move(batch));
    ++batches_done_;
    return batch;
}

DataLoader::Iterator DataLoader::begin() {
    roll_over_finished_epoch();  // a state saved during an epoch's last batch
    if (batches_done_ >= size()) return end();
    return Iterator(this);
}

DataLoader::Iterator::Iterator(DataLoader* loader) : loader_(loader), batch_(loader->next_batch()) {}

DataLoader::Iterator& DataLoader::Iterator::operator++() {
    if (loader_->batches_done_ >= loader_->size()) {
        loader_->roll_over_finished_epoch();
        loader_ = nullptr;
        batch_ = Batch();
    } else {
        batch_ = loader_->next_batch();
    }
    return *this;
}

nn::StateDict DataLoader::state_dict() const {
    std::int64_t epoch = epoch_;
    std::int64_t batches_done = batches_done_;
    if (batches_done > 0 && batches_done >= size()) {  // saved during the last batch: the next is a new epoch
        ++epoch;
        batches_done = 0;
    }
    nn::StateDict state;
    state.metadata[kSeed] = std::to_string(options_.seed());
    state.metadata[kEpoch] = std::to_string(epoch);
    state.metadata[kBatchesDone] = std::to_string(batches_done);
    state.metadata[kBatchSize] = std::to_string(options_.batch_size());
    state.metadata[kShuffle] = std::to_string(options_.shuffle() ? 1 : 0);
    state.metadata[kDropLast] = std::to_string(options_.drop_last() ? 1 : 0);
    state.metadata[kDatasetSize] = std::to_string(dataset_->size());
    return state;
}

void DataLoader::load_state_dict(const nn::StateDict& state) {
    // Read and check everything first, so a bad state changes nothing.
    const std::uint64_t seed = parse_unsigned(state, kSeed);
    const auto epoch = static_cast<std::int64_t>(parse_unsigned(state, kEpoch));
    const auto batches_done = static_cast<std::int64_t>(parse_unsigned(state, kBatchesDone));
    const auto expect_same = [&](const char* key, std::uint64_t mine) {
        const std::uint64_t saved = parse_unsigned(state, key);
        STEPGRAD_CHECK(saved == mine, "DataLoader::load_state_dict: the state was saved with "
                                          << key << " = " << saved << " but this loader has " << mine
                                          << "; build the loader as the saved run did");
    };
    expect_same(kBatchSize, static_cast<std::uint64_t>(options_.batch_size()));
    expect_same(kShuffle, options_.shuffle() ? 1U : 0U);
    expect_same(kDropLast, options_.drop_last() ? 1U : 0U);
    expect_same(kDatasetSize, static_cast<std::uint64_t>(dataset_->size()));
    STEPGRAD_CHECK(epoch >= 0 && batches_done >= 0 && batches_done <= size(),
                   "DataLoader::load_state_dict: batches_done = " << batches_done << " is beyond the " << size()
                                                                  << " batches of an epoch");
    options_.seed(seed);
    batch_generator_->seed(seed);
    epoch_ = epoch;
    batches_done_ = batches_done;
    order_epoch_ = -1;  // the seed may have changed: recompute the order
}

}  // namespace stepgrad::data
