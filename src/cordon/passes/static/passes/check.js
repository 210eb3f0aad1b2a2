// The checkpoint page: read the QR code with the camera (BarcodeDetector, where the browser has it), verify the
// token's Ed25519 signature in the browser (WebCrypto, where available) with the deployment's public key and the
// synced revocation list (kept in localStorage, so a check works offline), then submit it for the server's
// answer, which is the one that counts and is logged. Offline (no network), a scanned or typed token is checked
// on the phone alone: signature, revocation list, validity days and the checkpoint's area; a typed short code
// cannot be (it carries no signature).
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
  var paths = {};
  try { paths = JSON.parse(document.getElementById("checkpoint-paths").textContent); } catch (e) { paths = {}; }
  function today() { var d = new Date(), p = function (n) { return (n < 10 ? "0" : "") + n; };
    return d.getFullYear() + "-" + p(d.getMonth() + 1) + "-" + p(d.getDate()); }
  function covered(areas, path) {  // a pass for an area covers everything inside it (policy.passes.covers)
    return (areas || []).some(function (a) { return path === a || path.indexOf(a + "/") === 0; });
  }
  function verdict(v) {  // the phone's own answer to a verified token, in POLICY.md's order
    if (!v.ok) return box.dataset.tBad;
    var cp = document.getElementById("id_checkpoint"), path = cp ? paths[cp.value] : null, day = today(), why = "";
    if (v.revoked) why = box.dataset.tRevoked;
    else if (day < v.data.f) why = box.dataset.tNotyet;
    else if (day > v.data.t) why = box.dataset.tExpired;
    else if (path && !covered(v.data.a, path)) why = box.dataset.tArea;
    return (why ? box.dataset.tRefused + ": " + why : box.dataset.tAllowed) + " · #" + v.data.p + " · " + v.data.n +
      " · " + v.data.f + " – " + v.data.t + " · " + box.dataset.tOffline;
  }
  function offline(token) {  // no network: the phone's answer, nothing submitted
    if (token.indexOf(".") < 0) { out.textContent = box.dataset.tOfflineCode; return; }
    verify(token).then(function (v) { out.textContent = v === null ? box.dataset.tNocrypto : verdict(v); });
  }
  function got(token) {
    field.value = token;
    if (!navigator.onLine) { offline(token); return; }
    verify(token).then(function (v) {
      if (v === null) { out.textContent = ""; }
      else if (!v.ok) { out.textContent = box.dataset.tBad; }
      else { out.textContent = (v.revoked ? box.dataset.tRevoked : box.dataset.tOk) + " · #" + v.data.p + " · " +
             v.data.n + " · " + v.data.f + " – " + v.data.t; }
      document.getElementById("check-form").submit();
    });
  }
  document.getElementById("check-form").addEventListener("submit", function (e) {
    if (navigator.onLine) return;  // the server's answer, logged
    e.preventDefault();
    offline(field.value.trim());
  });
  document.getElementById("scan-start").addEventListener("click", function () {
    if (!("BarcodeDetector" in window) || !navigator.mediaDevices) { out.textContent = box.dataset.tNocam; return; }
    var video = document.getElementById("scan-video");
    var detector = new window.BarcodeDetector({formats: ["qr_code"]});
    navigator.mediaDevices.getUserMedia({video: {facingMode: "environment"}}).then(function (stream) {
      video.srcObject = stream; video.hidden = false; video.play();
      var tick = function () {
        detector.detect(video).then(function (codes) {
          if (codes.length) { stream.getTracks().forEach(function (t) { t.stop(); }); video.hidden = true;
            got(codes[0].rawValue); }
          else requestAnimationFrame(tick);
        }).catch(function () { requestAnimationFrame(tick); });
      };
      tick();
    }).catch(function () { out.textContent = box.dataset.tNocam; });
  });
  sync();
})();
