// Small progressive enhancements; every page works without them.
document.addEventListener("click", function (event) {
  var target = event.target.closest("[data-action='print']");
  if (target) { window.print(); }
});

// The error summary (templates/_error_summary.html): it takes the focus when the page opens,
// so a screen reader reads the problems first; each of its links puts the focus in its field.
document.addEventListener("DOMContentLoaded", function () {
  var summary = document.querySelector("[data-error-summary]");
  if (summary) { summary.focus(); }
});
document.addEventListener("click", function (event) {
  var link = event.target.closest("[data-error-summary] a[href^='#']");
  if (!link) { return; }
  var field = document.getElementById(link.getAttribute("href").slice(1));
  if (!field) { return; }
  event.preventDefault();
  var label = document.querySelector("label[for='" + field.id + "']");
  (label || field).scrollIntoView({ block: "center" });
  field.focus({ preventScroll: true });
});

// A table wider than the screen scrolls sideways: keyboard users can reach it (tabindex) and
// screen readers hear what it is (a region named after the heading above it).
function markScrollingTables() {
  document.querySelectorAll(".table-wrap").forEach(function (box) {
    var scrolls = box.scrollWidth > box.clientWidth + 1;
    if (scrolls && !box.hasAttribute("tabindex")) {
      box.setAttribute("tabindex", "0");
      box.setAttribute("role", "region");
      var heading = box.previousElementSibling;
      while (heading && !/^H[1-6]$/.test(heading.tagName)) { heading = heading.previousElementSibling; }
      box.setAttribute("aria-label", heading ? heading.textContent.trim() : document.title);
    }
  });
}
document.addEventListener("DOMContentLoaded", markScrollingTables);
window.addEventListener("resize", markScrollingTables);
