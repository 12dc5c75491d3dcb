#pragma once
/// @file gpu.hpp
/// @brief Chapter 4's public entry points: is there a GPU, what is it, and waiting for it.
///
/// Linking `stepgrad::gpu` is all a program needs for `Device::CUDA`: the backend registers
/// itself and starts the GPU on first use, so `x.to(Device::CUDA)`, `model->to(Device::CUDA)`
/// and `stepgrad-mnist train --device cuda` just work. Without a GPU, the first use throws a
/// clear std::runtime_error saying why (no driver, no device).
///
/// Example:
/// @code
/// if (stepgrad::gpu::is_available()) {
///     std::cout << stepgrad::gpu::device_description() << "\n";  // NVIDIA H200 (sm_90, 139.8 GiB)
///     Tensor y = x.to(Device::CUDA) * 2;                          // queued on the GPU
///     std::cout << y.cpu() << "\n";                               // waits, copies back
/// }
/// @endcode

#include <string>

namespace stepgrad::gpu {

/// @brief How many CUDA devices the driver reports: 0 when there is no driver or no device.
///
/// On a machine without a GPU, `cudaGetDeviceCount` returns an error (for example
/// cudaErrorInsufficientDriver) and leaves its count untouched, so the count starts at 0 and
/// both the error and the count are checked. The host build (Thrust on the CPU) reports 1.
int device_count();

/// @brief Whether Device::CUDA can run here: `device_count() > 0`.
bool is_available();

/// @brief Why Device::CUDA cannot run here ("" when it can), e.g. the driver's error message.
std::string unavailable_reason();

/// @brief The device, for messages: "NVIDIA H200 (sm_90, 139.8 GiB)", or "Thrust on the host
/// (C++ device system)" in the host build.
std::string device_description();

/// @brief Waits until every queued kernel and copy has finished (for timing; results never
/// need it, since copies to the host wait by themselves).
void synchronize();

/// @brief How many kernels (Thrust launches and cuBLAS calls) the backend has queued so far.
///
/// A training step's count tells how much launch overhead it pays (see the chapter page).
long long kernel_launches();

/// @brief How many synchronising reads (copies to the host, which wait for the device) the
/// backend has made so far. A training step should make none: the loss is read once, at the end.
long long synchronising_reads();

/// @brief Registers the CUDA backend now instead of on first use; throws std::runtime_error
/// with unavailable_reason() when there is no GPU.
void register_backend();

}  // namespace stepgrad::gpu
