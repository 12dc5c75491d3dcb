// Draws the computation graph of one tanh neuron, o = tanh(x1*w1 + x2*w2 + b), after backward().
//
//   graph [OUT.dot]
//
// Writes OUT.dot (default graph.dot) and, when Graphviz's `dot` is installed, OUT.svg beside it.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "stepgrad/scalar.hpp"

using stepgrad::scalar::Value;

int main(int argc, char** argv) {
    const std::string dot_path = argc > 1 ? argv[1] : "graph.dot";

    //! [neuron graph]
    Value x1(2.0, "x1"), x2(0.0, "x2");
    Value w1(-3.0, "w1"), w2(1.0, "w2");
    Value b(6.8813735870195432, "b");
    Value x1w1 = (x1 * w1).set_label("x1w1");
    Value x2w2 = (x2 * w2).set_label("x2w2");
    Value sum = (x1w1 + x2w2).set_label("x1w1 + x2w2");
    Value n = (sum + b).set_label("n");
    Value o = n.tanh().set_label("o");
    o.backward();
    std::string dot = stepgrad::scalar::to_dot(o);
    //! [neuron graph]

    std::printf("o = %.4f, do/dx1 = %.4f, do/dw1 = %.4f\n", o.data(), x1.grad(), w1.grad());
    std::ofstream out(dot_path);
    if (!(out << dot)) {
        std::fprintf(stderr, "graph: cannot write %s\n", dot_path.c_str());
        return 1;
    }
    out.close();
    std::printf("wrote %s\n", dot_path.c_str());

    if (std::system("command -v dot >/dev/null 2>&1") == 0) {
        std::string svg_path = dot_path;
        if (svg_path.ends_with(".dot")) svg_path.resize(svg_path.size() - 4);
        svg_path += ".svg";
        const std::string command = "dot -Tsvg '" + dot_path + "' -o '" + svg_path + "'";
        if (std::system(command.c_str()) != 0) {
            std::fprintf(stderr, "graph: dot failed to render %s\n", svg_path.c_str());
            return 1;
        }
        std::printf("wrote %s\n", svg_path.c_str());
    } else {
        std::printf("Graphviz's dot is not installed: render with dot -Tsvg %s\n", dot_path.c_str());
    }
    return 0;
}
