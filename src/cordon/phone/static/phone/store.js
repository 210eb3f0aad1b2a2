// The phone's storage (IndexedDB "cordon-phone"): the device record with its AES-GCM key (a non-extractable
// CryptoKey, so no script can read its bytes), the slice and the queue of changes, both encrypted with that key.
// Only what is needed to list and send them stays in clear: a change's id, batch and result status.
const DB = "cordon-phone";

function req(r) {
  return new Promise((ok, ko) => { r.onsuccess = () => ok(r.result); r.onerror = () => ko(r.error); });
}

let dbp = null;
function db() {
  if (!dbp) {
    const r = indexedDB.open(DB, 1);
    r.onupgradeneeded = () => {
      const d = r.result;
      d.createObjectStore("device", {keyPath: "id"});
      d.createObjectStore("slice", {keyPath: "id"});
      d.createObjectStore("queue", {keyPath: "id"});
    };
    dbp = req(r);
  }
  return dbp;
}

async function tx(store, mode, fn) {
  const d = await db();
  const t = d.transaction(store, mode);
  const out = fn(t.objectStore(store));
  await new Promise((ok, ko) => { t.oncomplete = ok; t.onerror = () => ko(t.error); t.onabort = () => ko(t.error); });
  return out instanceof IDBRequest ? out.result : out;
}
const get = (store, id) => tx(store, "readonly", (s) => s.get(id));
const put = (store, value) => tx(store, "readwrite", (s) => s.put(value));
const all = (store) => tx(store, "readonly", (s) => s.getAll());

export function b64decode(s) {
  s = s.replace(/-/g, "+").replace(/_/g, "/");
  while (s.length % 4) s += "=";
  return Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
}

// ---------------------------------------------------------------- the device and its key

export async function device() { return (await get("device", "me")) || null; }

export async function saveDevice(info) {
  const key = await crypto.subtle.importKey("raw", b64decode(info.key), {name: "AES-GCM"}, false,
                                            ["encrypt", "decrypt"]);
  const rec = {id: "me", device: info.device, expires_at: info.expires_at, key};
  await put("device", rec);
  return rec;
}

async function seal(key, value) {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const data = new TextEncoder().encode(JSON.stringify(value));
  return {iv, ct: await crypto.subtle.encrypt({name: "AES-GCM", iv}, key, data)};
}

async function open(key, box) {
  const plain = await crypto.subtle.decrypt({name: "AES-GCM", iv: box.iv}, key, box.ct);
  return JSON.parse(new TextDecoder().decode(plain));
}

// ---------------------------------------------------------------- the slice

export async function saveSlice(dev, slice) {
  await put("slice", {id: "slice", box: await seal(dev.key, slice)});
}

export async function loadSlice(dev) {
  const rec = await get("slice", "slice");
  return rec ? open(dev.key, rec.box) : null;
}

// ---------------------------------------------------------------- the queue of changes

/** Queue a change made on this phone: a uuid, the phone's local time with its offset, the kind and data. */
export async function queue(dev, kind, data) {
  const change = {id: crypto.randomUUID(), kind, at: localIso(new Date()), data};
  await put("queue", {id: change.id, made: Date.now(), batch: null, status: "pending", box: await seal(dev.key, change)});
  return change;
}

/** Every change with its result: [{id, kind, at, data, status, message, record, batch}], oldest first. */
export async function changes(dev) {
  const rows = (await all("queue")).sort((a, b) => a.made - b.made);
  const out = [];
  for (const r of rows) {
    try { out.push({...(await open(dev.key, r.box)), status: r.status, batch: r.batch, made: r.made}); }
    catch (e) { /* sealed with a key this phone no longer has */ }
  }
  return out;
}

export async function markBatch(ids, batch) {
  await tx("queue", "readwrite", (s) => {
    for (const id of ids) s.get(id).onsuccess = (e) => { const r = e.target.result; if (r && !r.batch) { r.batch = batch; s.put(r); } };
  });
}

/** Store the server's answers: the status in clear, the message and record sealed with the change. */
export async function saveResults(dev, results) {
  const byId = new Map(results.map((r) => [r.id, r]));
  const rows = await all("queue");
  for (const row of rows) {
    const res = byId.get(row.id);
    if (!res) continue;
    const change = await open(dev.key, row.box);
    Object.assign(change, {message: res.message || "", record: res.record || null});
    await put("queue", {...row, status: res.status, box: await seal(dev.key, change)});
  }
}

/** Delete the slice, the key and the synced changes. The unsent ones are returned decrypted (when
 *  ``keepUnsent``, to be sealed again under a new key) and deleted from the store; their number is returned. */
export async function wipe(dev, keepUnsent) {
  const rows = await all("queue");
  const unsent = [];
  for (const r of rows.filter((x) => x.status === "pending")) {
    if (keepUnsent && dev) { try { unsent.push(await open(dev.key, r.box)); } catch (e) { /* unreadable */ } }
  }
  await tx("device", "readwrite", (s) => s.clear());  // the key first: without it the rest cannot be read
  await tx("slice", "readwrite", (s) => s.clear());
  await tx("queue", "readwrite", (s) => s.clear());
  return {unsent, lost: rows.filter((x) => x.status === "pending").length - unsent.length};
}

/** Put back changes kept across a wipe, sealed with the new key (same ids: the server sees them once). */
export async function requeue(dev, list) {
  for (const c of list) {
    const {id, kind, at, data} = c;
    await put("queue", {id, made: Date.now(), batch: null, status: "pending", box: await seal(dev.key, {id, kind, at, data})});
  }
}

/** ISO 8601 local time with the phone's offset (2022-04-02T09:15:00.000+08:00). */
export function localIso(d) {
  const off = -d.getTimezoneOffset();
  const p = (n, w = 2) => String(Math.trunc(Math.abs(n))).padStart(w, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:` +
         `${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}${off >= 0 ? "+" : "-"}${p(off / 60)}:${p(off % 60)}`;
}
