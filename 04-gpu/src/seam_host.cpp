// The seam for the host build: Thrust's C++ device system stands in for the GPU. "Device"
// memory is ordinary aligned host memory, copies are memcpy, the GEMM is OpenBLAS's, and every
// call runs to completion before it returns (so nothing ever needs to wait).
#include "device_errors.hpp"
#include "seam.hpp"

#include <cblas.h>

#include <atomic>
#include <cstdlib>
#include <cstring>

namespace stepgrad::gpu {

namespace {
std::atomic<long long> launches{0};
}  // namespace

std::shared_ptr<CachingAllocator> device_allocator() {
    static auto allocator = std::make_shared<CachingAllocator>(
        Device::CUDA,
        [](std::size_t bytes) { return std::aligned_alloc(256, (bytes + 255) / 256 * 256); },
        [](void* pointer, std::size_t) { std::free(pointer); });
    return allocator;
}

void count_launch() { launches.fetch_add(1, std::memory_order_relaxed); }

void copy_host_to_device(const void* host, void* device, std::size_t bytes) {
    if (bytes > 0) std::memcpy(device, host, bytes);
}

void copy_device_to_host(const void* device, void* host, std::size_t bytes) {
    if (bytes > 0) std::memcpy(host, device, bytes);
}

void copy_device_to_device(const void* source, void* destination, std::size_t bytes) {
    if (bytes > 0) std::memmove(destination, source, bytes);
}

void gemm_strided_batched(const float* a, const float* b, float* c, std::int64_t batch,
                          std::int64_t m, std::int64_t n, std::int64_t k, bool transpose_a,
                          bool transpose_b, std::int64_t a_batch_stride, std::int64_t b_batch_stride) {
    count_launch();
    const auto lda = static_cast<blasint>(transpose_a ? m : k);
    const auto ldb = static_cast<blasint>(transpose_b ? k : n);
    for (std::int64_t i = 0; i < batch; ++i) {
        cblas_sgemm(CblasRowMajor, transpose_a ? CblasTrans : CblasNoTrans,
                    transpose_b ? CblasTrans : CblasNoTrans, static_cast<blasint>(m),
                    static_cast<blasint>(n), static_cast<blasint>(k), 1.0f, a + i * a_batch_stride, lda,
                    b + i * b_batch_stride, ldb, 0.0f, c + i * m * n, static_cast<blasint>(n));
    }
}

// ---- gpu.hpp --------------------------------------------------------------------------------

int device_count() { return 1; }
bool is_available() { return true; }
std::string unavailable_reason() { return ""; }
std::string device_description() { return "Thrust on the host (C++ device system)"; }
void synchronize() {}
long long kernel_launches() { return launches.load(std::memory_order_relaxed); }

}  // namespace stepgrad::gpu
