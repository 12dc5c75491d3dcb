// Devices: the backend registry, mixed-device errors, and autograd running unchanged on a
// strict stand-in device whose memory the host cannot read (as chapter 4's CUDA will be).
#include "test_helpers.hpp"

#include "stand_in_device.hpp"

#include <sys/wait.h>
#include <unistd.h>

using namespace stepgrad;
using namespace stepgrad::testing;

using StandInCuda = StandInDevice;

TEST_CASE("asking for CUDA without a backend is a clear error", "[chapter02][device][cpu-only]") {
    REQUIRE_FALSE(has_backend(Device::CUDA));
    CHECK(has_backend(Device::CPU));
    CHECK_THROWS_AS(zeros({2}).to(Device::CUDA), std::runtime_error);
    CHECK_THROWS_WITH(zeros({2}, TensorOptions().device(Device::CUDA)), Catch::Contains("CUDA backend not built"));
    CHECK_THROWS_AS(set_backend(Device::CPU, nullptr), std::invalid_argument);
    CHECK(to_string(Device::CUDA) == "cuda");
}

TEST_CASE("to() moves data between devices and back", "[chapter02][device][cpu-only]") {
    StandInCuda cuda;
    const Tensor x = tensor({{1, 2}, {3, 4}});
    const Tensor on_gpu = x.to(Device::CUDA);
    CHECK(on_gpu.device() == Device::CUDA);
    CHECK(x.to(Device::CPU).impl() == x.impl());  // already there
    CHECK_THROWS_WITH((void)on_gpu.data(), Catch::Contains("cpu()"));
    check_tensor(on_gpu.cpu(), {2, 2}, {1, 2, 3, 4});
    CHECK(to_string(on_gpu) == "tensor([[1., 2.],\n        [3., 4.]], device='cuda:0')");
}

TEST_CASE("mixing devices in one operation names both devices", "[chapter02][device][cpu-only]") {
    StandInCuda cuda;
    const Tensor a = ones({2});
    const Tensor b = ones({2}).cuda();
    CHECK_THROWS_WITH(a + b, Catch::Contains("add") && Catch::Contains("cpu") && Catch::Contains("cuda"));
    CHECK_THROWS_AS(matmul(ones({2, 2}), ones({2, 2}).cuda()), std::invalid_argument);
    CHECK_THROWS_AS(cat({a, b}), std::invalid_argument);
    CHECK_THROWS_AS(where(a, a, b), std::invalid_argument);
}

TEST_CASE("autograd runs unchanged on another device", "[chapter02][device][cpu-only]") {
    StandInCuda cuda;
    Generator generator(3);
    const Tensor x = randn({8, 5}, generator);
    const Tensor w = randn({5, 4}, generator);
    const Tensor b = randn({4}, generator);
    const Tensor target = index_select(eye(4), 0, indices({0, 1, 2, 3, 3, 2, 1, 0}));

    auto run = [&](Device device) {
        Tensor wd = w.clone().to(device).requires_grad_();  // clone: to(CPU) of a CPU tensor is itself
        Tensor bd = b.clone().to(device).requires_grad_();
        Tensor hidden = relu(matmul(x.to(device), wd) + bd);
        Tensor logp = log_softmax(hidden, 1);
        Tensor loss = -(logp * target.to(device)).sum() / 8.0 + pad(sigmoid(bd), {1, 1}).mean() +
                      cat({tanh(wd), gelu(wd)}, 0).var() + slice(wd, 0, 1, 3).abs().sum() +
                      gather(hidden, 1, indices({{0}, {1}, {2}, {3}, {0}, {1}, {2}, {3}}).to(device)).max();
        loss.backward();
        return std::vector<Tensor>{loss.cpu(), wd.grad().cpu(), bd.grad().cpu(), softmax(hidden, 0).cpu()};
    };
    const auto on_cpu = run(Device::CPU);
    const auto on_device = run(Device::CUDA);
    for (std::size_t i = 0; i < on_cpu.size(); ++i) check_same(on_device[i], on_cpu[i], 1e-6);

    // Gradients flow back through to().
    Tensor leaf = tensor({1, 2}).requires_grad_();
    (leaf.cuda() * 3.0).sum().backward();
    CHECK(leaf.grad().device() == Device::CPU);
    check_tensor(leaf.grad(), {2}, {3, 3});
    CHECK(randn({3}, TensorOptions().device(Device::CUDA)).device() == Device::CUDA);
}

TEST_CASE("the stand-in device's memory cannot be read by the host outside backend calls",
          "[chapter02][device][stand-in-only]") {
    StandInCuda cuda;
    const Tensor x = ones({4}, TensorOptions().device(Device::CUDA));
    const pid_t child = fork();
    if (child == 0) {  // a stray host read of device memory, as a bug in an op would make
        volatile float value = *x.data_ptr<float>();
        (void)value;
        _exit(0);
    }
    int status = 0;
    REQUIRE(waitpid(child, &status, 0) == child);
    CHECK_FALSE((WIFEXITED(status) && WEXITSTATUS(status) == 0));  // it crashed (SIGSEGV, or ASan's report)
    check_tensor(x.cpu(), {4}, {1, 1, 1, 1});                      // through the backend it reads fine
}
