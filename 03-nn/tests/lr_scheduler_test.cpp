// Claims checked: every scheduler sets the lr sequence PyTorch 1.13 sets (numbers printed by
// PyTorch itself), the first step happens at construction, SequentialLR restarts the next
// schedule at a milestone, OneCycleLR cycles momentum / beta1 the other way, and a scheduler
// restored from its state dict continues exactly where the saved one was.
#include <stepgrad/optim/adam.hpp>
#include <stepgrad/optim/lr_scheduler.hpp>
#include <stepgrad/optim/sgd.hpp>

#include <catch2/catch.hpp>

#include <functional>
#include <memory>
#include <vector>

using namespace stepgrad;
using namespace stepgrad::optim;

namespace {

// Printed by PyTorch 1.13; regenerate with:  /usr/bin/python3 tests/reference/lr_schedulers.py
// clang-format off
const std::vector<double> kStepLR{0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025, 0.025, 0.0125, 0.0125};
const std::vector<double> kExponentialLR{0.1, 0.09000000000000001, 0.08100000000000002, 0.07290000000000002, 0.06561000000000002, 0.05904900000000002, 0.05314410000000002, 0.04782969000000002, 0.043046721000000024};
const std::vector<double> kCosineAnnealingLR{0.1, 0.0905463412215599, 0.06579634122155989, 0.035203658778440096, 0.010453658778440105, 0.001, 0.010453658778440102, 0.03520365877844012, 0.06579634122155993, 0.09054634122155995, 0.10000000000000005, 0.09054634122155998, 0.06579634122155995, 0.03520365877844014, 0.010453658778440116, 0.001, 0.010453658778440102, 0.03520365877844012};
const std::vector<double> kLinearLR{0.025, 0.043750000000000004, 0.06250000000000001, 0.08125000000000002, 0.10000000000000002, 0.10000000000000002, 0.10000000000000002, 0.10000000000000002};
const std::vector<double> kWarmupCosine{0.010000000000000002, 0.04, 0.07, 0.1, 0.09504844339512096, 0.08117449009293669, 0.061126046697815725, 0.03887395330218429, 0.018825509907063328, 0.004951556604879048, 0.0, 0.004951556604879043, 0.018825509907063314};
const std::vector<double> kOneCycleLR{0.0040000000000000036, 0.052000000000000005, 0.1, 0.09504846320134738, 0.0811745653949763, 0.06112620219362893, 0.03887419780637107, 0.0188258346050237, 0.004951936798652629, 4e-07, 0.004951936798652624};
const std::vector<double> kOneCycleMomentum{0.95, 0.8999999999999999, 0.85, 0.854951556604879, 0.8688255099070633, 0.8888739533021842, 0.9111260466978157, 0.9311744900929366, 0.945048443395121, 0.95, 0.945048443395121};
const std::vector<double> kOneCycleThreePhaseLR{0.001, 0.0055000000000000005, 0.010000000000000002, 0.0055, 0.0009999999999999992, 0.0008585714285714286, 0.0007171428571428572, 0.0005757142857142857, 0.0004342857142857143, 0.0002928571428571429, 0.00015142857142857145, 1.0000000000000026e-05, -0.0001314285714285714};
const std::vector<double> kOneCycleThreePhaseBeta1{0.95, 0.8999999999999999, 0.85, 0.8999999999999999, 0.95, 0.95, 0.95, 0.95, 0.95, 0.95, 0.95, 0.95, 0.95};
// clang-format on

std::vector<Tensor> one_parameter() { return {zeros({2}, TensorOptions().requires_grad(true))}; }

// The lr after construction and after each of `expected.size() - 1` steps, checked against
// PyTorch's. The same formula in the same order gives the same double, so the check is exact.
void check_sequence(Optimizer& optimizer, LRScheduler& scheduler, const std::vector<double>& expected,
                    const std::vector<double>& momenta = {}) {
    for (std::size_t epoch = 0; epoch < expected.size(); ++epoch) {
        INFO("epoch " << epoch);
        if (epoch > 0) scheduler.step();
        CHECK(scheduler.last_epoch() == static_cast<std::int64_t>(epoch));
        REQUIRE(scheduler.get_last_lr().size() == 1);
        CHECK(scheduler.get_last_lr()[0] == expected[epoch]);
        CHECK(optimizer.param_groups()[0].options().get_lr() == expected[epoch]);
        if (!momenta.empty()) CHECK(optimizer.param_groups()[0].options().get_momentum() == momenta[epoch]);
    }
}

}  // namespace

TEST_CASE("StepLR halves the lr every 3 epochs as PyTorch", "[chapter03][lr_scheduler]") {
    SGD optimizer(one_parameter(), SGDOptions(0.1));
    StepLR scheduler(optimizer, 3, 0.5);
    check_sequence(optimizer, scheduler, kStepLR);
}

TEST_CASE("ExponentialLR multiplies the lr by gamma each epoch as PyTorch", "[chapter03][lr_scheduler]") {
    SGD optimizer(one_parameter(), SGDOptions(0.1));
    ExponentialLR scheduler(optimizer, 0.9);
    check_sequence(optimizer, scheduler, kExponentialLR);
}

TEST_CASE("CosineAnnealingLR follows PyTorch's recursive cosine, past T_max too", "[chapter03][lr_scheduler]") {
    // 17 steps with T_max = 5 pass both special cases of the recursion: epoch T_max + 1 (6) and
    // 3 T_max + 1 (16), where the ratio of cosines would be 0/0.
    SGD optimizer(one_parameter(), SGDOptions(0.1));
    CosineAnnealingLR scheduler(optimizer, 5, 0.001);
    check_sequence(optimizer, scheduler, kCosineAnnealingLR);
}

TEST_CASE("LinearLR warms up from start_factor to end_factor as PyTorch", "[chapter03][lr_scheduler]") {
    SGD optimizer(one_parameter(), SGDOptions(0.1));
    LinearLR scheduler(optimizer, 0.25, 1.0, 4);
    check_sequence(optimizer, scheduler, kLinearLR);
}

TEST_CASE("SequentialLR: linear warm-up then cosine, PyTorch's recipe", "[chapter03][lr_scheduler]") {
    SGD optimizer(one_parameter(), SGDOptions(0.1));
    auto warmup = std::make_shared<LinearLR>(optimizer, 0.1, 1.0, 3);
    auto cosine = std::make_shared<CosineAnnealingLR>(optimizer, 7);
    SequentialLR scheduler(optimizer, {warmup, cosine}, {3});
    check_sequence(optimizer, scheduler, kWarmupCosine);
    CHECK(cosine->last_epoch() == 9);  // the cosine restarted from its epoch 0 at the milestone 3
}

TEST_CASE("OneCycleLR cycles the lr up and down and SGD's momentum the other way", "[chapter03][lr_scheduler]") {
    SGD optimizer(one_parameter(), SGDOptions(0.5).momentum(0.9));
    OneCycleLR scheduler(optimizer, OneCycleLROptions(0.1, 10));
    CHECK(optimizer.param_groups()[0].initial_lr() == Approx(0.004));
    check_sequence(optimizer, scheduler, kOneCycleLR, kOneCycleMomentum);
    CHECK_THROWS_WITH(scheduler.step(), Catch::Contains("Tried to step 12 times"));
}

TEST_CASE("OneCycleLR with three linear phases cycles Adam's beta1", "[chapter03][lr_scheduler]") {
    Adam optimizer(one_parameter(), AdamOptions(0.01));
    OneCycleLR scheduler(optimizer, OneCycleLROptions(0.01, 12)
                                        .pct_start(0.25)
                                        .anneal_strategy(AnnealStrategy::Linear)
                                        .three_phase(true)
                                        .div_factor(10.0)
                                        .final_div_factor(100.0));
    check_sequence(optimizer, scheduler, kOneCycleThreePhaseLR, kOneCycleThreePhaseBeta1);
}

TEST_CASE("a scheduler records initial_lr once, so a second one starts from the same base",
          "[chapter03][lr_scheduler]") {
    SGD optimizer(one_parameter(), SGDOptions(0.1));
    LinearLR warmup(optimizer, 0.5, 1.0, 2);  // sets lr to 0.05
    CHECK(optimizer.param_groups()[0].options().get_lr() == Approx(0.05));
    ExponentialLR decay(optimizer, 0.9);
    CHECK(decay.base_lrs() == std::vector<double>{0.1});
    CHECK(optimizer.param_groups()[0].initial_lr() == 0.1);
}

TEST_CASE("each group gets its own lr from its own base", "[chapter03][lr_scheduler]") {
    std::vector<OptimizerParamGroup> groups;
    groups.emplace_back(one_parameter(), std::make_unique<SGDOptions>(1.0));
    groups.emplace_back(one_parameter());
    SGD optimizer(groups, SGDOptions(0.1));
    StepLR scheduler(optimizer, 1, 0.5);
    scheduler.step();
    scheduler.step();
    CHECK(scheduler.get_last_lr() == std::vector<double>{0.25, 0.025});
}

namespace {

// Runs `total` steps uninterrupted, and again with a save after `split` steps and a restore
// into a freshly built optimizer and scheduler; the lrs (and momenta) must be identical.
void check_resume(const std::function<std::unique_ptr<LRScheduler>(Optimizer&)>& make, int split, int total) {
    std::vector<double> straight, resumed;
    {
        SGD optimizer(one_parameter(), SGDOptions(0.1).momentum(0.9));
        auto scheduler = make(optimizer);
        for (int i = 0; i < total; ++i) {
            scheduler->step();
            straight.push_back(scheduler->get_last_lr()[0]);
            straight.push_back(optimizer.param_groups()[0].options().get_momentum());
        }
    }
    nn::StateDict optimizer_state, scheduler_state;
    {
        SGD optimizer(one_parameter(), SGDOptions(0.1).momentum(0.9));
        auto scheduler = make(optimizer);
        for (int i = 0; i < split; ++i) {
            scheduler->step();
            resumed.push_back(scheduler->get_last_lr()[0]);
            resumed.push_back(optimizer.param_groups()[0].options().get_momentum());
        }
        optimizer_state = optimizer.state_dict();
        scheduler_state = scheduler->state_dict();
    }
    SGD optimizer(one_parameter(), SGDOptions(0.1).momentum(0.9));
    auto scheduler = make(optimizer);
    optimizer.load_state_dict(optimizer_state);
    scheduler->load_state_dict(scheduler_state);
    CHECK(scheduler->last_epoch() == split);
    for (int i = split; i < total; ++i) {
        scheduler->step();
        resumed.push_back(scheduler->get_last_lr()[0]);
        resumed.push_back(optimizer.param_groups()[0].options().get_momentum());
    }
    CHECK(resumed == straight);
}

}  // namespace

TEST_CASE("a scheduler restored from its state dict continues exactly", "[chapter03][lr_scheduler]") {
    SECTION("CosineAnnealingLR") {
        check_resume([](Optimizer& o) { return std::make_unique<CosineAnnealingLR>(o, 6, 0.01); }, 4, 11);
    }
    SECTION("StepLR") { check_resume([](Optimizer& o) { return std::make_unique<StepLR>(o, 2, 0.3); }, 3, 8); }
    SECTION("OneCycleLR") {
        check_resume([](Optimizer& o) { return std::make_unique<OneCycleLR>(o, OneCycleLROptions(0.2, 12)); }, 5, 12);
    }
    SECTION("SequentialLR of warm-up and cosine") {
        auto make = [](Optimizer& o) {
            auto warmup = std::make_shared<LinearLR>(o, 0.2, 1.0, 3);
            auto cosine = std::make_shared<CosineAnnealingLR>(o, 8);
            return std::make_unique<SequentialLR>(o, std::vector<std::shared_ptr<LRScheduler>>{warmup, cosine},
                                                  std::vector<std::int64_t>{3});
        };
        check_resume(make, 2, 10);  // saved during the warm-up
        check_resume(make, 5, 10);  // saved during the cosine
    }
}

TEST_CASE("a scheduler refuses another scheduler's state dict and changes nothing", "[chapter03][lr_scheduler]") {
    SGD optimizer(one_parameter(), SGDOptions(0.1));
    StepLR scheduler(optimizer, 2, 0.5);
    scheduler.step();
    SGD other_optimizer(one_parameter(), SGDOptions(0.1));
    StepLR other_steps(other_optimizer, 3, 0.5);
    ExponentialLR other_type(other_optimizer, 0.5);
    CHECK_THROWS_WITH(scheduler.load_state_dict(other_type.state_dict()), Catch::Contains("ExponentialLR"));
    CHECK_THROWS_WITH(scheduler.load_state_dict(other_steps.state_dict()), Catch::Contains("step_size is 3"));
    nn::StateDict broken = scheduler.state_dict();
    broken.metadata["last_epoch"] = "two";
    CHECK_THROWS_WITH(scheduler.load_state_dict(broken), Catch::Contains("not a number"));
    CHECK(scheduler.last_epoch() == 1);
    CHECK(scheduler.get_last_lr() == std::vector<double>{0.1});
}

TEST_CASE("schedulers reject invalid arguments", "[chapter03][lr_scheduler]") {
    SGD optimizer(one_parameter(), SGDOptions(0.1));
    CHECK_THROWS_WITH(StepLR(optimizer, 0), Catch::Contains("step_size"));
    CHECK_THROWS_WITH(CosineAnnealingLR(optimizer, 0), Catch::Contains("T_max"));
    CHECK_THROWS_WITH(LinearLR(optimizer, 1.5), Catch::Contains("start_factor"));
    CHECK_THROWS_WITH(OneCycleLR(optimizer, OneCycleLROptions(0.1, 0)), Catch::Contains("total_steps"));
    CHECK_THROWS_WITH(OneCycleLR(optimizer, OneCycleLROptions(0.1, 10).pct_start(1.5)), Catch::Contains("pct_start"));
    auto warmup = std::make_shared<LinearLR>(optimizer);
    CHECK_THROWS_WITH(SequentialLR(optimizer, {warmup}, {3}), Catch::Contains("milestones"));
    SGD other(one_parameter(), SGDOptions(0.1));
    CHECK_THROWS_WITH(SequentialLR(other, {warmup}, {}), Catch::Contains("same optimizer"));
}
