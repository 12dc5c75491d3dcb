#pragma once
/// @file value.hpp
/// @brief Chapter 1: `Value`, a scalar that remembers how it was computed, and its autograd.
///
/// A `Value` is a handle to a node of a computation graph. Each node holds a number (`data`),
/// the derivative of the final output with respect to it (`grad`), the nodes it was computed
/// from (its parents) and a small function, its backward rule, that passes the gradient on to
/// the parents by the chain rule. `backward()` visits the nodes in reverse topological order
/// and runs each rule once.

#include <cstdint>
#include <string>
#include <vector>

namespace stepgrad::scalar {

namespace detail {

/// @brief One node of the graph. Users hold nodes through `Value`; tests and to_dot() look inside.
///
/// Nodes are reference-counted by hand (one thread owns a graph, as in micrograd), drawn from
/// a free list instead of the heap, and freed without recursion, so that building and dropping
/// graphs of millions of nodes is cheap and cannot overflow the stack.
struct Node {
    /// @brief Signature of a backward rule: reads `out.grad`, adds into the parents' grads.
    using BackwardRule = void (*)(Node& out);

    double data = 0.0;                  ///< the value computed in the forward pass
    double grad = 0.0;                  ///< d(output of backward())/d(this)
    double constant = 0.0;              ///< an op's fixed argument, e.g. the exponent of pow(x, 3)
    Node* parents[2] = {nullptr, nullptr};  ///< inputs (owned: each holds one reference)
    BackwardRule backward = nullptr;    ///< the chain rule for this op (null for a leaf)
    const char* op = "";                ///< op name for printing and DOT ("" for a leaf)
    std::string* label = nullptr;       ///< optional user label (owned), shown by to_dot
    std::uint32_t references = 1;       ///< how many Values and child nodes point here
    std::uint32_t visit_mark = 0;       ///< used by topological_order to mark visited nodes

    /// @brief Number of parents (0 for a leaf, 1 for unary ops, 2 for binary ops).
    [[nodiscard]] int parent_count() const { return (parents[0] != nullptr) + (parents[1] != nullptr); }
};

/// @brief A node from the free list (or the heap), with data set and one reference.
Node* new_node(double data);

/// @brief Drops one reference; frees the node, and iteratively any parents it was the last
/// owner of, when the count reaches zero.
void release(Node* node);

/// @brief How many nodes this thread has alive (made and not yet freed); for tests of freeing.
std::size_t live_nodes();

/// @brief Every node reachable from `root`, parents before children (iterative depth-first).
std::vector<Node*> topological_order(Node* root);

}  // namespace detail

/// @brief A scalar (double) with reverse-mode automatic differentiation.
///
/// Copies of a Value share one node (like `std::shared_ptr`), so updating a parameter through
/// any copy updates the model. Operators build new nodes; `backward()` fills in gradients.
///
/// Example:
/// @code
/// using stepgrad::scalar::Value;
/// Value a(-4.0), b(2.0);
/// Value c = a * b + pow(b, 3);   // c = -8 + 8 = 0
/// c.backward();                   // a.grad() == 2, b.grad() == -4 + 12 == 8
/// @endcode
///
/// A graph belongs to the thread that built it: Values are not safe to share between threads.
class Value {
public:
    /// @brief A leaf holding `data` (and gradient 0). Implicit, so `x * 2.0` works.
    Value(double data = 0.0);  // NOLINT(google-explicit-constructor)

    /// @brief A labelled leaf; the label is shown by to_dot().
    Value(double data, const std::string& label);

    /// @brief Another handle to the same node.
    Value(const Value& other) noexcept;
    /// @brief Takes over the other handle's node.
    Value(Value&& other) noexcept;
    /// @brief Rebinds this handle to the other's node.
    Value& operator=(const Value& other) noexcept;
    /// @brief Rebinds this handle, taking over the other's node.
    Value& operator=(Value&& other) noexcept;
    /// @brief Drops this handle; the graph behind it is freed when nothing refers to it.
    ~Value();

    /// @brief The number. Assignable through any copy: `p.data() -= lr * p.grad();`.
    [[nodiscard]] double& data() const { return node_->data; }
    /// @brief The gradient filled in by backward(). Assignable: `p.grad() = 0;`.
    [[nodiscard]] double& grad() const { return node_->grad; }

    /// @brief The op that produced this value ("+", "*", "tanh", ...), or "" for a leaf.
    [[nodiscard]] std::string op() const { return node_->op; }
    /// @brief The label given at construction or by set_label(), or "".
    [[nodiscard]] std::string label() const { return node_->label ? *node_->label : std::string(); }
    /// @brief Names this value in to_dot() output; returns *this for chaining.
    Value& set_label(const std::string& label);

    /// @brief Back-propagates from this value: seeds its gradient with 1, then applies every
    /// node's chain rule in reverse topological order.
    ///
    /// Gradients of leaves accumulate across calls (as in PyTorch: zero them between steps);
    /// gradients of intermediate nodes are recomputed from zero on every call. Iterative, so a
    /// chain of millions of nodes works.
    void backward();

    /// @brief exp(x); derivative exp(x).
    [[nodiscard]] Value exp() const;
    /// @brief Natural logarithm; derivative 1/x. Throws std::domain_error for x <= 0.
    [[nodiscard]] Value log() const;
    /// @brief tanh(x); derivative 1 - tanh(x)^2.
    [[nodiscard]] Value tanh() const;
    /// @brief 1 / (1 + exp(-x)); derivative s (1 - s). Stable for large |x|.
    [[nodiscard]] Value sigmoid() const;
    /// @brief max(0, x); derivative 1 for x > 0, else 0.
    [[nodiscard]] Value relu() const;
    /// @brief x^exponent for a fixed exponent; see stepgrad::scalar::pow for the domain rules.
    [[nodiscard]] Value pow(double exponent) const;

    /// @brief Rebinds this handle to `*this + other` (a new node), as Python's `+=` does.
    Value& operator+=(const Value& other);
    /// @brief Rebinds this handle to `*this - other`.
    Value& operator-=(const Value& other);
    /// @brief Rebinds this handle to `*this * other`.
    Value& operator*=(const Value& other);
    /// @brief Rebinds this handle to `*this / other`.
    Value& operator/=(const Value& other);

    /// @brief The node behind this handle (for to_dot, tests and the graph walk).
    [[nodiscard]] detail::Node* node() const { return node_; }

    /// @brief Wraps a freshly made node (taking over its one reference).
    static Value adopt(detail::Node* node) { return Value(node, Adopt{}); }

private:
    struct Adopt {};
    Value(detail::Node* node, Adopt) : node_(node) {}
    detail::Node* node_;
};

/// @brief a + b. Derivative 1 for both.
Value operator+(const Value& a, const Value& b);
/// @brief a * b. Derivatives b and a.
Value operator*(const Value& a, const Value& b);
/// @brief -a, written as a * -1 (as micrograd does).
Value operator-(const Value& a);
/// @brief a - b, written as a + (-b).
Value operator-(const Value& a, const Value& b);
/// @brief a / b, written as a * b^-1. Throws std::domain_error when b is 0.
Value operator/(const Value& a, const Value& b);

/// @brief base^exponent for a fixed exponent; derivative exponent * base^(exponent - 1).
///
/// Throws std::domain_error when the result is not a real number: a negative base with a
/// fractional exponent (e.g. pow(-8, 1/3)), or 0 to a negative power.
Value pow(const Value& base, double exponent);
/// @brief base^exponent with both differentiable: d/dbase = e b^(e-1), d/dexponent = b^e ln b.
///
/// The base must be positive, or zero with a positive exponent (then d/dexponent = 0, as in
/// PyTorch). A negative base throws std::domain_error, because ln(base) is not real; use
/// pow(Value, double) for an integer power of a negative number.
Value pow(const Value& base, const Value& exponent);
/// @brief exp(x).
inline Value exp(const Value& x) { return x.exp(); }
/// @brief ln(x); throws std::domain_error for x <= 0.
inline Value log(const Value& x) { return x.log(); }
/// @brief tanh(x).
inline Value tanh(const Value& x) { return x.tanh(); }
/// @brief The logistic sigmoid 1 / (1 + exp(-x)).
inline Value sigmoid(const Value& x) { return x.sigmoid(); }
/// @brief max(0, x).
inline Value relu(const Value& x) { return x.relu(); }

}  // namespace stepgrad::scalar
