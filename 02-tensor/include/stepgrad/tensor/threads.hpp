#pragma once
/// @file threads.hpp
/// @brief How many threads stepgrad's CPU kernels use (LibTorch's `torch::set_num_threads`).
///
/// stepgrad's own loops run on the calling thread; the matrix products (and so Linear and
/// Conv2d) run in OpenBLAS, which starts its own threads. On a machine with few cores, more
/// threads than cores (two programs each running one per core, say) slow everything down, so
/// training programs set this once at start-up.
///
/// Threads: the setting is OpenBLAS's, one for the whole process (not per thread, unlike grad
/// mode and the default generator). Set it before starting threads that train: OpenBLAS does
/// not allow changing it while another thread is in a matrix product. Several threads may run
/// matrix products at once (OpenBLAS's pthread build allows concurrent callers); chapter 3's
/// threads test checks that models trained on threads at once give, bit for bit, what each
/// gives alone. Under ThreadSanitizer, run with `OPENBLAS_NUM_THREADS=1`: OpenBLAS is not
/// instrumented, so its own worker threads could be reported as races.

namespace stepgrad {

/// @brief Uses `threads` threads for the CPU's matrix products (at least 1), process-wide.
///
/// Example: `stepgrad::set_num_threads(1);` before training a small MLP on two cores.
void set_num_threads(int threads);

/// @brief The number of threads the CPU's matrix products use.
int get_num_threads();

}  // namespace stepgrad
