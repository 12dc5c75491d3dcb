#pragma once
// Index checks on the device. A kernel that finds a bad index cannot throw: it records the
// first one in a small slot of device memory and carries on. The next synchronising call
// (copy_to_host: item(), to_vector(), printing) reads the slot and throws std::out_of_range
// with the same message the CPU gives at once. An exercise's stub in a kernel reports itself
// the same way (exercise_stub.hpp), and is thrown as stepgrad::NotImplemented.
#include "host_device.hpp"

#include <cstdint>

namespace stepgrad::gpu {

/// What went wrong, recorded by the first kernel thread that found it.
enum DeviceErrorCode : std::int64_t {
    kNoDeviceError = 0,
    kGatherIndex = 1,       ///< gather: value is the bad index, limit the axis size
    kIndexSelectIndex = 2,  ///< index_select: likewise
    kScatterAddIndex = 3,   ///< scatter_add: likewise
    kTargetOutOfRange = 4,  ///< cross-entropy: value is the target, limit the number of classes
    kExerciseNotImplemented = 5,  ///< an exercise's stub ran (exercise_stub.hpp): value is the
                                  ///< chapter, limit the number (exercise 04.1: 4 and 1)
};

/// The slot in device memory.
struct DeviceErrorSlot {
    std::int64_t code;   ///< a DeviceErrorCode
    std::int64_t value;  ///< the bad index or target
    std::int64_t limit;  ///< the size it had to be below
};

/// Records an error unless one is already recorded (the first wins, as far as threads race).
STEPGRAD_HOST_DEVICE inline void report_device_error(DeviceErrorSlot* slot, std::int64_t code,
                                                     std::int64_t value, std::int64_t limit) {
#if defined(__CUDA_ARCH__)
    auto* word = reinterpret_cast<unsigned long long*>(&slot->code);
    if (atomicCAS(word, 0ULL, static_cast<unsigned long long>(code)) != 0ULL) return;
#else
    if (slot->code != kNoDeviceError) return;
    slot->code = code;
#endif
    slot->value = value;
    slot->limit = limit;
}

/// The device's error slot (allocated once, zeroed).
DeviceErrorSlot* device_error_slot();

/// Reads the slot (a synchronising copy), clears it, and throws std::out_of_range if it holds
/// an error. Called by every copy to the host.
void throw_if_device_error();

}  // namespace stepgrad::gpu
