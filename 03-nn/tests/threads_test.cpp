// Threads: two models trained at once on two threads give, bit for bit, what each gives when
// trained alone; grad mode and the default generator belong to the thread that set them; the
// caching allocator keeps exact statistics under concurrent use. Small enough for ThreadSanitizer
// (the `tsan` preset runs this file alone: ctest --preset tsan).
//
// Catch2 v2's assertions are not thread-safe, so the threads only record what they saw and
// every CHECK runs on the main thread after they have joined.
#include <stepgrad/nn/activation.hpp>
#include <stepgrad/nn/batchnorm.hpp>
#include <stepgrad/nn/container.hpp>
#include <stepgrad/nn/conv.hpp>
#include <stepgrad/nn/dropout.hpp>
#include <stepgrad/nn/linear.hpp>
#include <stepgrad/nn/loss.hpp>
#include <stepgrad/nn/pooling.hpp>
#include <stepgrad/optim/adam.hpp>
#include <stepgrad/optim/sgd.hpp>
#include <stepgrad/shared/random.hpp>
#include <stepgrad/tensor.hpp>
#include <stepgrad/tensor/allocator.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <exception>
#include <functional>
#include <latch>
#include <thread>
#include <vector>

using namespace stepgrad;
namespace F = stepgrad::nn::functional;

namespace {

// What a training run leaves: the loss of every step, then every parameter and buffer.
struct TrainingResult {
    std::vector<float> losses;
    std::vector<std::vector<float>> state;
};

std::vector<float> as_floats(const Tensor& tensor) {
    const Tensor values = tensor.detach().cpu();
    if (values.dtype() == Dtype::Int64) {
        const auto ints = values.to_vector<std::int64_t>();
        return {ints.begin(), ints.end()};
    }
    return values.to_vector<float>();
}

// Labels drawn from the thread's default generator, like the weights and the dropout masks.
Tensor random_labels(std::int64_t count, std::int64_t classes) {
    std::vector<std::int64_t> labels(static_cast<std::size_t>(count));
    for (auto& label : labels) label = static_cast<std::int64_t>(default_generator().below(classes));
    return from_vector(labels, {count});
}

// Runs `steps` steps and records the losses and the final state.
TrainingResult train(nn::Module& model, optim::Optimizer& optimizer, const Tensor& x, const Tensor& y, int steps) {
    TrainingResult result;
    for (int step = 0; step < steps; ++step) {
        optimizer.zero_grad();
        Tensor loss = F::cross_entropy(model.forward(x), y);
        loss.backward();
        optimizer.step();
        result.losses.push_back(loss.item());
    }
    for (const auto& [name, tensor] : model.state_dict()) result.state.push_back(as_floats(tensor));
    return result;
}

// An MLP with dropout, trained with Adam. Everything random (weights, data, labels, masks)
// comes from the thread's default generator after manual_seed. The first layer's products
// (64 x 32 x 256) are large enough for OpenBLAS to split them over its threads in a release
// build, so threads of ours and of OpenBLAS's run at once.
TrainingResult train_mlp() {
    manual_seed(11);
    nn::Sequential model({std::make_shared<nn::Linear>(32, 256), std::make_shared<nn::ReLU>(),
                          std::make_shared<nn::Dropout>(nn::DropoutOptions(0.3)), std::make_shared<nn::Linear>(256, 3)});
    const Tensor x = randn({64, 32});
    const Tensor y = random_labels(64, 3);
    optim::Adam optimizer(model.parameters(), optim::AdamOptions(1e-3));
    return train(model, optimizer, x, y, 20);
}

// A small CNN with batch norm and dropout, trained with SGD and momentum.
TrainingResult train_cnn() {
    manual_seed(23);
    nn::Sequential model({std::make_shared<nn::Conv2d>(nn::Conv2dOptions(1, 4, 3).padding(1)),
                          std::make_shared<nn::BatchNorm2d>(nn::BatchNormOptions(4)), std::make_shared<nn::ReLU>(),
                          std::make_shared<nn::MaxPool2d>(nn::MaxPool2dOptions(2)), std::make_shared<nn::Flatten>(),
                          std::make_shared<nn::Dropout>(nn::DropoutOptions(0.2)), std::make_shared<nn::Linear>(64, 3)});
    const Tensor x = randn({8, 1, 8, 8});
    const Tensor y = random_labels(8, 3);
    optim::SGD optimizer(model.parameters(), optim::SGDOptions(0.05).momentum(0.9));
    return train(model, optimizer, x, y, 12);
}

// Runs every job on its own thread, all released at once, and rethrows the first failure.
void run_together(const std::vector<std::function<void()>>& jobs) {
    std::latch start(static_cast<std::ptrdiff_t>(jobs.size()));
    std::vector<std::exception_ptr> errors(jobs.size());
    std::vector<std::thread> threads;
    for (std::size_t i = 0; i < jobs.size(); ++i) {
        threads.emplace_back([&, i] {
            start.arrive_and_wait();
            try {
                jobs[i]();
            } catch (...) {
                errors[i] = std::current_exception();
            }
        });
    }
    for (auto& thread : threads) thread.join();
    for (const auto& error : errors) {
        if (error) std::rethrow_exception(error);
    }
}

void check_same_run(const TrainingResult& got, const TrainingResult& alone) {
    CHECK(got.losses == alone.losses);  // bit for bit
    REQUIRE(got.state.size() == alone.state.size());
    for (std::size_t i = 0; i < got.state.size(); ++i) {
        INFO("state tensor " << i);
        CHECK(got.state[i] == alone.state[i]);
    }
}

}  // namespace

TEST_CASE("two models trained on two threads at once match each trained alone, bit for bit",
          "[chapter03][threads]") {
    const TrainingResult mlp_alone = train_mlp();
    const TrainingResult cnn_alone = train_cnn();
    REQUIRE(mlp_alone.losses.back() < mlp_alone.losses.front());  // they do learn
    REQUIRE(cnn_alone.losses.back() < cnn_alone.losses.front());
    const std::size_t in_use_before = memory_stats(Device::CPU).bytes_in_use;

    TrainingResult mlp_1, mlp_2, cnn_1;
    run_together({[&] { mlp_1 = train_mlp(); }, [&] { cnn_1 = train_cnn(); }, [&] { mlp_2 = train_mlp(); }});

    check_same_run(mlp_1, mlp_alone);
    check_same_run(mlp_2, mlp_alone);
    check_same_run(cnn_1, cnn_alone);
    // Every tensor the threads made has gone back to the allocator.
    CHECK(memory_stats(Device::CPU).bytes_in_use == in_use_before);
}

TEST_CASE("a NoGradGuard on one thread does not turn off recording on another", "[chapter03][threads]") {
    const Tensor w = ones({3}).requires_grad_();
    std::latch guard_alive(2), other_done(2);
    bool guarded_records = true, guarded_mode = true, other_records = false, other_mode = false;
    run_together({[&] {
                      NoGradGuard no_grad;
                      guard_alive.arrive_and_wait();  // the other thread looks while the guard lives
                      guarded_mode = GradMode::is_enabled();
                      guarded_records = (w * 2.0).requires_grad();
                      other_done.arrive_and_wait();
                  },
                  [&] {
                      guard_alive.arrive_and_wait();
                      other_mode = GradMode::is_enabled();
                      other_records = (w * 2.0).requires_grad();
                      other_done.arrive_and_wait();
                  }});
    CHECK_FALSE(guarded_mode);
    CHECK_FALSE(guarded_records);
    CHECK(other_mode);
    CHECK(other_records);
    CHECK(GradMode::is_enabled());  // the main thread's mode, too, is untouched
}

TEST_CASE("the default generator is per thread: manual_seed on one thread leaves the others' streams",
          "[chapter03][threads]") {
    auto stream = [](std::uint64_t seed, std::int64_t count) {
        Generator generator(seed);
        return rand({count}, generator).to_vector<float>();
    };
    manual_seed(3);
    std::vector<float> main_draws = rand({4}).to_vector<float>();

    std::latch first_half(2);
    std::vector<float> seeded_draws, reseeder_draws, unseeded_draws;
    run_together({[&] {
                      manual_seed(7);
                      seeded_draws = rand({4}).to_vector<float>();
                      first_half.arrive_and_wait();  // the other thread reseeds and draws meanwhile
                      const auto rest = rand({4}).to_vector<float>();
                      seeded_draws.insert(seeded_draws.end(), rest.begin(), rest.end());
                  },
                  [&] {
                      first_half.arrive_and_wait();
                      manual_seed(99);
                      reseeder_draws = rand({4}).to_vector<float>();
                  },
                  [&] { unseeded_draws = rand({4}).to_vector<float>(); }});
    const auto rest = rand({4}).to_vector<float>();
    main_draws.insert(main_draws.end(), rest.begin(), rest.end());

    CHECK(seeded_draws == stream(7, 8));      // one unbroken stream, whatever the others did
    CHECK(reseeder_draws == stream(99, 4));
    CHECK(main_draws == stream(3, 8));        // the main thread's stream went on undisturbed
    CHECK(unseeded_draws == stream(0, 4));    // a thread that never seeds starts at seed 0
}

TEST_CASE("the caching allocator keeps exact statistics under allocations and frees from 4 threads",
          "[chapter03][threads]") {
    std::atomic<std::int64_t> raw_bytes{0}, raw_calls{0};
    CachingAllocator allocator(
        Device::CPU,
        [&](std::size_t bytes) {
            raw_bytes += static_cast<std::int64_t>(bytes);
            ++raw_calls;
            return std::malloc(bytes);
        },
        [&](void* pointer, std::size_t bytes) {
            raw_bytes -= static_cast<std::int64_t>(bytes);
            std::free(pointer);
        });
    constexpr int kThreads = 4, kRounds = 300, kHeld = 4;
    std::atomic<int> buffers_shared{0};
    std::vector<std::function<void()>> jobs;
    for (int t = 0; t < kThreads; ++t) {
        jobs.emplace_back([&, t] {
            for (int round = 0; round < kRounds; ++round) {
                std::vector<std::pair<unsigned char*, std::size_t>> held;
                for (int k = 0; k < kHeld; ++k) {
                    const std::size_t bytes = 100 + 600 * static_cast<std::size_t>((round + k + t) % 3);
                    auto* buffer = static_cast<unsigned char*>(allocator.allocate(bytes));
                    std::fill(buffer, buffer + bytes, static_cast<unsigned char>(t));
                    held.emplace_back(buffer, bytes);
                }
                for (auto [buffer, bytes] : held) {  // a buffer handed to two owners would show
                    if (std::count(buffer, buffer + bytes, static_cast<unsigned char>(t)) !=
                        static_cast<std::ptrdiff_t>(bytes)) {
                        ++buffers_shared;
                    }
                    allocator.release(buffer, bytes);
                }
            }
        });
    }
    run_together(jobs);

    const AllocatorStats stats = allocator.stats();
    CHECK(buffers_shared == 0);
    CHECK(stats.bytes_in_use == 0);
    CHECK(stats.hits + stats.misses == static_cast<std::uint64_t>(kThreads * kRounds * kHeld));
    CHECK(stats.misses == static_cast<std::uint64_t>(raw_calls.load()));
    CHECK(stats.bytes_cached == static_cast<std::size_t>(raw_bytes.load()));  // all freed buffers are cached
    CHECK(stats.peak_bytes_in_use <= stats.bytes_cached);
    CHECK(stats.peak_bytes_in_use >= CachingAllocator::size_class(1300));
    allocator.empty_cache();
    CHECK(raw_bytes == 0);
    CHECK(allocator.stats().bytes_cached == 0);
}
