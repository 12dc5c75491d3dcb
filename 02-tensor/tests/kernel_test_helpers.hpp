#pragma once
// Helpers shared by the fused-kernel tests: seeded inputs, an element-by-element comparison, and
// the convolution and pooling windows they run on.
#include "cpu_training_kernels.hpp"

#include <stepgrad/tensor/reference_kernels.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace kernel_test {

using stepgrad::Window2d;
namespace cpu = stepgrad::cpu;
namespace reference = stepgrad::reference;

constexpr float sentinel = 7.25f;  // fills output buffers, so a kernel that skips an element shows

inline std::size_t size_of(std::int64_t n) { return static_cast<std::size_t>(n); }

/// Normal(0, 1) values, seeded.
inline std::vector<float> random_normal(std::size_t count, std::uint64_t seed) {
    std::mt19937_64 engine(seed);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    std::vector<float> values(count);
    for (float& v : values) v = normal(engine);
    return values;
}

/// Integers in [0, levels): many ties, for max pooling.
inline std::vector<float> random_levels(std::size_t count, int levels, std::uint64_t seed) {
    std::mt19937_64 engine(seed);
    std::uniform_int_distribution<int> level(0, levels - 1);
    std::vector<float> values(count);
    for (float& v : values) v = static_cast<float>(level(engine));
    return values;
}

/// Checks every element: |actual - expected| <= absolute + relative * |expected|; NaN must match NaN.
/// One assertion per vector, naming the first element that differs.
template <typename Expected>
inline void check_close(const std::vector<float>& actual, const std::vector<Expected>& expected,
                 double relative = 1e-5, double absolute = 1e-6) {
    REQUIRE(actual.size() == expected.size());
    std::size_t mismatches = 0;
    std::ostringstream first;
    for (std::size_t k = 0; k < actual.size(); ++k) {
        const double a = actual[k], e = static_cast<double>(expected[k]);
        const bool same = std::isnan(e) ? std::isnan(a) : std::abs(a - e) <= absolute + relative * std::abs(e);
        if (!same && mismatches++ == 0) first << "element " << k << ": got " << a << ", expected " << e;
    }
    INFO(mismatches << " of " << actual.size() << " elements differ; first " << first.str());
    CHECK(mismatches == 0);
}

inline std::string describe(const Window2d& w) {
    std::ostringstream out;
    out << "N" << w.batch << " C" << w.channels << " " << w.height << "x" << w.width << " kernel " << w.kernel_h
        << "x" << w.kernel_w << " stride " << w.stride_h << "," << w.stride_w << " pad " << w.pad_h << ","
        << w.pad_w << " dilation " << w.dilation_h << "," << w.dilation_w << (w.ceil_mode ? " ceil" : "");
    return out.str();
}

inline std::int64_t image_size(const Window2d& w) { return w.batch * w.channels * w.height * w.width; }
inline std::int64_t pooled_size(const Window2d& w) { return w.batch * w.channels * w.out_height() * w.out_width(); }
inline std::int64_t columns_size(const Window2d& w) {
    return w.batch * w.channels * w.kernel_h * w.kernel_w * w.out_height() * w.out_width();
}

/// Convolution windows: batch 3, 2 channels, odd image sizes; stride 2, padding 1 and 2,
/// dilation 2, non-square kernels (including padding wider than half the kernel). Those marked
/// "shifted" take im2col's one-memcpy path (stride 1 across, output rows as far apart as input rows).
inline std::vector<Window2d> conv_windows() {
    //       N  C  H  W  kh kw sh sw ph pw dh dw
    return {{3, 2, 7, 5, 3, 3, 1, 1, 1, 1, 1, 1},  // shifted
            {3, 2, 7, 5, 3, 3, 1, 1, 2, 2, 2, 2},  // shifted by up to 2 each way
            {3, 2, 7, 3, 3, 2, 2, 1, 1, 2, 1, 1},  // shifted: stride 2 down, output rows 2 input rows long
            {3, 2, 4, 2, 1, 3, 1, 1, 0, 3, 1, 3},  // shifted: two taps read only padding
            {3, 2, 5, 1, 3, 1, 1, 1, 1, 0, 1, 1},  // shifted: one pixel wide
            {3, 2, 7, 5, 3, 3, 2, 2, 1, 1, 1, 1},
            {3, 2, 7, 5, 2, 3, 1, 1, 0, 0, 1, 1},
            {3, 2, 7, 5, 2, 3, 2, 1, 2, 2, 1, 1},
            {3, 2, 7, 5, 3, 3, 1, 2, 2, 2, 2, 2},
            {3, 2, 5, 7, 3, 2, 2, 3, 1, 2, 2, 1},
            {3, 2, 7, 5, 1, 1, 3, 2, 0, 0, 1, 1},
            {1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1}};
}

/// Pooling windows (padding at most half the kernel, as PyTorch requires), with ceil_mode and
/// ragged last windows.
inline std::vector<Window2d> pool_windows() {
    //       N  C  H  W  kh kw sh sw ph pw dh dw ceil
    return {{3, 2, 7, 5, 2, 2, 2, 2, 0, 0, 1, 1, true},
            {3, 2, 7, 5, 3, 3, 2, 2, 1, 1, 1, 1, true},
            {3, 2, 7, 5, 3, 2, 2, 1, 1, 1, 1, 1, false},
            {3, 2, 5, 7, 2, 3, 1, 2, 1, 1, 1, 1, true},
            {3, 2, 7, 5, 3, 3, 1, 1, 1, 1, 2, 2, false},
            {3, 2, 7, 7, 3, 3, 3, 3, 1, 1, 1, 1, true},
            {3, 2, 7, 5, 2, 2, 2, 2, 1, 1, 1, 1, false},
            // the CNN's 2x2 pool (max pooling's fast path): odd sizes drop the last row and column
            {3, 2, 7, 5, 2, 2, 2, 2, 0, 0, 1, 1, false},
            {2, 3, 8, 6, 2, 2, 2, 2, 0, 0, 1, 1, false}};
}

}  // namespace kernel_test

