#pragma once
// Turning a thread's linear index into element offsets: the broadcasting and strided-copy
// kernels give each thread one output element, numbered row-major over `sizes`; the thread
// finds each operand's element from that operand's strides (0 along a broadcast axis).
#include "host_device.hpp"

#include <stepgrad/tensor/device.hpp>

#include <cstdint>
#include <vector>

namespace stepgrad::gpu {

/// The most dimensions a kernel takes after collapsing (adjacent axes that are contiguous in
/// every operand merge into one, so only truly strided layouts count).
inline constexpr int kMaxDims = 10;

/// The sizes of a loop nest and, for up to three operands, their strides (in elements).
/// Passed to kernels by value, so it lives in the kernel's parameters.
struct StridedIndex {
    int ndim = 0;                            ///< number of (collapsed) axes
    std::int64_t sizes[kMaxDims] = {};       ///< the loop sizes, outermost first
    std::int64_t strides[3][kMaxDims] = {};  ///< strides of operands 0, 1, 2 along each axis

    /// The offset in operand `which` of the element with row-major number `linear`.
    STEPGRAD_HOST_DEVICE std::int64_t offset(int which, std::int64_t linear) const {
        std::int64_t result = 0;
        for (int axis = ndim - 1; axis >= 0; --axis) {
            const std::int64_t size = sizes[axis];
            result += (linear % size) * strides[which][axis];
            linear /= size;
        }
        return result;
    }
};

/// Builds a StridedIndex for a loop over `shape` with the given operands' strides (one to three
/// lists, each as long as `shape`). Axes of size 1 are dropped and adjacent axes merged where
/// every operand allows; throws std::invalid_argument (naming `op`) if more than kMaxDims remain.
StridedIndex make_strided_index(const char* op, const Shape& shape,
                                const std::vector<std::vector<std::int64_t>>& operand_strides);

}  // namespace stepgrad::gpu
