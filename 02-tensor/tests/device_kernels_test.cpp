// The fused training kernels through the Backend interface, on the CPU and on the strict
// stand-in device, against their plain references; and a small CNN built on them with
// record() (as chapter 3 builds its layers), whose forward, backward and SGD step give the
// same numbers on both devices without a single read of device memory by the host.
#include "stand_in_device.hpp"
#include "test_helpers.hpp"

#include <stepgrad/tensor/reference_kernels.hpp>

using namespace stepgrad;
using namespace stepgrad::testing;

namespace {

std::vector<float> random_values(std::int64_t count, std::uint64_t seed) {
    Generator generator(seed);
    std::vector<float> values(static_cast<std::size_t>(count));
    for (float& v : values) v = static_cast<float>(generator.normal());
    return values;
}

Tensor on(Device device, const std::vector<float>& values, const Shape& shape) {
    return from_vector(values, shape, TensorOptions().device(device));
}

Tensor on(Device device, const std::vector<std::int64_t>& values, const Shape& shape) {
    return from_vector(values, shape, TensorOptions().device(device));
}

void check_values(const Tensor& actual, const std::vector<float>& expected, double tolerance = 1e-5) {
    const std::vector<float> values = actual.to_vector();
    REQUIRE(values.size() == expected.size());
    for (std::size_t i = 0; i < values.size(); ++i) {
        INFO("element " << i);
        CHECK(values[i] == Approx(expected[i]).margin(tolerance).epsilon(tolerance));
    }
}

const Window2d kWindow{2, 3, 7, 6, 3, 2, 2, 1, 1, 1, 1, 2, false};  // odd sizes, stride, padding, dilation

}  // namespace

TEST_CASE("im2col and col2im match their references on both devices", "[chapter02][kernels][device]") {
    StandInDevice stand_in;
    const Window2d& w = kWindow;
    const std::int64_t rows = w.channels * w.kernel_h * w.kernel_w, positions = w.out_height() * w.out_width();
    const std::vector<float> image = random_values(w.batch * w.channels * w.height * w.width, 1);
    const std::vector<float> columns = random_values(w.batch * rows * positions, 2);
    for (Device device : {Device::CPU, Device::CUDA}) {
        INFO("device " << to_string(device));
        Backend& backend = get_backend(device);
        const Tensor x = on(device, image, {w.batch, w.channels, w.height, w.width});
        Tensor cols = Tensor::empty({w.batch, rows, positions}, device);
        backend.im2col(x.data_ptr<float>(), w, cols.data_ptr<float>());
        check_values(cols, reference::im2col(image, w));
        const Tensor c = on(device, columns, {w.batch, rows, positions});
        Tensor back = Tensor::empty(x.shape(), device);
        backend.col2im(c.data_ptr<float>(), w, back.data_ptr<float>());
        check_values(back, reference::col2im(columns, w));
    }
}

TEST_CASE("pooling kernels match their references on both devices", "[chapter02][kernels][device]") {
    StandInDevice stand_in;
    Window2d w{2, 3, 7, 5, 3, 3, 2, 2, 1, 1, 1, 1, true};  // ceil_mode: ragged last windows
    const std::int64_t outputs = w.batch * w.channels * w.out_height() * w.out_width();
    const std::vector<float> input = random_values(w.batch * w.channels * w.height * w.width, 3);
    const std::vector<float> grad = random_values(outputs, 4);
    const Shape in_shape{w.batch, w.channels, w.height, w.width}, out_shape{w.batch, w.channels, w.out_height(), w.out_width()};
    for (Device device : {Device::CPU, Device::CUDA}) {
        INFO("device " << to_string(device));
        Backend& backend = get_backend(device);
        const Tensor x = on(device, input, in_shape), g = on(device, grad, out_shape);
        Tensor out = Tensor::empty(out_shape, device), argmax = Tensor::empty(out_shape, device, Dtype::Int64);
        backend.max_pool2d_forward(x.data_ptr<float>(), w, out.data_ptr<float>(), argmax.data_ptr<std::int64_t>());
        const reference::MaxPoolResult expected = reference::max_pool2d_forward(input, w);
        check_values(out, expected.out, 0.0);
        CHECK(argmax.to_vector<std::int64_t>() == expected.argmax);
        Tensor grad_in = Tensor::empty(in_shape, device);
        backend.max_pool2d_backward(g.data_ptr<float>(), argmax.data_ptr<std::int64_t>(), w, grad_in.data_ptr<float>());
        check_values(grad_in, reference::max_pool2d_backward(grad, expected.argmax, w));
        for (bool include_pad : {true, false}) {
            backend.avg_pool2d_forward(x.data_ptr<float>(), w, include_pad, out.data_ptr<float>());
            check_values(out, reference::avg_pool2d_forward(input, w, include_pad));
            backend.avg_pool2d_backward(g.data_ptr<float>(), w, include_pad, grad_in.data_ptr<float>());
            check_values(grad_in, reference::avg_pool2d_backward(grad, w, include_pad));
        }
    }
}

TEST_CASE("cross-entropy kernels match their references and check targets on both devices",
          "[chapter02][kernels][device]") {
    StandInDevice stand_in;
    const std::int64_t batch = 5, classes = 7, ignore = -100;
    const std::vector<float> logits = random_values(batch * classes, 5);
    const std::vector<std::int64_t> target{3, ignore, 0, 6, 2};
    const std::vector<float> grad_loss = random_values(batch, 6);
    for (Device device : {Device::CPU, Device::CUDA}) {
        INFO("device " << to_string(device));
        Backend& backend = get_backend(device);
        const Tensor x = on(device, logits, {batch, classes}), t = on(device, target, {batch});
        Tensor log_probs = Tensor::empty({batch, classes}, device), loss = Tensor::empty({batch}, device),
               valid = Tensor::empty({batch}, device);
        backend.cross_entropy_forward(x.data_ptr<float>(), t.data_ptr<std::int64_t>(), batch, classes, ignore, 0.1f,
                                      log_probs.data_ptr<float>(), loss.data_ptr<float>(), valid.data_ptr<float>());
        const reference::CrossEntropyResult expected = reference::cross_entropy_forward(logits, target, classes, ignore, 0.1f);
        check_values(log_probs, {expected.log_probs.begin(), expected.log_probs.end()});
        check_values(loss, {expected.loss.begin(), expected.loss.end()});
        check_values(valid, expected.valid, 0.0);
        const Tensor g = on(device, grad_loss, {batch});
        Tensor grad_logits = Tensor::empty({batch, classes}, device);
        backend.cross_entropy_backward(log_probs.data_ptr<float>(), t.data_ptr<std::int64_t>(), g.data_ptr<float>(),
                                       batch, classes, ignore, 0.1f, grad_logits.data_ptr<float>());
        check_values(grad_logits, reference::cross_entropy_backward(log_probs.to_vector(), target, grad_loss, classes,
                                                                    ignore, 0.1f));
        const Tensor bad = on(device, std::vector<std::int64_t>{3, 7, 0, 0, 0}, {batch});
        // A GPU finds the bad target inside the kernel and reports it at the next read of the device.
        CHECK_THROWS_AS((backend.cross_entropy_forward(x.data_ptr<float>(), bad.data_ptr<std::int64_t>(), batch,
                                                       classes, ignore, 0.0f, log_probs.data_ptr<float>(),
                                                       loss.data_ptr<float>(), valid.data_ptr<float>()),
                         loss.to_vector()),
                        std::out_of_range);
    }
}

TEST_CASE("optimizer, transpose and axpy kernels match their references on both devices",
          "[chapter02][kernels][device]") {
    StandInDevice stand_in;
    const std::int64_t n = 37;
    const std::vector<float> start = random_values(n, 7);
    SgdUpdate sgd;
    sgd.lr = 0.1f, sgd.momentum = 0.9f, sgd.dampening = 0.1f, sgd.weight_decay = 0.01f, sgd.nesterov = true;
    AdamUpdate adam;
    adam.lr = 0.01f, adam.weight_decay = 0.1f, adam.decoupled_weight_decay = true;
    for (Device device : {Device::CPU, Device::CUDA}) {
        INFO("device " << to_string(device));
        Backend& backend = get_backend(device);
        std::vector<float> param = start, buffer(start.size()), m(start.size()), v(start.size());
        std::vector<float> adam_param = start;
        Tensor p = on(device, start, {n}), buf = zeros({n}, TensorOptions().device(device));
        Tensor ap = on(device, start, {n}), am = zeros({n}, TensorOptions().device(device)),
               av = zeros({n}, TensorOptions().device(device));
        for (int step = 1; step <= 3; ++step) {
            const std::vector<float> grad = random_values(n, 10 + static_cast<std::uint64_t>(step));
            const Tensor g = on(device, grad, {n});
            sgd.first_step = step == 1;
            adam.step = step;
            backend.sgd_step(p.data_ptr<float>(), g.data_ptr<float>(), buf.data_ptr<float>(), n, sgd);
            reference::sgd_step(param, grad, buffer, sgd);
            backend.adam_step(ap.data_ptr<float>(), g.data_ptr<float>(), am.data_ptr<float>(), av.data_ptr<float>(), n,
                              adam);
            reference::adam_step(adam_param, grad, m, v, adam);
        }
        check_values(p, param);
        check_values(buf, buffer);
        check_values(ap, adam_param);
        const std::vector<float> matrix = random_values(2 * 33 * 65, 8);
        const Tensor x = on(device, matrix, {2, 33, 65});
        Tensor transposed = Tensor::empty({2, 65, 33}, device);
        backend.transpose(x.data_ptr<float>(), 2, 33, 65, transposed.data_ptr<float>());
        check_values(transposed, reference::transpose(matrix, 2, 33, 65), 0.0);
        std::vector<float> y = start;
        Tensor ty = on(device, start, {n});
        const Tensor tx = on(device, param, {n});
        backend.axpy(n, -0.5f, tx.data_ptr<float>(), ty.data_ptr<float>());
        reference::axpy(-0.5f, param, y);
        check_values(ty, y);
    }
}

namespace {

// A tiny CNN's layers, written the way chapter 3 writes them: a fused kernel for the forward,
// record() with the matching backward kernel.
Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, Window2d window) {
    // x is (N, C, H, W), weight (OC, C, kh, kw): out (N, OC, OH, OW) = weight (OC, K) @ columns (N, K, L)
    window.batch = x.size(0), window.channels = x.size(1), window.height = x.size(2), window.width = x.size(3);
    const std::int64_t k = window.channels * window.kernel_h * window.kernel_w;
    const std::int64_t positions = window.out_height() * window.out_width();
    Tensor columns = Tensor::empty({window.batch, k, positions}, x.device());
    get_backend(x.device()).im2col(x.data_ptr<float>(), window, columns.data_ptr<float>());
    columns = record("im2col", columns, {x}, [window, in_shape = x.shape()](const Tensor& grad_output) {
        Tensor grad = Tensor::empty(in_shape, grad_output.device());
        get_backend(grad.device()).col2im(grad_output.data_ptr<float>(), window, grad.data_ptr<float>());
        return Grads{grad};
    });
    const std::int64_t out_channels = weight.size(0);
    Tensor out = matmul(weight.reshape({out_channels, k}), columns) + bias.reshape({1, out_channels, 1});
    return out.reshape({window.batch, out_channels, window.out_height(), window.out_width()});
}

Tensor max_pool2d(const Tensor& x, std::int64_t size) {
    const Window2d window{x.size(0), x.size(1), x.size(2), x.size(3), size, size, size, size};
    const Shape out_shape{window.batch, window.channels, window.out_height(), window.out_width()};
    Tensor out = Tensor::empty(out_shape, x.device());
    Tensor argmax = Tensor::empty(out_shape, x.device(), Dtype::Int64);
    get_backend(x.device()).max_pool2d_forward(x.data_ptr<float>(), window, out.data_ptr<float>(),
                                               argmax.data_ptr<std::int64_t>());
    return record("max_pool2d", out, {x},
                  [window, in_shape = x.shape(), argmax = SavedTensor(argmax)](const Tensor& grad_output) {
                      Tensor grad = Tensor::empty(in_shape, grad_output.device());
                      get_backend(grad.device()).max_pool2d_backward(grad_output.data_ptr<float>(),
                                                                     argmax.unpack().data_ptr<std::int64_t>(), window,
                                                                     grad.data_ptr<float>());
                      return Grads{grad};
                  });
}

Tensor cross_entropy(const Tensor& logits, const Tensor& target) {
    const std::int64_t batch = logits.size(0), classes = logits.size(1);
    Tensor log_probs = Tensor::empty({batch, classes}, logits.device());
    Tensor losses = Tensor::empty({batch}, logits.device());
    Tensor valid = Tensor::empty({batch}, logits.device());
    get_backend(logits.device()).cross_entropy_forward(logits.data_ptr<float>(), target.data_ptr<std::int64_t>(), batch,
                                                       classes, -100, 0.0f, log_probs.data_ptr<float>(),
                                                       losses.data_ptr<float>(), valid.data_ptr<float>());
    losses = record("cross_entropy", losses, {logits},
                    [log_probs = SavedTensor(log_probs), target = SavedTensor(target)](const Tensor& grad_output) {
                        const Tensor& lp = log_probs.unpack();
                        Tensor grad = Tensor::empty(lp.shape(), lp.device());
                        get_backend(lp.device()).cross_entropy_backward(
                            lp.data_ptr<float>(), target.unpack().data_ptr<std::int64_t>(), grad_output.data_ptr<float>(),
                            lp.size(0), lp.size(1), -100, 0.0f, grad.data_ptr<float>());
                        return Grads{grad};
                    });
    return losses.sum() / valid.sum();  // the mean over the rows that count (no host read)
}

}  // namespace

TEST_CASE("a small CNN trains the same on the stand-in device as on the CPU, with no host reads",
          "[chapter02][kernels][device]") {
    StandInDevice stand_in;
    Generator generator(21);
    const Tensor images = randn({4, 1, 8, 8}, generator);
    const Tensor labels = tensor({3, 0, 9, 5}, TensorOptions().dtype(Dtype::Int64));
    const Tensor w1 = randn({4, 1, 3, 3}, generator) * 0.3, b1 = randn({4}, generator) * 0.1;
    const Tensor w2 = randn({10, 64}, generator) * 0.1, b2 = zeros({10});
    const Window2d same{1, 1, 1, 1, 3, 3, 1, 1, 1, 1};  // 3x3, padding 1

    auto run = [&](Device device) {
        std::vector<Tensor> params;
        for (const Tensor& p : {w1, b1, w2, b2}) params.push_back(p.clone().to(device).requires_grad_());
        const Tensor x = images.to(device), y = labels.to(device);
        std::vector<Tensor> momentum;
        for (const Tensor& p : params) momentum.push_back(zeros(p.shape(), TensorOptions().device(device)));
        const std::uint64_t reads_before = stand_in_host_reads();
        Tensor loss;
        for (int step = 0; step < 2; ++step) {
            Tensor hidden = max_pool2d(relu(conv2d(x, params[0], params[1], same)), 2);  // (4, 4, 4, 4)
            Tensor logits = matmul(hidden.flatten(1), params[2].t()) + params[3];
            loss = cross_entropy(logits, y);
            loss.backward();
            NoGradGuard no_grad;
            SgdUpdate update;
            update.lr = 0.1f, update.momentum = 0.9f, update.first_step = step == 0;
            for (std::size_t i = 0; i < params.size(); ++i) {
                get_backend(device).sgd_step(params[i].data_ptr<float>(), params[i].grad().data_ptr<float>(),
                                             momentum[i].data_ptr<float>(), params[i].numel(), update);
                detail::mark_modified(params[i]);
                params[i].grad().zero_();
            }
        }
        if (device == Device::CUDA) CHECK(stand_in_host_reads() == reads_before);  // nothing synchronised
        std::vector<Tensor> results{loss.cpu()};
        for (const Tensor& p : params) results.push_back(p.detach().cpu());
        return results;
    };
    const auto on_cpu = run(Device::CPU);
    const auto on_device = run(Device::CUDA);
    for (std::size_t i = 0; i < on_cpu.size(); ++i) check_same(on_device[i], on_cpu[i], 1e-6);
    CHECK(on_cpu[0].item() > 0.0f);
}

TEST_CASE("the conv layer built on im2col passes gradcheck", "[chapter02][kernels]") {
    const Window2d window{1, 1, 1, 1, 3, 2, 2, 1, 1, 0, 1, 2};  // stride (2, 1), padding (1, 0), dilation (1, 2)
    const Tensor x = random_input({2, 2, 5, 6}, 31);
    const Tensor w = random_input({3, 2, 3, 2}, 32);
    const Tensor b = random_input({3}, 33);
    // The convolution is linear in each input, so a long step has no truncation error and the
    // least float32 rounding (each input reaches dozens of summed products).
    GradcheckOptions linear;
    linear.eps = 5e-2;
    CHECK(gradcheck([&](const std::vector<Tensor>& in) { return conv2d(in[0], in[1], in[2], window); }, {x, w, b},
                    linear));
    CHECK(gradcheck([](const std::vector<Tensor>& in) { return max_pool2d(in[0], 2); }, {random_input({1, 2, 4, 6}, 34)}));
}
