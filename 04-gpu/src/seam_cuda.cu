// The seam for the real GPU: one CUDA stream that everything is queued on, device memory from
// cudaMalloc behind the caching allocator, asynchronous copies, and cuBLAS for the GEMM.
// Every runtime and cuBLAS call goes through STEPGRAD_CUDA_CHECK / STEPGRAD_CUBLAS_CHECK.
#include "seam.hpp"

#include <stepgrad/gpu/check.hpp>

#include <atomic>
#include <cstdio>
#include <mutex>
#include <stdexcept>
#include <string>

namespace stepgrad::gpu {

namespace detail {

void throw_cuda_error(cudaError_t error, const char* call, const char* file, int line) {
    throw std::runtime_error(std::string(call) + " failed: " + cudaGetErrorName(error) + " (" +
                             cudaGetErrorString(error) + ") at " + file + ":" + std::to_string(line));
}

void throw_cublas_error(cublasStatus_t status, const char* call, const char* file, int line) {
    throw std::runtime_error(std::string(call) + " failed: " + cublasGetStatusName(status) + " (" +
                             cublasGetStatusString(status) + ") at " + file + ":" + std::to_string(line));
}

}  // namespace detail

namespace {

std::atomic<long long> launches{0};

// The stream and the cuBLAS handle, made once on first use.
struct Context {
    cudaStream_t stream = nullptr;
    cublasHandle_t blas = nullptr;
    Context() {
        STEPGRAD_CUDA_CHECK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
        STEPGRAD_CUBLAS_CHECK(cublasCreate(&blas));
        STEPGRAD_CUBLAS_CHECK(cublasSetStream(blas, stream));
    }
    // Left to the process's end: destroying CUDA objects after the driver has shut down fails.
};

Context& context() {
    static Context* instance = new Context();
    return *instance;
}

// cudaMalloc, or nullptr when the device is out of memory (the caching allocator then empties
// its cache and tries once more); any other error throws.
void* raw_device_malloc(std::size_t bytes) {
    void* pointer = nullptr;
    const cudaError_t error = cudaMalloc(&pointer, bytes);
    if (error == cudaErrorMemoryAllocation) {
        (void)cudaGetLastError();  // clear the sticky-free error so later calls succeed
        return nullptr;
    }
    STEPGRAD_CUDA_CHECK(error);
    return pointer;
}

void raw_device_free(void* pointer, std::size_t) {
    // cudaFree waits for the device, so no queued kernel still uses the buffer.
    const cudaError_t error = cudaFree(pointer);
    if (error != cudaSuccess && error != cudaErrorCudartUnloading) {
        std::fprintf(stderr, "stepgrad: cudaFree failed: %s\n", cudaGetErrorString(error));
    }
}

}  // namespace

cudaStream_t stream() { return context().stream; }

std::shared_ptr<CachingAllocator> device_allocator() {
    static auto* allocator = new std::shared_ptr<CachingAllocator>(
        std::make_shared<CachingAllocator>(Device::CUDA, raw_device_malloc, raw_device_free));
    return *allocator;
}

void count_launch() { launches.fetch_add(1, std::memory_order_relaxed); }

void copy_host_to_device(const void* host, void* device, std::size_t bytes) {
    if (bytes == 0) return;
    // From pageable memory the driver stages the bytes before returning, so `host` may be freed.
    STEPGRAD_CUDA_CHECK(cudaMemcpyAsync(device, host, bytes, cudaMemcpyHostToDevice, stream()));
}

void copy_device_to_host(const void* device, void* host, std::size_t bytes) {
    if (bytes > 0) {
        STEPGRAD_CUDA_CHECK(cudaMemcpyAsync(host, device, bytes, cudaMemcpyDeviceToHost, stream()));
    }
    STEPGRAD_CUDA_CHECK(cudaStreamSynchronize(stream()));
}

void copy_device_to_device(const void* source, void* destination, std::size_t bytes) {
    if (bytes == 0) return;
    STEPGRAD_CUDA_CHECK(cudaMemcpyAsync(destination, source, bytes, cudaMemcpyDeviceToDevice, stream()));
}

void synchronize() { STEPGRAD_CUDA_CHECK(cudaStreamSynchronize(stream())); }

// Row-major C = op(A) op(B) is column-major C^T = op(B)^T op(A)^T: call cuBLAS with the operands
// swapped and m, n exchanged, and no matrix is ever transposed in memory.
void gemm_strided_batched(const float* a, const float* b, float* c, std::int64_t batch,
                          std::int64_t m, std::int64_t n, std::int64_t k, bool transpose_a,
                          bool transpose_b, std::int64_t a_batch_stride, std::int64_t b_batch_stride) {
    count_launch();
    const float one = 1.0f;
    const float zero = 0.0f;
    const auto lda = static_cast<int>(transpose_a ? m : k);
    const auto ldb = static_cast<int>(transpose_b ? k : n);
    STEPGRAD_CUBLAS_CHECK(cublasSgemmStridedBatched(
        context().blas, transpose_b ? CUBLAS_OP_T : CUBLAS_OP_N, transpose_a ? CUBLAS_OP_T : CUBLAS_OP_N,
        static_cast<int>(n), static_cast<int>(m), static_cast<int>(k), &one, b, ldb, b_batch_stride, a,
        lda, a_batch_stride, &zero, c, static_cast<int>(n), m * n, static_cast<int>(batch)));
}

// ---- gpu.hpp --------------------------------------------------------------------------------

namespace {

// cudaGetDeviceCount leaves `count` untouched when it fails (no driver: cudaErrorInsufficientDriver
// or cudaErrorNoDevice), so start at 0 and look at both the error and the count.
struct Probe {
    int count = 0;
    std::string reason;
    Probe() {
        const cudaError_t error = cudaGetDeviceCount(&count);
        if (error != cudaSuccess) {
            reason = std::string("cudaGetDeviceCount: ") + cudaGetErrorName(error) + " (" +
                     cudaGetErrorString(error) + ")";
            count = 0;
            (void)cudaGetLastError();
        } else if (count == 0) {
            reason = "cudaGetDeviceCount found no CUDA device";
        }
    }
};

const Probe& probe() {
    static const Probe result;
    return result;
}

}  // namespace

int device_count() { return probe().count; }
bool is_available() { return probe().count > 0; }
std::string unavailable_reason() { return probe().reason; }

std::string device_description() {
    if (!is_available()) return "no CUDA device (" + unavailable_reason() + ")";
    int device = 0;
    STEPGRAD_CUDA_CHECK(cudaGetDevice(&device));
    cudaDeviceProp properties{};
    STEPGRAD_CUDA_CHECK(cudaGetDeviceProperties(&properties, device));
    char memory[32];
    std::snprintf(memory, sizeof memory, "%.1f GiB", static_cast<double>(properties.totalGlobalMem) / (1ull << 30));
    return std::string(properties.name) + " (sm_" + std::to_string(properties.major) +
           std::to_string(properties.minor) + ", " + memory + ")";
}

long long kernel_launches() { return launches.load(std::memory_order_relaxed); }

}  // namespace stepgrad::gpu
