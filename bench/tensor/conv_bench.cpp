// How much im2col and col2im add to a convolution's GEMM, on the MNIST CNN's two convolutions
// at batch 64:
//   conv1: 1 -> 8 channels, 3x3, padding 1, on 28x28
//   conv2: 8 -> 16 channels, 3x3, padding 1, on 14x14
//
// For each convolution it prints, in microseconds per batch (median of 50 runs after a warm-up):
//   RESULT <conv>_im2col_gemm_us       forward: im2col + sgemm, image by image
//   RESULT <conv>_gemm_us              forward: the same sgemm calls on precomputed columns
//   RESULT <conv>_gemm_col2im_us       backward to the input: sgemm (Wᵀ @ grad) + col2im, image by image
//   RESULT <conv>_backward_gemm_us     backward: the same sgemm calls alone
// and the im2col and col2im passes alone over the whole batch.
//
// Built as bench_conv by the release preset; bench/run-tensor runs it (OPENBLAS_NUM_THREADS=1)
// and prints the ratios im2col+GEMM / GEMM and GEMM+col2im / GEMM.
#include "cpu_training_kernels.hpp"

#include <cblas.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <random>
#include <vector>

namespace {

using stepgrad::Window2d;

/// Median time of one call of `body`, in microseconds, over `runs` runs after `runs / 5` warm-ups.
template <typename Body>
double median_us(Body&& body, int runs = 50) {
    for (int k = 0; k < runs / 5 + 1; ++k) body();
    std::vector<double> times;
    for (int k = 0; k < runs; ++k) {
        const auto start = std::chrono::steady_clock::now();
        body();
        const std::chrono::duration<double, std::micro> elapsed = std::chrono::steady_clock::now() - start;
        times.push_back(elapsed.count());
    }
    std::sort(times.begin(), times.end());
    return times[times.size() / 2];
}

std::vector<float> random_values(std::size_t count, unsigned seed) {
    std::mt19937 engine(seed);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    std::vector<float> values(count);
    for (float& v : values) v = normal(engine);
    return values;
}

/// C (m, n) = op(A) @ B (k, n), row-major; op(A) is A (m, k) or, with transpose_a, Aᵀ for A (k, m).
void sgemm(bool transpose_a, std::int64_t m, std::int64_t n, std::int64_t k, const float* a, const float* b, float* c) {
    cblas_sgemm(CblasRowMajor, transpose_a ? CblasTrans : CblasNoTrans, CblasNoTrans, static_cast<blasint>(m),
                static_cast<blasint>(n), static_cast<blasint>(k), 1.0f, a,
                static_cast<blasint>(transpose_a ? m : k), b, static_cast<blasint>(n), 0.0f, c,
                static_cast<blasint>(n));
}

void bench_conv(const char* name, std::int64_t batch, std::int64_t in_channels, std::int64_t out_channels,
                std::int64_t size) {
    const Window2d batch_window{batch, in_channels, size, size, 3, 3, 1, 1, 1, 1, 1, 1};
    Window2d image_window = batch_window;
    image_window.batch = 1;
    const std::int64_t taps = in_channels * 9;                                          // K = C kh kw
    const std::int64_t positions = batch_window.out_height() * batch_window.out_width();  // L = OH OW
    const std::int64_t image_size = in_channels * size * size;

    // image is (N, C, H, W); weight (OC, K); columns (N, K, L); out and grad_out (N, OC, L)
    const std::vector<float> image = random_values(static_cast<std::size_t>(batch * image_size), 1);
    const std::vector<float> weight = random_values(static_cast<std::size_t>(out_channels * taps), 2);
    const std::vector<float> grad_out = random_values(static_cast<std::size_t>(batch * out_channels * positions), 3);
    std::vector<float> columns(static_cast<std::size_t>(batch * taps * positions));
    std::vector<float> one_image_columns(static_cast<std::size_t>(taps * positions));
    std::vector<float> out(static_cast<std::size_t>(batch * out_channels * positions));
    std::vector<float> grad_image(image.size());
    stepgrad::cpu::im2col(image.data(), batch_window, columns.data());

    auto forward_fused = [&] {
        for (std::int64_t n = 0; n < batch; ++n) {
            stepgrad::cpu::im2col(image.data() + n * image_size, image_window, one_image_columns.data());
            sgemm(false, out_channels, positions, taps, weight.data(), one_image_columns.data(),
                  out.data() + n * out_channels * positions);
        }
    };
    auto forward_gemm = [&] {
        for (std::int64_t n = 0; n < batch; ++n)
            sgemm(false, out_channels, positions, taps, weight.data(), columns.data() + n * taps * positions,
                  out.data() + n * out_channels * positions);
    };
    // grad_columns (K, L) = weightᵀ (K, OC) @ grad_out (OC, L); grad_image = col2im(grad_columns)
    auto backward_fused = [&] {
        for (std::int64_t n = 0; n < batch; ++n) {
            sgemm(true, taps, positions, out_channels, weight.data(), grad_out.data() + n * out_channels * positions,
                  one_image_columns.data());
            stepgrad::cpu::col2im(one_image_columns.data(), image_window, grad_image.data() + n * image_size);
        }
    };
    auto backward_gemm = [&] {
        for (std::int64_t n = 0; n < batch; ++n)
            sgemm(true, taps, positions, out_channels, weight.data(), grad_out.data() + n * out_channels * positions,
                  columns.data() + n * taps * positions);
    };
    auto im2col_only = [&] { stepgrad::cpu::im2col(image.data(), batch_window, columns.data()); };
    auto col2im_only = [&] { stepgrad::cpu::col2im(columns.data(), batch_window, grad_image.data()); };

    std::printf("RESULT %s_im2col_gemm_us %.1f\n", name, median_us(forward_fused));
    std::printf("RESULT %s_gemm_us %.1f\n", name, median_us(forward_gemm));
    std::printf("RESULT %s_im2col_us %.1f\n", name, median_us(im2col_only));
    std::printf("RESULT %s_gemm_col2im_us %.1f\n", name, median_us(backward_fused));
    std::printf("RESULT %s_backward_gemm_us %.1f\n", name, median_us(backward_gemm));
    std::printf("RESULT %s_col2im_us %.1f\n", name, median_us(col2im_only));
}

}  // namespace

int main() {
    bench_conv("conv1", 64, 1, 8, 28);
    bench_conv("conv2", 64, 8, 16, 14);
    return 0;
}
