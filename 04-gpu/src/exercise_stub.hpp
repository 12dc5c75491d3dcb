#pragma once
// The stub of an exercise whose region sits in a kernel (a functor's call operator). Elsewhere
// scripts/make-exercises replaces a solution by `throw stepgrad::NotImplemented("04.1");`, but
// GPU code cannot throw, so such a region names this call as its stub:
//
//     // stub: exercise_not_implemented(errors, "04.1");
//
// In the host build (g++: the functor is plain C++) the call throws stepgrad::NotImplemented at
// once. On the GPU, the first thread that runs it records the exercise in the device error slot
// (device_errors.hpp) and the kernel carries on; the next read of the device (copy_to_host)
// throws the same stepgrad::NotImplemented on the host. Either way the test fails with
// "exercise 04.1 is not implemented yet".
#include "device_errors.hpp"
#include "host_device.hpp"

#include <stepgrad/shared/error.hpp>

#include <cstdint>

namespace stepgrad::gpu {

/// Reports that exercise `id` (two digits, a dot and a number: "04.1") is still its stub:
/// throws stepgrad::NotImplemented on the host, records kExerciseNotImplemented in `errors` on
/// the GPU (thrown at the next copy to the host).
STEPGRAD_HOST_DEVICE inline void exercise_not_implemented(DeviceErrorSlot* errors, const char* id) {
#if defined(__CUDA_ARCH__)
    const std::int64_t chapter = (id[0] - '0') * 10 + (id[1] - '0');
    std::int64_t number = 0;
    for (const char* digit = id + 3; *digit >= '0' && *digit <= '9'; ++digit) number = number * 10 + (*digit - '0');
    report_device_error(errors, kExerciseNotImplemented, chapter, number);
#else
    (void)errors;
    throw NotImplemented(id);
#endif
}

}  // namespace stepgrad::gpu
