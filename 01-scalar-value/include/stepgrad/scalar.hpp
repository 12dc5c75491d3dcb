#pragma once
/// @file scalar.hpp
/// @brief Chapter 1 in one include: Value, its operations, the scalar nn, to_dot, moons.

#include "stepgrad/scalar/dot.hpp"
#include "stepgrad/scalar/moons.hpp"
#include "stepgrad/scalar/nn.hpp"
#include "stepgrad/scalar/value.hpp"
