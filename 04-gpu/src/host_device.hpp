#pragma once
// The two macros every chapter 4 kernel source uses, so one source builds for the GPU (nvcc)
// and for the host (g++ with Thrust's C++ device system).
//
// STEPGRAD_HOST_DEVICE marks a functor's call operator as callable from host and device code.
// It is the project's own macro, not the toolkit's `__host__ __device__`: g++ only sees those
// when the CUDA headers happen to be on its include path, and then they mean nothing to it.
//
// STEPGRAD_GPU_ON_CUDA is 1 in the real CUDA build (nvcc compiling for the GPU) and 0 in the
// "Thrust on the host" build, where Thrust's device is the host's C++ system.

#if defined(__CUDACC__)
#define STEPGRAD_HOST_DEVICE __host__ __device__
#define STEPGRAD_GPU_ON_CUDA 1
#else
#define STEPGRAD_HOST_DEVICE
#define STEPGRAD_GPU_ON_CUDA 0
#endif
