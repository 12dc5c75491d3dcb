// MathJax 2 settings for the stepgrad site (Doxygen puts this after its own MathJax.Hub.Config).
// CommonHTML output (small, and its fonts are the TeX woff fonts that copy_mathjax.cmake copies
// into html/mathjax), no font warnings, and formulas that never break inside at a line end.
MathJax.Hub.Config({
  jax: ["input/TeX", "output/CommonHTML"],
  TeX: { extensions: ["AMSmath.js", "AMSsymbols.js", "noErrors.js", "noUndefined.js"] },
  CommonHTML: { linebreaks: { automatic: false }, scale: 100 },
  menuSettings: { zoom: "None" },
  showMathMenu: false,
  messageStyle: "none"
});
