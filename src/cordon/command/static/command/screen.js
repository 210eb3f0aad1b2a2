// The command screen: ask the version each second; when it moved, fetch the figures and redraw them.
(function () {
  var body = document.body, version = body.dataset.version;
  function redraw(data) {
    document.getElementById("at").textContent = data.at;
    data.panels.forEach(function (p) {
      p.figures.forEach(function (f) {
        var el = document.querySelector('[data-figure="' + p.name + "." + f.key + '"]');
        if (el) { el.textContent = f.value; }
      });
    });
  }
  function tick() {
    fetch(body.dataset.versionUrl, {credentials: "same-origin"}).then(function (r) { return r.json(); })
      .then(function (v) {
        if (String(v.version) === String(version)) { return null; }
        return fetch(body.dataset.dataUrl, {credentials: "same-origin"}).then(function (r) { return r.json(); })
          .then(function (d) { version = d.version; redraw(d.data); });
      }).catch(function () {}).then(function () { setTimeout(tick, 1000); });
  }
  setTimeout(tick, 1000);
})();
