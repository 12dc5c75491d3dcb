// Chapter 1's claims about Value: each operation's value and derivative, micrograd's engine
// tests against PyTorch, Python-like `+=`, and clear domain errors.
#include <catch2/catch.hpp>

#include <cmath>
#include <functional>
#include <vector>

#include "stepgrad/scalar/value.hpp"

using stepgrad::scalar::Value;

namespace {

// d f/dx at x by central differences: (f(x+h) - f(x-h)) / 2h, error O(h^2).
double central_difference(const std::function<double(double)>& f, double x, double h = 1e-6) {
    return (f(x + h) - f(x - h)) / (2.0 * h);
}

// The value and the gradient backward() finds for y = op(x).
std::pair<double, double> value_and_grad(const std::function<Value(const Value&)>& op, double x0) {
    Value x(x0);
    Value y = op(x);
    y.backward();
    return {y.data(), x.grad()};
}

}  // namespace

// Expected numbers: tests/reference/chapter01_values.py (PyTorch 1.13, float64).
TEST_CASE("micrograd's sanity check matches PyTorch", "[chapter01][ex-01.2]") {
    Value x(-4.0);
    Value z = 2 * x + 2 + x;
    Value q = z.relu() + z * x;
    Value h = (z * z).relu();
    Value y = h + q + q * x;
    y.backward();
    CHECK(y.data() == -20.0);
    CHECK(x.grad() == 46.0);
}

TEST_CASE("micrograd's README expression (test_more_ops) matches PyTorch", "[chapter01][ex-01.2]") {
    Value a(-4.0), b(2.0);
    Value c = a + b;
    Value d = a * b + pow(b, 3);
    c += c + 1;
    c += 1 + c + (-a);
    d += d * 2 + (b + a).relu();
    d += 3 * d + (b - a).relu();
    Value e = c - d;
    Value f = pow(e, 2);
    Value g = f / 2.0;
    g += 10.0 / f;
    g.backward();
    const double tolerance = 1e-9;
    CHECK(std::abs(g.data() - 24.70408163265306) < tolerance);
    CHECK(std::abs(a.grad() - 138.83381924198252) < tolerance);
    CHECK(std::abs(b.grad() - 645.5772594752186) < tolerance);
}

TEST_CASE("multiplication's rule: d(a*b)/da = b and d(a*b)/db = a", "[chapter01][ex-01.1]") {
    // The rule alone, without backward() (whose topological order is exercise 01.2).
    Value a(3.0), b(-5.0);
    Value c = a * b;
    CHECK(c.data() == -15.0);
    c.grad() = 2.0;  // pretend d(loss)/dc = 2 has arrived
    c.node()->backward(*c.node());
    CHECK(a.grad() == -10.0);
    CHECK(b.grad() == 6.0);

    Value x(1.5);  // a value used twice collects both contributions: d(x*x)/dx = 2x
    Value y = x * x;
    y.grad() = 1.0;
    y.node()->backward(*y.node());
    CHECK(x.grad() == 3.0);

    // Both parents add to what their gradients already hold (another use of them put it there):
    // `=` instead of `+=` for either one loses that contribution.
    Value p(2.0), q(4.0);
    Value r = p * q;
    p.grad() = 1.0;
    q.grad() = -1.0;
    r.grad() = 0.5;
    r.node()->backward(*r.node());
    CHECK(p.grad() == 1.0 + 0.5 * 4.0);
    CHECK(q.grad() == -1.0 + 0.5 * 2.0);
}

TEST_CASE("multiplication through backward()", "[chapter01][ex-01.2]") {
    Value a(3.0), b(-5.0);
    Value c = a * b;
    c.backward();
    CHECK(a.grad() == -5.0);
    CHECK(b.grad() == 3.0);
}

TEST_CASE("addition, subtraction, negation and division with doubles on either side", "[chapter01]") {
    Value a(6.0);
    CHECK((a + 1.0).data() == 7.0);
    CHECK((1.0 + a).data() == 7.0);
    CHECK((a - 1.0).data() == 5.0);
    CHECK((1.0 - a).data() == -5.0);
    CHECK((a * 2.0).data() == 12.0);
    CHECK((2.0 * a).data() == 12.0);
    CHECK((a / 4.0).data() == 1.5);
    CHECK((3.0 / a).data() == 0.5);
    CHECK((-a).data() == -6.0);

    Value b(2.0);
    Value y = a / b - a + (-b);  // dy/da = 1/b - 1 = -0.5, dy/db = -a/b^2 - 1 = -2.5
    y.backward();
    CHECK(a.grad() == Approx(-0.5).epsilon(1e-12));
    CHECK(b.grad() == Approx(-2.5).epsilon(1e-12));
}

TEST_CASE("unary operations match PyTorch and their closed forms", "[chapter01]") {
    struct Case {
        const char* name;
        std::function<Value(const Value&)> op;
        std::function<double(double)> f;
        std::function<double(double)> df;
    };
    const std::vector<Case> cases = {
        {"exp", [](const Value& x) { return x.exp(); }, [](double x) { return std::exp(x); },
         [](double x) { return std::exp(x); }},
        {"log", [](const Value& x) { return x.log(); }, [](double x) { return std::log(x); },
         [](double x) { return 1.0 / x; }},
        {"tanh", [](const Value& x) { return x.tanh(); }, [](double x) { return std::tanh(x); },
         [](double x) { return 1.0 - std::tanh(x) * std::tanh(x); }},
        {"sigmoid", [](const Value& x) { return x.sigmoid(); },
         [](double x) { return 1.0 / (1.0 + std::exp(-x)); },
         [](double x) { const double s = 1.0 / (1.0 + std::exp(-x)); return s * (1.0 - s); }},
        {"relu", [](const Value& x) { return x.relu(); }, [](double x) { return x > 0 ? x : 0.0; },
         [](double x) { return x > 0 ? 1.0 : 0.0; }},
        {"pow3", [](const Value& x) { return pow(x, 3.0); }, [](double x) { return x * x * x; },
         [](double x) { return 3.0 * x * x; }},
        {"pow_half", [](const Value& x) { return x.pow(0.5); }, [](double x) { return std::sqrt(x); },
         [](double x) { return 0.5 / std::sqrt(x); }},
    };
    for (const Case& c : cases) {
        for (double x0 : {0.5, 1.7, 3.0, -1.2}) {
            if (x0 <= 0 && (std::string(c.name) == "log" || std::string(c.name) == "pow_half")) continue;
            INFO(c.name << " at " << x0);
            auto [value, grad] = value_and_grad(c.op, x0);
            CHECK(value == Approx(c.f(x0)).epsilon(1e-14));
            CHECK(grad == Approx(c.df(x0)).epsilon(1e-12));
            CHECK(grad == Approx(central_difference(c.f, x0)).epsilon(1e-7).margin(1e-9));
        }
    }
    // A few of PyTorch's own numbers (float64), to the last few bits.
    CHECK(value_and_grad([](const Value& x) { return x.tanh(); }, 1.7).second ==
          Approx(0.1250098706334466).epsilon(1e-14));
    CHECK(value_and_grad([](const Value& x) { return x.sigmoid(); }, 3.0).second ==
          Approx(0.045176659730912).epsilon(1e-14));
    CHECK(value_and_grad([](const Value& x) { return x.pow(0.5); }, 1.7).second ==
          Approx(0.3834824944236852).epsilon(1e-14));
}

TEST_CASE("sigmoid stays finite for large |x|", "[chapter01]") {
    CHECK(Value(-800.0).sigmoid().data() == 0.0);
    CHECK(Value(800.0).sigmoid().data() == 1.0);
    CHECK(std::isfinite(Value(-40.0).sigmoid().data()));
}

TEST_CASE("pow(Value, Value) differentiates both base and exponent", "[chapter01]") {
    Value a(1.5), b(2.5);
    Value y = pow(a, b);
    y.backward();
    CHECK(y.data() == Approx(2.7556759606310752).epsilon(1e-14));
    CHECK(a.grad() == Approx(4.592793267718459).epsilon(1e-13));
    CHECK(b.grad() == Approx(1.1173304512883486).epsilon(1e-13));

    Value zero(0.0), two(2.0);  // 0^2: d/dexponent taken as 0, as PyTorch does
    Value z = pow(zero, two);
    z.backward();
    CHECK(z.data() == 0.0);
    CHECK(zero.grad() == 0.0);
    CHECK(two.grad() == 0.0);
}

TEST_CASE("domain errors are reported, not turned into NaN", "[chapter01]") {
    CHECK_THROWS_AS(Value(-1.0).log(), std::domain_error);
    CHECK_THROWS_AS(Value(0.0).log(), std::domain_error);
    CHECK_THROWS_WITH(Value(-1.0).log(), Catch::Contains("log: the argument must be > 0, got -1"));
    CHECK_THROWS_AS(pow(Value(-8.0), 1.0 / 3.0), std::domain_error);
    CHECK_THROWS_WITH(pow(Value(-8.0), 0.5), Catch::Contains("negative base"));
    CHECK_THROWS_AS(pow(Value(0.0), -1.0), std::domain_error);
    CHECK_THROWS_AS(pow(Value(-2.0), Value(2.0)), std::domain_error);
    CHECK_THROWS_AS(Value(1.0) / Value(0.0), std::domain_error);
    // An integer power of a negative number is fine with a fixed exponent.
    Value x(-2.0);
    Value y = pow(x, 3.0);
    y.backward();
    CHECK(y.data() == -8.0);
    CHECK(x.grad() == 12.0);
}

TEST_CASE("a += b rebinds a to a new node, as in Python", "[chapter01]") {
    Value c(1.0);
    const Value original = c;
    c += c + 1;  // c = c + (c + 1) = 3, with dc/d(original) = 2
    CHECK(c.data() == 3.0);
    CHECK(original.data() == 1.0);
    CHECK(c.node() != original.node());
    c.backward();
    CHECK(original.grad() == 2.0);

    Value d(2.0);
    const Value d0 = d;
    d *= d;
    d -= 1.0;
    d /= 3.0;  // (4 - 1) / 3
    CHECK(d.data() == 1.0);
    d.backward();
    CHECK(d0.grad() == Approx(4.0 / 3.0).epsilon(1e-15));
}

TEST_CASE("data() and grad() are assignable through any copy", "[chapter01]") {
    Value p(1.0);
    Value alias = p;
    alias.data() -= 0.25;
    alias.grad() = 7.0;
    CHECK(p.data() == 0.75);
    CHECK(p.grad() == 7.0);
    p.grad() = 0;
    CHECK(alias.grad() == 0.0);
}
