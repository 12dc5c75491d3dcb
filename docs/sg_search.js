// The stepgrad site's text search: a box in the page header that finds words in the text of the
// tutorial pages (Doxygen's own search box finds symbols). The index, sgSearchIndex, is one entry
// per page section, written at docs build by docs/site_index.py into sg_search_index.js. It all
// runs in the browser, so it works offline and from disk.
(function () {
  "use strict";
  var script = document.currentScript;
  var base = script ? script.src.replace(/[^/]*$/, "") : "";
  var maxResults = 12;

  function words(query) {
    return query.toLowerCase().split(/\s+/).filter(function (w) { return w.length > 0; });
  }

  function search(query) {
    var terms = words(query);
    if (terms.length === 0 || typeof sgSearchIndex === "undefined") return [];
    var hits = [];
    sgSearchIndex.forEach(function (entry) {
      var heading = (entry.t + " " + entry.h).toLowerCase();
      var text = entry.x.toLowerCase();
      var score = 0;
      for (var i = 0; i < terms.length; i++) {
        var inHeading = heading.indexOf(terms[i]) >= 0;
        var at = text.indexOf(terms[i]);
        if (!inHeading && at < 0) return;  // every word must occur
        score += (inHeading ? 10 : 0) + (at >= 0 ? 1 + text.split(terms[i]).length / 20 : 0);
      }
      hits.push({ entry: entry, score: score });
    });
    hits.sort(function (a, b) { return b.score - a.score; });
    return hits.slice(0, maxResults);
  }

  function excerpt(text, terms) {
    var lower = text.toLowerCase();
    var at = -1;
    for (var i = 0; i < terms.length && at < 0; i++) at = lower.indexOf(terms[i]);
    var start = Math.max(0, at - 60);
    var piece = (start > 0 ? "\u2026" : "") + text.substr(start, 170) + (start + 170 < text.length ? "\u2026" : "");
    var span = document.createElement("span");
    var pattern = new RegExp("(" + terms.map(function (t) {
      return t.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    }).join("|") + ")", "gi");
    piece.split(pattern).forEach(function (part, index) {
      if (index % 2 === 1) {
        var mark = document.createElement("mark");
        mark.textContent = part;
        span.appendChild(mark);
      } else {
        span.appendChild(document.createTextNode(part));
      }
    });
    return span;
  }

  function show(box, results, query) {
    results.innerHTML = "";
    var hits = search(query);
    if (words(query).length === 0) { results.style.display = "none"; return; }
    if (hits.length === 0) {
      var none = document.createElement("div");
      none.className = "sg-search-none";
      none.textContent = "No section of the tutorial contains all of these words.";
      results.appendChild(none);
    }
    hits.forEach(function (hit) {
      var e = hit.entry;
      var link = document.createElement("a");
      link.href = base + e.p + (e.a ? "#" + e.a : "");
      var title = document.createElement("span");
      title.className = "sg-search-title";
      title.textContent = e.t + (e.h ? " \u203a " + e.h : "");
      link.appendChild(title);
      link.appendChild(excerpt(e.x, words(query)));
      results.appendChild(link);
    });
    results.style.display = "block";
  }

  function install() {
    var area = document.getElementById("titlearea");
    if (!area || document.getElementById("sg-search")) return;
    var box = document.createElement("div");
    box.id = "sg-search";
    var input = document.createElement("input");
    input.type = "search";
    input.placeholder = "Search the tutorial text";
    input.setAttribute("aria-label", "Search the text of the tutorial pages");
    var results = document.createElement("div");
    results.id = "sg-search-results";
    box.appendChild(input);
    box.appendChild(results);
    area.appendChild(box);
    var timer = null;
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () { show(box, results, input.value); }, 120);
    });
    input.addEventListener("keydown", function (event) {
      if (event.key === "Escape") { input.value = ""; results.style.display = "none"; }
      if (event.key === "Enter") {
        var first = results.querySelector("a");
        if (first) window.location.href = first.href;
      }
    });
    // A link may open the page with a search already typed in: page.html?sgq=words
    var preset = /[?&]sgq=([^&#]*)/.exec(window.location.search);
    if (preset) {
      input.value = decodeURIComponent(preset[1].replace(/\+/g, " "));
      show(box, results, input.value);
    }
    document.addEventListener("click", function (event) {
      if (!box.contains(event.target)) results.style.display = "none";
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", install);
  } else {
    install();
  }
})();
