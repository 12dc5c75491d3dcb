// backward(): the chain rule applied to a whole graph.
//
// Every node's gradient must be complete before its own rule passes it on, so the nodes are
// visited children-first: the reverse of a topological order (parents before children). The
// order comes from a depth-first search with an explicit stack: micrograd's recursive version
// overflows the stack on a graph a few thousand nodes deep.
#include <utility>
#include <vector>

#include "stepgrad/scalar/value.hpp"
#include "stepgrad/shared/error.hpp"

namespace stepgrad::scalar {

namespace detail {

std::vector<Node*> topological_order([[maybe_unused]] Node* root) {
    // Each search uses a fresh mark, so no node needs resetting between searches.
    thread_local std::uint32_t current_mark = 0;
    [[maybe_unused]] const std::uint32_t mark = ++current_mark;
    std::vector<Node*> order;
    // exercise 01.2: the topological order
    // hint: depth-first search with an explicit stack of (node, parents_done) pairs. When a node
    // hint: is first popped, mark it (node->visit_mark = mark) and push it back with
    // hint: parents_done = true, then push its unmarked parents; when it pops with
    // hint: parents_done = true, all its parents are in `order`: append it.
    std::vector<std::pair<Node*, bool>> stack{{root, false}};
    while (!stack.empty()) {
        auto [node, parents_done] = stack.back();
        stack.pop_back();
        if (parents_done) {
            order.push_back(node);
            continue;
        }
        if (node->visit_mark == mark) continue;  // reached before through another child
        node->visit_mark = mark;
        stack.emplace_back(node, true);
        for (Node* parent : node->parents) {
            if (parent != nullptr && parent->visit_mark != mark) stack.emplace_back(parent, false);
        }
    }
    return order;
    // end exercise
}

}  // namespace detail

void Value::backward() {
    std::vector<detail::Node*> order = detail::topological_order(node_);
    // Intermediate gradients belong to this pass only; leaves keep accumulating.
    for (detail::Node* node : order) {
        if (node->backward != nullptr) node->grad = 0.0;
    }
    node_->grad += 1.0;  // d(output)/d(output)
    for (auto it = order.rbegin(); it != order.rend(); ++it) {
        detail::Node* node = *it;
        if (node->backward != nullptr) node->backward(*node);
    }
}

}  // namespace stepgrad::scalar
