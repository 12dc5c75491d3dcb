// Chapter 5, memory: five epochs of the MLP and of the CNN on a made-up dataset, with the
// allocator's peak and the process's resident memory (RSS) recorded after each epoch. Epoch 1
// fills the caches (allocator, free lists, thread pool); from epoch 2 on, every figure is flat.
#include <catch2/catch.hpp>

#include <stepgrad/mnist/trainer.hpp>
#include <stepgrad/shared/process_memory.hpp>

#include <cstddef>
#include <sstream>
#include <vector>

#include "synthetic_dataset.hpp"

using namespace stepgrad;
using namespace stepgrad::mnist;
namespace memory = stepgrad::process_memory;

namespace {

constexpr std::int64_t kEpochs = 5;
// Epochs 3..5 may exceed epoch 2 by this much: the allocator by nothing (the same shapes are
// allocated in the same order every epoch), the resident memory by 2 MiB (malloc's arenas and
// the kernel's page accounting move by a few pages).
constexpr std::size_t kAllocatorTolerance = 0;
constexpr std::size_t kResidentTolerance = std::size_t{2} << 20;

struct EpochMemory {
    std::size_t allocator_peak = 0;    // the allocator's peak bytes in use during the epoch
    std::size_t allocator_in_use = 0;  // its bytes in use after the epoch
    std::size_t resident = 0;          // the RSS after the epoch
    std::size_t resident_peak = 0;     // the RSS's peak during the epoch (the whole run's if no reset)
};

// Trains `options.epochs` epochs, resetting both peaks before each, and records each epoch.
std::vector<EpochMemory> train_and_measure(const MnistData& data, const TrainOptions& options) {
    Trainer trainer(data, options);
    CachingAllocator& allocator = *get_backend(Device::CPU).allocator();
    std::vector<EpochMemory> epochs;
    while (trainer.epochs_done() < options.epochs) {
        allocator.reset_peak();
        memory::reset_peak_resident();
        (void)trainer.train_epoch();
        const AllocatorStats stats = allocator.stats();
        epochs.push_back({stats.peak_bytes_in_use, stats.bytes_in_use, memory::resident_bytes(),
                          memory::peak_resident_bytes()});
    }
    return epochs;
}

std::string table(const std::vector<EpochMemory>& epochs) {
    std::ostringstream text;
    text << "epoch: allocator peak, allocator in use, RSS, RSS peak (bytes)\n";
    for (std::size_t e = 0; e < epochs.size(); ++e) {
        text << e + 1 << ": " << epochs[e].allocator_peak << ", " << epochs[e].allocator_in_use << ", "
             << epochs[e].resident << ", " << epochs[e].resident_peak << "\n";
    }
    return text.str();
}

void check_flat(const std::vector<EpochMemory>& epochs) {
    REQUIRE(epochs.size() == static_cast<std::size_t>(kEpochs));
    INFO(table(epochs));
    const EpochMemory& second = epochs[1];
    for (std::size_t e = 2; e < epochs.size(); ++e) {
        INFO("epoch " << e + 1 << " against epoch 2");
        CHECK(epochs[e].allocator_peak <= second.allocator_peak + kAllocatorTolerance);
        CHECK(epochs[e].allocator_in_use == second.allocator_in_use);  // the same tensors outlive each epoch
#if !defined(__SANITIZE_ADDRESS__)  // ASan's quarantine keeps freed memory resident on purpose
        CHECK(epochs[e].resident <= second.resident + kResidentTolerance);
        CHECK(epochs[e].resident_peak <= second.resident_peak + kResidentTolerance);
#endif
    }
}

TrainOptions small_options(ModelKind kind) {
    TrainOptions options;
    options.model.kind = kind;
    options.model.hidden = {64};
    options.model.channels = {8, 16};
    options.epochs = kEpochs;
    options.batch_size = 32;
    options.seed = 11;
    return options;
}

}  // namespace

TEST_CASE("five epochs of the MLP: allocator peak and RSS flat from epoch 2 on", "[chapter05][memory]") {
    synthetic::Dataset files(1000, 200);
    const MnistData data = load_mnist(files.directory.path);
    TrainOptions options = small_options(ModelKind::MLP);
    options.model.dropout = 0.2;  // dropout's masks are made every step too
    check_flat(train_and_measure(data, options));
}

TEST_CASE("five epochs of the CNN with batch norm and shifted images: allocator peak and RSS flat from epoch 2 on",
          "[chapter05][memory]") {
    synthetic::Dataset files(1000, 200);
    const MnistData data = load_mnist(files.directory.path);
    TrainOptions options = small_options(ModelKind::CNN);
    options.model.batchnorm = true;
    options.augment = true;
    options.scheduler = SchedulerKind::OneCycle;
    check_flat(train_and_measure(data, options));
}
