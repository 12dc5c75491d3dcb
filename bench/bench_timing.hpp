#pragma once
// How every C++ benchmark in bench/ times a case, so all of them (and the Python twins in
// bench_timing.py) measure the same way: a warm-up, then the median of several timed blocks.
#include <algorithm>
#include <chrono>
#include <functional>
#include <vector>

namespace stepgrad::bench {

/// Median over `blocks` timed blocks of `iterations` calls of `body`, in microseconds per call,
/// after a warm-up of a quarter of the iterations (caches, the allocator's free lists).
inline double time_per_call(const std::function<void()>& body, int iterations, int blocks = 7) {
    for (int i = 0; i < iterations / 4 + 1; ++i) body();
    std::vector<double> per_call;
    for (int block = 0; block < blocks; ++block) {
        const auto start = std::chrono::steady_clock::now();
        for (int i = 0; i < iterations; ++i) body();
        const std::chrono::duration<double, std::micro> elapsed = std::chrono::steady_clock::now() - start;
        per_call.push_back(elapsed.count() / iterations);
    }
    std::sort(per_call.begin(), per_call.end());
    return per_call[per_call.size() / 2];
}

}  // namespace stepgrad::bench
