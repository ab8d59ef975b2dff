// The "Needs attention" page: tick all, show only the bulk field the chosen
// action needs, and say how many records are ticked. The page works without it.
(function () {
  "use strict";
  function ready() {
    var form = document.getElementById("lb-bulk");
    if (!form) return;
    var boxes = form.querySelectorAll('input[name="records"]');
    var all = document.getElementById("lb-select-all");
    var count = document.getElementById("lb-bulk-count");
    var action = document.getElementById("lb-bulk-action");

    function update() {
      var ticked = 0;
      boxes.forEach(function (box) {
        if (box.checked) ticked += 1;
        box.closest("tr").classList.toggle("lb-ticked", box.checked);
      });
      if (count) count.textContent = ticked ? ticked + " ticked" : "";
      if (all) all.checked = ticked > 0 && ticked === boxes.length;
    }
    function showFields() {
      form.querySelectorAll("[data-for]").forEach(function (label) {
        label.hidden = action && label.getAttribute("data-for") !== action.value;
      });
    }
    if (all) {
      all.addEventListener("change", function () {
        boxes.forEach(function (box) { box.checked = all.checked; });
        update();
      });
    }
    boxes.forEach(function (box) { box.addEventListener("change", update); });
    if (action) action.addEventListener("change", showFields);
    form.addEventListener("submit", function (event) {
      var ticked = Array.prototype.some.call(boxes, function (b) { return b.checked; });
      if (!ticked) {
        event.preventDefault();
        if (count) count.textContent = "Tick at least one record first.";
      }
    });
    showFields();
    update();
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", ready);
  } else {
    ready();
  }
})();
