#pragma once
/// @file threads.hpp
/// @brief How many threads stepgrad's CPU kernels use (LibTorch's `torch::set_num_threads`).
///
/// stepgrad's own loops run on the calling thread; the matrix products (and so Linear and
/// Conv2d) run in OpenBLAS, which starts its own threads. On a machine with few cores, more
/// threads than cores (two programs each running one per core, say) slow everything down, so
/// training programs set this once at start-up.

namespace stepgrad {

/// @brief Uses `threads` threads for the CPU's matrix products (at least 1).
///
/// Example: `stepgrad::set_num_threads(1);` before training a small MLP on two cores.
void set_num_threads(int threads);

/// @brief The number of threads the CPU's matrix products use.
int get_num_threads();

}  // namespace stepgrad
