#pragma once
/// @file torch_harness.hpp
/// @brief The table-driven runner of the LibTorch reference tests.
///
/// An `Op` names one operation and how to call it in stepgrad and in LibTorch. The runner
/// draws the inputs once (seeded), copies the same float32 numbers into both libraries, runs
/// both forwards, compares the outputs (shape and values), back-propagates the same random
/// upstream gradient through both, and compares the gradient of every differentiable input.
/// Tolerances are float32 rounding only (kRelative, kAbsolute), so a wrong gradient fails.

#include "../common/random_inputs.hpp"

#include <stepgrad/shared/random.hpp>
#include <stepgrad/tensor.hpp>

#include <torch/torch.h>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

namespace torchref {

namespace sg = stepgrad;
using namespace stepgrad::testing;

/// Relative tolerance, and absolute tolerance as a fraction of the largest expected element.
constexpr double kRelative = 1e-5;
constexpr double kAbsolute = 1e-6;


using SgIn = const std::vector<sg::Tensor>&;
using ThIn = const std::vector<torch::Tensor>&;

/// One operation: its inputs and the same call in both libraries.
struct Op {
    std::string name;
    std::vector<Input> inputs;
    std::function<sg::Tensor(SgIn)> stepgrad;
    std::function<torch::Tensor(ThIn)> torch;
};

/// An Int64 index tensor for stepgrad from braces.
inline sg::Tensor sg_indices(const sg::TensorData& data) {
    return sg::tensor(data, sg::TensorOptions().dtype(sg::Dtype::Int64));
}

/// An index tensor for LibTorch (int64) from a list.
inline torch::Tensor long_tensor(std::vector<std::int64_t> values, std::vector<std::int64_t> shape) {
    return torch::tensor(values, torch::kLong).reshape(shape);
}

inline torch::Tensor to_torch(const std::vector<float>& data, const sg::Shape& shape) {
    return torch::from_blob(const_cast<float*>(data.data()), shape, torch::kFloat).clone();
}

inline std::vector<double> from_torch(const torch::Tensor& t) {
    const torch::Tensor flat = t.detach().to(torch::kDouble).contiguous().reshape({-1});
    return std::vector<double>(flat.data_ptr<double>(), flat.data_ptr<double>() + flat.numel());
}

inline std::vector<double> from_stepgrad(const sg::Tensor& t) {
    const std::vector<float> v = t.to_vector();
    return std::vector<double>(v.begin(), v.end());
}

inline std::string shape_text(const sg::Shape& shape) {
    std::ostringstream out;
    out << "(";
    for (std::size_t i = 0; i < shape.size(); ++i) out << (i ? ", " : "") << shape[i];
    out << ")";
    return out.str();
}

/// "" when stepgrad's numbers match LibTorch's, else the first element that does not:
/// |actual - expected| <= kRelative |expected| + kAbsolute max(1, max |expected|).
inline std::string mismatch(const std::string& what, const std::vector<double>& actual,
                            const std::vector<double>& expected) {
    std::ostringstream out;
    out.precision(9);
    if (actual.size() != expected.size()) {
        out << what << ": stepgrad has " << actual.size() << " elements, LibTorch " << expected.size();
        return out.str();
    }
    double scale = 1.0;
    for (double e : expected) scale = std::max(scale, std::abs(e));
    for (std::size_t i = 0; i < actual.size(); ++i) {
        const bool both_nan = std::isnan(actual[i]) && std::isnan(expected[i]);
        const double allowed = kRelative * std::abs(expected[i]) + kAbsolute * scale;
        if (!both_nan && !(std::abs(actual[i] - expected[i]) <= allowed)) {
            out << what << "[" << i << "]: stepgrad " << actual[i] << ", LibTorch " << expected[i] << " (allowed "
                << allowed << ")";
            return out.str();
        }
    }
    return "";
}

/// Runs one op in both libraries on the same inputs and upstream gradient; checks everything.
inline void check_against_torch(const Op& op, std::uint64_t seed = 7) {
    torch::set_num_threads(1);  // two cores shared with OpenBLAS: never oversubscribe
    sg::Generator gen(seed);
    std::vector<std::vector<float>> data;
    for (const Input& input : op.inputs) data.push_back(draw(input, gen));

    std::vector<sg::Tensor> sg_in;
    std::vector<torch::Tensor> th_in;
    for (std::size_t i = 0; i < op.inputs.size(); ++i) {
        const bool differentiable = op.inputs[i].domain != Domain::Mask;
        sg_in.push_back(sg::from_vector(data[i], op.inputs[i].shape, sg::TensorOptions().requires_grad(differentiable)));
        torch::Tensor t = to_torch(data[i], op.inputs[i].shape);
        th_in.push_back(differentiable ? t.requires_grad_() : t);
    }

    const sg::Tensor sg_out = op.stepgrad(sg_in);
    const torch::Tensor th_out = op.torch(th_in);
    const sg::Shape th_shape(th_out.sizes().begin(), th_out.sizes().end());
    INFO("output shape: stepgrad " << shape_text(sg_out.shape()) << ", LibTorch " << shape_text(th_shape));
    REQUIRE(sg_out.shape() == th_shape);
    CHECK(mismatch("output", from_stepgrad(sg_out), from_torch(th_out)) == "");
    REQUIRE(sg_out.requires_grad() == th_out.requires_grad());
    if (!th_out.requires_grad()) return;  // comparisons, argmax: nothing to differentiate

    std::vector<float> upstream;
    for (std::int64_t i = 0; i < sg::numel_of(th_shape); ++i) upstream.push_back(static_cast<float>(gen.normal()));
    sg_out.backward(sg::from_vector(upstream, th_shape));
    th_out.backward(to_torch(upstream, th_shape));
    for (std::size_t i = 0; i < op.inputs.size(); ++i) {
        if (op.inputs[i].domain == Domain::Mask) continue;
        const sg::Tensor sg_grad = sg_in[i].grad();
        const torch::Tensor th_grad = th_in[i].grad();
        const std::vector<double> zeros(static_cast<std::size_t>(sg::numel_of(op.inputs[i].shape)), 0.0);
        if (sg_grad.defined()) CHECK(sg_grad.shape() == op.inputs[i].shape);
        CHECK(mismatch("grad of input " + std::to_string(i), sg_grad.defined() ? from_stepgrad(sg_grad) : zeros,
                       th_grad.defined() ? from_torch(th_grad) : zeros) == "");
    }
}

/// One Catch2 section per op, so every op reports on its own and a throw stops only that op.
inline void check_all(const std::vector<Op>& ops) {
    for (const Op& op : ops) {
        DYNAMIC_SECTION(op.name) {
            for (std::uint64_t seed : {7u, 8u}) {  // two draws of inputs and upstream gradient
                INFO("seed " << seed);
                check_against_torch(op, seed);
            }
        }
    }
}

}  // namespace torchref
