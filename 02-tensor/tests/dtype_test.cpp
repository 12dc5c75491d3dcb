// Dtypes (Float32 numbers, Int64 indices), casts, item<T>, printing, and the caching allocator.
#include "test_helpers.hpp"

using namespace stepgrad;
using namespace stepgrad::testing;

namespace {
const TensorOptions kInt64 = TensorOptions().dtype(Dtype::Int64);
}

TEST_CASE("factories make Int64 tensors on request", "[chapter02][dtype]") {
    const Tensor labels = tensor({3, 1, 4}, kInt64);
    CHECK(labels.dtype() == Dtype::Int64);
    CHECK_FALSE(labels.is_floating_point());
    CHECK(labels.to_vector<std::int64_t>() == std::vector<std::int64_t>{3, 1, 4});
    CHECK(zeros({2}, kInt64).dtype() == Dtype::Int64);
    CHECK(full({2}, 7, kInt64).to_vector<std::int64_t>() == std::vector<std::int64_t>{7, 7});
    CHECK(arange(5, kInt64).to_vector<std::int64_t>() == std::vector<std::int64_t>{0, 1, 2, 3, 4});
    CHECK(arange(10, 0, -3, kInt64).to_vector<std::int64_t>() == std::vector<std::int64_t>{10, 7, 4, 1});
    CHECK(from_vector(std::vector<std::int64_t>{1LL << 40, -2}, {2}).to_vector<std::int64_t>() ==
          std::vector<std::int64_t>{1LL << 40, -2});
    CHECK(zeros_like(labels).dtype() == Dtype::Int64);
    CHECK_THROWS_WITH(tensor({1.5}, kInt64), Catch::Contains("whole number"));
    CHECK_THROWS_WITH(randn({2}, kInt64), Catch::Contains("Float32"));
    CHECK(element_size(Dtype::Int64) == 8);
    CHECK(element_size(Dtype::Float32) == 4);
}

TEST_CASE("randperm is a seeded permutation", "[chapter02][dtype]") {
    Generator generator(5);
    const Tensor p = randperm(1000, generator);
    CHECK(p.dtype() == Dtype::Int64);
    std::vector<std::int64_t> values = p.to_vector<std::int64_t>();
    std::vector<std::int64_t> sorted = values;
    std::sort(sorted.begin(), sorted.end());
    for (std::int64_t i = 0; i < 1000; ++i) CHECK(sorted[static_cast<std::size_t>(i)] == i);
    CHECK(values != sorted);  // shuffled
    Generator again(5);
    CHECK(randperm(1000, again).to_vector<std::int64_t>() == values);
    CHECK(randperm(0).numel() == 0);
}

TEST_CASE("to(Dtype) casts, item<T> reads one element", "[chapter02][dtype]") {
    const Tensor x = tensor({1.9, -1.9, 3.0});
    const Tensor truncated = x.to(Dtype::Int64);
    CHECK(truncated.to_vector<std::int64_t>() == std::vector<std::int64_t>{1, -1, 3});  // toward zero
    check_tensor(truncated.to(Dtype::Float32), {3}, {1, -1, 3});
    CHECK(x.to(Dtype::Float32).impl() == x.impl());  // already there
    const Tensor big = from_vector(std::vector<std::int64_t>{(1LL << 53) + 1}, {1});
    CHECK(big.item<std::int64_t>() == (1LL << 53) + 1 - 1 + 1);
    CHECK(big.to_vector<std::int64_t>()[0] == (1LL << 53) + 1);  // exact, not through float or double
    CHECK(tensor({2.5}).item<double>() == 2.5);
    CHECK(tensor({2.5}).item() == 2.5f);
    CHECK(tensor({7}, kInt64).item<int>() == 7);
    CHECK_THROWS_WITH(tensor({1, 2}).item(), Catch::Contains("one element") || Catch::Contains("1 element"));
}

TEST_CASE("Int64 tensors never require grad", "[chapter02][dtype]") {
    Tensor labels = tensor({1, 2}, kInt64);
    CHECK_THROWS_WITH(labels.requires_grad_(), Catch::Contains("only Float32"));
    CHECK_THROWS_AS(zeros({2}, TensorOptions().dtype(Dtype::Int64).requires_grad()), std::invalid_argument);
    Tensor w = tensor({0.5, 2.0}).requires_grad_();
    CHECK_FALSE(argmax(w).requires_grad());
    CHECK_FALSE(w.to(Dtype::Int64).requires_grad());
}

TEST_CASE("Int64 arithmetic is exact, comparisons give Float32 masks, and mixing promotes", "[chapter02][dtype]") {
    const std::int64_t large = (1LL << 40) + 1;  // not representable in float32
    const Tensor a = from_vector(std::vector<std::int64_t>{large, 5}, {2});
    const Tensor b = tensor({1, 5}, kInt64);
    CHECK((a + b).to_vector<std::int64_t>() == std::vector<std::int64_t>{large + 1, 10});
    CHECK((a - b).dtype() == Dtype::Int64);
    CHECK((a * 2.0).to_vector<std::int64_t>() == std::vector<std::int64_t>{2 * large, 10});
    CHECK(a.sum().to_vector<std::int64_t>() == std::vector<std::int64_t>{large + 5});
    CHECK(a.max().item<std::int64_t>() == large);
    const Tensor same = eq(b, tensor({1, 4}, kInt64));
    CHECK(same.dtype() == Dtype::Float32);
    check_tensor(same, {2}, {1, 0});
    check_tensor(b > 2.0, {2}, {0, 1});
    // Accuracy, the way chapter 5 computes it: predictions against labels, as a mean of a mask.
    const Tensor logits = tensor({{0.1, 0.9}, {0.8, 0.2}, {0.3, 0.7}});
    const Tensor targets = tensor({1, 0, 0}, kInt64);
    CHECK(eq(argmax(logits, 1), targets).mean().item() == Approx(2.0 / 3.0));
    // Int64 meets Float32, fractions or division as Float32 (PyTorch's promotion).
    check_tensor(b + tensor({0.5, 0.5}), {2}, {1.5, 5.5});
    check_tensor(b * 0.5, {2}, {0.5, 2.5});
    check_tensor(b / 2.0, {2}, {0.5, 2.5});
    CHECK((b / 1.0).dtype() == Dtype::Float32);
    check_tensor(exp(tensor({0}, kInt64)), {1}, {1});
    CHECK_THROWS_WITH(mean(b), Catch::Contains("Float32"));
    Tensor counts = tensor({2, 4}, kInt64);
    CHECK_THROWS_WITH(counts.mul_(0.5), Catch::Contains("Int64"));  // would truncate silently
    CHECK(counts.mul_(3.0).to_vector<std::int64_t>() == std::vector<std::int64_t>{6, 12});
    CHECK_THROWS_WITH(matmul(b.reshape({1, 2}), b.reshape({2, 1})), Catch::Contains("Float32"));
}

TEST_CASE("index operations take Int64 and still work on Int64 data", "[chapter02][dtype]") {
    const Tensor labels = tensor({10, 11, 12, 13}, kInt64);
    const Tensor order = tensor({3, 0, 2}, kInt64);
    CHECK(labels.index_select(0, order).to_vector<std::int64_t>() == std::vector<std::int64_t>{13, 10, 12});
    CHECK(labels.slice(0, 1, 3).to_vector<std::int64_t>() == std::vector<std::int64_t>{11, 12});
    CHECK(cat({labels, order}).to_vector<std::int64_t>().size() == 7);
    CHECK(labels.reshape({2, 2}).t().to_vector<std::int64_t>() == std::vector<std::int64_t>{10, 12, 11, 13});
    CHECK_THROWS_WITH(index_select(zeros({4}), 0, tensor({1.0})), Catch::Contains("Int64 index"));
    CHECK_THROWS_WITH(gather(zeros({2, 2}), 1, tensor({{0.0}, {1.0}})), Catch::Contains("Int64 index"));
    // Bad indices are found by the kernel; a GPU reports them at the next read (here to_vector).
    CHECK_THROWS_AS(index_select(zeros({4}), 0, tensor({4}, kInt64)).to_vector(), std::out_of_range);
    CHECK_THROWS_WITH(gather(zeros({2, 2}), 1, tensor({{0}, {-3}}, kInt64)).to_vector(),
                      Catch::Contains("gather") && Catch::Contains("index -3 is out of range"));
    const Tensor counts = scatter_add(zeros({3}), 0, tensor({0, 2, 2, 2}, kInt64), ones({4}));
    check_tensor(counts, {3}, {1, 0, 3});
}

TEST_CASE("Int64 tensors print as PyTorch prints them", "[chapter02][dtype][print][cpu-only]") {
    CHECK(to_string(tensor({3, -1, 40}, kInt64)) == "tensor([ 3, -1, 40])");
    CHECK(to_string(tensor(7, kInt64)) == "tensor(7)");
    CHECK(to_string(zeros({0}, kInt64)) == "tensor([], dtype=torch.int64)");
    CHECK(to_string(tensor({1.0, 2.0})) == "tensor([1., 2.])");
    CHECK(to_string(Dtype::Float32) == "torch.float32");
}

TEST_CASE("the caching allocator reuses freed buffers and reports its statistics", "[chapter02][allocator]") {
    CachingAllocator allocator(Device::CPU, [](std::size_t bytes) { return std::aligned_alloc(64, bytes); },
                               [](void* pointer, std::size_t) { std::free(pointer); });
    void* first = allocator.allocate(1000);  // rounded up to 1024
    CHECK(allocator.stats().bytes_in_use == 1024);
    CHECK(allocator.stats().misses == 1);
    allocator.release(first, 1000);
    CHECK(allocator.stats().bytes_in_use == 0);
    CHECK(allocator.stats().bytes_cached == 1024);
    void* second = allocator.allocate(900);  // same size class: the same buffer comes back
    CHECK(second == first);
    CHECK(allocator.stats().hits == 1);
    void* other = allocator.allocate(5000);
    CHECK(allocator.stats().misses == 2);
    CHECK(allocator.stats().peak_bytes_in_use == 1024 + 5120);
    allocator.release(second, 900);
    allocator.release(other, 5000);
    allocator.empty_cache();
    CHECK(allocator.stats().bytes_cached == 0);
    CHECK(allocator.allocate(0) == nullptr);
    CHECK(CachingAllocator::size_class(1) == 512);
    CHECK(CachingAllocator::size_class((1 << 20) + 1) == 2 << 20);
    CHECK(to_string(allocator.stats()).find("hits 1") != std::string::npos);

    CachingAllocator empty_device(Device::CPU, [](std::size_t) -> void* { return nullptr; }, [](void*, std::size_t) {});
    CHECK_THROWS_WITH(empty_device.allocate(100), Catch::Contains("out of memory"));
}

TEST_CASE("a training-style loop stops allocating after its first step", "[chapter02][allocator]") {
    Generator generator(1);
    Tensor w = randn({32, 16}, generator).requires_grad_();
    const Tensor x = randn({8, 32}, generator);
    auto step = [&] {
        Tensor loss = relu(matmul(x, w)).sum();
        loss.backward();
        NoGradGuard no_grad;
        w.add_(w.grad(), -0.01);
        w.set_grad(Tensor());
    };
    step();
    step();
    const AllocatorStats before = memory_stats(w.device());
    for (int i = 0; i < 5; ++i) step();
    const AllocatorStats after = memory_stats(w.device());
    CHECK(after.misses == before.misses);  // every buffer came from the cache
    CHECK(after.hits > before.hits);
}
