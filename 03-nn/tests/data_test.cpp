// Chapter 3, data: TensorDataset, Subset, random_split and the DataLoader.
#include <stepgrad/data/dataloader.hpp>
#include <stepgrad/data/dataset.hpp>

#include "../../02-tensor/tests/stand_in_device.hpp"
#include "../../02-tensor/tests/test_helpers.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <numeric>
#include <stdexcept>
#include <vector>

using namespace stepgrad;
using stepgrad::testing::check_same;
using stepgrad::testing::check_tensor;
using stepgrad::testing::indices;

namespace {

TensorOptions int64_on(Device device = Device::CPU) { return TensorOptions().device(device).dtype(Dtype::Int64); }

// Example i has data [[i, 100 + i]] (shape (1, 2)) and target i, so a batch shows which
// examples it holds and whether inputs and targets stayed paired.
std::shared_ptr<data::TensorDataset> numbered_dataset(std::int64_t n, Device device = Device::CPU) {
    std::vector<float> values;
    std::vector<std::int64_t> labels;
    for (std::int64_t i = 0; i < n; ++i) {
        values.push_back(static_cast<float>(i));
        values.push_back(static_cast<float>(100 + i));
        labels.push_back(i);
    }
    return std::make_shared<data::TensorDataset>(from_vector(values, {n, 1, 2}, TensorOptions().device(device)),
                                                 from_vector(labels, {n}, int64_on(device)));
}

// The targets of every batch of one pass over the loader, checking each batch's pairing.
std::vector<std::vector<std::int64_t>> one_epoch(data::DataLoader& loader) {
    std::vector<std::vector<std::int64_t>> batches;
    for (data::Batch& batch : loader) {
        const std::vector<std::int64_t> targets = batch.target.to_vector<std::int64_t>();
        const std::vector<float> values = batch.data.to_vector();
        REQUIRE(values.size() == 2 * targets.size());
        for (std::size_t i = 0; i < targets.size(); ++i) {
            CHECK(values[2 * i] == static_cast<float>(targets[i]));
            CHECK(values[2 * i + 1] == static_cast<float>(100 + targets[i]));
        }
        batches.push_back(targets);
    }
    return batches;
}

std::vector<std::int64_t> flattened(const std::vector<std::vector<std::int64_t>>& batches) {
    std::vector<std::int64_t> all;
    for (const auto& batch : batches) all.insert(all.end(), batch.begin(), batch.end());
    return all;
}

std::vector<std::int64_t> identity(std::int64_t n) {
    std::vector<std::int64_t> order(static_cast<std::size_t>(n));
    std::iota(order.begin(), order.end(), 0);
    return order;
}

}  // namespace

// ---- TensorDataset -------------------------------------------------------------------------------

TEST_CASE("TensorDataset: size and get give the rows of both tensors", "[chapter03][data]") {
    auto dataset = numbered_dataset(5);
    CHECK(dataset->size() == 5);
    const data::Example example = dataset->get(3);
    check_tensor(example.data, {1, 2}, {3, 103});
    CHECK(example.target.dim() == 0);
    CHECK(example.target.item<std::int64_t>() == 3);
    CHECK_THROWS_AS(dataset->get(5), std::out_of_range);
    CHECK_THROWS_AS(dataset->get(-1), std::out_of_range);
}

TEST_CASE("TensorDataset: mismatched first sizes are refused with both shapes", "[chapter03][data]") {
    CHECK_THROWS_WITH(data::TensorDataset(zeros({4, 3}), zeros({5}, int64_on())),
                      Catch::Contains("[4, 3]") && Catch::Contains("[5]") && Catch::Contains("same number of examples"));
    CHECK_THROWS_AS(data::TensorDataset(zeros({4, 3}), zeros({5}, int64_on())), std::invalid_argument);
    CHECK_THROWS_AS(data::TensorDataset(tensor(1.0), zeros({1}, int64_on())), std::invalid_argument);
    CHECK_THROWS_AS(data::TensorDataset(Tensor(), zeros({1}, int64_on())), std::invalid_argument);
}

TEST_CASE("TensorDataset: get_batch (one gather) equals stacking get(i)", "[chapter03][data]") {
    Generator generator(3);
    auto dataset = std::make_shared<data::TensorDataset>(randn({7, 2, 3}, generator), randperm(7, generator));
    const Tensor picks = indices({4, 0, 6, 4, 1});
    const data::Batch gathered = dataset->get_batch(picks);
    const data::Batch stacked = static_cast<const data::Dataset&>(*dataset).Dataset::get_batch(picks);  // the default
    REQUIRE(gathered.data.shape() == Shape{5, 2, 3});
    REQUIRE(gathered.target.shape() == Shape{5});
    check_same(gathered.data, stacked.data, 0.0);
    CHECK(gathered.target.to_vector<std::int64_t>() == stacked.target.to_vector<std::int64_t>());
    // and both are the rows named by the indices, read independently
    const std::vector<float> all = dataset->data().to_vector();
    const std::vector<float> got = gathered.data.to_vector();
    const std::vector<std::int64_t> rows{4, 0, 6, 4, 1};
    for (std::size_t r = 0; r < rows.size(); ++r) {
        for (std::size_t k = 0; k < 6; ++k) CHECK(got[r * 6 + k] == all[static_cast<std::size_t>(rows[r]) * 6 + k]);
    }
    CHECK_THROWS_AS(dataset->get_batch(tensor({0.0, 1.0})), std::invalid_argument);  // float indices
}

// ---- Subset and random_split ---------------------------------------------------------------------

TEST_CASE("Subset renumbers the chosen examples; get_batch maps through the indices", "[chapter03][data]") {
    auto dataset = numbered_dataset(10);
    data::Subset subset(dataset, indices({7, 2, 9}));
    CHECK(subset.size() == 3);
    CHECK(subset.get(1).target.item<std::int64_t>() == 2);
    const data::Batch batch = subset.get_batch(indices({2, 0}));
    CHECK(batch.target.to_vector<std::int64_t>() == std::vector<std::int64_t>{9, 7});
    check_tensor(batch.data, {2, 1, 2}, {9, 109, 7, 107});
    CHECK_THROWS_AS(data::Subset(dataset, indices({3, 10})), std::out_of_range);
    CHECK_THROWS_AS(subset.get(3), std::out_of_range);
}

TEST_CASE("random_split: sizes, disjoint pieces covering the dataset, reproducible", "[chapter03][data]") {
    auto dataset = numbered_dataset(10);
    const auto members = [](const std::vector<std::shared_ptr<data::Subset>>& parts) {
        std::vector<std::vector<std::int64_t>> result;
        for (const auto& part : parts) result.push_back(part->indices().to_vector<std::int64_t>());
        return result;
    };
    Generator first(5);
    const auto parts = data::random_split(dataset, {6, 3, 1}, first);
    REQUIRE(parts.size() == 3);
    CHECK(parts[0]->size() == 6);
    CHECK(parts[1]->size() == 3);
    CHECK(parts[2]->size() == 1);
    std::vector<std::int64_t> all = flattened(members(parts));
    std::sort(all.begin(), all.end());
    CHECK(all == identity(10));  // disjoint and covering
    CHECK(all != flattened(members(parts)));  // and shuffled (not the identity order)

    Generator again(5);
    CHECK(members(data::random_split(dataset, {6, 3, 1}, again)) == members(parts));
    Generator other(6);
    CHECK(members(data::random_split(dataset, {6, 3, 1}, other)) != members(parts));
}

TEST_CASE("random_split: fractions as PyTorch (floor, then the rest one each from the first)", "[chapter03][data]") {
    auto dataset = numbered_dataset(10);
    Generator generator(0);
    // floor(3.3) = 3, floor(3.3) = 3, floor(3.4) = 3: one left over goes to the first piece.
    const auto parts = data::random_split(dataset, {0.33, 0.33, 0.34}, generator);
    CHECK(parts[0]->size() == 4);
    CHECK(parts[1]->size() == 3);
    CHECK(parts[2]->size() == 3);
    const auto halves = data::random_split(dataset, {0.5, 0.5}, generator);
    CHECK(halves[0]->size() == 5);
    CHECK(halves[1]->size() == 5);
    CHECK_THROWS_WITH(data::random_split(dataset, {6, 3}, generator), Catch::Contains("sum to 9"));
    CHECK_THROWS_AS(data::random_split(dataset, {-1, 11}, generator), std::invalid_argument);
}

// ---- DataLoader ----------------------------------------------------------------------------------

TEST_CASE("DataLoader: batch counts and the last short batch, with and without drop_last", "[chapter03][data]") {
    auto dataset = numbered_dataset(10);
    data::DataLoader keep(dataset, data::DataLoaderOptions(3));
    CHECK(keep.size() == 4);
    const auto kept = one_epoch(keep);
    REQUIRE(kept.size() == 4);
    CHECK(kept[0].size() == 3);
    CHECK(kept[3] == std::vector<std::int64_t>{9});  // the last partial batch

    data::DataLoader drop(dataset, data::DataLoaderOptions(3).drop_last(true));
    CHECK(drop.size() == 3);
    const auto dropped = one_epoch(drop);
    REQUIRE(dropped.size() == 3);
    for (const auto& batch : dropped) CHECK(batch.size() == 3);

    data::DataLoader exact(numbered_dataset(9), data::DataLoaderOptions(3).drop_last(true));
    CHECK(exact.size() == 3);
    data::DataLoader too_big(dataset, data::DataLoaderOptions(64).drop_last(true));
    CHECK(too_big.size() == 0);
    CHECK(one_epoch(too_big).empty());
    CHECK_THROWS_AS(data::DataLoader(dataset, data::DataLoaderOptions(0)), std::invalid_argument);
}

TEST_CASE("DataLoader: without shuffle the order is the identity, every epoch", "[chapter03][data]") {
    data::DataLoader loader(numbered_dataset(7), data::DataLoaderOptions(2));
    CHECK(flattened(one_epoch(loader)) == identity(7));
    CHECK(loader.epoch() == 1);
    CHECK(flattened(one_epoch(loader)) == identity(7));
}

TEST_CASE("DataLoader: a shuffled epoch visits every example exactly once", "[chapter03][data]") {
    data::DataLoader loader(numbered_dataset(23), data::DataLoaderOptions(5).shuffle(true).seed(11));
    for (int epoch = 0; epoch < 3; ++epoch) {
        std::vector<std::int64_t> seen = flattened(one_epoch(loader));  // also checks data/target pairing
        CHECK(seen != identity(23));
        std::sort(seen.begin(), seen.end());
        CHECK(seen == identity(23));
    }
}

TEST_CASE("DataLoader: the shuffle is reproducible from the seed and differs by epoch and seed", "[chapter03][data]") {
    auto dataset = numbered_dataset(20);
    const auto options = data::DataLoaderOptions(4).shuffle(true).seed(42);
    data::DataLoader a(dataset, options);
    data::DataLoader b(dataset, options);
    const auto a0 = flattened(one_epoch(a));
    const auto a1 = flattened(one_epoch(a));
    CHECK(a0 == flattened(one_epoch(b)));
    CHECK(a1 == flattened(one_epoch(b)));
    CHECK(a0 != a1);  // a fresh permutation each epoch
    data::DataLoader other(dataset, data::DataLoaderOptions(4).shuffle(true).seed(43));
    CHECK(flattened(one_epoch(other)) != a0);
    // the order is a function of (seed, epoch) alone, and is what the loop visits
    CHECK(a.order(1).to_vector<std::int64_t>() == a1);
}

TEST_CASE("DataLoader: resuming from state_dict gives the same following batches", "[chapter03][data]") {
    auto dataset = numbered_dataset(17);
    const auto options = data::DataLoaderOptions(4).shuffle(true).seed(9);

    // The uninterrupted run: epochs 0..2, each batch with a "random augmentation" number drawn
    // from the loader's generator.
    data::DataLoader reference(dataset, options);
    std::vector<std::int64_t> reference_noise;
    reference.add_transform([&reference, &reference_noise](data::Batch batch) {
        reference_noise.push_back(static_cast<std::int64_t>(reference.generator().below(1000000)));
        return batch;
    });
    std::vector<std::vector<std::int64_t>> expected;
    for (int epoch = 0; epoch < 3; ++epoch) {
        for (const auto& batch : one_epoch(reference)) expected.push_back(batch);
    }

    // The interrupted run: epoch 0, then two batches of epoch 1, then a checkpoint.
    data::DataLoader first(dataset, options);
    std::vector<std::vector<std::int64_t>> seen = one_epoch(first);
    nn::StateDict checkpoint;
    int batches = 0;
    for (data::Batch& batch : first) {
        seen.push_back(batch.target.to_vector<std::int64_t>());
        if (++batches == 2) {
            checkpoint = first.state_dict();  // saved inside the loop body, after the step
            break;
        }
    }
    CHECK(checkpoint.metadata.at("epoch") == "1");
    CHECK(checkpoint.metadata.at("batches_done") == "2");

    // A new process: a loader built with another seed, restored from the checkpoint.
    data::DataLoader resumed(dataset, data::DataLoaderOptions(4).shuffle(true).seed(12345));
    std::vector<std::int64_t> resumed_noise;
    resumed.add_transform([&resumed, &resumed_noise](data::Batch batch) {
        resumed_noise.push_back(static_cast<std::int64_t>(resumed.generator().below(1000000)));
        return batch;
    });
    resumed.load_state_dict(checkpoint);
    CHECK(resumed.epoch() == 1);
    CHECK(resumed.batches_done() == 2);
    for (const auto& batch : one_epoch(resumed)) seen.push_back(batch);  // the rest of epoch 1
    for (const auto& batch : one_epoch(resumed)) seen.push_back(batch);  // epoch 2
    CHECK(seen == expected);
    // augmentation draws of the resumed batches equal those of the same batches uninterrupted
    const std::size_t skipped = static_cast<std::size_t>(first.size()) + 2;
    REQUIRE(resumed_noise.size() == reference_noise.size() - skipped);
    CHECK(std::equal(resumed_noise.begin(), resumed_noise.end(), reference_noise.begin() + static_cast<long>(skipped)));
}

TEST_CASE("DataLoader: a state saved during an epoch's last batch resumes at the next epoch", "[chapter03][data]") {
    auto dataset = numbered_dataset(8);
    data::DataLoader loader(dataset, data::DataLoaderOptions(4).shuffle(true).seed(1));
    nn::StateDict state;
    for (data::Batch& batch : loader) {
        (void)batch;
        state = loader.state_dict();
    }
    CHECK(state.metadata.at("epoch") == "1");
    CHECK(state.metadata.at("batches_done") == "0");
    data::DataLoader resumed(dataset, data::DataLoaderOptions(4).shuffle(true).seed(1));
    resumed.load_state_dict(state);
    CHECK(flattened(one_epoch(resumed)) == loader.order(1).to_vector<std::int64_t>());
}

TEST_CASE("DataLoader: a break leaves the epoch open; set_epoch restarts one", "[chapter03][data]") {
    data::DataLoader loader(numbered_dataset(9), data::DataLoaderOptions(3).shuffle(true).seed(4));
    const std::vector<std::int64_t> order0 = loader.order(0).to_vector<std::int64_t>();
    for (data::Batch& batch : loader) {
        CHECK(batch.target.to_vector<std::int64_t>() == std::vector<std::int64_t>(order0.begin(), order0.begin() + 3));
        break;
    }
    CHECK(loader.batches_done() == 1);
    CHECK(flattened(one_epoch(loader)) == std::vector<std::int64_t>(order0.begin() + 3, order0.end()));
    loader.set_epoch(0);
    CHECK(flattened(one_epoch(loader)) == order0);
}

TEST_CASE("DataLoader: load_state_dict refuses a state from a differently built loader", "[chapter03][data]") {
    auto dataset = numbered_dataset(10);
    data::DataLoader saved(dataset, data::DataLoaderOptions(4).shuffle(true));
    const nn::StateDict state = saved.state_dict();
    data::DataLoader other(dataset, data::DataLoaderOptions(5).shuffle(true));
    CHECK_THROWS_WITH(other.load_state_dict(state), Catch::Contains("batch_size"));
    data::DataLoader smaller(numbered_dataset(9), data::DataLoaderOptions(4).shuffle(true));
    CHECK_THROWS_WITH(smaller.load_state_dict(state), Catch::Contains("dataset_size"));
    nn::StateDict broken = state;
    broken.metadata["epoch"] = "two";
    data::DataLoader target(dataset, data::DataLoaderOptions(4).shuffle(true));
    CHECK_THROWS_AS(target.load_state_dict(broken), std::invalid_argument);
    CHECK(target.epoch() == 0);  // nothing changed
    broken.metadata.erase("seed");
    CHECK_THROWS_WITH(target.load_state_dict(broken), Catch::Contains("'seed'"));
}

TEST_CASE("DataLoader: transforms apply to whole batches, in the order added", "[chapter03][data]") {
    data::DataLoader loader(numbered_dataset(6), data::DataLoaderOptions(4));
    loader.add_transform([](data::Batch batch) {
        batch.data = batch.data * 2.0;
        return batch;
    });
    loader.add_transform([](data::Batch batch) {
        batch.data = batch.data + 1.0;
        return batch;
    });
    std::vector<Shape> shapes;
    for (data::Batch& batch : loader) {
        shapes.push_back(batch.data.shape());
        if (shapes.size() == 1) check_tensor(batch.data.slice(0, 0, 1), {1, 1, 2}, {1, 201});  // (0*2)+1, (100*2)+1
    }
    CHECK(shapes == std::vector<Shape>{{4, 1, 2}, {2, 1, 2}});
}

TEST_CASE("DataLoader: on a device, batches are gathered there without a host read", "[chapter03][data][device]") {
    stepgrad::testing::StandInDevice stand_in;
    auto cpu_set = numbered_dataset(13);
    auto device_set = numbered_dataset(13, Device::CUDA);
    const auto options = data::DataLoaderOptions(4).shuffle(true).seed(3);
    data::DataLoader on_cpu(cpu_set, options);
    data::DataLoader on_device(device_set, options);
    std::vector<data::Batch> device_batches;
    const std::uint64_t reads_before = stepgrad::testing::stand_in_host_reads();
    for (data::Batch& batch : on_device) device_batches.push_back(batch);
    CHECK(stepgrad::testing::stand_in_host_reads() == reads_before);
    std::size_t k = 0;
    for (data::Batch& batch : on_cpu) {
        REQUIRE(k < device_batches.size());
        CHECK(device_batches[k].data.device() == Device::CUDA);
        CHECK(device_batches[k].target.device() == Device::CUDA);
        check_same(device_batches[k].data.cpu(), batch.data, 0.0);
        CHECK(device_batches[k].target.cpu().to_vector<std::int64_t>() == batch.target.to_vector<std::int64_t>());
        ++k;
    }
    CHECK(k == device_batches.size());
}

TEST_CASE("DataLoader over a random_split piece visits exactly that piece's examples", "[chapter03][data]") {
    auto dataset = numbered_dataset(12);
    Generator generator(8);
    const auto parts = data::random_split(dataset, {0.75, 0.25}, generator);
    data::DataLoader loader(parts[1], data::DataLoaderOptions(2).shuffle(true).seed(5));
    CHECK(loader.size() == 2);
    std::vector<std::int64_t> seen = flattened(one_epoch(loader));  // also checks data/target pairing
    std::vector<std::int64_t> members = parts[1]->indices().to_vector<std::int64_t>();
    std::sort(seen.begin(), seen.end());
    std::sort(members.begin(), members.end());
    CHECK(seen == members);
}
