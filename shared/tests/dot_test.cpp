#include <catch2/catch.hpp>

#include "stepgrad/shared/dot.hpp"

TEST_CASE("DotWriter writes nodes, records and edges with escaping", "[shared]") {
    stepgrad::DotWriter dot;
    dot.node("n1", stepgrad::DotWriter::record({"x", "data 1.5", "grad -2"}), "shape=record");
    dot.node("n2", "a \"quoted\" {label}");
    dot.edge("n1", "n2");
    const std::string text = dot.str();
    CHECK(text.rfind("digraph G {", 0) == 0);
    CHECK(text.find("rankdir=LR;") != std::string::npos);
    CHECK(text.find("\"n1\" [label=\"{ x | data 1.5 | grad -2 }\", shape=record];") != std::string::npos);
    CHECK(text.find("\"n2\" [label=\"a \\\"quoted\\\" \\{label\\}\"];") != std::string::npos);
    CHECK(text.find("\"n1\" -> \"n2\";") != std::string::npos);
    CHECK(text.back() == '\n');
}
