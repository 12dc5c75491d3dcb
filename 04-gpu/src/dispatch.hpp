#pragma once
// Host-side helpers every kernel file of the backend shares: choosing the element type of a
// Dtype at run time, and the error for an op a dtype does not support.
#include <stepgrad/tensor/dtype.hpp>

#include <cstdint>
#include <stdexcept>
#include <string>

namespace stepgrad::gpu {

/// Throws std::invalid_argument: "ThrustBackend::<kernel>: this op does not support <dtype> tensors".
[[noreturn]] inline void unsupported(const char* kernel, Dtype dtype) {
    throw std::invalid_argument(std::string("ThrustBackend::") + kernel + ": this op does not support " +
                                to_string(dtype) + " tensors");
}

/// Calls `f(T{})` with T the element type of `dtype` (float or std::int64_t), so one template
/// launcher serves both dtypes.
template <class F>
void with_element_type(Dtype dtype, F&& f) {
    if (dtype == Dtype::Float32) {
        f(float{});
    } else {
        f(std::int64_t{});
    }
}

}  // namespace stepgrad::gpu
