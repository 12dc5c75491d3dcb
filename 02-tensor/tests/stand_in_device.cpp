// The strict stand-in device: CPU kernels on memory that is PROT_NONE outside backend calls.
#include "stand_in_device.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <stdexcept>

namespace stepgrad::testing {

namespace {

// All device memory is one reserved arena, handed out by a bump pointer (the caching allocator
// on top reuses freed buffers), so opening and closing it is one mprotect call however many
// buffers exist.
constexpr std::size_t kArenaBytes = std::size_t{16} << 30;  // reserved address space, not memory
std::mutex arena_mutex;
char* arena = nullptr;
std::size_t arena_used = 0;  // bytes handed out so far (page-rounded)
int open_calls = 0;          // nesting depth of backend calls
std::atomic<std::uint64_t> host_reads{0};

std::size_t page_rounded(std::size_t bytes) {
    const auto page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
    return (bytes + page - 1) / page * page;
}

void protect_arena(int protection) {
    if (arena_used > 0 && mprotect(arena, page_rounded(arena_used), protection) != 0) {
        throw std::runtime_error("stand-in device: mprotect failed");
    }
}

// Opens the device memory to the host for the duration of one backend call.
class Access {
public:
    Access() {
        std::lock_guard<std::mutex> lock(arena_mutex);
        if (open_calls++ == 0) protect_arena(PROT_READ | PROT_WRITE);
    }
    ~Access() {
        std::lock_guard<std::mutex> lock(arena_mutex);
        if (--open_calls == 0) protect_arena(PROT_NONE);
    }
    Access(const Access&) = delete;
    Access& operator=(const Access&) = delete;
};

void* map_region(std::size_t bytes) {
    std::lock_guard<std::mutex> lock(arena_mutex);
    if (arena == nullptr) {
        void* base = mmap(nullptr, kArenaBytes, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (base == MAP_FAILED) return nullptr;
        arena = static_cast<char*>(base);
    }
    const std::size_t size = (bytes + 63) / 64 * 64;  // buffers packed, 64-byte aligned
    if (arena_used + size > kArenaBytes) return nullptr;  // the allocator reports "out of memory"
    char* pointer = arena + arena_used;
    const std::size_t open_before = page_rounded(arena_used);
    arena_used += size;
    if (open_calls > 0 && page_rounded(arena_used) > open_before) {
        mprotect(arena + open_before, page_rounded(arena_used) - open_before, PROT_READ | PROT_WRITE);
    }
    return pointer;
}

// Freed buffers stay in the caching allocator; what it gives back on empty_cache keeps its
// place in the arena (a test device: the address space is plentiful).
void unmap_region(void*, std::size_t) {}

// Every kernel is the CPU's, run while the device memory is open.
class StandInBackend final : public Backend {
public:
    [[nodiscard]] Device device() const override { return Device::CUDA; }
    std::shared_ptr<CachingAllocator> allocator() override { return allocator_; }
    void copy_from_host(const void* host, void* dst, std::size_t bytes) override {
        Access access;
        cpu_.copy_from_host(host, dst, bytes);
    }
    void copy_to_host(const void* src, void* host, std::size_t bytes) override {
        ++host_reads;
        Access access;
        cpu_.copy_to_host(src, host, bytes);
    }
    void fill(Dtype dtype, void* out, std::size_t count, double value) override {
        Access access;
        cpu_.fill(dtype, out, count, value);
    }
    void cast(Dtype from, const void* x, Dtype to, void* out, std::size_t count) override {
        Access access;
        cpu_.cast(from, x, to, out, count);
    }
    void unary(UnaryOp op, Dtype dtype, const void* x, void* out, std::size_t count, double alpha,
               double beta) override {
        Access access;
        cpu_.unary(op, dtype, x, out, count, alpha, beta);
    }
    void binary(BinaryOp op, Dtype dtype, const void* a, const Shape& as, const void* b, const Shape& bs, void* out,
                const Shape& os) override {
        Access access;
        cpu_.binary(op, dtype, a, as, b, bs, out, os);
    }
    void where(const float* cond, const Shape& cs, const float* a, const Shape& as, const float* b, const Shape& bs,
               float* out, const Shape& os) override {
        Access access;
        cpu_.where(cond, cs, a, as, b, bs, out, os);
    }
    void reduce(ReduceOp op, Dtype dtype, const void* x, const Shape& shape, const std::vector<bool>& reduced,
                void* out) override {
        Access access;
        cpu_.reduce(op, dtype, x, shape, reduced, out);
    }
    void arg_reduce(Dtype dtype, const void* x, std::int64_t outer, std::int64_t size, std::int64_t inner,
                    bool largest, std::int64_t* out) override {
        Access access;
        cpu_.arg_reduce(dtype, x, outer, size, inner, largest, out);
    }
    void matmul(const float* a, const float* b, float* c, std::int64_t batch, std::int64_t m, std::int64_t n,
                std::int64_t k, bool ta, bool tb, std::int64_t sa, std::int64_t sb) override {
        Access access;
        cpu_.matmul(a, b, c, batch, m, n, k, ta, tb, sa, sb);
    }
    void copy_strided(Dtype dtype, const void* src, const std::vector<std::int64_t>& ss, std::int64_t so, void* dst,
                      const std::vector<std::int64_t>& ds, std::int64_t dof, const Shape& shape,
                      bool accumulate) override {
        Access access;
        cpu_.copy_strided(dtype, src, ss, so, dst, ds, dof, shape, accumulate);
    }
    void gather(Dtype dtype, const void* src, std::int64_t outer, std::int64_t size, std::int64_t inner,
                const std::int64_t* index, std::int64_t count, bool per_element, void* out) override {
        Access access;
        cpu_.gather(dtype, src, outer, size, inner, index, count, per_element, out);
    }
    void scatter_add(float* dst, std::int64_t outer, std::int64_t size, std::int64_t inner, const std::int64_t* index,
                     std::int64_t count, bool per_element, const float* src) override {
        Access access;
        cpu_.scatter_add(dst, outer, size, inner, index, count, per_element, src);
    }
    void transpose(const float* x, std::int64_t batch, std::int64_t rows, std::int64_t cols, float* out) override {
        Access access;
        cpu_.transpose(x, batch, rows, cols, out);
    }
    void axpy(std::int64_t count, float alpha, const float* x, float* y) override {
        Access access;
        cpu_.axpy(count, alpha, x, y);
    }
    void im2col(const float* image, const Window2d& window, float* columns) override {
        Access access;
        cpu_.im2col(image, window, columns);
    }
    void col2im(const float* columns, const Window2d& window, float* image) override {
        Access access;
        cpu_.col2im(columns, window, image);
    }
    void max_pool2d_forward(const float* input, const Window2d& window, float* out, std::int64_t* argmax) override {
        Access access;
        cpu_.max_pool2d_forward(input, window, out, argmax);
    }
    void max_pool2d_backward(const float* grad_output, const std::int64_t* argmax, const Window2d& window,
                             float* grad_input) override {
        Access access;
        cpu_.max_pool2d_backward(grad_output, argmax, window, grad_input);
    }
    void avg_pool2d_forward(const float* input, const Window2d& window, bool include_pad, float* out) override {
        Access access;
        cpu_.avg_pool2d_forward(input, window, include_pad, out);
    }
    void avg_pool2d_backward(const float* grad_output, const Window2d& window, bool include_pad,
                             float* grad_input) override {
        Access access;
        cpu_.avg_pool2d_backward(grad_output, window, include_pad, grad_input);
    }
    void cross_entropy_forward(const float* logits, const std::int64_t* target, std::int64_t batch,
                               std::int64_t classes, std::int64_t ignore_index, float smoothing, float* log_probs,
                               float* loss, float* valid) override {
        Access access;
        cpu_.cross_entropy_forward(logits, target, batch, classes, ignore_index, smoothing, log_probs, loss, valid);
    }
    void cross_entropy_backward(const float* log_probs, const std::int64_t* target, const float* grad_loss,
                                std::int64_t batch, std::int64_t classes, std::int64_t ignore_index, float smoothing,
                                float* grad_logits) override {
        Access access;
        cpu_.cross_entropy_backward(log_probs, target, grad_loss, batch, classes, ignore_index, smoothing, grad_logits);
    }
    void sgd_step(float* param, const float* grad, float* buffer, std::int64_t count,
                  const SgdUpdate& update) override {
        Access access;
        cpu_.sgd_step(param, grad, buffer, count, update);
    }
    void adam_step(float* param, const float* grad, float* m, float* v, std::int64_t count,
                   const AdamUpdate& update) override {
        Access access;
        cpu_.adam_step(param, grad, m, v, count, update);
    }

private:
    CpuBackend cpu_;
    std::shared_ptr<CachingAllocator> allocator_ =
        std::make_shared<CachingAllocator>(Device::CUDA, map_region, unmap_region);
};

}  // namespace

StandInDevice::StandInDevice() {
    if (!has_backend(Device::CUDA)) {
        install_stand_in_device();
        installed_ = true;
    }
}

StandInDevice::~StandInDevice() {
    if (installed_) set_backend(Device::CUDA, nullptr);
}

void install_stand_in_device() { set_backend(Device::CUDA, std::make_unique<StandInBackend>()); }

std::uint64_t stand_in_host_reads() { return host_reads.load(); }

}  // namespace stepgrad::testing
