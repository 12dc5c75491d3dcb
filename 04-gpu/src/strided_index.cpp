// make_strided_index: drop size-1 axes, merge axes that are contiguous in every operand.
#include "strided_index.hpp"

#include <stepgrad/shared/error.hpp>

namespace stepgrad::gpu {

StridedIndex make_strided_index(const char* op, const Shape& shape,
                                const std::vector<std::vector<std::int64_t>>& operand_strides) {
    const std::size_t operands = operand_strides.size();
    // Keep the axes with more than one element (size-1 axes add nothing to any offset).
    std::vector<std::int64_t> sizes;
    std::vector<std::vector<std::int64_t>> strides(operands);
    for (std::size_t axis = 0; axis < shape.size(); ++axis) {
        if (shape[axis] == 1) continue;
        const bool mergeable = !sizes.empty() && [&] {
            for (std::size_t o = 0; o < operands; ++o) {
                if (strides[o].back() != operand_strides[o][axis] * shape[axis]) return false;
            }
            return true;
        }();
        if (mergeable) {  // the previous axis steps exactly over this one: one longer axis
            sizes.back() *= shape[axis];
            for (std::size_t o = 0; o < operands; ++o) strides[o].back() = operand_strides[o][axis];
        } else {
            sizes.push_back(shape[axis]);
            for (std::size_t o = 0; o < operands; ++o) strides[o].push_back(operand_strides[o][axis]);
        }
    }
    STEPGRAD_CHECK(sizes.size() <= static_cast<std::size_t>(kMaxDims),
                   op << " on cuda: a layout of " << sizes.size() << " strided axes is more than the "
                      << kMaxDims << " the kernels take (shape " << shape_to_string(shape) << ")");
    StridedIndex index;
    index.ndim = static_cast<int>(sizes.size());
    for (std::size_t axis = 0; axis < sizes.size(); ++axis) {
        index.sizes[axis] = sizes[axis];
        for (std::size_t o = 0; o < operands; ++o) index.strides[o][axis] = strides[o][axis];
    }
    return index;
}

}  // namespace stepgrad::gpu
