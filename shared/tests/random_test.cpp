#include <catch2/catch.hpp>

#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "stepgrad/shared/random.hpp"

TEST_CASE("Generator: the same seed gives the same stream", "[shared]") {
    stepgrad::Generator a(7), b(7), c(8);
    for (int i = 0; i < 100; ++i) {
        const double x = a.normal();
        CHECK(x == b.normal());
        (void)c.normal();
    }
    CHECK(a.uniform() != c.uniform());
    a.seed(7);
    b.seed(7);
    CHECK(a.next_u64() == b.next_u64());
}

TEST_CASE("Generator: uniform and normal have the right moments", "[shared]") {
    stepgrad::Generator gen(1);
    const int n = 200000;
    double sum_u = 0, sum_n = 0, sum_n2 = 0;
    for (int i = 0; i < n; ++i) {
        const double u = gen.uniform(-1.0, 3.0);
        REQUIRE(u >= -1.0);
        REQUIRE(u < 3.0);
        sum_u += u;
        const double z = gen.normal(2.0, 0.5);
        sum_n += z;
        sum_n2 += (z - 2.0) * (z - 2.0);
    }
    CHECK(sum_u / n == Approx(1.0).margin(0.01));
    CHECK(sum_n / n == Approx(2.0).margin(0.005));
    CHECK(std::sqrt(sum_n2 / n) == Approx(0.5).margin(0.005));
}

TEST_CASE("Generator: below(n) covers 0..n-1 evenly and rejects n = 0", "[shared]") {
    stepgrad::Generator gen(3);
    std::vector<int> counts(5, 0);
    for (int i = 0; i < 50000; ++i) counts[gen.below(5)]++;
    for (int count : counts) CHECK(count == Approx(10000).margin(400));
    CHECK_THROWS_AS(gen.below(0), std::invalid_argument);
}

TEST_CASE("Generator: state() and set_state() continue the stream exactly", "[shared]") {
    stepgrad::Generator gen(7);
    for (int i = 0; i < 1000; ++i) (void)gen.next_u64();
    (void)gen.normal();  // leaves a spare normal behind: the state must carry it too
    const std::string saved = gen.state();
    std::vector<double> expected;
    for (int i = 0; i < 5; ++i) expected.push_back(gen.normal());
    expected.push_back(static_cast<double>(gen.next_u64()));

    stepgrad::Generator restored(12345);
    restored.set_state(saved);
    std::vector<double> continued;
    for (int i = 0; i < 5; ++i) continued.push_back(restored.normal());
    continued.push_back(static_cast<double>(restored.next_u64()));
    CHECK(continued == expected);
}

TEST_CASE("Generator: set_state rejects text that is not a state", "[shared]") {
    stepgrad::Generator gen(1);
    const std::uint64_t next = stepgrad::Generator(1).next_u64();
    CHECK_THROWS_AS(gen.set_state("1 2 3"), std::invalid_argument);
    CHECK_THROWS_AS(gen.set_state(gen.state() + " extra"), std::invalid_argument);
    CHECK(gen.next_u64() == next);  // a failed restore leaves the generator as it was
}
