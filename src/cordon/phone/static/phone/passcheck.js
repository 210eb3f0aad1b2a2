// A pass's QR token checked on the phone, offline: "PAYLOAD.SIGNATURE" (base64url), the Ed25519 signature of
// PAYLOAD's ASCII text by the deployment's key (passes/signing.py), verified with WebCrypto and the slice's
// pass_key; then the slice's revocation list and the validity dates. The server re-checks it when synced.
import {b64decode} from "./store.js";

/** {state: "ok" | "bad" | "revoked" | "dates" | "nocrypto", data} */
export async function verify(token, slice, today) {
  const parts = (token || "").trim().split(".");
  if (parts.length !== 2 || !parts[0] || !parts[1]) return {state: "bad"};
  let key;
  try {
    key = await crypto.subtle.importKey("raw", b64decode(slice.pass_key), {name: "Ed25519"}, false, ["verify"]);
  } catch (e) {
    return {state: "nocrypto"};
  }
  let ok = false, data = null;
  try {
    ok = await crypto.subtle.verify({name: "Ed25519"}, key, b64decode(parts[1]), new TextEncoder().encode(parts[0]));
    if (ok) data = JSON.parse(new TextDecoder().decode(b64decode(parts[0])));
  } catch (e) {
    ok = false;
  }
  if (!ok || !data || typeof data.p !== "number") return {state: "bad"};
  if ((slice.revoked_passes || []).indexOf(data.p) >= 0) return {state: "revoked", data};
  if ((data.f && String(data.f).slice(0, 10) > today) || (data.t && String(data.t).slice(0, 10) < today)) {
    return {state: "dates", data};
  }
  return {state: "ok", data};
}
