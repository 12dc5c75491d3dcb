// The operations on Value. Each one computes its result and, right beside it, the backward
// rule that passes the gradient of the result on to its inputs by the chain rule
// (d loss/d input = d loss/d out * d out/d input). Rules add (+=) into the inputs' gradients,
// because an input used twice receives a gradient from each use.
//
// The primitives are +, *, pow, exp, log, tanh, sigmoid and relu; -, / and unary minus are
// one line on top of them, as in micrograd.
#include <cmath>

#include "stepgrad/scalar/value.hpp"
#include "stepgrad/shared/error.hpp"

namespace stepgrad::scalar {

using detail::Node;

namespace {

// A new node with the given result, op name, backward rule and parents (each gains a reference).
Value make_result(double data, const char* op, Node::BackwardRule rule, Node* first,
                  Node* second = nullptr) {
    Node* out = detail::new_node(data);
    out->op = op;
    out->backward = rule;
    out->parents[0] = first;
    out->parents[1] = second;
    ++first->references;
    if (second != nullptr) ++second->references;
    return Value::adopt(out);
}

}  // namespace

// ---- handles ---------------------------------------------------------------------------------

Value::Value(double data) : node_(detail::new_node(data)) {}

Value::Value(double data, const std::string& label) : Value(data) { set_label(label); }

Value::Value(const Value& other) noexcept : node_(other.node_) { ++node_->references; }

Value::Value(Value&& other) noexcept : node_(other.node_) { other.node_ = nullptr; }

Value& Value::operator=(const Value& other) noexcept {
    ++other.node_->references;  // first, in case other is *this
    if (node_ != nullptr) detail::release(node_);
    node_ = other.node_;
    return *this;
}

Value& Value::operator=(Value&& other) noexcept {
    if (this != &other) {
        if (node_ != nullptr) detail::release(node_);
        node_ = other.node_;
        other.node_ = nullptr;
    }
    return *this;
}

Value::~Value() {
    if (node_ != nullptr) detail::release(node_);
}

Value& Value::set_label(const std::string& label) {
    if (node_->label == nullptr) {
        node_->label = new std::string(label);
    } else {
        *node_->label = label;
    }
    return *this;
}

// ---- binary primitives -----------------------------------------------------------------------

Value operator+(const Value& a, const Value& b) {
    // d(a+b)/da = 1, d(a+b)/db = 1: the gradient flows through unchanged.
    return make_result(a.data() + b.data(), "+", [](Node& out) {
        out.parents[0]->grad += out.grad;
        out.parents[1]->grad += out.grad;
    }, a.node(), b.node());
}

Value operator*(const Value& a, const Value& b) {
    return make_result(a.data() * b.data(), "*", []([[maybe_unused]] Node& out) {
        // exercise 01.1: the backward rule of multiplication
        // hint: d(a*b)/da = b and d(a*b)/db = a. Multiply each by out.grad (the chain rule) and
        // hint: add it into the parent's grad; the parents are out.parents[0] and out.parents[1].
        Node& a_node = *out.parents[0];
        Node& b_node = *out.parents[1];
        a_node.grad += b_node.data * out.grad;
        b_node.grad += a_node.data * out.grad;
        // end exercise
    }, a.node(), b.node());
}

Value pow(const Value& base, double exponent) {
    const double b = base.data();
    STEPGRAD_CHECK_AS(std::domain_error, b >= 0.0 || exponent == std::floor(exponent),
                      "pow: a negative base (" << b << ") to a fractional power (" << exponent
                      << ") is not a real number");
    STEPGRAD_CHECK_AS(std::domain_error, b != 0.0 || exponent >= 0.0,
                      "pow: 0 to a negative power (" << exponent << ") is infinite");
    Value out = make_result(std::pow(b, exponent), "pow", [](Node& result) {
        // d(b^e)/db = e * b^(e-1)
        Node& base_node = *result.parents[0];
        const double e = result.constant;
        base_node.grad += e * std::pow(base_node.data, e - 1.0) * result.grad;
    }, base.node());
    out.node()->constant = exponent;
    return out;
}

Value pow(const Value& base, const Value& exponent) {
    const double b = base.data();
    const double e = exponent.data();
    STEPGRAD_CHECK_AS(std::domain_error, b > 0.0 || (b == 0.0 && e > 0.0),
                      "pow(Value, Value): the base must be > 0 (or 0 with a positive exponent), "
                      "got base " << b << " and exponent " << e
                      << "; the gradient with respect to the exponent needs ln(base). "
                         "For a fixed power of a negative number use pow(Value, double)");
    return make_result(std::pow(b, e), "pow", [](Node& out) {
        // d(b^e)/db = e * b^(e-1);  d(b^e)/de = b^e * ln(b), taken as 0 when b = 0 (as PyTorch).
        Node& base_node = *out.parents[0];
        Node& exponent_node = *out.parents[1];
        const double bv = base_node.data;
        const double ev = exponent_node.data;
        base_node.grad += ev * std::pow(bv, ev - 1.0) * out.grad;
        if (bv > 0.0) exponent_node.grad += out.data * std::log(bv) * out.grad;
    }, base.node(), exponent.node());
}

// ---- unary primitives ------------------------------------------------------------------------

Value Value::exp() const {
    // d(e^x)/dx = e^x, which is the output itself.
    return make_result(std::exp(data()), "exp", [](Node& out) {
        out.parents[0]->grad += out.data * out.grad;
    }, node_);
}

Value Value::log() const {
    STEPGRAD_CHECK_AS(std::domain_error, data() > 0.0,
                      "log: the argument must be > 0, got " << data());
    // d(ln x)/dx = 1/x
    return make_result(std::log(data()), "log", [](Node& out) {
        out.parents[0]->grad += out.grad / out.parents[0]->data;
    }, node_);
}

Value Value::tanh() const {
    // d(tanh x)/dx = 1 - tanh(x)^2, again written with the output.
    return make_result(std::tanh(data()), "tanh", [](Node& out) {
        out.parents[0]->grad += (1.0 - out.data * out.data) * out.grad;
    }, node_);
}

Value Value::sigmoid() const {
    // Evaluate 1/(1+e^-x) for x >= 0 and e^x/(1+e^x) for x < 0, so exp never overflows.
    const double x = data();
    const double s = x >= 0.0 ? 1.0 / (1.0 + std::exp(-x)) : std::exp(x) / (1.0 + std::exp(x));
    // d(sigmoid x)/dx = s (1 - s)
    return make_result(s, "sigmoid", [](Node& out) {
        out.parents[0]->grad += out.data * (1.0 - out.data) * out.grad;
    }, node_);
}

Value Value::relu() const {
    // d(max(0,x))/dx = 1 where x > 0, else 0 (0 at x = 0, as in PyTorch).
    return make_result(data() > 0.0 ? data() : 0.0, "relu", [](Node& out) {
        if (out.data > 0.0) out.parents[0]->grad += out.grad;
    }, node_);
}

Value Value::pow(double exponent) const { return scalar::pow(*this, exponent); }

// ---- composites ------------------------------------------------------------------------------

Value operator-(const Value& a) { return a * -1.0; }

Value operator-(const Value& a, const Value& b) { return a + (-b); }

Value operator/(const Value& a, const Value& b) {
    STEPGRAD_CHECK_AS(std::domain_error, b.data() != 0.0,
                      "division by a Value equal to 0 (numerator " << a.data() << ")");
    return a * pow(b, -1.0);
}

Value& Value::operator+=(const Value& other) { return *this = *this + other; }
Value& Value::operator-=(const Value& other) { return *this = *this - other; }
Value& Value::operator*=(const Value& other) { return *this = *this * other; }
Value& Value::operator/=(const Value& other) { return *this = *this / other; }

}  // namespace stepgrad::scalar
