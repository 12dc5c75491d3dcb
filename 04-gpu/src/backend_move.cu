// ThrustBackend, part 4: moving elements (strided copies, gather/scatter, transpose, axpy).
// Each kernel is a functor beside the method that launches it; one thread moves one element.
// gather and scatter_add check their indices on the device: a bad one is recorded in the error
// slot (reported at the next copy to the host) and its element is not read or written.
#include "device_errors.hpp"
#include "dispatch.hpp"
#include "seam.hpp"
#include "strided_index.hpp"

#include <stepgrad/gpu/thrust_backend.hpp>

#include <stdexcept>
#include <string>

namespace stepgrad::gpu {

namespace {

// `*target += value` that threads of one launch may do to the same element at once: an atomic
// add on the GPU (the order of the additions, and so the rounding, may vary from run to run),
// a plain add in the host build, whose threads run one after another.
STEPGRAD_HOST_DEVICE inline void add_to(float* target, float value) {
#if defined(__CUDA_ARCH__)
    atomicAdd(target, value);
#else
    *target += value;
#endif
}

// The position along an axis of `size` that `index` names (a negative one counts from the end),
// or -1 after recording an index outside [-size, size) in the error slot.
STEPGRAD_HOST_DEVICE inline std::int64_t checked_position(DeviceErrorSlot* errors, std::int64_t kernel,
                                                          std::int64_t index, std::int64_t size) {
    if (index < -size || index >= size) {
        report_device_error(errors, kernel, index, size);
        return -1;
    }
    return index < 0 ? index + size : index;
}

}  // namespace

// ---- the general strided copy ----------------------------------------------------------------

namespace {

// Thread t takes element t (row-major over the shape) of src and writes (or adds) it to dst.
// index: operand 0 = src's strides, operand 1 = dst's strides. With `accumulate` the
// destinations are distinct (the interface requires it), so no two threads add to one element.
template <class T>
struct CopyStridedKernel {
    StridedIndex index;
    const T* src;  // already moved by src_offset
    T* dst;        // already moved by dst_offset
    bool accumulate;

    STEPGRAD_HOST_DEVICE void operator()(std::int64_t t) const {
        const T value = src[index.offset(0, t)];
        T& target = dst[index.offset(1, t)];
        if (accumulate) {
            target += value;
        } else {
            target = value;
        }
    }
};

}  // namespace

void ThrustBackend::copy_strided(Dtype dtype, const void* src, const std::vector<std::int64_t>& src_strides,
                                 std::int64_t src_offset, void* dst, const std::vector<std::int64_t>& dst_strides,
                                 std::int64_t dst_offset, const Shape& shape, bool accumulate) {
    if (accumulate && dtype != Dtype::Float32) unsupported("copy_strided (accumulate)", dtype);
    const std::int64_t count = numel_of(shape);
    if (count == 0) return;
    const StridedIndex index = make_strided_index("copy_strided", shape, {src_strides, dst_strides});
    with_element_type(dtype, [&](auto zero) {
        using T = decltype(zero);
        for_each_index(count, CopyStridedKernel<T>{index, static_cast<const T*>(src) + src_offset,
                                                   static_cast<T*>(dst) + dst_offset, accumulate});
    });
}

// ---- gather and its adjoint, scatter_add -----------------------------------------------------

namespace {

// out is (outer, count, inner); thread t = (o, j, i) reads src[o, index, i] from src viewed as
// (outer, src_size, inner), where index is index[j] (index_select) or index[t] (gather).
// A bad index is recorded and its output element set to 0.
template <class T>
struct GatherKernel {
    std::int64_t src_size;
    std::int64_t count;
    std::int64_t inner;
    bool index_per_element;
    const T* src;
    const std::int64_t* index;
    T* out;
    DeviceErrorSlot* errors;

    STEPGRAD_HOST_DEVICE void operator()(std::int64_t t) const {
        const std::int64_t o = t / (count * inner);
        const std::int64_t j = t / inner % count;
        const std::int64_t i = t % inner;
        const std::int64_t row = checked_position(errors, index_per_element ? kGatherIndex : kIndexSelectIndex,
                                                    index_per_element ? index[t] : index[j], src_size);
        out[t] = row < 0 ? T(0) : src[(o * src_size + row) * inner + i];
    }
};

// The adjoint: thread t = (o, j, i) adds src[t] to dst[o, index, i] (dst viewed as
// (outer, dst_size, inner)). Repeated indices send several threads to one element, hence add_to.
// A bad index is recorded and its element skipped.
struct ScatterAddKernel {
    std::int64_t dst_size;
    std::int64_t count;
    std::int64_t inner;
    bool index_per_element;
    const float* src;
    const std::int64_t* index;
    float* dst;
    DeviceErrorSlot* errors;

    STEPGRAD_HOST_DEVICE void operator()(std::int64_t t) const {
        const std::int64_t o = t / (count * inner);
        const std::int64_t j = t / inner % count;
        const std::int64_t i = t % inner;
        const std::int64_t row = checked_position(errors, kScatterAddIndex,
                                                    index_per_element ? index[t] : index[j], dst_size);
        if (row >= 0) add_to(&dst[(o * dst_size + row) * inner + i], src[t]);
    }
};

}  // namespace

void ThrustBackend::gather(Dtype dtype, const void* src, std::int64_t outer, std::int64_t src_size,
                           std::int64_t inner, const std::int64_t* index, std::int64_t count,
                           bool index_per_element, void* out) {
    with_element_type(dtype, [&](auto zero) {
        using T = decltype(zero);
        for_each_index(outer * count * inner,
                       GatherKernel<T>{src_size, count, inner, index_per_element, static_cast<const T*>(src),
                                       index, static_cast<T*>(out), device_error_slot()});
    });
}

void ThrustBackend::scatter_add(float* dst, std::int64_t outer, std::int64_t dst_size, std::int64_t inner,
                                const std::int64_t* index, std::int64_t count, bool index_per_element,
                                const float* src) {
    for_each_index(outer * count * inner, ScatterAddKernel{dst_size, count, inner, index_per_element, src,
                                                           index, dst, device_error_slot()});
}

// ---- transpose and axpy ----------------------------------------------------------------------

namespace {

// out is (batch, cols, rows); thread t = (b, c, r) writes out[b, c, r] = x[b, r, c]. Neighbouring
// threads write neighbouring elements (and read a column of x).
struct TransposeKernel {
    std::int64_t rows;
    std::int64_t cols;
    const float* x;
    float* out;

    STEPGRAD_HOST_DEVICE void operator()(std::int64_t t) const {
        const std::int64_t b = t / (rows * cols);
        const std::int64_t c = t / rows % cols;
        const std::int64_t r = t % rows;
        out[t] = x[(b * rows + r) * cols + c];
    }
};

// y[i] += alpha * x[i].
struct AxpyKernel {
    float alpha;
    const float* x;
    float* y;
    STEPGRAD_HOST_DEVICE void operator()(std::int64_t i) const { y[i] += alpha * x[i]; }
};

}  // namespace

void ThrustBackend::transpose(const float* x, std::int64_t batch, std::int64_t rows, std::int64_t cols,
                              float* out) {
    for_each_index(batch * rows * cols, TransposeKernel{rows, cols, x, out});
}

void ThrustBackend::axpy(std::int64_t count, float alpha, const float* x, float* y) {
    for_each_index(count, AxpyKernel{alpha, x, y});
}

}  // namespace stepgrad::gpu
