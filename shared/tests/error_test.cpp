#include <catch2/catch.hpp>

#include "stepgrad/shared/error.hpp"

TEST_CASE("STEPGRAD_CHECK throws invalid_argument with the message and its place", "[shared]") {
    try {
        STEPGRAD_CHECK(1 + 1 == 3, "arithmetic: expected " << 3 << ", got " << 2);
        FAIL("no exception");
    } catch (const std::invalid_argument& e) {
        const std::string what = e.what();
        CHECK(what.find("arithmetic: expected 3, got 2") != std::string::npos);
        CHECK(what.find("error_test.cpp:") != std::string::npos);
    }
    CHECK_NOTHROW([] { STEPGRAD_CHECK(true, "never shown"); }());
}

TEST_CASE("STEPGRAD_CHECK_AS throws the requested exception type", "[shared]") {
    CHECK_THROWS_AS([] { STEPGRAD_CHECK_AS(std::domain_error, false, "log: x <= 0"); }(),
                    std::domain_error);
}

TEST_CASE("NotImplemented names the exercise and how to test it", "[shared]") {
    const stepgrad::NotImplemented stub("02.3");
    CHECK(stub.exercise_id() == "02.3");
    CHECK(std::string(stub.what()).find("ctest -L ex-02.3") != std::string::npos);
}
