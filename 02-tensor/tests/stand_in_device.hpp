#pragma once
// A strict stand-in for a GPU, registered as Device::CUDA: the CPU kernels run on memory that
// the host cannot touch outside backend calls. Every buffer lives in one mmap'd arena, kept
// PROT_NONE except while a backend kernel runs, so any host read or write of device data that
// does not go through copy_to_host/copy_from_host crashes at once (as it would on a real GPU,
// where it would read garbage or fault). It also counts the synchronising reads, so a test can
// prove that a training step makes none.

#include <stepgrad/tensor/cpu_backend.hpp>

#include <cstdint>

namespace stepgrad::testing {

/// Registers the stand-in as the CUDA backend for its lifetime (and removes it after), unless a
/// CUDA backend is already there (the whole suite running on the stand-in), which it leaves.
class StandInDevice {
public:
    StandInDevice();
    ~StandInDevice();
    StandInDevice(const StandInDevice&) = delete;
    StandInDevice& operator=(const StandInDevice&) = delete;

private:
    bool installed_ = false;
};

/// Installs the stand-in as the CUDA backend for the rest of the process (the device test run).
void install_stand_in_device();

/// How many copy_to_host calls (device-to-host reads, each a synchronisation) have been made.
std::uint64_t stand_in_host_reads();

}  // namespace stepgrad::testing
