// Chapter 4: the data-movement kernels (copy_strided, gather, index_select, scatter_add,
// transpose, axpy) on Device::CUDA against the CPU backend, and bad indices reported at the next
// read of the device.
#include "device_buffers.hpp"

#include <stepgrad/tensor/backend.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <vector>

using namespace stepgrad;
using namespace stepgrad::gpu_test;

// ---- copy_strided ----------------------------------------------------------------------------

namespace {

// copy_strided on both backends into copies of `dst`; compares the whole destination buffers.
template <class T>
void check_copy_strided(const std::vector<T>& src, const std::vector<std::int64_t>& src_strides,
                        std::int64_t src_offset, const std::vector<T>& dst,
                        const std::vector<std::int64_t>& dst_strides, std::int64_t dst_offset,
                        const Shape& shape, bool accumulate) {
    const Dtype dtype = std::is_same_v<T, float> ? Dtype::Float32 : Dtype::Int64;
    std::vector<T> expected = dst;
    cpu().copy_strided(dtype, src.data(), src_strides, src_offset, expected.data(), dst_strides, dst_offset, shape,
                       accumulate);
    DeviceBuffer<T> dsrc(src);
    DeviceBuffer<T> ddst(dst);
    device().copy_strided(dtype, dsrc.data(), src_strides, src_offset, ddst.data(), dst_strides, dst_offset, shape,
                          accumulate);
    if constexpr (std::is_same_v<T, float>) {
        check_close(ddst.to_host(), expected);
    } else {
        REQUIRE(ddst.to_host() == expected);
    }
}

}  // namespace

TEST_CASE("copy_strided matches the CPU for permuted, expanded, sliced and offset layouts", "[chapter04][kernels]") {
    const std::vector<float> src = random_floats(3 * 4 * 5, 51);
    const std::vector<std::int64_t> src_ints = random_ints(3 * 4 * 5, 52, -50, 50);
    const std::vector<float> dst60 = random_floats(60, 53);
    SECTION("permuted: (3,4,5) read as (5,3,4)") {
        check_copy_strided(src, {1, 20, 5}, 0, std::vector<float>(60, 0.0f), {12, 4, 1}, 0, {5, 3, 4}, false);
        check_copy_strided(src_ints, {1, 20, 5}, 0, std::vector<std::int64_t>(60, 0), {12, 4, 1}, 0, {5, 3, 4},
                           false);
    }
    SECTION("expanded: (3,1,5) broadcast to (2,3,4,5)") {
        check_copy_strided(std::vector<float>(src.begin(), src.begin() + 15), {0, 5, 0, 1}, 0,
                           std::vector<float>(120, 0.0f), {60, 20, 5, 1}, 0, {2, 3, 4, 5}, false);
    }
    SECTION("sliced: rows 1..3 and every other column from column 2 of (6,10)") {
        const std::vector<float> big = random_floats(60, 54);
        check_copy_strided(big, {10, 2}, 12, std::vector<float>(12, 0.0f), {4, 1}, 0, {3, 4}, false);
    }
    SECTION("into a window of a bigger destination, written and accumulated") {
        // A (2,3) block at row 1, column 2 of a (6,10) destination; then its transpose added back.
        check_copy_strided(src, {3, 1}, 7, dst60, {10, 1}, 12, {2, 3}, false);
        check_copy_strided(src, {3, 1}, 7, dst60, {10, 1}, 12, {2, 3}, true);
        check_copy_strided(src, {1, 3}, 0, dst60, {10, 1}, 12, {3, 2}, true);
        check_copy_strided(src_ints, {1, 3}, 5, std::vector<std::int64_t>(60, 9), {1, 10}, 3, {3, 2}, false);
    }
    SECTION("strided destination with permuted source, accumulated (the gradient of a permute)") {
        check_copy_strided(src, {1, 20, 5}, 0, dst60, {1, 20, 5}, 0, {5, 3, 4}, true);
    }
    SECTION("a single element and an empty shape") {
        check_copy_strided(src, {}, 17, dst60, {}, 31, {}, false);
        check_copy_strided(src, {1, 5}, 0, dst60, {1, 5}, 0, {0, 5}, true);
    }
    SECTION("accumulating Int64 is refused like the CPU refuses it") {
        std::vector<std::int64_t> dst(60, 0);
        REQUIRE_THROWS_AS(cpu().copy_strided(Dtype::Int64, src_ints.data(), {1}, 0, dst.data(), {1}, 0, {60}, true),
                          std::invalid_argument);
        DeviceBuffer<std::int64_t> dsrc(src_ints), ddst(dst);
        REQUIRE_THROWS_AS(
            device().copy_strided(Dtype::Int64, dsrc.data(), {1}, 0, ddst.data(), {1}, 0, {60}, true),
            std::invalid_argument);
    }
}

// ---- gather, index_select, scatter_add -------------------------------------------------------

namespace {

template <class T>
void check_gather(const std::vector<T>& src, std::int64_t outer, std::int64_t src_size, std::int64_t inner,
                  const std::vector<std::int64_t>& index, std::int64_t count, bool index_per_element) {
    const Dtype dtype = std::is_same_v<T, float> ? Dtype::Float32 : Dtype::Int64;
    const auto n = static_cast<std::size_t>(outer * count * inner);
    std::vector<T> expected(n, T(-9));
    cpu().gather(dtype, src.data(), outer, src_size, inner, index.data(), count, index_per_element, expected.data());
    DeviceBuffer<T> dsrc(src), dout(n, T(-9));
    DeviceBuffer<std::int64_t> dindex(index);
    device().gather(dtype, dsrc.data(), outer, src_size, inner, dindex.data(), count, index_per_element, dout.data());
    REQUIRE(dout.to_host() == expected);  // a copy, so exactly equal
}

void check_scatter_add(const std::vector<float>& dst, std::int64_t outer, std::int64_t dst_size, std::int64_t inner,
                       const std::vector<std::int64_t>& index, std::int64_t count, bool index_per_element,
                       const std::vector<float>& src) {
    std::vector<float> expected = dst;
    cpu().scatter_add(expected.data(), outer, dst_size, inner, index.data(), count, index_per_element, src.data());
    DeviceBuffer<float> ddst(dst), dsrc(src);
    DeviceBuffer<std::int64_t> dindex(index);
    device().scatter_add(ddst.data(), outer, dst_size, inner, dindex.data(), count, index_per_element, dsrc.data());
    check_close(ddst.to_host(), expected);
}

}  // namespace

TEST_CASE("gather and index_select match the CPU, negative indices counting from the end", "[chapter04][kernels]") {
    // src viewed as (outer 3, size 5, inner 4)
    const std::vector<float> src = random_floats(60, 61);
    const std::vector<std::int64_t> src_ints = random_ints(60, 62, -1000000, 1000000);
    SECTION("index_select: one index list for every (outer, inner)") {
        const std::vector<std::int64_t> index{4, -1, 0, -5, 2, 2, -3};
        check_gather(src, 3, 5, 4, index, 7, false);
        check_gather(src_ints, 3, 5, 4, index, 7, false);
        check_gather(src, 1, 5, 12, index, 7, false);
    }
    SECTION("gather: one index per output element") {
        const std::vector<std::int64_t> index = random_ints(3 * 6 * 4, 63, -5, 5);  // (3, 6, 4)
        check_gather(src, 3, 5, 4, index, 6, true);
        check_gather(src_ints, 3, 5, 4, index, 6, true);
        // the shape cross-entropy's gather has: (batch, classes) -> (batch, 1)
        check_gather(src, 12, 5, 1, random_ints(12, 64, -5, 5), 1, true);
    }
}

TEST_CASE("scatter_add matches the CPU and repeated indices add up", "[chapter04][kernels]") {
    const std::vector<float> dst = random_floats(3 * 5 * 4, 71);
    SECTION("index_select's adjoint: (3, 9, 4) added into (3, 5, 4)") {
        const std::vector<std::int64_t> index{1, -4, 1, 3, 1, 0, -1, 4, 3};  // rows 1 and 3 repeated
        check_scatter_add(dst, 3, 5, 4, index, 9, false, random_floats(3 * 9 * 4, 72));
    }
    SECTION("gather's adjoint: one index per source element, many collisions") {
        check_scatter_add(dst, 3, 5, 4, random_ints(3 * 8 * 4, 73, -5, 5), 8, true, random_floats(3 * 8 * 4, 74));
    }
    SECTION("an embedding-style backward: 500 rows into 7 (each row about 70 times)") {
        const std::vector<float> table(7 * 33, 0.0f);
        check_scatter_add(table, 1, 7, 33, random_ints(500, 75, -7, 7), 500, false, random_floats(500 * 33, 76));
    }
}

TEST_CASE("a bad index is reported at the next to_host(), and only once", "[chapter04][kernels]") {
    const std::vector<float> src = random_floats(2 * 5 * 3, 81);  // (2, 5, 3)
    const std::vector<std::int64_t> bad{0, -5, 5, 2};             // 5 is out of range for size 5
    DeviceBuffer<float> dsrc(src);
    DeviceBuffer<std::int64_t> dbad(bad);

    SECTION("gather: the CPU throws at once, the device at the read, and writes 0 there") {
        std::vector<float> host_out(2 * 4 * 3);
        REQUIRE_THROWS_AS(cpu().gather(Dtype::Float32, src.data(), 2, 5, 3, bad.data(), 4, false, host_out.data()),
                          std::out_of_range);
        DeviceBuffer<float> dout(2 * 4 * 3, 7.0f);
        REQUIRE_NOTHROW(device().gather(Dtype::Float32, dsrc.data(), 2, 5, 3, dbad.data(), 4, false, dout.data()));
        REQUIRE_THROWS_WITH(dout.to_host(), Catch::Contains("index 5 is out of range for an axis of size 5"));
        // The slot is cleared: the same buffer reads back now, with zeros where the bad index was.
        const std::vector<float> out = dout.to_host();
        for (std::int64_t o = 0; o < 2; ++o) {
            for (std::int64_t i = 0; i < 3; ++i) {
                REQUIRE(out[(o * 4 + 0) * 3 + i] == src[(o * 5 + 0) * 3 + i]);
                REQUIRE(out[(o * 4 + 1) * 3 + i] == src[(o * 5 + 0) * 3 + i]);
                REQUIRE(out[(o * 4 + 2) * 3 + i] == 0.0f);
                REQUIRE(out[(o * 4 + 3) * 3 + i] == src[(o * 5 + 2) * 3 + i]);
            }
        }
        // A good call afterwards does not throw.
        check_gather(src, 2, 5, 3, std::vector<std::int64_t>{0, -5, 4, 2}, 4, false);
    }
    SECTION("gather with one index per element, Int64 data, an index below -size") {
        const std::vector<std::int64_t> ints = random_ints(30, 82, -9, 9);
        DeviceBuffer<std::int64_t> dints(ints), dindex(std::vector<std::int64_t>{0, 1, -6, 4, 3, 2});  // (2, 1, 3)
        DeviceBuffer<std::int64_t> dout(6, 7);
        device().gather(Dtype::Int64, dints.data(), 2, 5, 3, dindex.data(), 1, true, dout.data());
        REQUIRE_THROWS_WITH(dout.to_host(), Catch::Contains("index -6 is out of range"));
        REQUIRE(dout.to_host()[2] == 0);
        check_gather(ints, 2, 5, 3, std::vector<std::int64_t>{0, 1, -5, 4, 3, 2}, 1, true);
    }
    SECTION("scatter_add: the bad row is skipped, the good ones are added") {
        const std::vector<float> grad = random_floats(2 * 4 * 3, 83);
        std::vector<float> host_dst(30, 0.0f);
        REQUIRE_THROWS_AS(cpu().scatter_add(host_dst.data(), 2, 5, 3, bad.data(), 4, false, grad.data()),
                          std::out_of_range);
        DeviceBuffer<float> ddst(30, 0.0f), dgrad(grad);
        REQUIRE_NOTHROW(device().scatter_add(ddst.data(), 2, 5, 3, dbad.data(), 4, false, dgrad.data()));
        REQUIRE_THROWS_AS(ddst.to_host(), std::out_of_range);
        const std::vector<float> dst = ddst.to_host();
        for (std::int64_t o = 0; o < 2; ++o) {
            for (std::int64_t i = 0; i < 3; ++i) {
                const float twice = grad[(o * 4 + 0) * 3 + i] + grad[(o * 4 + 1) * 3 + i];
                REQUIRE(dst[(o * 5 + 0) * 3 + i] == Approx(twice));
                REQUIRE(dst[(o * 5 + 2) * 3 + i] == grad[(o * 4 + 3) * 3 + i]);
                REQUIRE(dst[(o * 5 + 4) * 3 + i] == 0.0f);  // nothing wrapped round to the last row
            }
        }
        check_scatter_add(std::vector<float>(30, 1.0f), 2, 5, 3, std::vector<std::int64_t>{0, -5, 4, 2}, 4, false,
                          grad);
    }
}

// ---- transpose and axpy ----------------------------------------------------------------------

TEST_CASE("transpose and axpy match the CPU", "[chapter04][kernels]") {
    const std::int64_t shapes[][3] = {{3, 7, 5}, {1, 1, 9}, {2, 9, 1}, {1, 64, 33}};
    for (const auto& s : shapes) {
        INFO("batch " << s[0] << ", rows " << s[1] << ", cols " << s[2]);
        const std::vector<float> x = random_floats(static_cast<std::size_t>(s[0] * s[1] * s[2]), 91);
        std::vector<float> expected(x.size(), -1.0f);
        cpu().transpose(x.data(), s[0], s[1], s[2], expected.data());
        DeviceBuffer<float> dx(x), dout(x.size(), -1.0f);
        device().transpose(dx.data(), s[0], s[1], s[2], dout.data());
        REQUIRE(dout.to_host() == expected);
    }
    const std::vector<float> x = random_floats(1001, 92);
    std::vector<float> y = random_floats(1001, 93);
    DeviceBuffer<float> dx(x), dy(y);
    cpu().axpy(1001, -0.37f, x.data(), y.data());
    device().axpy(1001, -0.37f, dx.data(), dy.data());
    check_close(dy.to_host(), y);
}
