// Live progress on console pages: polls the element's JSON endpoint until the work finishes.
// Without JavaScript the page refreshes itself (a <noscript> meta refresh).
(function () {
  function update(box, data) {
    box.querySelectorAll("[data-progress]").forEach(function (el) {
      var key = el.getAttribute("data-progress");
      if (key === "percent") { el.value = data.percent; }
      else if (key === "percent_text") { el.textContent = data.percent + "%"; }
      else if (key in data) { el.textContent = data[key] === null ? "" : data[key]; }
    });
    document.querySelectorAll("[data-progress='done'],[data-progress='total'],[data-progress='failed']").forEach(function (el) {
      var key = el.getAttribute("data-progress");
      if (key in data) { el.textContent = data[key]; }
    });
  }
  function poll(box) {
    fetch(box.getAttribute("data-progress-url"), { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (data) {
        update(box, data);
        // Finished, or stuck (the page then offers a retry): show the page as it is now.
        if (data.finished || data.stuck) { window.location.reload(); } else { setTimeout(function () { poll(box); }, 1500); }
      })
      .catch(function () { setTimeout(function () { poll(box); }, 5000); });
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-progress-live]").forEach(poll);
  });
})();
