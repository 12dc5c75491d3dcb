#include "stepgrad/scalar/dot.hpp"

#include <cstdio>
#include <string>
#include <unordered_map>
#include <vector>

#include "stepgrad/shared/dot.hpp"

namespace stepgrad::scalar {

namespace {

std::string format_number(double x) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.4f", x);
    return buffer;
}

}  // namespace

std::string to_dot(const Value& root) {
    DotWriter dot("LR");
    // Nodes are named by their place in the topological order (v0, v1, ...), so the same graph
    // always gives the same text.
    const std::vector<detail::Node*> order = detail::topological_order(root.node());
    std::unordered_map<const detail::Node*, std::size_t> position;
    for (std::size_t i = 0; i < order.size(); ++i) position.emplace(order[i], i);
    auto node_id = [&position](const detail::Node* node) {
        char buffer[32];
        std::snprintf(buffer, sizeof buffer, "v%zu", position.at(node));
        return std::string(buffer);
    };
    for (detail::Node* node : order) {
        const std::string id = node_id(node);
        const std::string label = node->label != nullptr ? *node->label : std::string();
        dot.node(id,
                 DotWriter::record({label, "data " + format_number(node->data),
                                    "grad " + format_number(node->grad)}),
                 "shape=record");
        if (node->backward == nullptr) continue;  // a leaf: no op feeds it
        const std::string op_id = id + "_op";
        dot.node(op_id, node->op, "shape=oval");
        dot.edge(op_id, id);
        for (const detail::Node* parent : node->parents) {
            if (parent != nullptr) dot.edge(node_id(parent), op_id);
        }
    }
    return dot.str();
}

}  // namespace stepgrad::scalar
