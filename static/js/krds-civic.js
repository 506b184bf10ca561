/* Progressive enhancement for the KRDS layout (no inline script, CSP-safe). Every page works
   without it: tables then scroll inside themselves, confirmations open in the page.
   1. Tables: label every cell with its column header (data-label) and mark the table
      .is-stacked, so that under 640px each row shows as a labelled card.
   2. Confirmations (macros/krds.html confirm): open the panel as a KRDS modal dialog. */
(function () {
  "use strict";

  function headerTexts(table) {
    var head = table.tHead;
    if (!head || !head.rows.length) return null;
    var row = head.rows[head.rows.length - 1];
    var labels = [];
    for (var i = 0; i < row.cells.length; i++) {
      var cell = row.cells[i];
      var text = (cell.innerText || cell.textContent || "").replace(/\s+/g, " ").trim();
      for (var s = 0; s < (cell.colSpan || 1); s++) labels.push(text);
    }
    return labels;
  }

  function labelTable(table) {
    if (table.classList.contains("is-stacked") || table.classList.contains("no-stack")) return;
    var labels = headerTexts(table);
    if (!labels) return;
    var bodies = Array.prototype.slice.call(table.tBodies);
    if (table.tFoot) bodies.push(table.tFoot);
    bodies.forEach(function (body) {
      Array.prototype.forEach.call(body.rows, function (row) {
        var col = 0;
        Array.prototype.forEach.call(row.cells, function (cell) {
          if (!cell.hasAttribute("data-label") && labels[col]) cell.setAttribute("data-label", labels[col]);
          col += cell.colSpan || 1;
        });
      });
    });
    table.classList.add("is-stacked");
  }

  function closeConfirm(details) {
    var panel = details.querySelector(".krds-modal");
    panel.classList.remove("is-modal");
    details.open = false;
    var summary = details.querySelector("summary");
    if (summary) summary.focus();
  }

  function setupConfirm(details) {
    if (details.dataset.enhanced) return;
    details.dataset.enhanced = "1";
    var panel = details.querySelector(".krds-modal");
    var cancel = details.querySelector(".close-modal");
    if (cancel) {
      cancel.hidden = false;
      cancel.addEventListener("click", function () { closeConfirm(details); });
    }
    details.addEventListener("toggle", function () {
      if (details.open) {
        panel.classList.add("is-modal");
        var first = panel.querySelector("button[type=submit]");
        (first || panel.querySelector(".modal-content")).focus();
      } else {
        panel.classList.remove("is-modal");
      }
    });
    panel.addEventListener("click", function (event) {
      if (event.target === panel) closeConfirm(details);
    });
    panel.addEventListener("keydown", function (event) {
      if (event.key === "Escape") { event.preventDefault(); closeConfirm(details); return; }
      if (event.key !== "Tab") return;
      var focusable = panel.querySelectorAll("button:not([hidden]), input:not([type=hidden]), select, textarea, a[href]");
      if (!focusable.length) return;
      var first = focusable[0], last = focusable[focusable.length - 1];
      if (event.shiftKey && document.activeElement === first) { event.preventDefault(); last.focus(); }
      else if (!event.shiftKey && document.activeElement === last) { event.preventDefault(); first.focus(); }
    });
  }

  function enhance(root) {
    if (!root || !root.querySelectorAll) return;
    if (root.tagName === "TABLE") labelTable(root);
    Array.prototype.forEach.call(root.querySelectorAll("table"), labelTable);
    if (root.matches && root.matches("details.krds-confirm")) setupConfirm(root);
    Array.prototype.forEach.call(root.querySelectorAll("details.krds-confirm"), setupConfirm);
  }

  // A link to a folded section (<details id=...>) opens it.
  function openTarget() {
    var target = location.hash && document.getElementById(decodeURIComponent(location.hash.slice(1)));
    if (target && target.tagName === "DETAILS") target.open = true;
  }

  document.addEventListener("DOMContentLoaded", function () { enhance(document); openTarget(); });
  window.addEventListener("hashchange", openTarget);
  document.addEventListener("htmx:load", function (event) { enhance(event.detail && event.detail.elt); });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    var menu = document.querySelector("details.gnb-mobile[open]");
    if (menu) { menu.open = false; menu.querySelector("summary").focus(); }
  });
})();
