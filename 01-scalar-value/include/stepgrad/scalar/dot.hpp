#pragma once
/// @file dot.hpp
/// @brief Drawing a Value's computation graph with Graphviz.

#include <string>

#include "stepgrad/scalar/value.hpp"

namespace stepgrad::scalar {

/// @brief The graph that produced `root`, as Graphviz DOT text.
///
/// Each Value is a record box "label | data | grad"; each operation is a small oval of its
/// own, with edges input → op → result, as in micrograd's drawings. Render it with
/// `dot -Tsvg graph.dot -o graph.svg`.
///
/// Example:
/// @code
/// Value a(2.0, "a"), b(-3.0, "b");
/// Value c = (a * b).set_label("c");
/// c.backward();
/// std::string text = to_dot(c);
/// @endcode
std::string to_dot(const Value& root);

}  // namespace stepgrad::scalar
