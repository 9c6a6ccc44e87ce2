// Progressive enhancement for staff pages: every page works without this file.
// On a narrow screen admin.css shows each table row as a stack of cells; this gives each
// cell its column's heading (data-label), which the stylesheet prints before it.
(function () {
  "use strict";
  function labelCells(table) {
    var headings = table.querySelectorAll("thead th");
    if (!headings.length) return;
    var labels = Array.prototype.map.call(headings, function (th) {
      return th.textContent.replace(/\s+/g, " ").trim();
    });
    Array.prototype.forEach.call(table.querySelectorAll("tbody tr, tfoot tr"), function (row) {
      var column = 0;
      Array.prototype.forEach.call(row.children, function (cell) {
        var label = labels[column];
        if (label && !cell.hasAttribute("data-label")) cell.setAttribute("data-label", label);
        column += cell.colSpan || 1;
      });
    });
  }
  Array.prototype.forEach.call(document.querySelectorAll(".admin-main table"), labelCells);
})();
