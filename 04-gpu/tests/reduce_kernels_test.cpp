// Chapter 4: the reductions (reduce, arg_reduce) on Device::CUDA against the CPU backend, on the
// same inputs and odd shapes, the two-pass path for long rows, NaN rules and Int64 included.
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

namespace {

Shape reduced_shape(const Shape& shape, const std::vector<bool>& reduced) {
    Shape out = shape;
    for (std::size_t axis = 0; axis < shape.size(); ++axis) {
        if (reduced[axis]) out[axis] = 1;
    }
    return out;
}

// reduce() of one input on both backends: {device result, cpu result}.
template <class T>
std::pair<std::vector<T>, std::vector<T>> reduce_both(ReduceOp op, const std::vector<T>& x, const Shape& shape,
                                                      const std::vector<bool>& reduced) {
    const Dtype dtype = std::is_same_v<T, float> ? Dtype::Float32 : Dtype::Int64;
    const auto outputs = static_cast<std::size_t>(numel_of(reduced_shape(shape, reduced)));
    std::vector<T> expected(outputs, T(-7));
    cpu().reduce(op, dtype, x.data(), shape, reduced, expected.data());
    DeviceBuffer<T> dx(x);
    DeviceBuffer<T> dout(outputs, T(-7));
    device().reduce(op, dtype, dx.data(), shape, reduced, dout.data());
    return {dout.to_host(), expected};
}

std::vector<bool> axes_of_mask(unsigned mask, std::size_t ndim) {
    std::vector<bool> reduced(ndim);
    for (std::size_t axis = 0; axis < ndim; ++axis) reduced[axis] = ((mask >> axis) & 1u) != 0;
    return reduced;
}

const char* name_of(ReduceOp op) { return op == ReduceOp::Sum ? "sum" : op == ReduceOp::Max ? "max" : "min"; }

}  // namespace

// ---- reduce ----------------------------------------------------------------------------------

TEST_CASE("reduce matches the CPU over every subset of axes of a (3,1,5,4) tensor",
          "[chapter04][kernels][ex-04.2]") {
    const Shape shape{3, 1, 5, 4};
    const std::vector<float> floats = random_floats(60, 11);
    const std::vector<std::int64_t> ints = random_ints(60, 12, -1000, 1000);
    for (ReduceOp op : {ReduceOp::Sum, ReduceOp::Max, ReduceOp::Min}) {
        for (unsigned mask = 0; mask < 16; ++mask) {
            INFO(name_of(op) << " over axis mask " << mask);
            const std::vector<bool> reduced = axes_of_mask(mask, shape.size());
            const auto [got, want] = reduce_both(op, floats, shape, reduced);
            check_close(got, want);
            const auto [got_int, want_int] = reduce_both(op, ints, shape, reduced);
            REQUIRE(got_int == want_int);
        }
    }
}

TEST_CASE("reduce of long rows (the two-pass path) matches the CPU", "[chapter04][kernels][ex-04.2]") {
    SECTION("the sum of all of a 2^20-element tensor") {
        const Shape shape{1 << 20};
        const auto [got, want] = reduce_both(ReduceOp::Sum, random_floats(1 << 20, 21), shape, {true});
        check_close(got, want);
    }
    SECTION("(64, 12544) over axis 1, and over axis 0") {
        const Shape shape{64, 12544};
        const std::vector<float> x = random_floats(64 * 12544, 22);
        for (ReduceOp op : {ReduceOp::Sum, ReduceOp::Max, ReduceOp::Min}) {
            INFO(name_of(op));
            const auto [rows, rows_want] = reduce_both(op, x, shape, {false, true});
            check_close(rows, rows_want);
            const auto [columns, columns_want] = reduce_both(op, x, shape, {true, false});
            check_close(columns, columns_want);
        }
    }
    SECTION("batch norm's sums: (16, 3, 33, 37) over N, H, W") {
        const Shape shape{16, 3, 33, 37};
        const auto [got, want] =
            reduce_both(ReduceOp::Sum, random_floats(16 * 3 * 33 * 37, 23), shape, {true, false, true, true});
        check_close(got, want);
    }
    SECTION("Int64 sums stay exact where a double would round (sums past 2^53)") {
        const std::vector<std::int64_t> x =
            random_ints(1 << 20, 24, -(std::int64_t{1} << 48), std::int64_t{1} << 48);
        const auto [got, want] = reduce_both(ReduceOp::Sum, x, {1 << 20}, {true});
        REQUIRE(got == want);
        const std::vector<std::int64_t> positive = random_ints(1 << 20, 25, 0, std::int64_t{1} << 52);
        const auto [got_rows, want_rows] = reduce_both(ReduceOp::Sum, positive, {1024, 1024}, {false, true});
        REQUIRE(got_rows == want_rows);
        const auto [got_max, want_max] = reduce_both(ReduceOp::Max, x, {1024, 1024}, {false, true});
        REQUIRE(got_max == want_max);
        const auto [got_min, want_min] = reduce_both(ReduceOp::Min, x, {1024, 1024}, {true, false});
        REQUIRE(got_min == want_min);
    }
}

TEST_CASE("reduce: NaN wins max and min, and an empty reduced axis sums to 0", "[chapter04][kernels][ex-04.2]") {
    SECTION("small: NaN at the start, middle and end of rows") {
        std::vector<float> x = random_floats(3 * 7, 31);
        x[0] = kNaN;       // row 0, first
        x[7 + 3] = kNaN;   // row 1, middle
        x[14 + 6] = kNaN;  // row 2, last
        for (ReduceOp op : {ReduceOp::Sum, ReduceOp::Max, ReduceOp::Min}) {
            INFO(name_of(op));
            const auto [got, want] = reduce_both(op, x, {3, 7}, {false, true});
            REQUIRE(std::isnan(want[1]));
            check_close(got, want);
            const auto [got_cols, want_cols] = reduce_both(op, x, {3, 7}, {true, false});
            check_close(got_cols, want_cols);
        }
    }
    SECTION("long rows: one NaN in one chunk") {
        std::vector<float> x = random_floats(4 * 50000, 32);
        x[50000 + 31234] = kNaN;
        for (ReduceOp op : {ReduceOp::Max, ReduceOp::Min, ReduceOp::Sum}) {
            INFO(name_of(op));
            const auto [got, want] = reduce_both(op, x, {4, 50000}, {false, true});
            REQUIRE(std::isnan(got[1]));
            REQUIRE_FALSE(std::isnan(got[0]));
            check_close(got, want);
        }
    }
    SECTION("an axis of size 0") {
        const auto [got, want] = reduce_both(ReduceOp::Sum, std::vector<float>{}, {3, 0, 2}, {false, true, false});
        REQUIRE(want == std::vector<float>(6, 0.0f));
        REQUIRE(got == want);
        const auto [got_int, want_int] =
            reduce_both(ReduceOp::Sum, std::vector<std::int64_t>{}, {0, 4}, {true, false});
        REQUIRE(got_int == std::vector<std::int64_t>(4, 0));
        REQUIRE(got_int == want_int);
    }
}

// ---- arg_reduce ------------------------------------------------------------------------------

namespace {

template <class T>
void check_arg_reduce(const std::vector<T>& x, std::int64_t outer, std::int64_t size, std::int64_t inner) {
    const Dtype dtype = std::is_same_v<T, float> ? Dtype::Float32 : Dtype::Int64;
    DeviceBuffer<T> dx(x);
    for (bool largest : {true, false}) {
        INFO("outer " << outer << ", size " << size << ", inner " << inner << (largest ? ", argmax" : ", argmin"));
        std::vector<std::int64_t> expected(static_cast<std::size_t>(outer * inner), -1);
        cpu().arg_reduce(dtype, x.data(), outer, size, inner, largest, expected.data());
        DeviceBuffer<std::int64_t> dout(expected.size(), -1);
        device().arg_reduce(dtype, dx.data(), outer, size, inner, largest, dout.data());
        REQUIRE(dout.to_host() == expected);
    }
}

}  // namespace

TEST_CASE("arg_reduce matches the CPU: first index wins ties, NaN wins", "[chapter04][kernels]") {
    const std::int64_t shapes[][3] = {{3, 7, 5}, {1, 13, 1}, {4, 1, 3}, {2, 300, 1}, {1, 9, 17}};
    std::uint64_t seed = 40;
    for (const auto& s : shapes) {
        const auto n = static_cast<std::size_t>(s[0] * s[1] * s[2]);
        const std::vector<std::int64_t> ints = random_ints(n, ++seed, -3, 3);  // many ties
        std::vector<float> floats(ints.begin(), ints.end());
        check_arg_reduce(ints, s[0], s[1], s[2]);
        check_arg_reduce(floats, s[0], s[1], s[2]);
        if (n > 4) {
            floats[n / 2] = kNaN;
            floats[n - 1] = kNaN;
            check_arg_reduce(floats, s[0], s[1], s[2]);
        }
    }
    SECTION("a NaN after the maximum is the answer") {
        const std::vector<float> x{1.0f, 9.0f, kNaN, 9.0f, kNaN};
        std::vector<std::int64_t> expected(1);
        cpu().arg_reduce(Dtype::Float32, x.data(), 1, 5, 1, true, expected.data());
        REQUIRE(expected[0] == 2);
        check_arg_reduce(x, 1, 5, 1);
    }
}
