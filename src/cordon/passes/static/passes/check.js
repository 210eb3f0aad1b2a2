// The checkpoint page: read the QR code with the camera (BarcodeDetector, where the browser has it), verify the
// token's Ed25519 signature in the browser (WebCrypto, where available) with the deployment's public key and the
// synced revocation list (kept in localStorage, so a check works offline), then submit it for the server's
// answer, which is the one that counts and is logged.
(function () {
  "use strict";
  var box = document.getElementById("scan");
  if (!box) return;
  var out = document.getElementById("scan-local");
  var field = document.getElementById("id_code");
  function b64(s) { s = s.replace(/-/g, "+").replace(/_/g, "/"); while (s.length % 4) s += "=";
    return Uint8Array.from(atob(s), function (c) { return c.charCodeAt(0); }); }
  function load(k, d) { try { return JSON.parse(localStorage.getItem(k)) || d; } catch (e) { return d; } }
  function sync() {
    fetch(box.dataset.key, {credentials: "same-origin"}).then(function (r) { return r.ok ? r.json() : null; })
      .then(function (j) { if (j) localStorage.setItem("cordon.passes.key", JSON.stringify(j.public_key)); }).catch(function () {});
    var have = load("cordon.passes.revoked", {version: 0, ids: []});
    fetch(box.dataset.revocations + "?since=" + have.version, {credentials: "same-origin"})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (j) { if (j) localStorage.setItem("cordon.passes.revoked", JSON.stringify(
        {version: j.version, ids: have.ids.concat(j.revoked)})); }).catch(function () {});
  }
  function verify(token) {
    var parts = token.split(".");
    var key = load("cordon.passes.key", null);
    if (parts.length !== 2 || !key || !(window.crypto && crypto.subtle)) return Promise.resolve(null);
    return crypto.subtle.importKey("raw", b64(key), {name: "Ed25519"}, false, ["verify"])
      .then(function (k) { return crypto.subtle.verify({name: "Ed25519"}, k, b64(parts[1]), new TextEncoder().encode(parts[0])); })
      .then(function (ok) {
        if (!ok) return {ok: false};
        var data = JSON.parse(new TextDecoder().decode(b64(parts[0])));
        return {ok: true, data: data, revoked: load("cordon.passes.revoked", {ids: []}).ids.indexOf(data.p) >= 0};
      }).catch(function () { return null; });  // no Ed25519 in this browser: the server checks
  }
  function got(token) {
    field.value = token;
    verify(token).then(function (v) {
      if (v === null) { out.textContent = ""; }
      else if (!v.ok) { out.textContent = box.dataset.tBad; }
      else { out.textContent = (v.revoked ? box.dataset.tRevoked : box.dataset.tOk) + " · #" + v.data.p + " · " +
             v.data.n + " · " + v.data.f + " – " + v.data.t; }
      if (navigator.onLine) document.getElementById("check-form").submit();
      else out.textContent += " · " + box.dataset.tOffline;
    });
  }
  document.getElementById("scan-start").addEventListener("click", function () {
    if (!("BarcodeDetector" in window) || !navigator.mediaDevices) { out.textContent = box.dataset.tNocam; return; }
    var video = document.getElementById("scan-video");
    var detector = new window.BarcodeDetector({formats: ["qr_code"]});
    navigator.mediaDevices.getUserMedia({video: {facingMode: "environment"}}).then(function (stream) {
      video.srcObject = stream; video.style.display = "block"; video.play();
      var tick = function () {
        detector.detect(video).then(function (codes) {
          if (codes.length) { stream.getTracks().forEach(function (t) { t.stop(); }); video.style.display = "none";
            got(codes[0].rawValue); }
          else requestAnimationFrame(tick);
        }).catch(function () { requestAnimationFrame(tick); });
      };
      tick();
    }).catch(function () { out.textContent = box.dataset.tNocam; });
  });
  sync();
})();
