// Chapter 1, bad input: a Value refuses a number outside an operation's domain with one clear
// std::domain_error, before it builds any node, so the graph and the inputs stay as they were.
// (Chapter 2 follows PyTorch instead and gives NaN; docs/bad_input.md explains the difference.)
#include <catch2/catch.hpp>

#include <stepgrad/shared/error_of.hpp>
#include <stepgrad/scalar.hpp>

#include <string>

using stepgrad::testing::error_of;
using namespace stepgrad::scalar;

TEST_CASE("log of a negative number throws in chapter 1 and builds no node", "[chapter01][bad-input]") {
    const Value x(-1.0);
    const std::size_t nodes_before = detail::live_nodes();
    CHECK_THAT(error_of<std::domain_error>([&] { (void)x.log(); }),
               Catch::Contains("log: the argument must be > 0, got -1"));
    CHECK_THAT(error_of<std::domain_error>([] { (void)log(Value(0.0)); }), Catch::Contains("got 0"));
    CHECK(detail::live_nodes() == nodes_before);
    CHECK(x.data() == -1.0);
    CHECK(x.grad() == 0.0);
}

TEST_CASE("division by a Value equal to 0 throws and builds no node", "[chapter01][bad-input]") {
    const Value a(3.0), zero(0.0);
    const std::size_t nodes_before = detail::live_nodes();
    CHECK_THAT(error_of<std::domain_error>([&] { (void)(a / zero); }),
               Catch::Contains("division by a Value equal to 0") && Catch::Contains("numerator 3"));
    CHECK(detail::live_nodes() == nodes_before);
}

TEST_CASE("pow outside the real numbers throws and names base and exponent", "[chapter01][bad-input]") {
    const std::size_t nodes_before = detail::live_nodes();
    CHECK_THAT(error_of<std::domain_error>([] { (void)pow(Value(-8.0), 0.5); }),
               Catch::Contains("negative base (-8)") && Catch::Contains("(0.5)"));
    CHECK_THAT(error_of<std::domain_error>([] { (void)pow(Value(0.0), -1.0); }),
               Catch::Contains("0 to a negative power (-1)"));
    CHECK_THAT(error_of<std::domain_error>([] { (void)pow(Value(-2.0), Value(2.0)); }),
               Catch::Contains("base must be > 0") && Catch::Contains("pow(Value, double)"));
    CHECK(detail::live_nodes() == nodes_before);
}

TEST_CASE("a neuron given the wrong number of inputs names both counts", "[chapter01][bad-input]") {
    stepgrad::Generator generator(1);
    const Neuron neuron(3, generator);
    CHECK_THAT(error_of<std::invalid_argument>([&] { (void)neuron({Value(1.0)}); }),
               Catch::Contains("Neuron: expected 3 inputs, got 1"));
}

TEST_CASE("an MLP without layers or moons with fewer than 2 points are refused", "[chapter01][bad-input]") {
    CHECK_THAT(error_of<std::invalid_argument>([] { (void)MLP(3, {}, 7); }), Catch::Contains("at least one layer"));
    CHECK_THAT(error_of<std::invalid_argument>([] { (void)make_moons(1, 0.1, 1); }),
               Catch::Contains("make_moons") && Catch::Contains("at least 2 points"));
}
