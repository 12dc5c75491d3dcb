// Factories: tensors from lists and vectors, filled, ranges and seeded random numbers.
#include <stepgrad/shared/error.hpp>
#include <stepgrad/shared/random.hpp>
#include <stepgrad/tensor/factories.hpp>

#include <atomic>
#include <cmath>

namespace stepgrad {

namespace {

Tensor finish(Tensor t, const TensorOptions& options) {
    if (options.requires_grad()) t.requires_grad_(true);
    return t;
}

// One per process (as torch.set_default_device), atomic so that reading it on one thread while
// another sets it is not a data race; which value the reader sees is then unspecified.
std::atomic<Device>& default_device_slot() {
    static std::atomic<Device> device{Device::CPU};
    return device;
}

Tensor empty_float(const Shape& shape, const TensorOptions& options, const char* op) {
    STEPGRAD_CHECK(options.dtype() == Dtype::Float32, op << ": makes Float32 tensors only; convert the result "
                                                             "with .to(Dtype::Int64)");
    return Tensor::empty(shape, options.device());
}

}  // namespace

Device default_device() { return default_device_slot().load(std::memory_order_relaxed); }

void set_default_device(Device device) { default_device_slot().store(device, std::memory_order_relaxed); }

Tensor scalar_tensor(double value, TensorOptions options) { return full({}, value, options); }

void TensorData::collect(std::vector<double>& out, Shape& shape, std::size_t depth) const {
    if (scalar_) {
        STEPGRAD_CHECK(shape.size() == depth, "tensor: nested lists are not rectangular (a number where a list of "
                                                  "length " << (depth < shape.size() ? shape[depth] : 0) << " was expected)");
        out.push_back(value_);
        return;
    }
    const auto size = static_cast<std::int64_t>(items_.size());
    if (out.empty() && shape.size() == depth) shape.push_back(size);  // the first list at this depth fixes the size
    STEPGRAD_CHECK(shape.size() > depth && shape[depth] == size,
                   "tensor: nested lists are not rectangular (a list of length " << size << " at depth " << depth << ")");
    for (const TensorData& item : items_) item.collect(out, shape, depth + 1);
    if (items_.empty()) shape.resize(depth + 1);
}

Shape TensorData::shape() const {
    std::vector<double> values;
    Shape shape;
    collect(values, shape, 0);
    return shape;
}

std::vector<float> TensorData::values() const {
    std::vector<double> values;
    Shape shape;
    collect(values, shape, 0);
    return {values.begin(), values.end()};
}

Tensor tensor(const TensorData& data, TensorOptions options) {
    std::vector<double> values;
    Shape shape;
    data.collect(values, shape, 0);
    if (options.dtype() == Dtype::Int64) {
        for (double v : values) {
            STEPGRAD_CHECK(v == std::floor(v), "tensor: " << v << " is not a whole number, so it cannot be Int64");
        }
        return from_vector(std::vector<std::int64_t>(values.begin(), values.end()), shape, options);
    }
    return from_vector(std::vector<float>(values.begin(), values.end()), shape, options);
}

namespace {
template <class T>
Tensor tensor_from_values(const std::vector<T>& values, const Shape& shape, TensorOptions options) {
    STEPGRAD_CHECK(static_cast<std::int64_t>(values.size()) == numel_of(shape),
                   "from_vector: " << values.size() << " values for shape " << shape_to_string(shape) << " ("
                                   << numel_of(shape) << " elements)");
    Tensor t = Tensor::empty(shape, options.device(), dtype_of<T>());
    get_backend(options.device()).copy_from_host(values.data(), t.data_ptr(), values.size() * sizeof(T));
    return finish(t.to(options.dtype_or(dtype_of<T>())), options);
}
}  // namespace

Tensor from_vector(const std::vector<float>& values, const Shape& shape, TensorOptions options) {
    return tensor_from_values(values, shape, options);
}

Tensor from_vector(const std::vector<std::int64_t>& values, const Shape& shape, TensorOptions options) {
    return tensor_from_values(values, shape, options);
}

Tensor full(const Shape& shape, double value, TensorOptions options) {
    Tensor t = Tensor::empty(shape, options.device(), options.dtype());
    get_backend(options.device()).fill(options.dtype(), t.data_ptr(), static_cast<std::size_t>(t.numel()), value);
    return finish(t, options);
}

Tensor zeros(const Shape& shape, TensorOptions options) { return full(shape, 0.0, options); }
Tensor ones(const Shape& shape, TensorOptions options) { return full(shape, 1.0, options); }

Tensor eye(std::int64_t n, TensorOptions options) {
    std::vector<float> values(static_cast<std::size_t>(n * n), 0.0f);
    for (std::int64_t i = 0; i < n; ++i) values[static_cast<std::size_t>(i * n + i)] = 1.0f;
    return from_vector(values, {n, n}, options);
}

Tensor arange(double end, TensorOptions options) { return arange(0.0, end, 1.0, options); }

Tensor arange(double start, double end, double step, TensorOptions options) {
    STEPGRAD_CHECK(step != 0.0, "arange: step must not be 0");
    const auto count = static_cast<std::int64_t>(std::max(std::ceil((end - start) / step), 0.0));
    if (options.dtype() == Dtype::Int64) {
        std::vector<std::int64_t> values(static_cast<std::size_t>(count));
        for (std::int64_t i = 0; i < count; ++i) {
            values[static_cast<std::size_t>(i)] = static_cast<std::int64_t>(start + static_cast<double>(i) * step);
        }
        return from_vector(values, {count}, options);
    }
    std::vector<float> values(static_cast<std::size_t>(count));
    for (std::int64_t i = 0; i < count; ++i) {
        values[static_cast<std::size_t>(i)] = static_cast<float>(start + static_cast<double>(i) * step);
    }
    return from_vector(values, {count}, options);
}

Tensor randperm(std::int64_t n, Generator& generator, TensorOptions options) {
    STEPGRAD_CHECK(n >= 0, "randperm: n must be non-negative, got " << n);
    Tensor t = Tensor::empty({n}, options.device(), Dtype::Int64);
    get_backend(options.device()).randperm(t.data_ptr<std::int64_t>(), n, generator);
    return t.to(options.dtype_or(Dtype::Int64));
}

Tensor randperm(std::int64_t n, TensorOptions options) { return randperm(n, default_generator(), options); }

Tensor uniform(const Shape& shape, double low, double high, Generator& generator, TensorOptions options) {
    Tensor t = empty_float(shape, options, "uniform");
    get_backend(options.device()).random_uniform(t.data_ptr<float>(), static_cast<std::size_t>(t.numel()),
                                                 static_cast<float>(low), static_cast<float>(high), generator);
    return finish(t, options);
}

Tensor rand(const Shape& shape, Generator& generator, TensorOptions options) {
    return uniform(shape, 0.0, 1.0, generator, options);
}
Tensor rand(const Shape& shape, TensorOptions options) { return rand(shape, default_generator(), options); }

Tensor randn(const Shape& shape, Generator& generator, TensorOptions options) {
    Tensor t = empty_float(shape, options, "randn");
    get_backend(options.device()).random_normal(t.data_ptr<float>(), static_cast<std::size_t>(t.numel()), 0.0f, 1.0f,
                                                generator);
    return finish(t, options);
}
Tensor randn(const Shape& shape, TensorOptions options) { return randn(shape, default_generator(), options); }

Tensor zeros_like(const Tensor& like) { return full_like(like, 0.0); }
Tensor ones_like(const Tensor& like) { return full_like(like, 1.0); }
Tensor full_like(const Tensor& like, double value) {
    return full(like.shape(), value, TensorOptions().device(like.device()).dtype(like.dtype()));
}
Tensor rand_like(const Tensor& like) { return rand(like.shape(), TensorOptions().device(like.device())); }
Tensor randn_like(const Tensor& like) { return randn(like.shape(), TensorOptions().device(like.device())); }

// One generator per thread, each starting at seed 0: a thread's draws depend only on what that
// thread seeded and drew, so models built and trained on separate threads are reproducible.
Generator& default_generator() {
    thread_local Generator generator(0);
    return generator;
}

void manual_seed(std::uint64_t seed) { default_generator().seed(seed); }

}  // namespace stepgrad
