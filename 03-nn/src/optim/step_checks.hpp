#pragma once
// Checks shared by the optimizers' constructors and steps (private to the library).
#include <stepgrad/optim/optimizer.hpp>

#include <string>
#include <vector>

namespace stepgrad::optim::detail {

// Checks every parameter's gradient (shape, device, dtype) and state (device) before a step
// changes anything, so that a step that fails leaves every parameter and buffer as it was.
void check_before_step(const Optimizer& optimizer);

// The one group of a constructor's parameter list; an empty list is refused, as in PyTorch.
std::vector<OptimizerParamGroup> single_group(const std::string& type_name, const std::vector<Tensor>& params);

}  // namespace stepgrad::optim::detail
