#include <catch2/catch.hpp>

#include "stepgrad/scalar/dot.hpp"

using stepgrad::scalar::Value;

TEST_CASE("to_dot draws values as records and ops as their own nodes", "[chapter01]") {
    Value a(2.0, "a"), b(-3.0, "b");
    Value c = (a * b).set_label("c");
    c.backward();
    const std::string dot = stepgrad::scalar::to_dot(c);
    CHECK(dot.find("digraph") == 0);
    CHECK(dot.find("{ a | data 2.0000 | grad -3.0000 }") != std::string::npos);
    CHECK(dot.find("{ b | data -3.0000 | grad 2.0000 }") != std::string::npos);
    CHECK(dot.find("{ c | data -6.0000 | grad 1.0000 }") != std::string::npos);
    CHECK(dot.find("[label=\"*\", shape=oval]") != std::string::npos);
    // three values + one op node, and three edges (a -> *, b -> *, * -> c)
    CHECK(std::count(dot.begin(), dot.end(), '\n') == 2 + 4 + 3 + 1);
}
