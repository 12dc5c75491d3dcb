// Teaching kernels for chapter 4: the sum of an array, from one atomic per element to warp
// shuffles.
//
//     ./reduce [VERSION]   1 atomics, 2 shared-memory tree, 3 warp shuffles, 4 many per thread
//
// out = x[0] + x[1] + ... + x[n-1], float32. Each version is checked against a CPU sum on an
// odd size and at the benchmark size (2^26 floats, 256 MiB: far more than the 60 MB L2, so the
// data really comes from memory), then timed in GB/s next to CUB's DeviceReduce::Sum.
//
// A sum does 1 addition per 4 bytes read, so the best a kernel can do is read memory at full
// speed (~4.8 TB/s on an H200). What stands in the way, version by version:
//   1. one atomicAdd per element: every thread adds into the same float in memory, and atomics
//      to one address are done one after another: ~n of them, serialised.
//   2. a tree in shared memory: each block of 256 threads adds its numbers in 8 halving steps,
//      then one thread adds the block's sum with one atomicAdd: n/256 atomics.
//   3. warp shuffles: the 32 threads of a warp add through each other's registers
//      (__shfl_down_sync), with no shared memory and no __syncthreads between steps; shared
//      memory is used once, for the 8 warp sums of the block.
//   4. many elements per thread: a few blocks per SM loop over the whole array (a grid-stride
//      loop), each thread keeping its running sum in a register and reading 4 floats at a time
//      (float4), so the reductions of versions 2-3 happen once per ~250 elements, not per 1.
#include "common.cuh"

#include <cub/device/device_reduce.cuh>

#include <cstdio>
#include <exception>
#include <vector>

using namespace stepgrad::teach;

constexpr int kBlock = 256;  // threads per block in every version
constexpr int kWarp = 32;

// Random multiples of 1/256 in [-1, 1]. Float adds them exactly while a partial sum stays below
// 2^16 (true by far here: the sums wander to a few thousand), so every correct summation order
// gives exactly the CPU's sum, and a dropped or doubled element changes it by at least 1/256.
std::vector<float> random_multiples_of_1_256(std::size_t count, unsigned seed) {
    std::mt19937 generator(seed);
    std::uniform_int_distribution<int> numerator(-256, 256);
    std::vector<float> values(count);
    for (float& value : values) value = static_cast<float>(numerator(generator)) / 256.0f;
    return values;
}

// ---- CPU reference ----------------------------------------------------------------------------

float sum_cpu(const std::vector<float>& x) {
    double sum = 0.0;
    for (float value : x) sum += value;
    return static_cast<float>(sum);
}

// ---- version 1: one atomicAdd per element -------------------------------------------------------

// *out += x[i] for every i, each thread adding its element straight into the result.
__global__ void sum_atomic_kernel(const float* x, long long n, float* out) {
    const long long i = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x;
    if (i < n) atomicAdd(out, x[i]);
}

void sum_atomic(const float* x, long long n, float* out) {
    sum_atomic_kernel<<<ceil_div(n, kBlock), kBlock>>>(x, n, out);
}

// ---- version 2: a tree in shared memory ---------------------------------------------------------

// Each block sums its 256 elements in shared memory, then adds that sum into *out.
// Step s adds the upper half of the live values onto the lower half (partial[t] += partial[t+s]),
// so the active threads stay contiguous (whole warps idle together) and after log2(256) = 8
// steps partial[0] holds the block's sum.
__global__ void sum_tree_kernel(const float* x, long long n, float* out) {
    __shared__ float partial[kBlock];
    const int t = threadIdx.x;
    const long long i = static_cast<long long>(blockIdx.x) * blockDim.x + t;
    partial[t] = i < n ? x[i] : 0.0f;
    __syncthreads();
    for (int s = kBlock / 2; s > 0; s /= 2) {
        if (t < s) partial[t] += partial[t + s];
        __syncthreads();  // every add of this step is done before the next step reads it
    }
    if (t == 0) atomicAdd(out, partial[0]);
}

void sum_tree(const float* x, long long n, float* out) {
    sum_tree_kernel<<<ceil_div(n, kBlock), kBlock>>>(x, n, out);
}

// ---- version 3: warp shuffles -------------------------------------------------------------------

// The sum of `value` over the 32 threads of the warp, in lane 0 (the other lanes hold partial
// sums). __shfl_down_sync(mask, v, d) hands each lane the v of the lane d above it: five steps
// of halving, as in version 2's tree, but through registers, and a warp needs no __syncthreads.
__device__ float warp_sum(float value) {
    for (int offset = kWarp / 2; offset > 0; offset /= 2) value += __shfl_down_sync(0xffffffffu, value, offset);
    return value;
}

// The sum of `value` over the block, in thread 0: each warp sums its 32 values, the 8 warp sums
// meet in shared memory, and the first warp sums those.
__device__ float block_sum(float value) {
    __shared__ float warp_sums[kBlock / kWarp];
    const int lane = threadIdx.x % kWarp, warp = threadIdx.x / kWarp;
    value = warp_sum(value);
    if (lane == 0) warp_sums[warp] = value;
    __syncthreads();
    value = threadIdx.x < kBlock / kWarp ? warp_sums[threadIdx.x] : 0.0f;
    return warp == 0 ? warp_sum(value) : 0.0f;
}

// Version 2 with the tree done by block_sum: one element per thread, one atomicAdd per block.
__global__ void sum_shuffle_kernel(const float* x, long long n, float* out) {
    const long long i = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x;
    const float total = block_sum(i < n ? x[i] : 0.0f);
    if (threadIdx.x == 0) atomicAdd(out, total);
}

void sum_shuffle(const float* x, long long n, float* out) {
    sum_shuffle_kernel<<<ceil_div(n, kBlock), kBlock>>>(x, n, out);
}

// ---- version 4: many elements per thread --------------------------------------------------------

// Each thread first sums every (threads in the grid)-th float4 of x in a register, then the
// block sums those with block_sum and adds its total into *out. The last n % 4 elements (which
// make no whole float4) are read one by one. cudaMalloc'd memory is aligned for float4 loads.
__global__ void sum_grid_stride_kernel(const float* x, long long n, float* out) {
    const long long thread = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x;
    const long long threads = static_cast<long long>(gridDim.x) * blockDim.x;
    const long long quads = n / 4;
    const float4* x4 = reinterpret_cast<const float4*>(x);
    float sum = 0.0f;
    for (long long q = thread; q < quads; q += threads) {
        const float4 v = x4[q];  // one 16-byte load instead of four 4-byte loads
        sum += (v.x + v.y) + (v.z + v.w);
    }
    for (long long i = 4 * quads + thread; i < n; i += threads) sum += x[i];
    const float total = block_sum(sum);
    if (threadIdx.x == 0) atomicAdd(out, total);
}

void sum_grid_stride(const float* x, long long n, float* out) {
    static int blocks = 0;  // 8 blocks of 256 threads fill an SM (2048 threads): 8 per SM
    if (blocks == 0) {
        int device = 0;
        STEPGRAD_CUDA_CHECK(cudaGetDevice(&device));
        STEPGRAD_CUDA_CHECK(cudaDeviceGetAttribute(&blocks, cudaDevAttrMultiProcessorCount, device));
        blocks *= 8;
    }
    sum_grid_stride_kernel<<<blocks, kBlock>>>(x, n, out);
}

// ---- the driver ---------------------------------------------------------------------------------

using SumFunction = void (*)(const float*, long long, float*);

struct Version {
    const char* name;
    SumFunction run;
};

const Version kVersions[] = {
    {"1 atomicAdd per element", sum_atomic},
    {"2 shared-memory tree", sum_tree},
    {"3 warp shuffles", sum_shuffle},
    {"4 many per thread, float4", sum_grid_stride},
};
constexpr int kVersionCount = sizeof(kVersions) / sizeof(kVersions[0]);

// CUB's sum (the library), with its scratch memory allocated once beforehand.
struct CubSum {
    DeviceArray<unsigned char> scratch;
    static std::size_t scratch_bytes(long long n) {
        std::size_t bytes = 0;  // a first call with no scratch only says how much it needs
        STEPGRAD_CUDA_CHECK(cub::DeviceReduce::Sum(nullptr, bytes, static_cast<const float*>(nullptr),
                                                   static_cast<float*>(nullptr), n));
        return bytes;
    }
    explicit CubSum(long long n) : scratch(scratch_bytes(n)) {}
    void operator()(const float* x, long long n, float* out) {
        std::size_t bytes = scratch.size();
        STEPGRAD_CUDA_CHECK(cub::DeviceReduce::Sum(scratch.data(), bytes, x, out, n));
    }
};

// Versions 1-4 add into *out, so it starts at zero (the memset is part of each timed call).
template <class Sum>
void zero_and_sum(Sum&& sum, const float* x, long long n, float* out) {
    STEPGRAD_CUDA_CHECK(cudaMemsetAsync(out, 0, sizeof(float)));
    sum(x, n, out);
}

// Sums x (already on the device) with each version asked for (0: all) and with CUB, and
// compares each with the CPU's sum. Tolerance 1e-3 < 1/256 (see random_multiples_of_1_256).
bool check_versions(int only, const std::vector<float>& x_host, const DeviceArray<float>& x,
                    DeviceArray<float>& out, CubSum& cub_sum) {
    const long long n = static_cast<long long>(x_host.size());
    const std::vector<float> want{sum_cpu(x_host)};
    bool all_ok = true;
    for (int v = 1; v <= kVersionCount; ++v) {
        if (only != 0 && only != v) continue;
        zero_and_sum(kVersions[v - 1].run, x.data(), n, out.data());
        STEPGRAD_CUDA_CHECK(cudaGetLastError());
        all_ok = check_close(kVersions[v - 1].name, out.download(), want, 1e-3, 0.0) && all_ok;
    }
    cub_sum(x.data(), n, out.data());
    return check_close("CUB DeviceReduce::Sum", out.download(), want, 1e-3, 0.0) && all_ok;
}

int run(int argc, char** argv) {
    const int only = version_from_arguments(argc, argv, kVersionCount);
    require_gpu("reduce");
    const long long n = 1LL << 26;  // the benchmark size: 256 MiB
    DeviceArray<float> out(1);
    CubSum cub_sum(n);  // enough scratch for the smaller check too

    bool ok = true;
    {
        const long long odd = 1000003;  // not a multiple of 4, 32 or 256: every edge case runs
        const std::vector<float> x_host = random_multiples_of_1_256(odd, 1);
        DeviceArray<float> x(x_host.size());
        x.upload(x_host);
        std::printf("check against the CPU, n = %lld:\n", odd);
        ok = check_versions(only, x_host, x, out, cub_sum);
    }
    const std::vector<float> x_host = random_multiples_of_1_256(static_cast<std::size_t>(n), 2);
    DeviceArray<float> x(x_host.size());
    x.upload(x_host);
    std::printf("check against the CPU, n = %lld:\n", n);
    ok = check_versions(only, x_host, x, out, cub_sum) && ok;

    const double bytes = 4.0 * static_cast<double>(n);
    std::printf("benchmark, n = %lld (%.0f MiB; mean over calls after a warm-up):\n", n, bytes / (1 << 20));
    std::printf("  %-28s %10s %10s %10s\n", "version", "ms", "GB/s", "of CUB");
    const float library_ms = time_ms([&] { cub_sum(x.data(), n, out.data()); });
    for (int v = 1; v <= kVersionCount; ++v) {
        if (only != 0 && only != v) continue;
        const Version& version = kVersions[v - 1];
        const float ms = time_ms([&] { zero_and_sum(version.run, x.data(), n, out.data()); });
        std::printf("  %-28s %10.3f %10.1f %9.1f%%\n", version.name, ms, bytes / ms * 1e-6, 100.0 * library_ms / ms);
    }
    std::printf("  %-28s %10.3f %10.1f %9.1f%%\n", "CUB DeviceReduce::Sum", library_ms, bytes / library_ms * 1e-6, 100.0);
    std::printf("%s\n", ok ? "all versions match" : "MISMATCH: see above");
    return ok ? 0 : 1;
}

int main(int argc, char** argv) {
    try {
        return run(argc, argv);
    } catch (const std::exception& error) {  // a failed CUDA call (STEPGRAD_CUDA_CHECK)
        std::fprintf(stderr, "reduce: %s\n", error.what());
        return 1;
    }
}
