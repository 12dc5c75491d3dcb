// Teaching kernels for chapter 4: matrix multiplication, C = A B, from naive to tiled.
//
//     ./matmul [VERSION]      1 naive, 2 shared-memory tiles, 3 register blocking; none: all
//
// A is (M, K), B is (K, N), C is (M, N), all row-major float32. Each version is checked against
// a CPU reference on an odd size (no dimension a multiple of any tile, so the edge handling is
// tested), then against cuBLAS at 4096 x 4096 x 4096, and then timed there in GFLOP/s
// (2 M N K floating-point operations per product) next to cuBLAS SGEMM.
//
// Why the versions get faster: an H200 can do ~67 TFLOP/s of FP32 arithmetic but read only
// ~4.8 TB/s (1.2 Tfloat/s) from memory, so a kernel must reuse each number it loads ~50 times.
//   1. naive: one thread per C element, reading a row of A and a column of B from global memory:
//      2K loads for 2K flops. Caches help, but it is bound by load instructions.
//   2. tiled: a block of 32x32 threads stages a 32x32 tile of A and of B in shared memory;
//      every number loaded from global memory is then used 32 times from fast shared memory.
//   3. register blocking: each thread computes a 4x4 patch of C, keeping 4 numbers of A and 4 of
//      B in registers: 16 multiply-adds for 8 shared-memory reads, and a block covers 64x64.
// cuBLAS goes further (warp-level tiles, double buffering, asynchronous copies).
#include "common.cuh"

#include <cublas_v2.h>

#include <cstdio>
#include <exception>
#include <vector>

using namespace stepgrad::teach;

// ---- CPU reference ----------------------------------------------------------------------------

// c = a b with the sums in double, so the reference is more exact than any float version.
void matmul_cpu(const float* a, const float* b, float* c, int m, int n, int k) {
    std::vector<double> row(static_cast<std::size_t>(n));
    for (int i = 0; i < m; ++i) {
        std::fill(row.begin(), row.end(), 0.0);
        for (int p = 0; p < k; ++p) {  // i-p-j order: the inner loop walks rows of B and C
            const double a_ip = a[static_cast<std::size_t>(i) * k + p];
            const float* b_row = b + static_cast<std::size_t>(p) * n;
            for (int j = 0; j < n; ++j) row[j] += a_ip * b_row[j];
        }
        for (int j = 0; j < n; ++j) c[static_cast<std::size_t>(i) * n + j] = static_cast<float>(row[j]);
    }
}

// ---- version 1: naive ---------------------------------------------------------------------------

// c[row][col] = sum_p a[row][p] * b[p][col]: one thread per element of C.
// threadIdx.x runs along a row of C, so a warp's 32 threads read 32 neighbouring numbers of a
// row of B (one coalesced load) and the same number of A (one broadcast).
__global__ void matmul_naive_kernel(const float* a, const float* b, float* c, int m, int n, int k) {
    const int col = blockIdx.x * blockDim.x + threadIdx.x;
    const int row = blockIdx.y * blockDim.y + threadIdx.y;
    if (row >= m || col >= n) return;
    float sum = 0.0f;
    for (int p = 0; p < k; ++p) sum += a[row * k + p] * b[p * n + col];
    c[row * n + col] = sum;
}

void matmul_naive(const float* a, const float* b, float* c, int m, int n, int k) {
    const dim3 block(32, 32);
    const dim3 grid(ceil_div(n, 32), ceil_div(m, 32));
    matmul_naive_kernel<<<grid, block>>>(a, b, c, m, n, k);
}

// ---- version 2: shared-memory tiles -------------------------------------------------------------

constexpr int kTile = 32;

// The same one-thread-per-element of C, but the block walks along K one 32-wide tile at a time:
// its 32x32 threads first copy a tile of A and a tile of B into shared memory (one number each),
// wait (__syncthreads), then each thread takes its 32 multiply-adds from shared memory. Each
// number read from global memory now serves 32 threads instead of 1. Numbers past the edge of
// A or B are loaded as 0, which adds nothing to the sums.
__global__ void matmul_tiled_kernel(const float* a, const float* b, float* c, int m, int n, int k) {
    // exercise 04.3: the shared-memory tiled matrix product
    // hint: block (blockIdx.x, blockIdx.y) computes the kTile x kTile block of C at column
    // hint: blockIdx.x * kTile and row blockIdx.y * kTile; thread (threadIdx.x, threadIdx.y)
    // hint: owns one element of it, as in version 1
    // hint: walk along k one tile at a time: each thread copies one number of A's tile and one of
    // hint: B's into __shared__ arrays (0 past the edge of A or B), then adds kTile products
    // hint: two __syncthreads() per step: after loading (the tiles are complete) and after using
    // hint: them (nobody still reads a tile that the next step overwrites)
    // stub: exercise_not_implemented("04.3");
    // needs: gpu
    __shared__ float a_tile[kTile][kTile];
    __shared__ float b_tile[kTile][kTile];
    const int tx = threadIdx.x, ty = threadIdx.y;
    const int col = blockIdx.x * kTile + tx;
    const int row = blockIdx.y * kTile + ty;
    float sum = 0.0f;
    for (int p0 = 0; p0 < k; p0 += kTile) {
        a_tile[ty][tx] = (row < m && p0 + tx < k) ? a[row * k + p0 + tx] : 0.0f;
        b_tile[ty][tx] = (p0 + ty < k && col < n) ? b[(p0 + ty) * n + col] : 0.0f;
        __syncthreads();  // the tiles are complete
        for (int p = 0; p < kTile; ++p) sum += a_tile[ty][p] * b_tile[p][tx];
        __syncthreads();  // everyone is done with the tiles before they are overwritten
    }
    if (row < m && col < n) c[row * n + col] = sum;
    // end exercise
}

void matmul_tiled(const float* a, const float* b, float* c, int m, int n, int k) {
    const dim3 block(kTile, kTile);
    const dim3 grid(ceil_div(n, kTile), ceil_div(m, kTile));
    matmul_tiled_kernel<<<grid, block>>>(a, b, c, m, n, k);
}

// ---- version 3: register blocking ---------------------------------------------------------------

constexpr int kBlockRows = 64;   // rows of C per block
constexpr int kBlockCols = 64;   // columns of C per block
constexpr int kBlockDepth = 16;  // columns of A (rows of B) per shared-memory tile
constexpr int kThreadTile = 4;   // each thread computes a 4x4 patch of C

// 256 threads (16x16) compute a 64x64 block of C; thread (tx, ty) owns the 16 elements
// C[ty + 16 i][tx + 16 j] for i, j in 0..3 (spread out by 16 so that a warp's shared-memory
// reads and global writes stay contiguous). Per step of p, a thread reads 4 numbers of A and 4
// of B from shared memory into registers and does 4x4 = 16 multiply-adds with them: twice the
// work per shared-memory read of version 2, which did 1 multiply-add per 2 reads.
// A's tile is stored transposed (a_tile[p][row]) so the inner loop reads it like b_tile; its
// rows are padded by one to spread the transposing stores over the shared-memory banks.
__global__ void matmul_register_kernel(const float* a, const float* b, float* c, int m, int n, int k) {
    __shared__ float a_tile[kBlockDepth][kBlockRows + 1];
    __shared__ float b_tile[kBlockDepth][kBlockCols];
    const int tx = threadIdx.x, ty = threadIdx.y;
    const int thread = ty * 16 + tx;  // 0..255
    const int row0 = blockIdx.y * kBlockRows;
    const int col0 = blockIdx.x * kBlockCols;

    float sum[kThreadTile][kThreadTile] = {};
    for (int p0 = 0; p0 < k; p0 += kBlockDepth) {
        // Each tile holds 64x16 = 1024 numbers: 4 loads per thread, neighbouring threads
        // reading neighbouring addresses in global memory.
        for (int load = 0; load < 4; ++load) {
            const int index = thread + 256 * load;
            const int a_row = index / kBlockDepth, a_col = index % kBlockDepth;  // A tile is 64x16
            const int gr = row0 + a_row, gp = p0 + a_col;
            a_tile[a_col][a_row] = (gr < m && gp < k) ? a[gr * k + gp] : 0.0f;
            const int b_row = index / kBlockCols, b_col = index % kBlockCols;  // B tile is 16x64
            const int bp = p0 + b_row, bc = col0 + b_col;
            b_tile[b_row][b_col] = (bp < k && bc < n) ? b[bp * n + bc] : 0.0f;
        }
        __syncthreads();
        // Fully unrolled, so that sum, a_reg and b_reg are registers, not local-memory arrays.
#pragma unroll
        for (int p = 0; p < kBlockDepth; ++p) {
            float a_reg[kThreadTile], b_reg[kThreadTile];
#pragma unroll
            for (int i = 0; i < kThreadTile; ++i) a_reg[i] = a_tile[p][ty + 16 * i];
#pragma unroll
            for (int j = 0; j < kThreadTile; ++j) b_reg[j] = b_tile[p][tx + 16 * j];
#pragma unroll
            for (int i = 0; i < kThreadTile; ++i)
#pragma unroll
                for (int j = 0; j < kThreadTile; ++j) sum[i][j] += a_reg[i] * b_reg[j];
        }
        __syncthreads();
    }
#pragma unroll
    for (int i = 0; i < kThreadTile; ++i) {
#pragma unroll
        for (int j = 0; j < kThreadTile; ++j) {
            const int row = row0 + ty + 16 * i, col = col0 + tx + 16 * j;
            if (row < m && col < n) c[row * n + col] = sum[i][j];
        }
    }
}

void matmul_register(const float* a, const float* b, float* c, int m, int n, int k) {
    const dim3 block(16, 16);
    const dim3 grid(ceil_div(n, kBlockCols), ceil_div(m, kBlockRows));
    matmul_register_kernel<<<grid, block>>>(a, b, c, m, n, k);
}

// ---- the library: cuBLAS SGEMM ------------------------------------------------------------------

// cuBLAS is column-major. A row-major (M, N) matrix is the column-major (N, M) matrix C^T, and
// C^T = B^T A^T, so passing B first and A second, with m and n swapped, computes row-major C.
void matmul_cublas(cublasHandle_t handle, const float* a, const float* b, float* c, int m, int n, int k) {
    const float one = 1.0f, zero = 0.0f;
    STEPGRAD_CUBLAS_CHECK(cublasSgemm(handle, CUBLAS_OP_N, CUBLAS_OP_N, n, m, k, &one, b, n, a, k, &zero, c, n));
}

// ---- the driver ---------------------------------------------------------------------------------

using MatmulFunction = void (*)(const float*, const float*, float*, int, int, int);

struct Version {
    const char* name;
    MatmulFunction run;
};

const Version kVersions[] = {
    {"1 naive", matmul_naive},
    {"2 shared-memory tiles", matmul_tiled},
    {"3 register blocking", matmul_register},
};
constexpr int kVersionCount = sizeof(kVersions) / sizeof(kVersions[0]);

// Runs the versions asked for (0: all) on an (m, k) x (k, n) problem and compares each result
// with `want`, within atol + rtol |want|. Returns whether all of them matched; clears
// matched[v - 1] for a version v that did not.
bool check_versions(int only, cublasHandle_t handle, int m, int n, int k, const std::vector<float>& want,
                    const DeviceArray<float>& a, const DeviceArray<float>& b, DeviceArray<float>& c,
                    double atol, double rtol, bool with_cublas, std::vector<bool>& matched) {
    bool all_ok = true;
    for (int v = 1; v <= kVersionCount; ++v) {
        if (only != 0 && only != v) continue;
        STEPGRAD_CUDA_CHECK(cudaMemset(c.data(), 0xff, c.size() * sizeof(float)));  // NaNs: unwritten shows
        kVersions[v - 1].run(a.data(), b.data(), c.data(), m, n, k);
        STEPGRAD_CUDA_CHECK(cudaGetLastError());
        const bool version_ok = check_close(kVersions[v - 1].name, c.download(), want, atol, rtol);
        if (!version_ok) matched[v - 1] = false;
        all_ok = version_ok && all_ok;
    }
    if (with_cublas) {
        matmul_cublas(handle, a.data(), b.data(), c.data(), m, n, k);
        all_ok = check_close("cuBLAS SGEMM", c.download(), want, atol, rtol) && all_ok;
    }
    return all_ok;
}

int run(int argc, char** argv) {
    const int only = version_from_arguments(argc, argv, kVersionCount);
    require_gpu("matmul");
    cublasHandle_t handle;
    STEPGRAD_CUBLAS_CHECK(cublasCreate(&handle));
    STEPGRAD_CUBLAS_CHECK(cublasSetMathMode(handle, CUBLAS_DEFAULT_MATH));  // full FP32, no TF32

    // 1. Correctness on an odd size, against the CPU (sums in double). The float results differ
    // from it by about sqrt(K) * 6e-8 * |C| ~ 1e-5 here; a lost or doubled term is ~0.3.
    bool ok = true;
    std::vector<bool> matched(kVersionCount, true);
    {
        const int m = 517, n = 389, k = 300;
        const std::vector<float> a_host = random_floats(static_cast<std::size_t>(m) * k, 1);
        const std::vector<float> b_host = random_floats(static_cast<std::size_t>(k) * n, 2);
        std::vector<float> want(static_cast<std::size_t>(m) * n);
        matmul_cpu(a_host.data(), b_host.data(), want.data(), m, n, k);
        DeviceArray<float> a(a_host.size()), b(b_host.size()), c(want.size());
        a.upload(a_host);
        b.upload(b_host);
        std::printf("check against the CPU, (%d x %d) x (%d x %d):\n", m, k, k, n);
        ok = check_versions(only, handle, m, n, k, want, a, b, c, 1e-4, 1e-4, true, matched);
    }

    // 2. At the benchmark size: against cuBLAS (a CPU reference would take minutes), then timed.
    // Both sides sum 4096 float products in different orders: expect differences ~1e-4.
    const int m = 4096, n = 4096, k = 4096;
    const std::vector<float> a_host = random_floats(static_cast<std::size_t>(m) * k, 3);
    const std::vector<float> b_host = random_floats(static_cast<std::size_t>(k) * n, 4);
    DeviceArray<float> a(a_host.size()), b(b_host.size()), c(static_cast<std::size_t>(m) * n);
    a.upload(a_host);
    b.upload(b_host);
    matmul_cublas(handle, a.data(), b.data(), c.data(), m, n, k);
    const std::vector<float> want = c.download();
    std::printf("check against cuBLAS, (%d x %d) x (%d x %d):\n", m, k, k, n);
    ok = check_versions(only, handle, m, n, k, want, a, b, c, 2e-3, 1e-4, false, matched) && ok;

    const double flop = 2.0 * m * n * k;
    std::printf("benchmark, %d x %d x %d (mean over calls after a warm-up):\n", m, n, k);
    std::printf("  %-28s %10s %12s %10s\n", "version", "ms", "GFLOP/s", "of cuBLAS");
    const float library_ms = time_ms([&] { matmul_cublas(handle, a.data(), b.data(), c.data(), m, n, k); });
    for (int v = 1; v <= kVersionCount; ++v) {
        if (only != 0 && only != v) continue;
        const Version& version = kVersions[v - 1];
        if (!matched[v - 1]) {  // a wrong result is not worth timing
            std::printf("  %-28s %10s (not timed: its result is wrong)\n", version.name, "-");
            continue;
        }
        const float ms = time_ms([&] { version.run(a.data(), b.data(), c.data(), m, n, k); });
        std::printf("  %-28s %10.3f %12.1f %9.1f%%\n", version.name, ms, flop / ms * 1e-6, 100.0 * library_ms / ms);
    }
    std::printf("  %-28s %10.3f %12.1f %9.1f%%\n", "cuBLAS SGEMM", library_ms, flop / library_ms * 1e-6, 100.0);
    STEPGRAD_CUBLAS_CHECK(cublasDestroy(handle));
    std::printf("%s\n", ok ? "all versions match" : "MISMATCH: see above");
    return ok ? 0 : 1;
}

int main(int argc, char** argv) {
    try {
        return run(argc, argv);
    } catch (const std::exception& error) {  // a failed CUDA or cuBLAS call (STEPGRAD_*_CHECK)
        std::fprintf(stderr, "matmul: %s\n", error.what());
        return 1;
    }
}
