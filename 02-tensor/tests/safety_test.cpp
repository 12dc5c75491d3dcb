// The safety rules autograd relies on: version counters catch in-place changes of saved
// tensors, leaves that require grad refuse in-place updates, saved tensors never keep a graph
// alive, concurrent backward passes add up exactly, and impossible shapes are refused.
#include "test_helpers.hpp"

#include <atomic>
#include <thread>

using namespace stepgrad;
using namespace stepgrad::testing;

TEST_CASE("changing an input in place before backward is an error, not a wrong gradient", "[chapter02][safety]") {
    Tensor w = tensor({1, 2, 3}).requires_grad_();
    Tensor a = tensor({4, 5, 6});
    Tensor y = (a * w).sum();  // mul saves a: dy/dw = a
    a.add_(ones({3}));         // a is a plain tensor, so this is allowed...
    CHECK(a.version() == 1);
    // ...but the gradient would be computed from the new a.
    CHECK_THROWS_WITH(y.backward(), Catch::Contains("mul") && Catch::Contains("modified by an inplace operation") &&
                                        Catch::Contains("version 1; expected version 0"));
}

TEST_CASE("changing an output through a detached view before backward is an error", "[chapter02][safety]") {
    Tensor x = tensor({0.5, 1.0}).requires_grad_();
    Tensor y = exp(x);             // exp saves its output: d exp/dx = exp(x)
    y.detach().mul_(0.0);          // detach shares the storage, so this zeroes y too
    CHECK(y.version() == 1);       // the version lives with the storage
    CHECK_THROWS_WITH(y.sum().backward(), Catch::Contains("exp") && Catch::Contains("inplace"));
    CHECK_FALSE(x.grad().defined());
}

TEST_CASE("updating a parameter between forward and backward is an error", "[chapter02][safety]") {
    Tensor w = tensor({1, 2}).requires_grad_();
    Tensor x = tensor({3, 4}).requires_grad_();
    Tensor loss = (w * x).sum();  // mul saves w for x's gradient
    {
        NoGradGuard no_grad;
        w.sub_(tensor({0.5, 0.5}));
    }
    CHECK_THROWS_WITH(loss.backward(), Catch::Contains("mul") && Catch::Contains("inplace"));
}

TEST_CASE("in-place updates of a leaf that requires grad need a NoGradGuard", "[chapter02][safety]") {
    Tensor w = tensor({1, 2}).requires_grad_();
    CHECK_THROWS_WITH(w.add_(ones({2})), Catch::Contains("leaf") && Catch::Contains("NoGradGuard"));
    CHECK_THROWS_AS(w.mul_(2.0), std::invalid_argument);
    CHECK_THROWS_AS(w.fill_(0.0), std::invalid_argument);
    CHECK_THROWS_AS(w.copy_(ones({2})), std::invalid_argument);
    Tensor h = w * 2.0;  // part of a graph
    CHECK_THROWS_WITH(h.add_(ones({2})), Catch::Contains("out-of-place"));
    check_tensor(w, {2}, {1, 2});  // nothing was written
    CHECK(w.version() == 0);
}

TEST_CASE("an optimizer step after backward keeps working, step after step", "[chapter02][safety]") {
    Tensor w = tensor({1.0, -2.0}).requires_grad_();
    const Tensor x = tensor({3.0, 0.5});
    for (int step = 0; step < 3; ++step) {
        Tensor loss = ((w * x).sum() - 1.0).pow(2.0);
        loss.backward();
        {
            NoGradGuard no_grad;
            w.add_(w.grad(), -0.01);  // SGD
            w.grad().zero_();
        }
    }
    // By hand: r = w.x - 1, grad = 2 r x, three steps of lr 0.01.
    double w0 = 1.0, w1 = -2.0;
    for (int step = 0; step < 3; ++step) {
        const double r = w0 * 3.0 + w1 * 0.5 - 1.0;
        w0 -= 0.01 * 2 * r * 3.0;
        w1 -= 0.01 * 2 * r * 0.5;
    }
    check_tensor(w, {2}, {static_cast<float>(w0), static_cast<float>(w1)}, 1e-6);
    CHECK(w.version() == 3);
}

TEST_CASE("where saves its condition detached: long chains free without recursion", "[chapter02][safety][large]") {
    Tensor x = tensor({1.0, -1.0}).requires_grad_();
    {
        Tensor y = x;
        for (int i = 0; i < 100000; ++i) {
            Tensor condition = y * 1.0 + 10.0;  // a graph tensor (nonzero: take the first branch)
            y = where(condition, y, y * 2.0);
        }
        y.sum().backward();
        check_tensor(x.grad(), {2}, {1, 1});
    }  // the whole chain goes here, iteratively (capturing the conditions whole overflowed the stack)

    // A condition tensor made by a recorded op is not kept alive by where's node.
    Tensor a = tensor({1.0, 2.0}).requires_grad_();
    Tensor mask = (a * 2.0);
    std::weak_ptr<Node> mask_node = mask.grad_fn();
    Tensor out = where(mask, a, a * 3.0);
    mask = Tensor();
    CHECK(mask_node.expired());
    out.sum().backward();
    check_tensor(a.grad(), {2}, {1, 1});
}

TEST_CASE("eight threads backpropagating through one shared leaf add up exactly", "[chapter02][safety][large]") {
    Tensor w = ones({64}).requires_grad_();
    const int threads = 8, passes = 50;
    std::vector<std::thread> workers;
    std::atomic<int> failures{0};
    for (int t = 0; t < threads; ++t) {
        workers.emplace_back([&, t] {
            try {
                for (int p = 0; p < passes; ++p) {
                    Tensor y = (w * static_cast<double>(t + 1)).sum();
                    y.backward();
                }
            } catch (...) {
                ++failures;
            }
        });
    }
    for (auto& worker : workers) worker.join();
    CHECK(failures == 0);
    // Each thread adds (t + 1) per pass: 50 * (1 + ... + 8) = 1800 for every element.
    check_tensor(w.grad(), {64}, std::vector<float>(64, 1800.0f), 0.0);
}

TEST_CASE("concurrent backward through one shared graph adds up exactly", "[chapter02][safety][large]") {
    Tensor w = tensor({1.0, 2.0, 3.0}).requires_grad_();
    Tensor shared = (w * w).sum();  // one graph, many backward calls at once
    std::vector<std::thread> workers;
    for (int t = 0; t < 8; ++t) {
        workers.emplace_back([&] {
            for (int p = 0; p < 25; ++p) shared.backward();
        });
    }
    for (auto& worker : workers) worker.join();
    check_tensor(w.grad(), {3}, {400, 800, 1200}, 0.0);  // 200 passes of 2w
}

TEST_CASE("shapes whose element count overflows are refused", "[chapter02][safety]") {
    CHECK_THROWS_WITH(zeros({1LL << 62, 4}), Catch::Contains("more elements than a 64-bit count"));
    CHECK_THROWS_AS(Tensor::empty({1LL << 40, 1LL << 40}), std::invalid_argument);
    CHECK_THROWS_WITH(zeros({1LL << 61, 1}, TensorOptions().dtype(Dtype::Int64)), Catch::Contains("bytes"));
    CHECK_THROWS_WITH(zeros({2, -3}), Catch::Contains("negative size"));
    CHECK(zeros({1LL << 62, 0}).numel() == 0);  // a zero size makes any shape empty
}

TEST_CASE("argmax past 2^24 elements returns the exact Int64 index", "[chapter02][safety][dtype][large]") {
    const std::int64_t n = (1LL << 24) + 2;  // the last index, 2^24 + 1, is odd: float32 cannot hold it
    Tensor x = zeros({n});
    {
        NoGradGuard no_grad;
        x.slice(0, n - 1, n).fill_(1.0);  // the largest element is the very last one
    }
    const Tensor index = argmax(x);
    CHECK(index.dtype() == Dtype::Int64);
    CHECK(index.item<std::int64_t>() == n - 1);  // as a float index it would come back as 2^24
    CHECK(argmin(-x).item<std::int64_t>() == n - 1);
}

TEST_CASE("reshape, view, flatten, squeeze, unsqueeze and detach share storage", "[chapter02][safety][views]") {
    Tensor x = arange(12).reshape({3, 4});
    const void* data = x.data_ptr();
    CHECK(x.view({4, 3}).data_ptr() == data);
    CHECK(x.flatten().data_ptr() == data);
    CHECK(x.unsqueeze(0).data_ptr() == data);
    CHECK(x.unsqueeze(0).squeeze().data_ptr() == data);
    CHECK(x.detach().data_ptr() == data);
    // A contiguous slice along the first axis is a view too; a strided one is a copy.
    CHECK(x.slice(0, 1, 3).data_ptr() == static_cast<const float*>(data) + 4);
    CHECK(x[2].data_ptr() == static_cast<const float*>(data) + 8);
    CHECK(x.slice(1, 0, 2).data_ptr() != data);
    CHECK(x.t().data_ptr() != data);
    // Writing through a view writes the original, and bumps the shared version.
    x.view({12}).slice(0, 5, 6).fill_(-1.0);
    CHECK(x.version() == 1);
    check_tensor(x[1], {4}, {4, -1, 6, 7});
    // Gradients still flow through views.
    Tensor w = arange(6).requires_grad_();
    (w.view({2, 3})[1] * 2.0).sum().backward();
    check_tensor(w.grad(), {6}, {0, 0, 0, 2, 2, 2});
}
