// Autograd: backward, accumulation, grad mode, retain_grad, graph lifetime, anomaly mode,
// and gradcheck itself.
#include "test_helpers.hpp"

#include <thread>

using namespace stepgrad;
using namespace stepgrad::testing;

TEST_CASE("backward of a scalar fills the leaves' gradients", "[chapter02][autograd]") {
    Tensor w = tensor({{1, 2}, {3, 4}}).requires_grad_();
    Tensor loss = (w * w).sum();
    CHECK(loss.requires_grad());
    CHECK_FALSE(loss.is_leaf());
    CHECK(w.is_leaf());
    loss.backward();
    check_tensor(w.grad(), {2, 2}, {2, 4, 6, 8});
}

TEST_CASE("gradients accumulate across backward calls", "[chapter02][autograd]") {
    Tensor x = tensor({1, 2, 3}).requires_grad_();
    Tensor y = (x * 3.0).sum();
    y.backward();
    y.backward();  // the graph stays usable
    check_tensor(x.grad(), {3}, {6, 6, 6});
    x.set_grad(Tensor());
    CHECK_FALSE(x.grad().defined());
    (x * x).sum().backward();
    check_tensor(x.grad(), {3}, {2, 4, 6});
}

TEST_CASE("a tensor used twice gets both gradients", "[chapter02][autograd]") {
    Tensor x = tensor({2}).requires_grad_();
    Tensor y = x * x + x;  // dy/dx = 2x + 1
    y.backward();
    check_tensor(x.grad(), {1}, {5});
    Tensor a = tensor({1, 2}).requires_grad_();
    Tensor b = a + a;  // both inputs of add are the same node
    b.backward(tensor({1, 1}));
    check_tensor(a.grad(), {2}, {2, 2});
}

TEST_CASE("backward with an explicit gradient, and its errors", "[chapter02][autograd]") {
    Tensor x = tensor({1, 2, 3}).requires_grad_();
    Tensor y = x * 2.0;
    CHECK_THROWS_WITH(y.backward(), Catch::Contains("one element") && Catch::Contains("[3]"));
    CHECK_THROWS_AS(y.backward(ones({2})), std::invalid_argument);
    y.backward(tensor({1, 0, -1}));
    check_tensor(x.grad(), {3}, {2, 0, -2});
    CHECK_THROWS_WITH(tensor({1}).backward(), Catch::Contains("does not require grad"));
    CHECK_THROWS_AS(tensor({1}).backward(), std::runtime_error);
}

TEST_CASE("leaf gradients are private copies", "[chapter02][autograd]") {
    Tensor a = tensor({1, 2}).requires_grad_();
    Tensor b = tensor({3, 4}).requires_grad_();
    (a + b).sum().backward();  // add hands the same gradient tensor to both inputs
    {
        NoGradGuard no_grad;
        a.grad().mul_(10.0);
    }
    check_tensor(a.grad(), {2}, {10, 10});
    check_tensor(b.grad(), {2}, {1, 1});
}

TEST_CASE("non-leaf gradients are kept only with retain_grad", "[chapter02][autograd]") {
    Tensor x = tensor({1, 2}).requires_grad_();
    Tensor h = x * 2.0;
    Tensor kept = h * 3.0;
    kept.retain_grad();
    Tensor loss = (kept * kept).sum();
    loss.backward();
    CHECK_FALSE(h.grad().defined());
    check_tensor(kept.grad(), {2}, {12, 24});  // 2 * kept = 2 * 6x
    check_tensor(x.grad(), {2}, {72, 144});    // 2 * 36 x
    CHECK_THROWS_AS(tensor({1}).retain_grad(), std::invalid_argument);
}

TEST_CASE("detach and requires_grad_ cut and start recording", "[chapter02][autograd]") {
    Tensor x = tensor({1, 2}).requires_grad_();
    Tensor d = x.detach();
    CHECK_FALSE(d.requires_grad());
    Tensor y = (x * d).sum();  // d is a constant
    y.backward();
    check_tensor(x.grad(), {2}, {1, 2});
    CHECK_FALSE((d * 2.0).requires_grad());
    CHECK_THROWS_AS(y.requires_grad_(false), std::invalid_argument);
    x.requires_grad_(false);
    CHECK_FALSE((x * 2.0).requires_grad());
}

TEST_CASE("NoGradGuard turns off recording on its own thread only", "[chapter02][autograd]") {
    Tensor x = tensor({1, 2}).requires_grad_();
    {
        NoGradGuard no_grad;
        CHECK_FALSE(GradMode::is_enabled());
        CHECK_FALSE((x * 2.0).requires_grad());
        {
            NoGradGuard nested;
        }
        CHECK_FALSE(GradMode::is_enabled());
    }
    CHECK(GradMode::is_enabled());

    bool other_thread_recorded = false;
    bool other_thread_enabled = false;
    {
        NoGradGuard no_grad;
        std::thread worker([&] {
            Tensor y = tensor({3}).requires_grad_();
            Tensor z = y * y;
            other_thread_recorded = z.requires_grad();
            other_thread_enabled = GradMode::is_enabled();
            z.backward();
        });
        worker.join();
        CHECK_FALSE((x * 2.0).requires_grad());
    }
    CHECK(other_thread_recorded);
    CHECK(other_thread_enabled);
}

TEST_CASE("the graph is freed with its last handle", "[chapter02][autograd]") {
    std::weak_ptr<Node> watch;
    Tensor x = tensor({1, 2}).requires_grad_();
    {
        Tensor y = exp(x * 2.0);
        watch = y.grad_fn();
        CHECK(y.grad_fn()->name() == "ExpBackward0");
        REQUIRE(watch.lock() != nullptr);
    }
    CHECK(watch.expired());
}

TEST_CASE("a chain of 100k operations backpropagates and frees without recursion", "[chapter02][autograd][large]") {
    Tensor x = tensor({1}).requires_grad_();
    std::weak_ptr<Node> first;
    {
        Tensor y = x;
        for (int i = 0; i < 100000; ++i) {
            y = y * 1.0 + 0.0;
            if (i == 0) first = y.grad_fn();
        }
        y.backward();
        CHECK(x.grad().item() == 1.0f);
        REQUIRE_FALSE(first.expired());
    }
    CHECK(first.expired());
}

TEST_CASE("anomaly mode names the first operation that makes NaN or Inf", "[chapter02][autograd]") {
    Tensor x = tensor({-1, 2}).requires_grad_();
    CHECK_NOTHROW(log(x));  // off by default: NaN passes silently
    {
        AnomalyGuard anomaly;
        CHECK(AnomalyGuard::is_enabled());
        Tensor ok = x * 2.0;
        CHECK_THROWS_WITH(log(x), Catch::Contains("log") && Catch::Contains("NaN or Inf"));
        Tensor zero = tensor({0, 1}).requires_grad_();
        Tensor root = sqrt(zero);  // forward is fine, backward divides by 0
        CHECK_THROWS_WITH(root.sum().backward(), Catch::Contains("backward") && Catch::Contains("sqrt"));
    }
    CHECK_FALSE(AnomalyGuard::is_enabled());
}

TEST_CASE("gradcheck fails for a wrong gradient", "[chapter02][autograd][gradcheck]") {
    auto wrong_square = [](const std::vector<Tensor>& in) {
        const Tensor& x = in[0];
        Tensor out = detail::unary_kernel(UnaryOp::PowScalar, x, 2.0f);
        return record("wrong_square", out, {x}, [x = SavedTensor(x)](const Tensor& g) { return Grads{g * x.unpack() * 2.1}; });
    };
    const Tensor x = random_input({3, 2});
    GradcheckOptions quiet;
    quiet.raise_exception = false;
    CHECK_FALSE(gradcheck(wrong_square, {x}, quiet));
    CHECK_THROWS_WITH(gradcheck(wrong_square, {x}), Catch::Contains("gradcheck"));
    CHECK(gradcheck(unary_fn([](const Tensor& t) { return t * t; }), {x}));
}

TEST_CASE("gradcheck's default tolerance catches a gradient that is off by 0.1%", "[chapter02][autograd][gradcheck]") {
    // sigmoid with its exact forward and a backward scaled by 1.001.
    auto slightly_wrong_sigmoid = [](const std::vector<Tensor>& in) {
        const Tensor& x = in[0];
        Tensor out = detail::unary_kernel(UnaryOp::Sigmoid, x);
        return record("sigmoid", out, {x}, [out = SavedTensor(out)](const Tensor& g) {
            const Tensor& y = out.unpack();
            return Grads{g * y * (1.0 - y) * 1.001};
        });
    };
    GradcheckOptions quiet;
    quiet.raise_exception = false;
    const Tensor x = random_input({4, 5}, 11);
    CHECK_FALSE(gradcheck(slightly_wrong_sigmoid, {x}, quiet));
    CHECK(gradcheck(unary_fn([](const Tensor& t) { return sigmoid(t); }), {x}));
}

TEST_CASE("backward reports a rule that returns a wrongly shaped gradient", "[chapter02][autograd]") {
    Tensor x = tensor({1, 2}).requires_grad_();
    Tensor out = record("broken", x.detach() * 1.0, {x}, [](const Tensor& g) { return Grads{g.sum()}; });
    CHECK_THROWS_WITH(out.backward(ones({2})), Catch::Contains("broken") && Catch::Contains("[2]"));
    // The failed pass leaves nothing behind: a correct pass afterwards works.
    (x * 1.0).sum().backward();
    check_tensor(x.grad(), {2}, {1, 1});
}
