// The plain main of every stepgrad test executable that needs no set-up before its tests run.
// Catch's implementation itself is in catch_runner.cpp, compiled once.
#include "stepgrad/shared/catch_runner.hpp"

int main(int argc, char* argv[]) { return stepgrad::testing::run_catch_session(argc, argv); }
