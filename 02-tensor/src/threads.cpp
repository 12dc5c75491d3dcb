// Thread count of the CPU kernels: the matrix products are OpenBLAS's, so its setting is ours.
// stepgrad has no thread pool of its own; the setting is process-wide (see threads.hpp).
#include "stepgrad/tensor/threads.hpp"

#include <cblas.h>

#include <algorithm>

namespace stepgrad {

void set_num_threads(int threads) { openblas_set_num_threads(std::max(threads, 1)); }

int get_num_threads() { return openblas_get_num_threads(); }

}  // namespace stepgrad
