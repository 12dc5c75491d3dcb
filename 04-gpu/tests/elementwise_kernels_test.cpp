// Chapter 4's elementwise kernels (fill, cast, unary, binary with broadcasting, where, matmul)
// against the CPU backend, on the same inputs. Run by the host build on every machine and by
// the real GPU build where there is a GPU.
#include "device_buffers.hpp"

#include <limits>

using namespace stepgrad;
using namespace stepgrad::gpu_test;

namespace {

// Inputs with the awkward values every map must get right: zero, negatives, NaN, ±Inf.
std::vector<float> awkward_floats() {
    std::vector<float> values = random_floats(61, 3, -4.0f, 4.0f);
    const float inf = std::numeric_limits<float>::infinity();
    values.insert(values.end(), {0.0f, -0.0f, 1.0f, -1.0f, 2.0f, 0.5f, inf, -inf,
                                 std::numeric_limits<float>::quiet_NaN(), 1e-30f, 30.0f, -30.0f});
    return values;
}

std::vector<float> run_unary(Backend& backend, UnaryOp op, const std::vector<float>& x, double alpha, double beta) {
    if (&backend == &cpu()) {
        std::vector<float> out(x.size());
        backend.unary(op, Dtype::Float32, x.data(), out.data(), x.size(), alpha, beta);
        return out;
    }
    DeviceBuffer<float> in(x), out(x.size());
    backend.unary(op, Dtype::Float32, in.data(), out.data(), x.size(), alpha, beta);
    return out.to_host();
}

}  // namespace

TEST_CASE("every Float32 unary op matches the CPU, NaN and infinities included", "[chapter04][kernels]") {
    const std::vector<float> x = awkward_floats();
    const struct { UnaryOp op; double alpha, beta; const char* name; } cases[] = {
        {UnaryOp::Neg, 0, 0, "neg"}, {UnaryOp::Exp, 0, 0, "exp"}, {UnaryOp::Log, 0, 0, "log"},
        {UnaryOp::Sqrt, 0, 0, "sqrt"}, {UnaryOp::Abs, 0, 0, "abs"}, {UnaryOp::Sign, 0, 0, "sign"},
        {UnaryOp::Relu, 0, 0, "relu"}, {UnaryOp::LeakyRelu, 0.01, 0, "leaky_relu"},
        {UnaryOp::Sigmoid, 0, 0, "sigmoid"}, {UnaryOp::Tanh, 0, 0, "tanh"}, {UnaryOp::Gelu, 0, 0, "gelu"},
        {UnaryOp::GeluGrad, 0, 0, "gelu_grad"}, {UnaryOp::Clamp, -1.5, 0.25, "clamp"},
        {UnaryOp::PowScalar, 2.0, 0, "pow 2"}, {UnaryOp::PowScalar, 0.5, 0, "pow 0.5"},
        {UnaryOp::PowScalar, -1.5, 0, "pow -1.5"}, {UnaryOp::AddScalar, 0.75, 0, "add"},
        {UnaryOp::MulScalar, -3.0, 0, "mul"}, {UnaryOp::RDivScalar, 2.0, 0, "rdiv"},
        {UnaryOp::RPowScalar, 1.7, 0, "rpow"}, {UnaryOp::GtScalar, 0.5, 0, "gt"},
        {UnaryOp::GeScalar, 0.5, 0, "ge"}, {UnaryOp::LtScalar, 0.5, 0, "lt"}, {UnaryOp::LeScalar, 1.0, 0, "le"},
        {UnaryOp::EqScalar, 1.0, 0, "eq"}, {UnaryOp::NeScalar, 1.0, 0, "ne"},
        {UnaryOp::IsNotFinite, 0, 0, "isnotfinite"},
    };
    for (const auto& c : cases) {
        INFO("op " << c.name);
        // 4 ulp-ish: the GPU's expf/tanhf/erff may differ from glibc's in the last bits.
        check_close(run_unary(device(), c.op, x, c.alpha, c.beta), run_unary(cpu(), c.op, x, c.alpha, c.beta), 2e-6);
    }
}

TEST_CASE("Int64 unary ops are exact past 2^53 and comparisons give a Float32 mask", "[chapter04][kernels]") {
    const std::vector<std::int64_t> x{-5, 0, 7, (std::int64_t{1} << 40) + 3, -(std::int64_t{1} << 60) - 1};
    DeviceBuffer<std::int64_t> in(x), out(x.size());
    for (UnaryOp op : {UnaryOp::Neg, UnaryOp::Abs, UnaryOp::Sign, UnaryOp::AddScalar, UnaryOp::MulScalar}) {
        std::vector<std::int64_t> expected(x.size());
        cpu().unary(op, Dtype::Int64, x.data(), expected.data(), x.size(), 3.0, 0.0);
        device().unary(op, Dtype::Int64, in.data(), out.data(), x.size(), 3.0, 0.0);
        CHECK(out.to_host() == expected);
    }
    DeviceBuffer<float> mask(x.size());
    device().unary(UnaryOp::GtScalar, Dtype::Int64, in.data(), mask.data(), x.size(), 0.0, 0.0);
    CHECK(mask.to_host() == std::vector<float>{0, 0, 1, 1, 0});
    CHECK_THROWS_AS(device().unary(UnaryOp::Exp, Dtype::Int64, in.data(), out.data(), x.size(), 0, 0),
                    std::invalid_argument);
}

TEST_CASE("binary ops broadcast like the CPU over every layout", "[chapter04][kernels][ex-04.1]") {
    const struct { Shape a, b, out; } layouts[] = {
        {{4, 5}, {4, 5}, {4, 5}},                      // equal shapes: one flat loop
        {{4, 5}, {}, {4, 5}},                          // a scalar
        {{3, 1, 5}, {4, 1}, {3, 4, 5}},                // both stretched
        {{2, 1, 3, 1, 2}, {1, 4, 1, 5, 1}, {2, 4, 3, 5, 2}},
        {{1}, {6, 1, 1}, {6, 1, 1}},
        {{0, 3}, {3}, {0, 3}},                         // empty
    };
    const BinaryOp ops[] = {BinaryOp::Add, BinaryOp::Sub, BinaryOp::Mul, BinaryOp::Div, BinaryOp::Pow,
                            BinaryOp::Maximum, BinaryOp::Minimum, BinaryOp::Gt, BinaryOp::Ge, BinaryOp::Lt,
                            BinaryOp::Le, BinaryOp::Eq, BinaryOp::Ne, BinaryOp::ReluBackward,
                            BinaryOp::SigmoidBackward, BinaryOp::TanhBackward};
    for (const auto& layout : layouts) {
        auto a = random_floats(static_cast<std::size_t>(numel_of(layout.a)), 5, 0.1f, 3.0f);
        auto b = random_floats(static_cast<std::size_t>(numel_of(layout.b)), 6, -1.0f, 2.0f);
        if (!a.empty()) a[0] = std::numeric_limits<float>::quiet_NaN();  // NaN wins maximum/minimum
        if (b.size() > 1) b[1] = a.size() > 1 ? a[1] : 0.0f;              // a tie for the comparisons
        const auto count = static_cast<std::size_t>(numel_of(layout.out));
        for (BinaryOp op : ops) {
            INFO("op " << static_cast<int>(op) << ", out shape " << shape_to_string(layout.out));
            std::vector<float> expected(count);
            cpu().binary(op, Dtype::Float32, a.data(), layout.a, b.data(), layout.b, expected.data(), layout.out);
            DeviceBuffer<float> da(a), db(b), out(count);
            device().binary(op, Dtype::Float32, da.data(), layout.a, db.data(), layout.b, out.data(), layout.out);
            check_close(out.to_host(), expected, 2e-6);
        }
    }
}

TEST_CASE("binary ops on Int64 are exact and refuse the float-only ops", "[chapter04][kernels][ex-04.1]") {
    const Shape as{3, 1}, bs{4}, os{3, 4};
    const std::vector<std::int64_t> a{1, -(std::int64_t{1} << 40), 7}, b{7, 0, -2, std::int64_t{1} << 20};
    for (BinaryOp op : {BinaryOp::Add, BinaryOp::Sub, BinaryOp::Mul, BinaryOp::Maximum, BinaryOp::Minimum}) {
        std::vector<std::int64_t> expected(12);
        cpu().binary(op, Dtype::Int64, a.data(), as, b.data(), bs, expected.data(), os);
        DeviceBuffer<std::int64_t> da(a), db(b), out(12);
        device().binary(op, Dtype::Int64, da.data(), as, db.data(), bs, out.data(), os);
        CHECK(out.to_host() == expected);
    }
    DeviceBuffer<std::int64_t> da(a), db(b), out(12);
    DeviceBuffer<float> mask(12);
    device().binary(BinaryOp::Eq, Dtype::Int64, da.data(), as, db.data(), bs, mask.data(), os);
    CHECK(mask.to_host() == std::vector<float>{0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0});
    CHECK_THROWS_AS(device().binary(BinaryOp::Div, Dtype::Int64, da.data(), as, db.data(), bs, out.data(), os),
                    std::invalid_argument);
}

TEST_CASE("an in-place binary update (out is a) reads each element before writing it",
          "[chapter04][kernels][ex-04.1]") {
    const std::vector<float> a = random_floats(24, 8), bias = random_floats(4, 9);
    std::vector<float> expected = a;
    cpu().binary(BinaryOp::Add, Dtype::Float32, expected.data(), {2, 3, 4}, bias.data(), {4}, expected.data(), {2, 3, 4});
    DeviceBuffer<float> da(a), db(bias);
    device().binary(BinaryOp::Add, Dtype::Float32, da.data(), {2, 3, 4}, db.data(), {4}, da.data(), {2, 3, 4});
    check_close(da.to_host(), expected, 0.0);
}

TEST_CASE("where, fill and cast match the CPU", "[chapter04][kernels]") {
    const Shape cs{3, 1}, as{1, 4}, bs{}, os{3, 4};
    const std::vector<float> cond{1, 0, 2}, a = random_floats(4, 10), b{-9.0f};
    std::vector<float> expected(12);
    cpu().where(cond.data(), cs, a.data(), as, b.data(), bs, expected.data(), os);
    DeviceBuffer<float> dc(cond), da(a), db(b), out(12);
    device().where(dc.data(), cs, da.data(), as, db.data(), bs, out.data(), os);
    check_close(out.to_host(), expected, 0.0);

    device().fill(Dtype::Float32, out.data(), 12, 2.5);
    CHECK(out.to_host() == std::vector<float>(12, 2.5f));
    DeviceBuffer<std::int64_t> ints(5);
    device().fill(Dtype::Int64, ints.data(), 5, -7.0);
    CHECK(ints.to_host() == std::vector<std::int64_t>(5, -7));

    const std::vector<float> floats{-2.7f, -0.5f, 0.0f, 3.9f, 16777217.0f};
    DeviceBuffer<float> df(floats);
    device().cast(Dtype::Float32, df.data(), Dtype::Int64, ints.data(), 5);
    CHECK(ints.to_host() == std::vector<std::int64_t>{-2, 0, 0, 3, 16777216});  // toward 0, as C++ and PyTorch
    const std::vector<std::int64_t> big{(std::int64_t{1} << 24) + 1, -3};
    DeviceBuffer<std::int64_t> dbig(big);
    DeviceBuffer<float> back(2);
    device().cast(Dtype::Int64, dbig.data(), Dtype::Float32, back.data(), 2);
    CHECK(back.to_host() == std::vector<float>{16777216.0f, -3.0f});
}

TEST_CASE("matmul matches the CPU for every transpose, batch stride and an empty inner size",
          "[chapter04][kernels]") {
    const std::int64_t batch = 3, m = 5, n = 7, k = 4;
    const auto a = random_floats(static_cast<std::size_t>(batch * m * k), 11);
    const auto b = random_floats(static_cast<std::size_t>(batch * k * n), 12);
    DeviceBuffer<float> da(a), db(b), dc(static_cast<std::size_t>(batch * m * n));
    for (bool ta : {false, true}) {
        for (bool tb : {false, true}) {
            for (std::int64_t b_stride : {k * n, std::int64_t{0}}) {  // 0: one matrix for every batch entry
                INFO("transpose_a " << ta << ", transpose_b " << tb << ", b batch stride " << b_stride);
                std::vector<float> expected(static_cast<std::size_t>(batch * m * n));
                cpu().matmul(a.data(), b.data(), expected.data(), batch, m, n, k, ta, tb, m * k, b_stride);
                device().matmul(da.data(), db.data(), dc.data(), batch, m, n, k, ta, tb, m * k, b_stride);
                check_close(dc.to_host(), expected, 1e-5);
            }
        }
    }
    device().fill(Dtype::Float32, dc.data(), static_cast<std::size_t>(batch * m * n), 5.0);
    device().matmul(da.data(), db.data(), dc.data(), batch, m, n, 0, false, false, 0, 0);  // an empty sum
    CHECK(dc.to_host() == std::vector<float>(static_cast<std::size_t>(batch * m * n), 0.0f));
}
