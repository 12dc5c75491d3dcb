// Chapter 4's runtime: registration, moving tensors and modules, the caching allocator (no
// device allocation per operation once warm, Thrust's temporaries included), launch counts, and
// index errors found on the device reported at the next synchronising read.
#include "device_buffers.hpp"

#include <stepgrad/gpu/gpu.hpp>
#include <stepgrad/shared/random.hpp>
#include <stepgrad/tensor.hpp>

using namespace stepgrad;

TEST_CASE("the device is registered as cuda and describes itself", "[chapter04][runtime]") {
    REQUIRE(gpu::is_available());
    CHECK(gpu::device_count() >= 1);
    CHECK(gpu::unavailable_reason().empty());
    CHECK_FALSE(gpu::device_description().empty());
    CHECK(has_backend(Device::CUDA));
    CHECK(get_backend(Device::CUDA).device() == Device::CUDA);
}

TEST_CASE("tensors move to the device and back unchanged, and ops there stay there", "[chapter04][runtime]") {
    const Tensor x = tensor({{1.5, -2.0, 3.25}, {0.0, 7.0, -8.5}});
    const Tensor on_device = x.to(Device::CUDA);
    CHECK(on_device.device() == Device::CUDA);
    const Tensor y = (on_device * 2 + 1).sum({1});
    CHECK(y.device() == Device::CUDA);
    CHECK(y.cpu().to_vector<float>() == std::vector<float>{8.5f, 0.0f});
    CHECK(on_device.cpu().to_vector<float>() == x.to_vector<float>());
    CHECK_THROWS_WITH(x + on_device, Catch::Contains("cpu") && Catch::Contains("cuda"));
}

TEST_CASE("the device's free list hands a freed buffer back to the next request of its size class",
          "[chapter04][runtime][ex-04.4]") {
    const std::shared_ptr<CachingAllocator> allocator = get_backend(Device::CUDA).allocator();
    allocator->empty_cache();  // no cached buffer of any class: the first request must miss
    INFO("exercise 04.4 is CachingAllocator::release in 02-tensor/src/allocator.cpp");
    const AllocatorStats start = allocator->stats();
    void* first = allocator->allocate(3000);  // size class 3072
    REQUIRE(first != nullptr);
    CHECK(allocator->stats().misses == start.misses + 1);
    CHECK(allocator->stats().bytes_in_use == start.bytes_in_use + 3072);

    allocator->release(first, 3000);  // onto the free list of 3072, not back to the device
    CHECK(allocator->stats().bytes_cached == 3072);
    CHECK(allocator->stats().bytes_in_use == start.bytes_in_use);

    void* again = allocator->allocate(2600);  // the same class: the same buffer, no device call
    CHECK(again == first);
    CHECK(allocator->stats().hits == start.hits + 1);
    CHECK(allocator->stats().misses == start.misses + 1);
    CHECK(allocator->stats().bytes_cached == 0);

    void* other = allocator->allocate(5000);  // another class (5120): a new buffer
    CHECK(other != first);
    CHECK(allocator->stats().misses == start.misses + 2);
    allocator->release(again, 2600);
    allocator->release(other, 5000);
    CHECK(allocator->stats().bytes_cached == 3072 + 5120);
    CHECK(allocator->stats().bytes_in_use == start.bytes_in_use);
}

TEST_CASE("a warm training loop makes no new device allocations", "[chapter04][runtime][ex-04.4]") {
    Generator generator(3);
    Tensor w = randn({64, 32}, generator).to(Device::CUDA).requires_grad_();
    const Tensor x = randn({16, 64}, generator).to(Device::CUDA);
    auto step = [&] {
        Tensor loss = (matmul(x, w).relu() * 0.5).sum();
        loss.backward();
        NoGradGuard no_grad;
        w.sub_(w.grad() * 0.01);
        w.grad().zero_();
    };
    INFO("exercise 04.4 is CachingAllocator::release in 02-tensor/src/allocator.cpp");
    step();
    step();
    const AllocatorStats warm = memory_stats(Device::CUDA);
    for (int i = 0; i < 5; ++i) step();
    const AllocatorStats after = memory_stats(Device::CUDA);
    CHECK(after.misses == warm.misses);  // every buffer came from the cache
    CHECK(after.hits > warm.hits);
    CHECK(after.bytes_in_use <= warm.bytes_in_use);
    INFO(to_string(after));
}

TEST_CASE("every kernel counts as a launch, and only copies to the host synchronise", "[chapter04][runtime]") {
    const Tensor x = ones({1000}).to(Device::CUDA);
    const long long launches = gpu::kernel_launches(), reads = gpu::synchronising_reads();
    Tensor y = (x * 3).exp().sum();
    CHECK(gpu::kernel_launches() - launches >= 3);
    CHECK(gpu::synchronising_reads() == reads);
    CHECK(y.item() == Approx(1000 * std::exp(3.0f)).epsilon(1e-5));
    CHECK(gpu::synchronising_reads() == reads + 1);
}

TEST_CASE("a bad index found on the device is reported at the next read, then cleared", "[chapter04][runtime]") {
    const Tensor x = arange(6).to(Device::CUDA).reshape({2, 3});
    const Tensor bad = from_vector(std::vector<std::int64_t>{0, 5}, {2}).to(Device::CUDA);
    Tensor picked = index_select(x, 1, bad);  // queued: the kernel cannot throw
    CHECK_THROWS_WITH(picked.cpu(), Catch::Contains("index 5 is out of range for an axis of size 3"));
    const Tensor good = from_vector(std::vector<std::int64_t>{2, -3}, {2}).to(Device::CUDA);
    CHECK(index_select(x, 1, good).cpu().to_vector<float>() == std::vector<float>{2, 0, 5, 3});
}
