// Chapter 1 at scale: graphs of a million nodes back-propagate on a thread with a 256 KiB stack
// (so nothing recurses once per node), their gradients are exact, every node is freed when the
// last handle goes, and the resident memory they need stays within a bound stated per node.
#include <catch2/catch.hpp>

#include <stepgrad/shared/process_memory.hpp>

#include <cstddef>
#include <utility>
#include <vector>

#include "stepgrad/scalar/value.hpp"

using stepgrad::scalar::Value;
using stepgrad::scalar::detail::live_nodes;
using stepgrad::scalar::detail::Node;
namespace memory = stepgrad::process_memory;

namespace {

constexpr std::size_t kSmallStack = 256 * 1024;

// What one node may cost at the peak of backward(): the node itself and the allocator's header
// (16 bytes on glibc), a slot in the topological order (8 bytes, doubled by vector growth), and
// up to two entries of the depth-first stack (16 bytes each, doubled by growth).
constexpr std::size_t kBytesPerNode = sizeof(Node) + 16 + 2 * sizeof(Node*) + 2 * 2 * sizeof(std::pair<Node*, bool>);
// What the process may gain besides: vector growth rounding, the thread, the free list's index.
constexpr std::size_t kSlackBytes = std::size_t{16} << 20;

// What a run measured on its thread; checked on the test's thread (Catch2 v2 is not thread-safe).
struct Measured {
    std::size_t nodes_built = 0;       // live nodes just before backward()
    std::size_t nodes_left = 0;        // live nodes after the graph's handles are gone
    std::size_t peak_growth = 0;       // peak resident bytes above the start (0 if unmeasurable)
    bool peak_was_reset = false;       // whether the kernel let the peak start at this run
};

// Runs `build_and_backward` (which returns how many nodes it built) on a small stack, measuring
// the live nodes left afterwards and the growth of the peak resident memory.
template <typename Body>
Measured measure_on_small_stack(Body build_and_backward) {
    Measured measured;
    memory::run_with_small_stack(kSmallStack, [&] {
        const std::size_t before_nodes = live_nodes();  // the count is per thread: a fresh one is 0
        memory::trim_heap();  // what earlier tests freed must not hide this one's growth
        measured.peak_was_reset = memory::reset_peak_resident();
        const std::size_t start = memory::resident_bytes();
        measured.nodes_built = build_and_backward() - before_nodes;
        const std::size_t peak = memory::peak_resident_bytes();
        measured.peak_growth = peak > start ? peak - start : 0;
        measured.nodes_left = live_nodes() - before_nodes;
    });
    return measured;
}

void check_memory(const Measured& measured, std::size_t expected_nodes) {
    CHECK(measured.nodes_built == expected_nodes);
    CHECK(measured.nodes_left == 0);
#if !defined(__SANITIZE_ADDRESS__)  // ASan's shadow memory and quarantine are not the program's
    if (measured.peak_was_reset) {
        INFO("peak growth " << measured.peak_growth << " bytes for " << expected_nodes << " nodes; bound "
                            << kBytesPerNode << " bytes per node + " << kSlackBytes << " bytes");
        CHECK(measured.peak_growth <= expected_nodes * kBytesPerNode + kSlackBytes);
    } else {
        WARN("cannot reset the peak resident memory here (/proc/self/clear_refs): bound not checked");
    }
#endif
}

}  // namespace

TEST_CASE("a chain of a million sums back-propagates on a 256 KiB stack with exact gradients and frees every node",
          "[chapter01][large]") {
    constexpr int kLinks = 1'000'000;
    double y_data = 0.0;
    double x_grad = 0.0;
    const Measured measured = measure_on_small_stack([&] {
        Value x(0.5);
        Value y = x;
        for (int i = 0; i < kLinks; ++i) y = y + x;  // y = (kLinks + 1) x: one new node per link
        const std::size_t built = live_nodes();
        y.backward();
        y_data = y.data();
        x_grad = x.grad();
        return built;
    });  // dropping y and x freed the chain (without recursion: the stack is 256 KiB)
    CHECK(y_data == 0.5 * (kLinks + 1));
    CHECK(x_grad == kLinks + 1.0);  // every link adds one path of derivative 1: exact in double
    check_memory(measured, kLinks + 1);
}

TEST_CASE("a graph 1000 wide and 333 deep whose nodes each feed two others back-propagates and frees",
          "[chapter01][large]") {
    // Layer k+1: h[j] = (h[j] + h[(j+1) % width]) * 0.5, three nodes each (+, the constant, *).
    // Every node feeds two nodes of the next layer, so the search meets most nodes twice. The
    // output is the sum of the last layer; its derivative is 1 through every layer (each node
    // passes half its gradient to each of two inputs, each input gets two halves): exactly 1.
    constexpr int kWidth = 1000;
    constexpr int kDepth = 333;
    std::vector<double> input_grads;
    double output = 0.0;
    double input_sum = 0.0;
    const Measured measured = measure_on_small_stack([&] {
        std::vector<Value> inputs;
        for (int j = 0; j < kWidth; ++j) inputs.emplace_back(static_cast<double>(j % 7) - 3.0);
        std::vector<Value> layer = inputs;
        for (int k = 0; k < kDepth; ++k) {
            std::vector<Value> next;
            next.reserve(kWidth);
            for (int j = 0; j < kWidth; ++j) next.push_back((layer[j] + layer[(j + 1) % kWidth]) * 0.5);
            layer = std::move(next);
        }
        Value total = layer[0];
        for (int j = 1; j < kWidth; ++j) total = total + layer[j];
        const std::size_t built = live_nodes();
        total.backward();
        output = total.data();
        for (const Value& input : inputs) {
            input_grads.push_back(input.grad());
            input_sum += input.data();
        }
        return built;
    });
    REQUIRE(input_grads.size() == kWidth);
    for (double grad : input_grads) CHECK(grad == 1.0);
    CHECK(output == Approx(input_sum).margin(1e-9));  // averaging keeps the sum
    check_memory(measured, kWidth + 3 * kWidth * kDepth + (kWidth - 1));
}
