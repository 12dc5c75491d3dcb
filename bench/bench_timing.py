"""How every Python benchmark in bench/ times a case, as bench_timing.hpp does for C++: a
warm-up, then the median of several timed blocks, in microseconds per call."""
import statistics
import time


def time_per_call(body, iterations, blocks=7):
    for _ in range(iterations // 4 + 1):
        body()
    per_call = []
    for _ in range(blocks):
        start = time.perf_counter()
        for _ in range(iterations):
            body()
        per_call.append((time.perf_counter() - start) * 1e6 / iterations)
    return statistics.median(per_call)
