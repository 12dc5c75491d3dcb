#pragma once
// The seam: the only CUDA-specific parts of chapter 4's backend. Everything else is Thrust
// algorithms over functors, written once. Two files implement this header:
//   seam_cuda.cu   (nvcc)  cudaMalloc, cudaMemcpyAsync on one stream, cuBLAS, par_nosync
//   seam_host.cpp  (g++)   aligned malloc, memcpy, OpenBLAS, Thrust's sequential C++ system
#include "host_device.hpp"

#include <stepgrad/gpu/gpu.hpp>

#include <stepgrad/tensor/allocator.hpp>

#if !STEPGRAD_GPU_ON_CUDA && !defined(THRUST_DEVICE_SYSTEM)
#error "the host build of chapter 4 needs -DTHRUST_DEVICE_SYSTEM=THRUST_DEVICE_SYSTEM_CPP"
#endif

#include <thrust/execution_policy.h>
#include <thrust/for_each.h>
#include <thrust/iterator/counting_iterator.h>
#if STEPGRAD_GPU_ON_CUDA
#include <cuda_runtime.h>
#include <thrust/system/cuda/execution_policy.h>
#endif

#include <cstddef>
#include <cstdint>
#include <memory>

namespace stepgrad::gpu {

/// The caching allocator of device memory (Device::CUDA): every storage and every temporary
/// buffer Thrust needs come from it, so a training step makes no cudaMalloc/cudaFree.
std::shared_ptr<CachingAllocator> device_allocator();

/// Hands Thrust's temporary buffers (for sort, scan, reduce) out of device_allocator().
struct TemporaryAllocator {
    using value_type = char;  ///< Thrust allocates bytes
    /// A buffer of `bytes` from the caching allocator.
    char* allocate(std::ptrdiff_t bytes);
    /// Gives the buffer back to the caching allocator's free list.
    void deallocate(char* pointer, std::size_t bytes);
};

#if STEPGRAD_GPU_ON_CUDA
/// The one stream every kernel, copy and cuBLAS call is queued on, in order.
cudaStream_t stream();
#endif

/// The execution policy of every Thrust call: on the GPU, queue on our stream and do not wait
/// (`par_nosync`); on the host, Thrust's C++ system. Both take temporaries from TemporaryAllocator.
inline auto policy() {
#if STEPGRAD_GPU_ON_CUDA
    return thrust::cuda::par_nosync(TemporaryAllocator{}).on(stream());
#else
    return thrust::device(TemporaryAllocator{});
#endif
}

/// Adds one to kernel_launches() (every Thrust call and cuBLAS call counts one).
void count_launch();

/// Runs `kernel(i)` for every `i` in `[0, count)`: one GPU thread per index, or a host loop.
/// This is the launch almost every kernel of the backend uses.
template <class Kernel>
void for_each_index(std::int64_t count, const Kernel& kernel) {
    if (count <= 0) return;
    count_launch();
    thrust::for_each_n(policy(), thrust::counting_iterator<std::int64_t>(0), count, kernel);
}

/// Copies host memory to the device (queued on the stream; the host buffer is read before return).
void copy_host_to_device(const void* host, void* device, std::size_t bytes);
/// Copies device memory to the host and waits for it (and for all queued work).
void copy_device_to_host(const void* device, void* host, std::size_t bytes);
/// Copies between two device buffers (queued).
void copy_device_to_device(const void* source, void* destination, std::size_t bytes);
/// Waits until all queued work is done.
void synchronize();

/// Column-major-free GEMM: `c[i] = op(a[i]) @ op(b[i])` for row-major matrices, as
/// Backend::matmul documents it. cuBLAS strided-batched GEMM on the GPU, OpenBLAS on the host.
void gemm_strided_batched(const float* a, const float* b, float* c, std::int64_t batch,
                          std::int64_t m, std::int64_t n, std::int64_t k, bool transpose_a,
                          bool transpose_b, std::int64_t a_batch_stride, std::int64_t b_batch_stride);

}  // namespace stepgrad::gpu
