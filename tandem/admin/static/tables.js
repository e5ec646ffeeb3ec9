// On a phone the admin's tables stack (admin.css): each cell is labelled with its column's
// heading, copied here from the table's header row.
(function () {
  for (const table of document.querySelectorAll("table.table")) {
    const headings = Array.from(table.querySelectorAll("thead th")).map((th) => th.textContent.trim());
    if (!headings.length) continue;
    for (const row of table.querySelectorAll("tbody tr")) {
      Array.from(row.children).forEach((cell, i) => {
        if (headings[i] && !cell.hasAttribute("data-label")) cell.setAttribute("data-label", headings[i]);
      });
    }
  }
})();
