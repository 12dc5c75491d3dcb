# cmake -DDOT=<dot> -DPROGRAM=<graph example or ""> -DCOMMITTED=<docs/images/neuron_graph.dot>
#       [-DCHECK=ON | -DREFRESH=ON] -DIN=<file.dot> -DOUT=<file.svg> -P render_graph.cmake
#
# Makes chapter 1's figure. The graph example (01-scalar-value/examples/graph.cpp) writes the
# neuron's graph with the real to_dot into IN; when the example is not built, or fails (in the
# student copy its backward() is a stub), the committed copy COMMITTED is used instead, with a
# note. CHECK=ON (solution builds) fails when the example's graph differs from the committed
# copy; REFRESH=ON rewrites the committed copy from the example.
#
# to_dot lays graphs out left to right, which makes a page-wide strip too small to read; the site
# draws the same graph top to bottom, so it fits the text column.
set(header "// The chapter 1 figure, as the graph example draws it with to_dot. The docs build runs the
// example and uses this copy only when the example is not built or fails (a student copy).
// Refresh it with: cmake --build <build> --target docs_refresh_outputs
")
set(from_program OFF)
file(REMOVE "${IN}")
if(PROGRAM)
  execute_process(COMMAND "${PROGRAM}" "${IN}" RESULT_VARIABLE result
                  OUTPUT_QUIET ERROR_VARIABLE errors)
  if(result EQUAL 0 AND EXISTS "${IN}")
    set(from_program ON)
  else()
    string(REGEX REPLACE "\n.*" "" first_error "${errors}")
    message(STATUS "stepgrad docs: the graph example failed (${result}: ${first_error}); "
                   "using the committed figure docs/images/neuron_graph.dot")
  endif()
else()
  message(STATUS "stepgrad docs: the graph example is not built (STEPGRAD_BUILD_EXAMPLES=OFF); "
                 "using the committed figure docs/images/neuron_graph.dot")
endif()

file(READ "${COMMITTED}" committed)
string(REGEX REPLACE "^(//[^\n]*\n)+" "" committed_graph "${committed}")
if(from_program)
  file(READ "${IN}" text)
  if(REFRESH)
    file(WRITE "${COMMITTED}" "${header}${text}")
    message(STATUS "stepgrad docs: wrote ${COMMITTED}")
  elseif(CHECK AND NOT text STREQUAL committed_graph)
    message(FATAL_ERROR "stepgrad docs: the graph example draws a different graph than "
                        "${COMMITTED}. If the change is intended, refresh the copy: "
                        "cmake --build <build> --target docs_refresh_outputs")
  endif()
else()
  set(text "${committed_graph}")
  file(WRITE "${IN}" "${text}")
endif()

string(REPLACE "rankdir=LR;" "rankdir=TB; nodesep=0.25; ranksep=0.35;" text "${text}")
get_filename_component(base "${OUT}" NAME_WE)
get_filename_component(dir "${OUT}" DIRECTORY)
set(top_down "${dir}/${base}.dot")
file(WRITE "${top_down}" "${text}")
execute_process(COMMAND "${DOT}" -Tsvg "${top_down}" -o "${OUT}" RESULT_VARIABLE result)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "dot failed (${result}) on ${top_down}")
endif()
