// The Catch2 runner, compiled once and linked into every stepgrad test executable.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
