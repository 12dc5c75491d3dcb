// ThrustBackend, part 2: reductions over axes (sum, max, min) and arg max/min.
//
// A reduction splits the input's axes in two: the kept axes number the outputs (row-major, which
// is the output's layout, since the reduced sizes are 1 there) and the reduced axes number the
// elements each output combines. One thread per output walks its reduced elements. When there
// are few outputs and long rows (the sum of a whole tensor, batch norm's sums over N*H*W per
// channel) that leaves most of a GPU idle, so the rows are cut into chunks: pass 1 gives each
// (output, chunk) pair a thread that writes a partial result, pass 2 combines each output's
// partials. Sums of Float32 accumulate in double, as the CPU does; Int64 exactly.
#include "device_errors.hpp"
#include "dispatch.hpp"
#include "exercise_stub.hpp"
#include "seam.hpp"
#include "strided_index.hpp"

#include <stepgrad/gpu/thrust_backend.hpp>

#include <limits>
#include <stdexcept>
#include <string>
#include <type_traits>

namespace stepgrad::gpu {

namespace {

// The type a reduction accumulates in: double for Float32 (as the CPU sums), Int64 for Int64.
template <class T>
using Accumulator = std::conditional_t<std::is_same_v<T, float>, double, T>;

// acc = op(acc, v). Max and Min let NaN win: once acc is NaN no comparison is true again.
template <class Acc>
STEPGRAD_HOST_DEVICE inline void combine(ReduceOp op, Acc& acc, Acc v) {
    if (op == ReduceOp::Sum) {
        acc += v;
    } else if (v != v || (op == ReduceOp::Max ? v > acc : v < acc)) {
        acc = v;
    }
}

// What an output holds before any element: 0 for Sum, -inf/+inf (Int64: lowest/max) for Max/Min.
template <class T>
Accumulator<T> initial_value(ReduceOp op) {
    using Limits = std::numeric_limits<T>;
    if (op == ReduceOp::Sum) return Accumulator<T>(0);
    if (op == ReduceOp::Max) return Limits::has_infinity ? -Limits::infinity() : Limits::lowest();
    return Limits::has_infinity ? Limits::infinity() : Limits::max();
}

// Pass 1 (or the only pass, with chunks = 1): thread t = output * chunks + chunk combines the
// reduced elements chunk, chunk + chunks, chunk + 2*chunks, ... of its output into out[t].
// Interleaved chunks let neighbouring threads read neighbouring elements.
//   kept:    operand 0 = x's strides along the kept axes    (output number -> x offset)
//   reduced: operand 0 = x's strides along the reduced axes (element number -> x offset)
template <class T, class Out>
struct ReduceChunkKernel {
    ReduceOp op;
    StridedIndex kept;
    StridedIndex reduced;
    std::int64_t reduce_count;  // elements per output
    std::int64_t chunks;        // threads per output
    Accumulator<T> init;
    const T* x;
    Out* out;
    DeviceErrorSlot* errors;  // where a kernel reports what it cannot throw

    STEPGRAD_HOST_DEVICE void operator()([[maybe_unused]] std::int64_t t) const {
        // exercise 04.2: one GPU thread of a reduction over axes
        // hint: thread t works for output t / chunks and takes every chunks-th element of that
        // hint: output's row, starting at t % chunks (with chunks = 1: the whole row)
        // hint: kept.offset(0, output) is where the row starts in x; reduced.offset(0, r) is
        // hint: where its r-th element sits from there
        // hint: start from init, fold each element in with combine(op, acc, value) in the
        // hint: Accumulator type, and write the result to out[t] as an Out
        // stub: exercise_not_implemented(errors, "04.2");
        const std::int64_t output = t / chunks;
        const T* row = x + kept.offset(0, output);
        Accumulator<T> acc = init;
        for (std::int64_t r = t % chunks; r < reduce_count; r += chunks) {
            combine(op, acc, static_cast<Accumulator<T>>(row[reduced.offset(0, r)]));
        }
        out[t] = static_cast<Out>(acc);
        // end exercise
    }
};

// Pass 2: out[o] = the combination of partial[o * chunks .. o * chunks + chunks).
template <class Acc, class T>
struct CombinePartialsKernel {
    ReduceOp op;
    std::int64_t chunks;
    Acc init;
    const Acc* partial;
    T* out;

    STEPGRAD_HOST_DEVICE void operator()(std::int64_t o) const {
        Acc acc = init;
        for (std::int64_t c = 0; c < chunks; ++c) combine(op, acc, partial[o * chunks + c]);
        out[o] = static_cast<T>(acc);
    }
};

// How many chunks each output's row is cut into: enough threads to fill a GPU (about 2^16),
// but no chunk shorter than 256 elements (a thread must do enough work to pay for pass 2).
std::int64_t chunks_per_output(std::int64_t outputs, std::int64_t reduce_count) {
    constexpr std::int64_t kTargetThreads = 1 << 16;
    constexpr std::int64_t kMinChunk = 256;
    if (outputs >= kTargetThreads || reduce_count < 2 * kMinChunk) return 1;
    const std::int64_t by_length = reduce_count / kMinChunk;
    const std::int64_t by_threads = (kTargetThreads + outputs - 1) / outputs;
    return by_length < by_threads ? by_length : by_threads;
}

template <class T>
void reduce_typed(ReduceOp op, const T* x, const Shape& shape, const std::vector<bool>& reduced, T* out) {
    using Acc = Accumulator<T>;
    const std::vector<std::int64_t> x_strides = contiguous_strides(shape);
    Shape kept_shape, reduced_shape;
    std::vector<std::int64_t> kept_strides, reduced_strides;
    for (std::size_t axis = 0; axis < shape.size(); ++axis) {
        (reduced[axis] ? reduced_shape : kept_shape).push_back(shape[axis]);
        (reduced[axis] ? reduced_strides : kept_strides).push_back(x_strides[axis]);
    }
    const std::int64_t outputs = numel_of(kept_shape);
    const std::int64_t reduce_count = numel_of(reduced_shape);
    if (outputs == 0) return;
    const StridedIndex kept_index = make_strided_index("reduce", kept_shape, {kept_strides});
    const StridedIndex reduced_index = make_strided_index("reduce", reduced_shape, {reduced_strides});
    const Acc init = initial_value<T>(op);

    const std::int64_t chunks = chunks_per_output(outputs, reduce_count);
    if (chunks == 1) {
        for_each_index(outputs, ReduceChunkKernel<T, T>{op, kept_index, reduced_index, reduce_count, 1, init, x,
                                                        out, device_error_slot()});
        return;
    }
    // (outputs, chunks) partial results in device memory from the caching allocator.
    Storage partial(device_allocator(), static_cast<std::size_t>(outputs * chunks) * sizeof(Acc));
    Acc* partial_data = static_cast<Acc*>(partial.data());
    for_each_index(outputs * chunks, ReduceChunkKernel<T, Acc>{op, kept_index, reduced_index, reduce_count,
                                                                 chunks, init, x, partial_data,
                                                                 device_error_slot()});
    for_each_index(outputs, CombinePartialsKernel<Acc, T>{op, chunks, init, partial_data, out});
    // `partial` goes back to the cache here; kernels run in order on one stream, so the next
    // user of the buffer cannot start before pass 2 has read it.
}

}  // namespace

void ThrustBackend::reduce(ReduceOp op, Dtype dtype, const void* x, const Shape& shape,
                           const std::vector<bool>& reduced, void* out) {
    with_element_type(dtype, [&](auto zero) {
        using T = decltype(zero);
        reduce_typed<T>(op, static_cast<const T*>(x), shape, reduced, static_cast<T*>(out));
    });
}

// ---- arg max / arg min -----------------------------------------------------------------------

namespace {

// x is (outer, size, inner); thread t = o * inner + i writes the position along the middle axis
// of the largest (smallest) element of column (o, i). The first wins ties (strict comparison);
// the first NaN wins and ends the search.
template <class T>
struct ArgReduceKernel {
    std::int64_t size;
    std::int64_t inner;
    bool largest;
    const T* x;
    std::int64_t* out;

    STEPGRAD_HOST_DEVICE void operator()(std::int64_t t) const {
        const std::int64_t o = t / inner;
        const std::int64_t i = t % inner;
        const T* column = x + o * size * inner + i;
        std::int64_t best = 0;
        T best_value = column[0];
        for (std::int64_t j = 1; j < size && best_value == best_value; ++j) {
            const T v = column[j * inner];
            if (v != v || (largest ? v > best_value : v < best_value)) {
                best = j;
                best_value = v;
            }
        }
        out[t] = best;
    }
};

}  // namespace

void ThrustBackend::arg_reduce(Dtype dtype, const void* x, std::int64_t outer, std::int64_t size,
                               std::int64_t inner, bool largest, std::int64_t* out) {
    if (outer * inner == 0) return;
    if (size < 1) throw std::invalid_argument("ThrustBackend::arg_reduce: the reduced axis is empty");
    with_element_type(dtype, [&](auto zero) {
        using T = decltype(zero);
        for_each_index(outer * inner, ArgReduceKernel<T>{size, inner, largest, static_cast<const T*>(x), out});
    });
}

}  // namespace stepgrad::gpu
