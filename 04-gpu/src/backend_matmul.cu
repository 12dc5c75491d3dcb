// ThrustBackend, part 3: the matrix product, handed to the seam (cuBLAS strided-batched GEMM on
// the GPU, OpenBLAS on the host). Convolution reaches it too, through im2col.
#include "seam.hpp"

#include <stepgrad/gpu/thrust_backend.hpp>

#include <thrust/fill.h>

namespace stepgrad::gpu {

void ThrustBackend::matmul(const float* a, const float* b, float* c, std::int64_t batch, std::int64_t m,
                           std::int64_t n, std::int64_t k, bool transpose_a, bool transpose_b,
                           std::int64_t a_batch_stride, std::int64_t b_batch_stride) {
    if (batch == 0 || m == 0 || n == 0) return;
    if (k == 0) {  // an empty sum: BLAS libraries reject the zero leading dimension, the answer is 0
        count_launch();
        thrust::fill_n(policy(), c, batch * m * n, 0.0f);
        return;
    }
    gemm_strided_batched(a, b, c, batch, m, n, k, transpose_a, transpose_b, a_batch_stride, b_batch_stride);
}

}  // namespace stepgrad::gpu
