# stepgrad_add_catch_test(<name>
#     SOURCES <files...> LIBRARIES <targets...> CHAPTER <NN> [LABELS <more labels>] [EXERCISES <ids...>])
#
# Builds one Catch2 test executable and registers every TEST_CASE in it with CTest, labelled
# `chapterNN` (run with `ctest -L chapter01`). For each exercise id (e.g. 01.2) it also adds a
# CTest entry that runs only the test cases tagged [ex-01.2], labelled `ex-01.2` and `exercises`
# (run with `ctest -L ex-01.2`). A tag with no test case fails (Catch's --warn NoTests), so an
# exercise can never pass by having nothing to check.
include_guard(GLOBAL)

function(stepgrad_add_catch_test name)
  cmake_parse_arguments(ARG "" "CHAPTER" "SOURCES;LIBRARIES;LABELS;EXERCISES" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_LIBRARIES} stepgrad::catch_main stepgrad_warnings)
  catch_discover_tests(${name} TEST_PREFIX "${name}: " TEST_LIST ${name}_TESTS)
  # Catch's discovery passes PROPERTIES through unquoted, so a list of labels would keep only
  # its first entry. Set the whole list from a CTest include file that runs after discovery.
  set(labels "chapter${ARG_CHAPTER}" ${ARG_LABELS})
  set(labels_file "${CMAKE_CURRENT_BINARY_DIR}/${name}_labels.cmake")
  file(WRITE "${labels_file}"
    "if(DEFINED ${name}_TESTS)\n"
    "  set_tests_properties(\${${name}_TESTS} PROPERTIES LABELS \"${labels}\")\n"
    "endif()\n")
  set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES "${labels_file}")
  foreach(exercise IN LISTS ARG_EXERCISES)
    add_test(NAME "${name}: exercise ${exercise}"
             COMMAND ${name} "[ex-${exercise}]" --warn NoTests)
    set_tests_properties("${name}: exercise ${exercise}"
      PROPERTIES LABELS "ex-${exercise};exercises")
  endforeach()
endfunction()
