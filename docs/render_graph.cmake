# cmake -DDOT=<dot> -DIN=<file.dot> -DOUT=<file.svg> -P render_graph.cmake
#
# Renders a computation graph written by stepgrad::scalar::to_dot for the chapter pages. to_dot
# lays graphs out left to right, which makes a page-wide strip too small to read; the site draws
# the same graph top to bottom, so it fits the text column.
file(READ "${IN}" text)
string(REPLACE "rankdir=LR;" "rankdir=TB; nodesep=0.25; ranksep=0.35;" text "${text}")
get_filename_component(base "${OUT}" NAME_WE)
get_filename_component(dir "${OUT}" DIRECTORY)
set(top_down "${dir}/${base}.dot")
file(WRITE "${top_down}" "${text}")
execute_process(COMMAND "${DOT}" -Tsvg "${top_down}" -o "${OUT}" RESULT_VARIABLE result)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "dot failed (${result}) on ${top_down}")
endif()
