#pragma once
/// @file common.cuh
/// @brief What every teaching kernel program of chapter 4 shares, in the manner of llm.c's
/// dev/cuda/common.h: the "is there a GPU?" check (exit code 77 when not), random inputs, a
/// device buffer, a comparison against the CPU reference, and timing with CUDA events.
///
/// Each program (matmul.cu, reduce.cu) holds one problem: a CPU reference, numbered kernel
/// versions from naive to fast, and a library call (cuBLAS, CUB) to compare against. It checks
/// every version against the reference, then times each one:
///
///     ./matmul        all versions
///     ./matmul 2      version 2 only
///
/// Exit codes: 0 every version matched, 1 a mismatch (or a CUDA error), 2 a bad argument,
/// 77 no GPU (CTest's SKIP_RETURN_CODE: the test counts as skipped, not failed).

#include <stepgrad/gpu/check.hpp>  // STEPGRAD_CUDA_CHECK, STEPGRAD_CUBLAS_CHECK

#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

namespace stepgrad::teach {

/// @brief The exit code that CTest reads as "skipped" (SKIP_RETURN_CODE 77, as in automake).
inline constexpr int kSkipExitCode = 77;

/// @brief Exits with code 77, saying why, unless a CUDA device is there; then prints its name.
///
/// Without a driver, cudaGetDeviceCount returns an error (cudaErrorInsufficientDriver, or
/// cudaErrorNoDevice) and leaves the count untouched, so the count starts at 0 and both the
/// error and the count are checked.
inline void require_gpu(const char* program) {
    int count = 0;
    const cudaError_t error = cudaGetDeviceCount(&count);
    if (error != cudaSuccess || count == 0) {
        std::printf("SKIP %s: no CUDA GPU here (%s)\n", program,
                    error != cudaSuccess ? cudaGetErrorString(error) : "cudaGetDeviceCount found no device");
        std::exit(kSkipExitCode);
    }
    cudaDeviceProp properties{};
    STEPGRAD_CUDA_CHECK(cudaGetDeviceProperties(&properties, 0));
    std::printf("%s on %s (sm_%d%d, %d SMs)\n", program, properties.name, properties.major,
                properties.minor, properties.multiProcessorCount);
}

/// @brief The version asked for on the command line: 0 (all) when there is no argument,
/// else a number in 1..versions; exits with code 2 and a usage line otherwise.
inline int version_from_arguments(int argc, char** argv, int versions) {
    if (argc < 2) return 0;
    char* end = nullptr;
    const long version = std::strtol(argv[1], &end, 10);
    if (argc > 2 || *end != '\0' || version < 1 || version > versions) {
        std::fprintf(stderr, "usage: %s [VERSION]   (VERSION 1..%d; none: all of them)\n", argv[0], versions);
        std::exit(2);
    }
    return static_cast<int>(version);
}

/// @brief `count` floats drawn uniformly from [-1, 1), the same for the same seed.
inline std::vector<float> random_floats(std::size_t count, unsigned seed) {
    std::mt19937 generator(seed);
    std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
    std::vector<float> values(count);
    for (float& value : values) value = uniform(generator);
    return values;
}

/// @brief The stub of an exercise whose region is a teaching kernel's body (GPU code cannot
/// throw): the first thread of the grid prints "exercise <id> is not implemented yet", and the
/// kernel writes nothing, so the version's check against the reference fails.
///
/// Example: `// stub: exercise_not_implemented("04.3");` in matmul.cu's tiled kernel.
__device__ inline void exercise_not_implemented(const char* id) {
    const bool first_thread = threadIdx.x == 0 && threadIdx.y == 0 && threadIdx.z == 0 &&
                              blockIdx.x == 0 && blockIdx.y == 0 && blockIdx.z == 0;
    if (first_thread) {
        printf("exercise %s is not implemented yet: replace the stub with your solution "
               "(its tests: ctest -L ex-%s)\n", id, id);
    }
}

/// @brief How many blocks of `block` threads cover `count` items: ceil(count / block).
constexpr int ceil_div(long long count, int block) { return static_cast<int>((count + block - 1) / block); }

/// @brief An array of `T` in device memory, freed when it goes out of scope.
///
/// Example: `DeviceArray<float> x(n); x.upload(host); kernel<<<g, b>>>(x.data(), n);`
template <class T>
class DeviceArray {
public:
    /// @brief Allocates `count` elements (uninitialised).
    explicit DeviceArray(std::size_t count) : count_(count) {
        STEPGRAD_CUDA_CHECK(cudaMalloc(&data_, count * sizeof(T)));
    }
    ~DeviceArray() { cudaFree(data_); }
    DeviceArray(const DeviceArray&) = delete;
    DeviceArray& operator=(const DeviceArray&) = delete;

    /// @brief The device pointer, for kernels.
    T* data() const { return data_; }
    /// @brief How many elements.
    std::size_t size() const { return count_; }
    /// @brief Copies `host` (exactly size() elements) to the device.
    void upload(const std::vector<T>& host) {
        STEPGRAD_CUDA_CHECK(cudaMemcpy(data_, host.data(), count_ * sizeof(T), cudaMemcpyHostToDevice));
    }
    /// @brief Copies the device array back to the host (waits for the kernels before it).
    std::vector<T> download() const {
        std::vector<T> host(count_);
        STEPGRAD_CUDA_CHECK(cudaMemcpy(host.data(), data_, count_ * sizeof(T), cudaMemcpyDeviceToHost));
        return host;
    }

private:
    T* data_ = nullptr;
    std::size_t count_ = 0;
};

/// @brief Whether every `got[i]` is within `atol + rtol * |want[i]|` of `want[i]`; prints the
/// result on one line (and the first few elements that are not).
inline bool check_close(const char* what, const std::vector<float>& got, const std::vector<float>& want,
                        double atol, double rtol) {
    std::size_t bad = 0;
    double worst = 0.0;
    for (std::size_t i = 0; i < want.size(); ++i) {
        const double error = std::fabs(static_cast<double>(got[i]) - want[i]);
        if (std::isnan(error) || error > worst) worst = error;  // a NaN stays the worst
        // Written so that a NaN fails: !(error <= bound) is true for NaN.
        if (!(error <= atol + rtol * std::fabs(static_cast<double>(want[i])))) {
            if (bad < 5) std::printf("    %s: element %zu is %.7g, expected %.7g\n", what, i, got[i], want[i]);
            ++bad;
        }
    }
    std::printf("  %-28s %s (max error %.3g; tolerance %.0e + %.0e*|expected|)\n", what,
                bad == 0 ? "OK      " : "MISMATCH", worst, atol, rtol);
    if (bad > 0) std::printf("    %zu of %zu elements out of tolerance\n", bad, want.size());
    return bad == 0;
}

/// @brief The mean time in milliseconds of one call of `launch` (which queues GPU work), measured
/// with CUDA events around many calls after one warm-up call.
///
/// The number of calls is chosen so that the timed part lasts about 200 ms (3 to 1000 calls):
/// a slow naive kernel runs a few times, a fast one often enough to average out the noise.
template <class Launch>
float time_ms(Launch launch) {
    cudaEvent_t start, stop;
    STEPGRAD_CUDA_CHECK(cudaEventCreate(&start));
    STEPGRAD_CUDA_CHECK(cudaEventCreate(&stop));
    auto timed = [&](int calls) {
        STEPGRAD_CUDA_CHECK(cudaEventRecord(start));
        for (int i = 0; i < calls; ++i) launch();
        STEPGRAD_CUDA_CHECK(cudaEventRecord(stop));
        STEPGRAD_CUDA_CHECK(cudaEventSynchronize(stop));
        STEPGRAD_CUDA_CHECK(cudaGetLastError());  // a launch that failed shows here
        float milliseconds = 0.0f;
        STEPGRAD_CUDA_CHECK(cudaEventElapsedTime(&milliseconds, start, stop));
        return milliseconds / static_cast<float>(calls);
    };
    const float first = timed(1);  // warm-up (and an estimate of one call's time)
    const int calls = std::clamp(static_cast<int>(200.0f / std::max(first, 1e-3f)), 3, 1000);
    const float mean = timed(calls);
    STEPGRAD_CUDA_CHECK(cudaEventDestroy(start));
    STEPGRAD_CUDA_CHECK(cudaEventDestroy(stop));
    return mean;
}

}  // namespace stepgrad::teach
