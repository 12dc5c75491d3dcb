// Chapter 5's memory over epochs on real data: trains the default MLP or CNN of
// `stepgrad-mnist train` and prints, after each epoch, the CPU allocator's peak of that epoch
// and the process's resident memory (RSS) now and at its peak during that epoch.
//
//   bench_mnist_memory [--model mlp|cnn] [--epochs N] [--limit N] [--data DIR]
//
// Defaults: the MLP, 5 epochs, every training image, Debian's Fashion-MNIST
// (stepgrad-mnist's default data directory). Memory is "flat" when epochs 2.. match epoch 2:
// tests/memory_test.cpp in chapter 5 checks that on a made-up dataset; this prints the real one.
#include <stepgrad/mnist/dataset.hpp>
#include <stepgrad/mnist/trainer.hpp>
#include <stepgrad/shared/process_memory.hpp>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <string>

namespace {

namespace mnist = stepgrad::mnist;
namespace memory = stepgrad::process_memory;

double mebibytes(std::size_t bytes) { return static_cast<double>(bytes) / (1u << 20); }

[[noreturn]] void usage(const char* problem) {
    std::fprintf(stderr, "bench_mnist_memory: %s\nusage: bench_mnist_memory [--model mlp|cnn] [--epochs N] "
                         "[--limit N] [--data DIR]\n", problem);
    std::exit(2);
}

std::int64_t count_argument(const std::string& flag, const char* text) {
    char* end = nullptr;
    const long long value = std::strtoll(text, &end, 10);
    if (end == text || *end != '\0' || value < 0) usage((flag + " needs a whole number >= 0").c_str());
    return value;
}

}  // namespace

int main(int argc, char** argv) {
    mnist::TrainOptions options;
    options.epochs = 5;
    std::string data_directory;
    for (int i = 1; i < argc; ++i) {
        const std::string flag = argv[i];
        if (flag == "--help" || flag == "-h") {
            std::printf("usage: bench_mnist_memory [--model mlp|cnn] [--epochs N] [--limit N] [--data DIR]\n"
                        "Trains stepgrad-mnist's default model; prints the allocator's peak and the RSS per epoch.\n");
            return 0;
        }
        if (i + 1 >= argc) usage((flag + " needs a value").c_str());
        const char* value = argv[++i];
        if (flag == "--model") {
            const std::string kind = value;
            if (kind != "mlp" && kind != "cnn") usage("--model must be mlp or cnn");
            options.model.kind = kind == "mlp" ? mnist::ModelKind::MLP : mnist::ModelKind::CNN;
        } else if (flag == "--epochs") {
            options.epochs = count_argument(flag, value);
        } else if (flag == "--limit") {
            options.train_limit = count_argument(flag, value);
        } else if (flag == "--data") {
            data_directory = value;
        } else {
            usage(("unknown flag " + flag).c_str());
        }
    }
    try {
        const std::filesystem::path directory =
            data_directory.empty() ? mnist::default_data_directory() : std::filesystem::path(data_directory);
        const mnist::MnistData data = mnist::load_mnist(directory);
        mnist::Trainer trainer(data, options);
        stepgrad::CachingAllocator& allocator = *stepgrad::get_backend(stepgrad::Device::CPU).allocator();
        std::printf("%s, %lld training images, batch %lld\n", mnist::describe(trainer.options().model).c_str(),
                    static_cast<long long>(trainer.train_size()), static_cast<long long>(options.batch_size));
        std::printf("epoch  seconds  test_acc  alloc_peak_MiB  alloc_in_use_MiB  alloc_cached_MiB  rss_MiB  "
                    "rss_peak_MiB\n");
        while (trainer.epochs_done() < options.epochs) {
            allocator.reset_peak();
            const bool peak_reset = memory::reset_peak_resident();
            const mnist::EpochMetrics metrics = trainer.train_epoch();
            const stepgrad::AllocatorStats stats = allocator.stats();
            std::printf("%5lld  %7.1f  %8.4f  %14.2f  %16.2f  %16.2f  %7.1f  %12.1f%s\n",
                        static_cast<long long>(metrics.epoch), metrics.train_seconds, metrics.test_accuracy,
                        mebibytes(stats.peak_bytes_in_use), mebibytes(stats.bytes_in_use),
                        mebibytes(stats.bytes_cached), mebibytes(memory::resident_bytes()),
                        mebibytes(memory::peak_resident_bytes()), peak_reset ? "" : " (whole-run peak)");
            std::fflush(stdout);
        }
    } catch (const std::exception& error) {
        std::fprintf(stderr, "bench_mnist_memory: %s\n", error.what());
        return 1;
    }
    return 0;
}
