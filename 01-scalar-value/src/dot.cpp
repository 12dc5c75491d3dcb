#include "stepgrad/scalar/dot.hpp"

#include <cstdio>
#include <string>

#include "stepgrad/shared/dot.hpp"

namespace stepgrad::scalar {

namespace {

std::string format_number(double x) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.4f", x);
    return buffer;
}

std::string node_id(const detail::Node* node) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "v%p", static_cast<const void*>(node));
    return buffer;
}

}  // namespace

std::string to_dot(const Value& root) {
    DotWriter dot("LR");
    for (detail::Node* node : detail::topological_order(root.node())) {
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
