#pragma once
/// @file dot.hpp
/// @brief A tiny writer for Graphviz DOT text, used to draw computation graphs.

#include <string>
#include <string_view>
#include <vector>

namespace stepgrad {

/// @brief Builds a directed Graphviz graph node by node and edge by edge.
///
/// Example:
/// @code
/// stepgrad::DotWriter dot;
/// dot.node("a", stepgrad::DotWriter::record({"a", "data 2.0"}), "shape=record");
/// dot.node("op", "*", "shape=circle");
/// dot.edge("a", "op");
/// std::string text = dot.str();  // render with: dot -Tsvg graph.dot -o graph.svg
/// @endcode
class DotWriter {
public:
    /// @brief An empty graph; `rankdir` is Graphviz's layout direction ("LR" = left to right).
    explicit DotWriter(std::string rankdir = "LR") : rankdir_(std::move(rankdir)) {}

    /// @brief Adds a node with an id, a label (escaped here unless it is a record label made
    /// by record()) and optional raw Graphviz attributes such as "shape=box".
    void node(const std::string& id, const std::string& label, const std::string& attributes = "");

    /// @brief Adds an edge `from -> to`.
    void edge(const std::string& from, const std::string& to);

    /// @brief The whole graph as DOT text.
    [[nodiscard]] std::string str() const;

    /// @brief A record label "{ f1 | f2 | ... }" with each field escaped; use with shape=record.
    static std::string record(const std::vector<std::string>& fields);

    /// @brief Escapes quotes, backslashes and the record separators `{ } | < >`.
    static std::string escape(std::string_view text);

private:
    std::string rankdir_;
    std::vector<std::string> lines_;
};

}  // namespace stepgrad
