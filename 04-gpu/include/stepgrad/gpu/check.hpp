#pragma once
/// @file check.hpp
/// @brief `STEPGRAD_CUDA_CHECK` and `STEPGRAD_CUBLAS_CHECK`: every CUDA runtime and cuBLAS call
/// is wrapped in one, so a failure throws std::runtime_error naming the call, the error, the
/// file and the line. For CUDA sources only (they need the toolkit's headers).

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <string>

namespace stepgrad::gpu::detail {

/// @brief Throws std::runtime_error: "<call> failed: <error name> (<description>) at file:line".
[[noreturn]] void throw_cuda_error(cudaError_t error, const char* call, const char* file, int line);

/// @brief Throws std::runtime_error: "<call> failed: <cuBLAS status name> at file:line".
[[noreturn]] void throw_cublas_error(cublasStatus_t status, const char* call, const char* file, int line);

}  // namespace stepgrad::gpu::detail

/// @brief Runs a CUDA runtime call and throws (naming the call, file and line) unless it
/// returns cudaSuccess. Example: `STEPGRAD_CUDA_CHECK(cudaMalloc(&pointer, bytes));`
#define STEPGRAD_CUDA_CHECK(call)                                                              \
    do {                                                                                       \
        const cudaError_t stepgrad_cuda_error_ = (call);                                       \
        if (stepgrad_cuda_error_ != cudaSuccess)                                               \
            ::stepgrad::gpu::detail::throw_cuda_error(stepgrad_cuda_error_, #call, __FILE__,   \
                                                      __LINE__);                               \
    } while (false)

/// @brief Runs a cuBLAS call and throws (naming the call, file and line) unless it returns
/// CUBLAS_STATUS_SUCCESS. Example: `STEPGRAD_CUBLAS_CHECK(cublasCreate(&handle));`
#define STEPGRAD_CUBLAS_CHECK(call)                                                            \
    do {                                                                                       \
        const cublasStatus_t stepgrad_cublas_status_ = (call);                                 \
        if (stepgrad_cublas_status_ != CUBLAS_STATUS_SUCCESS)                                  \
            ::stepgrad::gpu::detail::throw_cublas_error(stepgrad_cublas_status_, #call,        \
                                                        __FILE__, __LINE__);                   \
    } while (false)
