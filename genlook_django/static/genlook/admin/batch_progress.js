/* The batch jobs' list: while a job listed is open, refresh its progress bar and state
   every few seconds from progress/ (which, without a worker, also advances the jobs).
   Without JavaScript the list shows the progress as of its loading. */
(function () {
  "use strict";
  var INTERVAL_MS = 3000;

  function openCells() {
    return Array.prototype.slice.call(
      document.querySelectorAll('.genlook-batch-live[data-genlook-open="1"]')
    );
  }

  function refresh() {
    var cells = openCells();
    if (!cells.length) return;
    var ids = cells.map(function (cell) { return cell.getAttribute("data-genlook-job"); });
    var url = new URL("progress/", window.location.origin + window.location.pathname);
    url.searchParams.set("ids", ids.join(","));
    fetch(url.toString(), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (body) {
        if (!body) return;
        cells.forEach(function (cell) {
          var job = body.jobs[cell.getAttribute("data-genlook-job")];
          if (!job) return;
          cell.innerHTML = job.html; // rendered and escaped by the server
          cell.setAttribute("data-genlook-open", job.open ? "1" : "0");
          var row = cell.closest("tr");
          var state = row && row.querySelector("td.field-state");
          if (state) state.textContent = job.state_label;
        });
      })
      .catch(function () { /* the next tick tries again */ })
      .then(function () { if (openCells().length) window.setTimeout(refresh, INTERVAL_MS); });
  }

  function start() {
    if (openCells().length) window.setTimeout(refresh, INTERVAL_MS);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
