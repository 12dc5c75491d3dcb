# cmake -DMATHJAX=<Debian's MathJax 2 directory> -DDEST=<html>/mathjax -P copy_mathjax.cmake
#
# Copies the part of MathJax 2 that the site uses into the site itself, so the pages render their
# formulas offline: opened from disk, or after the html/ folder is copied anywhere else. The site
# uses TeX input and the CommonHTML output with the TeX fonts (about 1.3 MB instead of the whole
# package's 30 MB); mathjax_config.js (MATHJAX_CODEFILE) selects the CommonHTML output.
if(NOT EXISTS "${MATHJAX}/MathJax.js")
  message(FATAL_ERROR "stepgrad docs: MathJax 2 not found at ${MATHJAX}: "
                      "install it with `apt-get install libjs-mathjax` (scripts/setup does), "
                      "or point STEPGRAD_MATHJAX_DIR at a MathJax 2.7 directory")
endif()
set(parts
  MathJax.js
  extensions/tex2jax.js extensions/MathEvents.js extensions/MathMenu.js extensions/MathZoom.js
  extensions/TeX/AMSmath.js extensions/TeX/AMSsymbols.js
  extensions/TeX/noErrors.js extensions/TeX/noUndefined.js
  jax/input/TeX
  jax/element/mml
  jax/output/CommonHTML
  fonts/HTML-CSS/TeX/woff
  localization/en)
file(REMOVE_RECURSE "${DEST}")
foreach(part IN LISTS parts)
  get_filename_component(parent "${DEST}/${part}" DIRECTORY)
  file(MAKE_DIRECTORY "${parent}")
  if(IS_DIRECTORY "${MATHJAX}/${part}")
    file(COPY "${MATHJAX}/${part}" DESTINATION "${parent}" FOLLOW_SYMLINK_CHAIN)
  elseif(EXISTS "${MATHJAX}/${part}")
    file(COPY "${MATHJAX}/${part}" DESTINATION "${parent}" FOLLOW_SYMLINK_CHAIN)
  else()
    message(FATAL_ERROR "stepgrad docs: ${MATHJAX}/${part} is missing: reinstall libjs-mathjax")
  endif()
endforeach()
