# Settings every stepgrad build shares, whether configured from the root or from one chapter.
# Included once (guarded), so a chapter that pulls in an earlier one does not repeat it.
include_guard(GLOBAL)

set(STEPGRAD_ROOT "${CMAKE_CURRENT_LIST_DIR}/.." CACHE INTERNAL "stepgrad source root")
get_filename_component(STEPGRAD_ROOT "${STEPGRAD_ROOT}" ABSOLUTE)

if(NOT CMAKE_BUILD_TYPE AND NOT CMAKE_CONFIGURATION_TYPES)
  set(CMAKE_BUILD_TYPE Release CACHE STRING "Build type" FORCE)
endif()

set(CMAKE_CXX_STANDARD 20)
set(CMAKE_CXX_STANDARD_REQUIRED ON)
set(CMAKE_CXX_EXTENSIONS OFF)
set(CMAKE_EXPORT_COMPILE_COMMANDS ON)

option(STEPGRAD_BUILD_TESTS "Build the Catch2 tests" ON)
option(STEPGRAD_BUILD_EXAMPLES "Build the examples" ON)
option(STEPGRAD_BUILD_BENCH "Build the benchmarks" ON)
option(STEPGRAD_NATIVE "Compile for this machine's CPU (-march=native)" OFF)
option(STEPGRAD_SANITIZE "Build with AddressSanitizer + UndefinedBehaviorSanitizer (+ LeakSanitizer)" OFF)
option(STEPGRAD_SANITIZE_THREAD "Build with ThreadSanitizer (-O1 -g1; not together with STEPGRAD_SANITIZE)" OFF)
option(STEPGRAD_WERROR "Treat compiler warnings as errors" OFF)

# Warnings for stepgrad's own targets (third-party headers in /usr/include are system headers).
add_library(stepgrad_warnings INTERFACE)
target_compile_options(stepgrad_warnings INTERFACE -Wall -Wextra -Wshadow -Wnon-virtual-dtor)
# clang's -Wall warns that a loss module's forward(input, target) hides Module::forward(input):
# that is on purpose (a loss takes two tensors, as LibTorch's do), so the warning is off.
if(CMAKE_CXX_COMPILER_ID MATCHES "Clang")
  target_compile_options(stepgrad_warnings INTERFACE -Wno-overloaded-virtual)
endif()
if(STEPGRAD_WERROR)
  target_compile_options(stepgrad_warnings INTERFACE -Werror)
endif()

if(STEPGRAD_NATIVE)
  add_compile_options(-march=native)
endif()

if(STEPGRAD_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()

# ThreadSanitizer reports data races between threads (the `tsan` preset; see 03-nn's
# threads test). It cannot be combined with AddressSanitizer. -O1 keeps it a few times
# faster than -O0; -g1 gives line numbers in its reports.
if(STEPGRAD_SANITIZE_THREAD)
  if(STEPGRAD_SANITIZE)
    message(FATAL_ERROR "STEPGRAD_SANITIZE_THREAD and STEPGRAD_SANITIZE cannot both be ON: "
                        "ThreadSanitizer and AddressSanitizer do not combine")
  endif()
  add_compile_options(-fsanitize=thread -fno-omit-frame-pointer -O1 -g1)
  add_link_options(-fsanitize=thread)
endif()

if(STEPGRAD_BUILD_TESTS)
  enable_testing()
  find_package(Catch2 2 REQUIRED)
  include(Catch)
  include(${CMAKE_CURRENT_LIST_DIR}/StepgradTesting.cmake)
endif()
