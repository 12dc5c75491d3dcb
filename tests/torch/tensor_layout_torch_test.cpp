// Claim checked: chapter 2's matmul (1-D, 2-D, batched with broadcast batch axes), shape
// operations, slicing and indexing, cat/stack/pad, and softmax/log_softmax compute what
// LibTorch computes — forward values and the gradient of every input — on identical inputs.
// Gradients of rearrangements must put every element back where it came from (and add up
// repeated picks), which a permutation or a lost accumulation would break.
#include "torch_harness.hpp"

namespace torchref {
namespace {

// Matrix products with PyTorch's rules for 1-D operands and batch axes.
const std::vector<Op> products = {
    {"(4) @ (4) dot", {real({4}), real({4})},
     [](SgIn x) { return sg::matmul(x[0], x[1]); }, [](ThIn x) { return torch::matmul(x[0], x[1]); }},
    {"(3) @ (3, 4)", {real({3}), real({3, 4})},
     [](SgIn x) { return sg::matmul(x[0], x[1]); }, [](ThIn x) { return torch::matmul(x[0], x[1]); }},
    {"(2, 3) @ (3)", {real({2, 3}), real({3})},
     [](SgIn x) { return sg::matmul(x[0], x[1]); }, [](ThIn x) { return torch::matmul(x[0], x[1]); }},
    {"(2, 3) @ (3, 4)", {real({2, 3}), real({3, 4})},
     [](SgIn x) { return x[0].matmul(x[1]); }, [](ThIn x) { return x[0].matmul(x[1]); }},
    {"mm (5, 7) @ (7, 6)", {real({5, 7}), real({7, 6})},
     [](SgIn x) { return sg::mm(x[0], x[1]); }, [](ThIn x) { return torch::mm(x[0], x[1]); }},
    {"(2, 2, 3) @ (2, 3, 4) batched", {real({2, 2, 3}), real({2, 3, 4})},
     [](SgIn x) { return sg::matmul(x[0], x[1]); }, [](ThIn x) { return torch::matmul(x[0], x[1]); }},
    {"(2, 2, 3) @ (3, 4) shared weight", {real({2, 2, 3}), real({3, 4})},
     [](SgIn x) { return sg::matmul(x[0], x[1]); }, [](ThIn x) { return torch::matmul(x[0], x[1]); }},
    {"(2, 3) @ (3, 3, 4) shared left", {real({2, 3}), real({3, 3, 4})},
     [](SgIn x) { return sg::matmul(x[0], x[1]); }, [](ThIn x) { return torch::matmul(x[0], x[1]); }},
    {"(2, 1, 3, 4) @ (3, 4, 5) broadcast batch", {real({2, 1, 3, 4}), real({3, 4, 5})},
     [](SgIn x) { return sg::matmul(x[0], x[1]); }, [](ThIn x) { return torch::matmul(x[0], x[1]); }},
    {"(1, 2, 3) @ (4, 3, 2) batch of 1 broadcast", {real({1, 2, 3}), real({4, 3, 2})},
     [](SgIn x) { return sg::matmul(x[0], x[1]); }, [](ThIn x) { return torch::matmul(x[0], x[1]); }},
    {"(3) @ (2, 3, 4)", {real({3}), real({2, 3, 4})},
     [](SgIn x) { return sg::matmul(x[0], x[1]); }, [](ThIn x) { return torch::matmul(x[0], x[1]); }},
    {"(2, 3, 4) @ (4)", {real({2, 3, 4}), real({4})},
     [](SgIn x) { return sg::matmul(x[0], x[1]); }, [](ThIn x) { return torch::matmul(x[0], x[1]); }},
    {"x @ x^T (same input twice)", {real({3, 4})},
     [](SgIn x) { return sg::matmul(x[0], x[0].t()); }, [](ThIn x) { return torch::matmul(x[0], x[0].t()); }},
    {"(64, 33) @ (33, 17) larger", {real({64, 33}), real({33, 17})},
     [](SgIn x) { return sg::matmul(x[0], x[1]); }, [](ThIn x) { return torch::matmul(x[0], x[1]); }},
};

// Reshaping and reordering axes.
const std::vector<Op> reshapes = {
    {"reshape (2, 3, 4) -> (4, -1)", {real({2, 3, 4})},
     [](SgIn x) { return sg::reshape(x[0], {4, -1}); }, [](ThIn x) { return torch::reshape(x[0], {4, -1}); }},
    {"view (2, 3, 4) -> (6, 4)", {real({2, 3, 4})},
     [](SgIn x) { return x[0].view({6, 4}); }, [](ThIn x) { return x[0].view({6, 4}); }},
    {"flatten from 1", {real({2, 3, 4})},
     [](SgIn x) { return sg::flatten(x[0], 1); }, [](ThIn x) { return torch::flatten(x[0], 1); }},
    {"flatten 0..1", {real({2, 3, 4})},
     [](SgIn x) { return x[0].flatten(0, 1); }, [](ThIn x) { return x[0].flatten(0, 1); }},
    {"flatten all", {real({2, 3, 4})},
     [](SgIn x) { return sg::flatten(x[0]); }, [](ThIn x) { return torch::flatten(x[0]); }},
    {"transpose 0 2", {real({2, 3, 4})},
     [](SgIn x) { return sg::transpose(x[0], 0, 2); }, [](ThIn x) { return torch::transpose(x[0], 0, 2); }},
    {"transpose -1 -2", {real({2, 3, 4})},
     [](SgIn x) { return x[0].transpose(-1, -2); }, [](ThIn x) { return x[0].transpose(-1, -2); }},
    {"t()", {real({3, 5})}, [](SgIn x) { return x[0].t(); }, [](ThIn x) { return x[0].t(); }},
    {"permute {2, 0, 1}", {real({2, 3, 4})},
     [](SgIn x) { return sg::permute(x[0], {2, 0, 1}); }, [](ThIn x) { return x[0].permute({2, 0, 1}); }},
    {"permute {1, 3, 0, 2}", {real({2, 3, 4, 5})},
     [](SgIn x) { return x[0].permute({1, 3, 0, 2}); }, [](ThIn x) { return x[0].permute({1, 3, 0, 2}); }},
    {"unsqueeze 0", {real({2, 3})},
     [](SgIn x) { return sg::unsqueeze(x[0], 0); }, [](ThIn x) { return torch::unsqueeze(x[0], 0); }},
    {"unsqueeze -1", {real({2, 3})},
     [](SgIn x) { return x[0].unsqueeze(-1); }, [](ThIn x) { return x[0].unsqueeze(-1); }},
    {"squeeze all", {real({2, 1, 3, 1})},
     [](SgIn x) { return sg::squeeze(x[0]); }, [](ThIn x) { return torch::squeeze(x[0]); }},
    {"squeeze axis 1", {real({2, 1, 3, 1})},
     [](SgIn x) { return x[0].squeeze(1); }, [](ThIn x) { return x[0].squeeze(1); }},
    {"squeeze an axis of size 3 (no-op)", {real({2, 3})},
     [](SgIn x) { return x[0].squeeze(1); }, [](ThIn x) { return x[0].squeeze(1); }},
    {"expand (1, 3) -> (4, 3)", {real({1, 3})},
     [](SgIn x) { return sg::expand(x[0], {4, 3}); }, [](ThIn x) { return x[0].expand({4, 3}); }},
    {"expand (3) -> (2, 4, 3)", {real({3})},
     [](SgIn x) { return x[0].expand({2, 4, 3}); }, [](ThIn x) { return x[0].expand({2, 4, 3}); }},
    {"expand (2, 1) -> (-1, 5)", {real({2, 1})},
     [](SgIn x) { return sg::expand(x[0], {-1, 5}); }, [](ThIn x) { return x[0].expand({-1, 5}); }},
    {"broadcast_to (3, 1) -> (2, 3, 4)", {real({3, 1})},
     [](SgIn x) { return sg::broadcast_to(x[0], {2, 3, 4}); }, [](ThIn x) { return torch::broadcast_to(x[0], {2, 3, 4}); }},
};

// Slicing and indexing: gradients scatter back, repeated picks add up.
const std::vector<Op> indexing = {
    {"slice axis 1 [1:3]", {real({3, 5})},
     [](SgIn x) { return sg::slice(x[0], 1, 1, 3); }, [](ThIn x) { return x[0].slice(1, 1, 3); }},
    {"slice axis 0 [::2]", {real({5, 3})},
     [](SgIn x) { return x[0].slice(0, std::nullopt, std::nullopt, 2); },
     [](ThIn x) { return x[0].slice(0, c10::nullopt, c10::nullopt, 2); }},
    {"slice axis -1 [-3:-1]", {real({2, 3, 6})},
     [](SgIn x) { return sg::slice(x[0], -1, -3, -1); }, [](ThIn x) { return x[0].slice(-1, -3, -1); }},
    {"slice [1:100:3] (end clamped)", {real({10, 2})},
     [](SgIn x) { return sg::slice(x[0], 0, 1, 100, 3); }, [](ThIn x) { return x[0].slice(0, 1, 100, 3); }},
    {"slice [4:2] (empty)", {real({5, 2})},
     [](SgIn x) { return sg::slice(x[0], 0, 4, 2); }, [](ThIn x) { return x[0].slice(0, 4, 2); }},
    {"narrow axis 1 from 2, length 3", {real({2, 6})},
     [](SgIn x) { return sg::narrow(x[0], 1, 2, 3); }, [](ThIn x) { return x[0].narrow(1, 2, 3); }},
    {"select axis 0 index 1", {real({3, 4})},
     [](SgIn x) { return sg::select(x[0], 0, 1); }, [](ThIn x) { return x[0].select(0, 1); }},
    {"select axis 1 index -1", {real({2, 3, 4})},
     [](SgIn x) { return x[0].select(1, -1); }, [](ThIn x) { return x[0].select(1, -1); }},
    {"t[2]", {real({4, 3})}, [](SgIn x) { return x[0][2]; }, [](ThIn x) { return x[0][2]; }},
    {"index_select axis 0 [2, 0, 2] (repeats)", {real({3, 4})},
     [](SgIn x) { return sg::index_select(x[0], 0, sg_indices({2, 0, 2})); },
     [](ThIn x) { return torch::index_select(x[0], 0, long_tensor({2, 0, 2}, {3})); }},
    {"index_select axis 1 [3, 1]", {real({2, 4, 2})},
     [](SgIn x) { return x[0].index_select(1, sg_indices({3, 1})); },
     [](ThIn x) { return x[0].index_select(1, long_tensor({3, 1}, {2})); }},
    {"x[[1, -1, 1]] integer-array indexing", {real({4, 3})},
     [](SgIn x) { return sg::index(x[0], sg_indices({1, -1, 1})); },
     [](ThIn x) { return x[0].index({long_tensor({1, -1, 1}, {3})}); }},
    {"x[[[0, 2], [2, 2]]] 2-D indices", {real({3, 2})},
     [](SgIn x) { return x[0].index(sg_indices({{0, 2}, {2, 2}})); },
     [](ThIn x) { return x[0].index({long_tensor({0, 2, 2, 2}, {2, 2})}); }},
    {"gather axis 1", {real({3, 4})},
     [](SgIn x) { return sg::gather(x[0], 1, sg_indices({{0, 3}, {1, 1}, {2, 0}})); },
     [](ThIn x) { return torch::gather(x[0], 1, long_tensor({0, 3, 1, 1, 2, 0}, {3, 2})); }},
    {"gather axis 0", {real({3, 2})},
     [](SgIn x) { return x[0].gather(0, sg_indices({{2, 0}})); },
     [](ThIn x) { return x[0].gather(0, long_tensor({2, 0}, {1, 2})); }},
};

// Joining and padding.
const std::vector<Op> joins = {
    {"cat axis 0 of three", {real({2, 3}), real({1, 3}), real({3, 3})},
     [](SgIn x) { return sg::cat({x[0], x[1], x[2]}, 0); }, [](ThIn x) { return torch::cat({x[0], x[1], x[2]}, 0); }},
    {"cat axis 1", {real({2, 3}), real({2, 1})},
     [](SgIn x) { return sg::cat({x[0], x[1]}, 1); }, [](ThIn x) { return torch::cat({x[0], x[1]}, 1); }},
    {"cat axis -1 of 3-D", {real({2, 3, 1}), real({2, 3, 2})},
     [](SgIn x) { return sg::cat({x[0], x[1]}, -1); }, [](ThIn x) { return torch::cat({x[0], x[1]}, -1); }},
    {"cat of x with itself", {real({2, 3})},
     [](SgIn x) { return sg::cat({x[0], x[0]}, 0); }, [](ThIn x) { return torch::cat({x[0], x[0]}, 0); }},
    {"stack axis 0", {real({2, 3}), real({2, 3})},
     [](SgIn x) { return sg::stack({x[0], x[1]}, 0); }, [](ThIn x) { return torch::stack({x[0], x[1]}, 0); }},
    {"stack axis 1 of three", {real({2, 3}), real({2, 3}), real({2, 3})},
     [](SgIn x) { return sg::stack({x[0], x[1], x[2]}, 1); }, [](ThIn x) { return torch::stack({x[0], x[1], x[2]}, 1); }},
    {"stack axis -1", {real({2, 3}), real({2, 3})},
     [](SgIn x) { return sg::stack({x[0], x[1]}, -1); }, [](ThIn x) { return torch::stack({x[0], x[1]}, -1); }},
    {"pad last axis (1, 2)", {real({2, 3})},
     [](SgIn x) { return sg::pad(x[0], {1, 2}); }, [](ThIn x) { return torch::constant_pad_nd(x[0], {1, 2}); }},
    {"pad last two axes (1, 0, 2, 1) with 0.5", {real({2, 3, 4})},
     [](SgIn x) { return sg::pad(x[0], {1, 0, 2, 1}, 0.5); },
     [](ThIn x) { return torch::constant_pad_nd(x[0], {1, 0, 2, 1}, 0.5); }},
};

// Softmax and log-softmax, including logits large enough to overflow a naive exp.
const std::vector<Op> softmaxes = {
    {"softmax axis 1", {real({3, 5})},
     [](SgIn x) { return sg::softmax(x[0], 1); }, [](ThIn x) { return torch::softmax(x[0], 1); }},
    {"softmax axis 0", {real({3, 5})},
     [](SgIn x) { return x[0].softmax(0); }, [](ThIn x) { return x[0].softmax(0); }},
    {"softmax axis 1 of 3-D", {real({2, 3, 4})},
     [](SgIn x) { return sg::softmax(x[0], 1); }, [](ThIn x) { return torch::softmax(x[0], 1); }},
    {"softmax of large logits", {real({3, 5})},
     [](SgIn x) { return sg::softmax(x[0] * 100.0, -1); }, [](ThIn x) { return torch::softmax(x[0] * 100.0, -1); }},
    {"log_softmax axis 1", {real({3, 5})},
     [](SgIn x) { return sg::log_softmax(x[0], 1); }, [](ThIn x) { return torch::log_softmax(x[0], 1); }},
    {"log_softmax axis 0 of 3-D", {real({2, 3, 4})},
     [](SgIn x) { return x[0].log_softmax(0); }, [](ThIn x) { return x[0].log_softmax(0); }},
    {"log_softmax of large logits", {real({3, 5})},
     [](SgIn x) { return sg::log_softmax(x[0] * 100.0, -1); }, [](ThIn x) { return torch::log_softmax(x[0] * 100.0, -1); }},
    {"cross-entropy from log_softmax and gather", {real({4, 5})},
     [](SgIn x) { return -sg::gather(sg::log_softmax(x[0], 1), 1, sg_indices({{1}, {0}, {4}, {1}})).mean(); },
     [](ThIn x) {
         return -torch::gather(torch::log_softmax(x[0], 1), 1, long_tensor({1, 0, 4, 1}, {4, 1})).mean();
     }},
};

TEST_CASE("matmul with 1-D, 2-D and batched operands matches LibTorch", "[chapter02][torch]") {
    check_all(products);
}

TEST_CASE("reshape, flatten, transpose, permute, (un)squeeze and expand match LibTorch", "[chapter02][torch]") {
    check_all(reshapes);
}

TEST_CASE("slicing, select, index_select, integer-array indexing and gather match LibTorch", "[chapter02][torch]") {
    check_all(indexing);
}

TEST_CASE("cat, stack and pad match LibTorch", "[chapter02][torch]") {
    check_all(joins);
}

TEST_CASE("softmax and log_softmax match LibTorch", "[chapter02][torch]") {
    check_all(softmaxes);
}

}  // namespace
}  // namespace torchref
