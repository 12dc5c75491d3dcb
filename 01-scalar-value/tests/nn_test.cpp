// Chapter 1's claims about the scalar nn: a neuron is act(w·x + b), layers stack into an MLP,
// parameters() hands out live handles, zero_grad() clears them, and the moons demo learns.
#include <catch2/catch.hpp>

#include "stepgrad/scalar/moons.hpp"
#include "stepgrad/scalar/nn.hpp"

using namespace stepgrad::scalar;

TEST_CASE("a neuron computes relu(w . x + b), or w . x + b when linear", "[chapter01][ex-01.3]") {
    stepgrad::Generator gen(5);
    Neuron relu_neuron(3, gen);
    Neuron linear_neuron(3, gen, /*nonlinear=*/false);
    const std::vector<Value> x = {Value(1.0), Value(-2.0), Value(0.5)};
    for (const Neuron* n : {&relu_neuron, &linear_neuron}) {
        double expected = n->bias().data();
        for (int i = 0; i < 3; ++i) expected += n->weights()[i].data() * x[i].data();
        if (n->nonlinear()) expected = std::max(0.0, expected);
        CHECK((*n)(x).data() == Approx(expected).epsilon(1e-15));
    }
    CHECK_THROWS_AS(relu_neuron({Value(1.0)}), std::invalid_argument);
}

TEST_CASE("a neuron's gradient with respect to its weights is its input", "[chapter01][ex-01.3]") {
    stepgrad::Generator gen(1);
    Neuron n(2, gen, /*nonlinear=*/false);
    Value out = n({Value(3.0), Value(-4.0)});
    out.backward();
    CHECK(n.weights()[0].grad() == 3.0);
    CHECK(n.weights()[1].grad() == -4.0);
    CHECK(n.bias().grad() == 1.0);
    CHECK(n.parameters().size() == 3);
}

TEST_CASE("an MLP 2-16-16-1 has 337 parameters and a linear last layer", "[chapter01][ex-01.4]") {
    MLP model(2, {16, 16, 1}, 42);
    REQUIRE(model.layers().size() == 3);
    CHECK(model.layers()[0].neurons().size() == 16);
    CHECK(model.layers()[0].neurons()[0].weights().size() == 2);
    CHECK(model.layers()[1].neurons()[0].weights().size() == 16);
    CHECK(model.layers()[2].neurons().size() == 1);
    CHECK(model.layers()[0].neurons()[0].nonlinear());
    CHECK(model.layers()[1].neurons()[0].nonlinear());
    CHECK_FALSE(model.layers()[2].neurons()[0].nonlinear());
    CHECK(model.parameters().size() == 2 * 16 + 16 + 16 * 16 + 16 + 16 + 1);
}

TEST_CASE("an MLP's output is its layers applied in order", "[chapter01][ex-01.4]") {
    MLP model(3, {4, 2}, 7);
    const std::vector<Value> x = {Value(0.3), Value(-1.1), Value(2.0)};
    std::vector<Value> by_hand = model.layers()[1](model.layers()[0](x));
    std::vector<Value> out = model(x);
    REQUIRE(out.size() == 2);
    CHECK(out[0].data() == by_hand[0].data());
    CHECK(out[1].data() == by_hand[1].data());
    CHECK_THROWS_AS(MLP(3, {}, 7), std::invalid_argument);
}

TEST_CASE("parameters() are live handles and zero_grad() clears them", "[chapter01]") {
    MLP model(2, {3, 1}, 3);
    Value out = model({Value(1.0), Value(2.0)})[0];
    out.backward();
    double total = 0;
    for (const Value& p : model.parameters()) total += std::abs(p.grad());
    CHECK(total > 0.0);
    model.zero_grad();
    for (const Value& p : model.parameters()) CHECK(p.grad() == 0.0);
    Value first = model.parameters()[0];
    first.data() = 123.0;
    CHECK(model.parameters()[0].data() == 123.0);
}

TEST_CASE("the same seed gives the same model and the same moons", "[chapter01]") {
    MLP a(2, {4, 1}, 9), b(2, {4, 1}, 9), c(2, {4, 1}, 10);
    CHECK(a.parameters()[0].data() == b.parameters()[0].data());
    CHECK(a.parameters()[0].data() != c.parameters()[0].data());
    Moons m1 = make_moons(100, 0.1, 3), m2 = make_moons(100, 0.1, 3);
    REQUIRE(m1.points.size() == 100);
    CHECK(m1.points[17] == m2.points[17]);
    CHECK(std::count(m1.labels.begin(), m1.labels.end(), 1.0) == 50);
}

TEST_CASE("a few SGD steps on the moons lower the loss", "[chapter01]") {
    Moons data = make_moons(40, 0.1, 2);
    MLP model(2, {8, 1}, 2);
    double first = 0, last = 0;
    for (int step = 0; step < 10; ++step) {
        auto [loss, accuracy] = moons_loss(model, data);
        model.zero_grad();
        loss.backward();
        for (const Value& p : model.parameters()) p.data() -= 0.5 * p.grad();
        (step == 0 ? first : last) = loss.data();
    }
    CHECK(last < 0.8 * first);
}
