#pragma once
// How every C++ benchmark in bench/ times a case, so all of them (and the Python twins in
// bench_timing.py) measure the same way: a warm-up, then the median of several timed blocks.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <map>
#include <string>
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

/// The main of a benchmark program: runs the cases named on the command line (all of them when
/// none is), printing "RESULT <case> <microseconds per call>" for each; 2 for an unknown name.
inline int run_cases(const char* program, const std::map<std::string, std::function<double()>>& cases, int argc,
                     char** argv) {
    std::vector<std::string> wanted(argv + 1, argv + argc);
    if (wanted.empty()) {
        for (const auto& [name, run] : cases) wanted.push_back(name);
    }
    for (const std::string& name : wanted) {
        auto it = cases.find(name);
        if (it == cases.end()) {
            std::fprintf(stderr, "%s: unknown case '%s'\n", program, name.c_str());
            return 2;
        }
        std::printf("RESULT %s %.3f\n", name.c_str(), it->second());
        std::fflush(stdout);
    }
    return 0;
}

}  // namespace stepgrad::bench
