// Agency admin pages: small enhancements. Every form works without this file.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  function renumber(formset) {
    var rows = formset.querySelectorAll(".formset-rows > [data-row]");
    rows.forEach(function (row, index) {
      var order = row.querySelector("input[name$='-ORDER']");
      if (order) { order.value = String(index + 1); }
    });
  }

  document.addEventListener("click", function (event) {
    var add = event.target.closest("[data-add-row]");
    if (add) {
      var formset = add.closest("[data-formset]");
      var total = formset.querySelector("input[name$='-TOTAL_FORMS']");
      var html = formset.querySelector("template").innerHTML.replace(/__prefix__/g, total.value);
      var holder = document.createElement("div");
      holder.innerHTML = html.trim();
      var row = holder.firstElementChild;
      formset.querySelector(".formset-rows").appendChild(row);
      total.value = String(parseInt(total.value, 10) + 1);
      renumber(formset);
      var first = row.querySelector("input:not([type=hidden]):not([type=checkbox]), select, textarea");
      if (first) { first.focus(); }
      return;
    }
    var move = event.target.closest("[data-move]");
    if (move) {
      var current = move.closest("[data-row]");
      var sibling = move.dataset.move === "up" ? current.previousElementSibling : current.nextElementSibling;
      if (sibling) {
        if (move.dataset.move === "up") { sibling.before(current); } else { sibling.after(current); }
        renumber(current.closest("[data-formset]"));
        move.focus();
      }
    }
  });

  document.addEventListener("change", function (event) {
    if (event.target.matches("input[name$='-DELETE']")) {
      event.target.closest("[data-row]").classList.toggle("removed", event.target.checked);
    }
  });

  // Branding: the header preview follows the name and colours as they are typed.
  var brandingForm = document.querySelector(".branding-form");
  var preview = document.querySelector("[data-brand-preview]");
  if (brandingForm && preview) {
    var colour = /^#[0-9a-fA-F]{6}$/;
    brandingForm.addEventListener("input", function (event) {
      var name = event.target.name;
      if (name === "primary_color" && colour.test(event.target.value)) {
        preview.style.setProperty("--brand", event.target.value);
      } else if (name === "accent_color" && colour.test(event.target.value)) {
        preview.style.setProperty("--accent", event.target.value);
      } else if (name === "display_name") {
        preview.querySelector("[data-preview-name]").textContent =
          event.target.value.trim() || brandingForm.dataset.agencyName;
      }
    });
  }

  // Dossier code: a live preview of the next code (nothing is consumed).
  var codeForm = document.querySelector(".dossier-code-form");
  if (codeForm) {
    var input = codeForm.querySelector("input[name=dossier_code_pattern]");
    var output = codeForm.querySelector("[data-code-preview]");
    var timer = null;
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        var url = codeForm.dataset.previewUrl + "?pattern=" + encodeURIComponent(input.value);
        fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
          .then(function (response) { return response.json(); })
          .then(function (data) {
            output.textContent = data.code || (data.errors || []).join(" ") || "—";
            output.classList.toggle("invalid", !data.code);
          })
          .catch(function () { /* keep the last preview */ });
      }, 250);
    });
  }
})();
