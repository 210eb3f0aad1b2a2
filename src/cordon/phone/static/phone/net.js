// Talking to /api/phone/ (session cookie, CSRF header on POST). Every answer is sorted into what the app does
// next: {ok, data} | {wipe: "device" | "stale"} (401, signed out, counts as a bad device) | {forbidden} | {offline} | {error: status}.
const CONFIG = JSON.parse(document.getElementById("phone-config").textContent);
const API = CONFIG.api;

function csrf() {
  const m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return m ? decodeURIComponent(m[1]) : "";
}

async function call(method, path, body) {
  let resp;
  try {
    resp = await fetch(API + path, {
      method, credentials: "same-origin", redirect: "manual",
      headers: {"Accept": "application/json", ...(body ? {"Content-Type": "application/json", "X-CSRFToken": csrf()} : {})},
      body: body ? JSON.stringify(body) : undefined,
    });
  } catch (e) {
    return {offline: true};
  }
  let data = null;
  try { data = await resp.json(); } catch (e) { /* not JSON */ }
  if (resp.ok) return {ok: true, data};
  if (resp.status === 410 || (data && data.wipe && resp.status !== 409)) return {wipe: "device", data};
  if (resp.status === 409 && data && (data.wipe || data.stale)) return {wipe: "stale", data};
  if (resp.status === 401 || resp.type === "opaqueredirect") return {wipe: "device", signedOut: true};
  if (resp.status === 403) return {forbidden: true, data};
  return {error: resp.status, data};
}

/** The account's language on the server too (the slice's playbooks and the sync's messages follow it). */
export async function setLanguage(lang) {
  try {
    await fetch(CONFIG.setlang, {method: "POST", credentials: "same-origin", redirect: "manual",
      headers: {"Content-Type": "application/x-www-form-urlencoded", "X-CSRFToken": csrf()},
      body: new URLSearchParams({language: lang, next: CONFIG.scope})});
    return true;
  } catch (e) {
    return false;
  }
}

export const register = (name) => call("POST", "devices", {name});
export const checkDevice = (id) => call("GET", "devices/" + encodeURIComponent(id));
export const slice = (id) => call("GET", "slice?device=" + encodeURIComponent(id));
export const sync = (body) => call("POST", "sync", body);
export {CONFIG};
