// Chapter 2 at scale: graphs of a million tensor operations back-propagate on a thread with a
// 256 KiB stack (so neither backward() nor freeing recurses once per node), their gradients are
// exact, every node and every buffer is freed when the last tensor goes, and the resident memory
// they need stays within a bound stated per node.
#include <stepgrad/shared/process_memory.hpp>

#include <cstddef>
#include <memory>
#include <utility>
#include <vector>

#include "test_helpers.hpp"

using namespace stepgrad;
namespace memory = stepgrad::process_memory;

namespace {

constexpr std::size_t kSmallStack = 256 * 1024;

// What one node may cost at the peak of backward(), on glibc (16-byte chunk headers, 32-byte
// smallest chunk). The node: make_shared's block (the Node, its control block and a header),
// its inputs' buffer (up to two pointers: a 48-byte chunk) and its shape's (a 32-byte chunk).
// backward(): its slot in the topological order (8 bytes, doubled by vector growth), in the
// visited set (a 32-byte chunk and a bucket) and on the depth-first stack (doubled by growth).
// And the test's own weak_ptr to it. Tensors' buffers do not count: the ops used save none.
constexpr std::size_t kNodeBytes = sizeof(Node) + 32 + 48 + 32;
constexpr std::size_t kBackwardBytes =
    2 * sizeof(Node*) + (32 + sizeof(void*)) + 2 * sizeof(std::pair<Node*, std::size_t>);
constexpr std::size_t kBytesPerNode = kNodeBytes + kBackwardBytes + sizeof(std::weak_ptr<Node>);
// What an add of two tensors costs on top: its rule captures both shapes, too big for
// std::function's own buffer, so the closure (two vectors: a 64-byte chunk) and both shapes'
// buffers (32-byte chunks) are allocated. Adding a number, or multiplying by one, captures at
// most the number: nothing is allocated.
constexpr std::size_t kBytesPerTensorAdd = 64 + 2 * 32;
// What the process may gain besides: vector and hash-table growth rounding, the thread.
constexpr std::size_t kSlackBytes = std::size_t{32} << 20;

// What a run measured on its thread; checked on the test's thread (Catch2 v2 is not thread-safe).
struct Measured {
    std::size_t nodes = 0;          // nodes the test watched (the graph's, leaves included)
    std::size_t nodes_left = 0;     // of them, still alive after the graph's tensors are gone
    std::size_t bytes_in_use_before = 0;  // the CPU allocator's bytes in use before and after
    std::size_t bytes_in_use_after = 0;
    std::size_t peak_growth = 0;    // peak resident bytes above the start (0 if unmeasurable)
    bool peak_was_reset = false;    // whether the kernel let the peak start at this run
};

// Remembers every node of a graph as it is built (weakly: it keeps none alive), leaves included.
class NodeWatch {
public:
    explicit NodeWatch(std::size_t expected) { watched_.reserve(expected); }
    void add(const Tensor& t) { watched_.push_back(t.impl()->node); }  // call once per new tensor
    [[nodiscard]] std::size_t size() const { return watched_.size(); }
    [[nodiscard]] std::size_t alive() const {
        std::size_t count = 0;
        for (const std::weak_ptr<Node>& node : watched_) count += node.expired() ? 0 : 1;
        return count;
    }

private:
    std::vector<std::weak_ptr<Node>> watched_;
};

// Runs `build_and_backward(watch)` on a small stack and measures what is left afterwards.
template <typename Body>
Measured measure_on_small_stack(std::size_t expected_nodes, Body build_and_backward) {
    Measured measured;
    memory::run_with_small_stack(kSmallStack, [&] {
        NodeWatch watch(expected_nodes);
        measured.bytes_in_use_before = memory_stats(Device::CPU).bytes_in_use;
        memory::trim_heap();  // what earlier tests freed must not hide this one's growth
        measured.peak_was_reset = memory::reset_peak_resident();
        const std::size_t start = memory::resident_bytes();
        build_and_backward(watch);  // its tensors are gone when it returns
        const std::size_t peak = memory::peak_resident_bytes();
        measured.peak_growth = peak > start ? peak - start : 0;
        measured.nodes = watch.size();
        measured.nodes_left = watch.alive();
        measured.bytes_in_use_after = memory_stats(Device::CPU).bytes_in_use;
    });
    return measured;
}

// `extra_bytes`: what the graph's ops allocate on top of kBytesPerNode (kBytesPerTensorAdd each).
void check_memory(const Measured& measured, std::size_t expected_nodes, std::size_t extra_bytes = 0) {
    CHECK(measured.nodes == expected_nodes);
    CHECK(measured.nodes_left == 0);
    CHECK(measured.bytes_in_use_after == measured.bytes_in_use_before);
#if !defined(__SANITIZE_ADDRESS__)  // ASan's shadow memory and quarantine are not the program's
    if (measured.peak_was_reset) {
        INFO("peak growth " << measured.peak_growth << " bytes for " << expected_nodes << " nodes; bound "
                            << kBytesPerNode << " bytes per node + " << extra_bytes << " + " << kSlackBytes
                            << " bytes");
        CHECK(measured.peak_growth <= expected_nodes * kBytesPerNode + extra_bytes + kSlackBytes);
    } else {
        WARN("cannot reset the peak resident memory here (/proc/self/clear_refs): bound not checked");
    }
#else
    (void)extra_bytes;
#endif
}

}  // namespace

TEST_CASE("a chain of a million tensor ops back-propagates on a 256 KiB stack with exact gradients and frees "
          "every node and buffer",
          "[chapter02][large]") {
    constexpr int kLinks = 1'000'000;
    std::vector<float> y_values;
    std::vector<float> x_grad;
    std::vector<float> expected_y = {0.5f, -2.0f};
    float expected_grad = 1.0f;
    const Measured measured = measure_on_small_stack(kLinks + 1, [&](NodeWatch& watch) {
        Tensor x = tensor({0.5, -2.0}).requires_grad_();
        watch.add(x);
        Tensor y = x;
        for (int i = 0; i < kLinks; ++i) {  // *2, *0.5, +1, ...: every step exact in float
            switch (i % 3) {
                case 0: y = y * 2.0; expected_grad *= 2.0f; for (float& v : expected_y) v *= 2.0f; break;
                case 1: y = y * 0.5; expected_grad *= 0.5f; for (float& v : expected_y) v *= 0.5f; break;
                default: y = y + 1.0; for (float& v : expected_y) v += 1.0f; break;
            }
            watch.add(y);
        }
        Tensor total = y.sum();
        watch.add(total);
        total.backward();
        y_values = y.to_vector();
        x_grad = x.grad().to_vector();
    });
    CHECK(y_values == expected_y);
    CHECK(x_grad == std::vector<float>{expected_grad, expected_grad});
    check_memory(measured, kLinks + 2);  // the leaf, a node per link, the sum
}

TEST_CASE("a graph 150 tensors wide and 3333 deep whose nodes each feed two others back-propagates and frees",
          "[chapter02][large]") {
    // Layer k+1: h[j] = (h[j] + h[(j+1) % width]) * 0.5, two nodes each (add, mul). Every node
    // feeds two nodes of the next layer. The output is the sum of every element of the last
    // layer; its derivative is 1 through every layer (each node passes half its gradient to each
    // of two inputs, each input gets two halves), so every input's gradient is exactly 1.
    constexpr int kWidth = 150;
    constexpr int kDepth = 3333;
    constexpr std::size_t kNodes = kWidth + 2 * kWidth * kDepth + (kWidth - 1) + 1;  // leaves, layers, adds, sum
    std::vector<std::vector<float>> input_grads;
    double output = 0.0;
    double input_sum = 0.0;
    const Measured measured = measure_on_small_stack(kNodes, [&](NodeWatch& watch) {
        std::vector<Tensor> inputs;
        for (int j = 0; j < kWidth; ++j) {
            inputs.push_back(tensor({j % 5 - 2.0, j % 3 + 0.25, -1.0, 0.5}).requires_grad_());
            watch.add(inputs.back());
        }
        std::vector<Tensor> layer = inputs;
        for (int k = 0; k < kDepth; ++k) {
            std::vector<Tensor> next;
            next.reserve(kWidth);
            for (int j = 0; j < kWidth; ++j) {
                Tensor pair_sum = layer[j] + layer[(j + 1) % kWidth];
                watch.add(pair_sum);
                next.push_back(pair_sum * 0.5);
                watch.add(next.back());
            }
            layer = std::move(next);
        }
        Tensor total = layer[0];
        for (int j = 1; j < kWidth; ++j) {
            total = total + layer[j];
            watch.add(total);
        }
        layer.clear();
        Tensor output_tensor = total.sum();
        watch.add(output_tensor);
        output_tensor.backward();
        output = output_tensor.item();
        for (const Tensor& input : inputs) {
            input_grads.push_back(input.grad().to_vector());
            input_sum += input.sum().item();
        }
    });
    REQUIRE(input_grads.size() == kWidth);
    for (const std::vector<float>& grad : input_grads) CHECK(grad == std::vector<float>{1, 1, 1, 1});
    CHECK(output == Approx(input_sum).epsilon(1e-4));  // averaging keeps the sum (up to float rounding)
    check_memory(measured, kNodes, (kWidth * kDepth + kWidth - 1) * kBytesPerTensorAdd);
}
