// Chapter 1's claims about backward(): a topological order, gradients that accumulate, deep
// graphs without recursion, and graphs freed when their last handle goes.
#include <catch2/catch.hpp>

#include <algorithm>
#include <vector>

#include "stepgrad/scalar/value.hpp"

using stepgrad::scalar::Value;
using stepgrad::scalar::detail::Node;
using stepgrad::scalar::detail::topological_order;

namespace {

// Position of each node in the order, checking each appears exactly once.
std::size_t position(const std::vector<Node*>& order, const Value& v) {
    auto it = std::find(order.begin(), order.end(), v.node());
    REQUIRE(it != order.end());
    REQUIRE(std::count(order.begin(), order.end(), v.node()) == 1);
    return static_cast<std::size_t>(it - order.begin());
}

}  // namespace

TEST_CASE("topological order: every node once, parents before children", "[chapter01][ex-01.2]") {
    // A diamond: b and c both read a; d reads b and c; e reads d and a again.
    Value a(2.0);
    Value b = a * 3.0;
    Value c = a + 1.0;
    Value d = b * c;
    Value e = d + a;
    const std::vector<Node*> order = topological_order(e.node());
    CHECK(order.size() == 7);  // a, b, c, d, e and the two constants 3 and 1
    CHECK(position(order, a) < position(order, b));
    CHECK(position(order, a) < position(order, c));
    CHECK(position(order, b) < position(order, d));
    CHECK(position(order, c) < position(order, d));
    CHECK(position(order, d) < position(order, e));
    CHECK(order.back() == e.node());
}

TEST_CASE("topological order of a leaf is the leaf", "[chapter01][ex-01.2]") {
    Value a(1.0);
    const std::vector<Node*> order = topological_order(a.node());
    REQUIRE(order.size() == 1);
    CHECK(order[0] == a.node());
}

TEST_CASE("backward through a diamond sums the gradient of every path", "[chapter01][ex-01.2]") {
    // e = (3a)(a+1) + a  =>  de/da = 3(a+1) + 3a + 1 = 6a + 4 = 16 at a = 2
    Value a(2.0);
    Value e = (a * 3.0) * (a + 1.0) + a;
    e.backward();
    CHECK(e.data() == 20.0);
    CHECK(a.grad() == 16.0);
}

TEST_CASE("leaf gradients accumulate across backward calls; intermediate ones do not",
          "[chapter01]") {
    Value x(3.0);
    Value h = x * x;  // intermediate
    Value y = h * 2.0;
    y.backward();
    CHECK(x.grad() == 12.0);
    CHECK(h.grad() == 2.0);
    y.backward();
    CHECK(x.grad() == 24.0);  // leaves accumulate, as in PyTorch: zero them between steps
    CHECK(h.grad() == 2.0);   // intermediate gradients are recomputed each pass
    x.grad() = 0;
    y.backward();
    CHECK(x.grad() == 12.0);
}

TEST_CASE("a chain of one million nodes back-propagates and frees without recursion",
          "[chapter01][ex-01.2]") {
    const std::size_t before = stepgrad::scalar::detail::live_nodes();
    {
        Value x(1.0);
        Value y = x;
        for (int i = 0; i < 1'000'000; ++i) y = y * 1.0;  // each step: a constant and a product
        y.backward();
        CHECK(y.data() == 1.0);
        CHECK(x.grad() == 1.0);
        CHECK(stepgrad::scalar::detail::live_nodes() >= before + 2'000'000);
    }  // dropping y frees two million nodes iteratively
    CHECK(stepgrad::scalar::detail::live_nodes() == before);
}

TEST_CASE("the graph is freed when its last handle goes, and kept while one remains",
          "[chapter01]") {
    const std::size_t before = stepgrad::scalar::detail::live_nodes();
    Value leaf(2.0);
    {
        Value loss = (leaf * leaf + 1.0).tanh();
        CHECK(stepgrad::scalar::detail::live_nodes() == before + 5);  // leaf, *, 1, +, tanh
        Value keep = loss;
        loss = Value(0.0);  // one handle still holds the graph
        CHECK(stepgrad::scalar::detail::live_nodes() == before + 6);
        keep.backward();
        CHECK(leaf.grad() > 0.0);
    }
    CHECK(stepgrad::scalar::detail::live_nodes() == before + 1);  // only the leaf remains
}
