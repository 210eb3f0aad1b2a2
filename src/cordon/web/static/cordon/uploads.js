// Cordon: an upload's progress bar, polled from its JSON answer; the page reloads when the import ends.
// Without JavaScript the page refreshes itself (<noscript> meta refresh).
(function () {
  "use strict";
  var box = document.getElementById("upload-state");
  var url = box && box.getAttribute("data-progress-url");
  if (!url) return;
  var bar = box.querySelector("[data-field=bar]");
  var text = box.querySelector("[data-field=text]");
  var status = box.querySelector("[data-field=status]");
  function poll() {
    fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (s) {
        if (!s) { setTimeout(poll, 5000); return; }
        if (s.finished) { window.location.reload(); return; }
        if (status) status.textContent = s.status_label;
        if (bar && s.total) { bar.max = s.total; bar.value = s.done; }
        if (text && s.total) text.textContent = s.done + " / " + s.total + (s.percent !== null ? " (" + s.percent + " %)" : "");
        setTimeout(poll, 1000);
      })
      .catch(function () { setTimeout(poll, 5000); });
  }
  setTimeout(poll, 1000);
})();
