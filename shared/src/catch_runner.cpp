// Catch2's implementation (its runner, reporters and matchers), compiled once for every test
// executable: this is the slow translation unit. CATCH_CONFIG_RUNNER compiles it without a
// main(), so both the plain main (catch_main.cpp) and the device runners of chapters 2 and 4
// (which register a backend first) link this one copy and call run_catch_session.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include "stepgrad/shared/catch_runner.hpp"

namespace stepgrad::testing {

int run_catch_session(int argc, char* argv[]) { return Catch::Session().run(argc, argv); }

}  // namespace stepgrad::testing
