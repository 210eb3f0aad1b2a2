// Cordon field app: the screens, the queue and the sync. The slice (the worker's buildings, rounds, deliveries,
// check-ins, visits, playbooks, the pass key) is fetched when online and kept encrypted (store.js); every change
// is queued on the phone with its local time and sent when the network is back (the online event, the app's
// opening, "Sync now"), each with the result the server gave it.
import * as store from "./store.js";
import * as net from "./net.js";
import {verify} from "./passcheck.js";
import {canScan, scan} from "./scan.js";
import {field, getLang, h, otherLang, select, setLang, t, textIn} from "./ui.js";

const CONFIG = net.CONFIG;
const state = {dev: null, slice: null, changes: [], scopeHash: null, syncing: false, keep: null, again: false,
               lastBatch: [], form: {}, wipeText: ""};
const main = document.getElementById("main");
const statusBox = document.getElementById("status");
const noticeBox = document.getElementById("notice");
const $ = (sel, root = main) => root.querySelector(sel);
const $$ = (sel, root = main) => Array.from(root.querySelectorAll(sel));

// the playbook for the job at hand
const JOB_PLAYBOOK = {tubes: "door_sampling", deliveries: "sealed_delivery", care: "sealed_emergency",
                      checkins: "seal_unit", visits: "seal_unit"};

// ---------------------------------------------------------------------------------------------------- the slice

let idx = null;
function index() {
  const s = state.slice;
  idx = {res: new Map(), units: new Map(), buildings: new Map(), households: new Map(), label: new Map()};
  if (!s) return;
  // a building's label: its name, with the area above it (the estate, 小区) when another building of the slice
  // has the same name (every estate has its 1号楼)
  const named = new Map();
  for (const b of s.buildings || []) named.set(b.name, (named.get(b.name) || 0) + 1);
  for (const b of s.buildings || []) {
    idx.buildings.set(b.id, b);
    const up = String(b.path || "").split("/").slice(-2, -1)[0];
    idx.label.set(b.id, named.get(b.name) > 1 && up ? `${up} ${b.name}` : b.name);
    for (const u of b.units || []) {
      idx.units.set(u.id, {unit: u, building: b});
      for (const hh of u.households || []) {
        idx.households.set(hh.id, hh);
        for (const r of hh.residents || []) idx.res.set(r.id, {r, household: hh, unit: u, building: b});
      }
    }
  }
}

const today = () => (state.slice && state.slice.today) || store.localIso(new Date()).slice(0, 10);
const mine = (kind) => state.changes.filter((c) => c.kind === kind);
const who = (id) => { const x = idx.res.get(id); return x ? x.r.name_masked : "#" + id; };
const bname = (b) => idx.label.get(b.id) || b.name;
/** A path below the phone's own areas (五泉小区/1号楼/3单元 rather than from the district down): the area the
 * worker covers is the same on every card. */
function below(path) {
  const p = String(path || "");
  const top = (state.slice.areas || []).map((a) => a.path + "/").filter((a) => p.startsWith(a))
    .sort((x, y) => y.length - x.length)[0];
  return top ? p.slice(top.length) : p;
}
const where = (id) => { const x = idx.res.get(id); return x ? `${bname(x.building)} ${x.unit.name} ${x.household.label}` : ""; };
/** May the user's phone roles use this screen? (``user.screens`` lists the capability-bound ones they may.) */
function allowed(name) {
  const key = name === "building" ? "buildings" : name;
  const may = state.slice && state.slice.user && state.slice.user.screens;
  return !may || CONFIG.bound_screens.indexOf(key) < 0 || may.indexOf(key) >= 0;
}
const pending = () => state.changes.filter((c) => c.status === "pending").length;

function tubeBarcodes() {
  const set = new Set((state.slice.tubes || []).map((x) => String(x.barcode).toUpperCase()));
  for (const c of mine("tube")) if (c.status !== "rejected") set.add(String(c.data.barcode).toUpperCase());
  return set;
}

function sampled(round) {
  const set = new Set();
  for (const x of state.slice.tubes || []) if (String(x.round) === String(round)) (x.residents || []).forEach((r) => set.add(r));
  for (const c of mine("tube")) if (String(c.data.round) === String(round) && c.status !== "rejected") c.data.residents.forEach((r) => set.add(r));
  return set;
}

// ---------------------------------------------------------------------------------------------------- sync

function notice(text, extra) {
  noticeBox.replaceChildren(h("p", {}, text), extra || "");
  noticeBox.hidden = !text;
}

async function answered(r) {
  if (r.ok) return true;
  if (r.offline) return false;
  if (r.wipe) { await wipe(r.wipe, r.signedOut); return false; }
  if (r.forbidden) notice(t("no_phone_use"));
  else notice(t("server_error", {s: r.error}));
  return false;
}

async function wipe(why, signedOut) {
  const {unsent, lost} = await store.wipe(state.dev, why === "stale");
  Object.assign(state, {dev: null, slice: null, changes: [], scopeHash: null, keep: unsent.length ? unsent : null});
  index();
  let text = t(why === "stale" ? "wiped_stale" : "wiped_device");
  if (lost) text += " " + t("lost_unsent", {n: lost});
  state.wipeText = text;  // still said next to the results of the sync that follows
  notice(text, signedOut ? h("a.btn", {href: CONFIG.login}, t("sign_in")) : null);
  state.again = why === "stale";  // a new assignment: set the phone up again at once
}

async function sendQueue() {
  const todo = state.changes.filter((c) => c.status === "pending");
  if (!todo.length) return true;
  const fresh = crypto.randomUUID();
  await store.markBatch(todo.filter((c) => !c.batch).map((c) => c.id), fresh);
  const batches = new Map();
  for (const c of todo) {
    const b = c.batch || fresh;
    if (!batches.has(b)) batches.set(b, []);
    batches.get(b).push(c);
  }
  const shown = [];
  for (const [batch, list] of batches) {
    // the slice's scope: changed grants since it was made answer 409 (stale), and the phone starts afresh
    const scopeHash = (state.slice && state.slice.scope_hash) || state.scopeHash;
    const r = await net.sync({device: state.dev.device, batch, scope_hash: scopeHash,
                              changes: list.map(({id, kind, at, data}) => ({id, kind, at, data}))});
    if (!(await answered(r))) return false;
    await store.saveResults(state.dev, r.data.results || []);
    shown.push(...(r.data.results || []));
  }
  state.changes = await store.changes(state.dev);
  state.lastBatch = shown.map((x) => x.id);
  const n = (s) => shown.filter((x) => x.status === s).length;
  const counts = ["applied", "duplicate", "flagged", "rejected"].filter((s) => n(s)).map((s) => `${t("status_" + s)} ${n(s)}`);
  notice((state.wipeText ? state.wipeText + " " : "") + t("results") + ": " + counts.join(" · "),
         h("a.btn", {href: "#queue"}, t("queue")));
  return true;
}

async function syncNow() {
  if (state.syncing) return;
  state.syncing = true;
  renderStatus();
  try {
    do {
      state.again = false;
      if (!state.dev) {
        const r = await net.register(deviceName());
        if (!(await answered(r))) break;
        state.dev = await store.saveDevice(r.data);
        if (state.keep) { await store.requeue(state.dev, state.keep); state.keep = null; }
        state.changes = await store.changes(state.dev);
      }
      const d = await net.checkDevice(state.dev.device);
      if (!(await answered(d))) continue;
      state.scopeHash = d.data.scope_hash;
      if (!(await sendQueue())) continue;
      const s = await net.slice(state.dev.device);
      if (!(await answered(s))) continue;
      state.slice = s.data;
      await store.saveSlice(state.dev, s.data);
      index();
      state.wipeText = "";
    } while (state.again && navigator.onLine);
  } finally {
    state.syncing = false;
    render(true);
  }
}

function deviceName() {
  const ua = navigator.userAgent;
  const m = ua.match(/\(([^)]+)\)/);
  return ("Phone " + (m ? m[1] : ua)).slice(0, 60);
}

/** Queue a change; online, send it at once. */
async function change(kind, data) {
  const c = await store.queue(state.dev, kind, data);
  state.changes.push({...c, status: "pending"});
  renderStatus();
  if (navigator.onLine) syncNow();
  return c;
}

// ---------------------------------------------------------------------------------------------------- screens

function playbookLink(job) {
  const slug = JOB_PLAYBOOK[job];
  const pb = slug && (state.slice.playbooks || []).find((p) => p.slug === slug);
  return pb ? h("p", {}, h("a.link", {href: "#playbook/" + slug}, t("job_playbook") + ": " + text(pb.title))) : null;
}

function text(v) {
  if (v && typeof v === "object") return v[getLang() === "en" ? "en" : "zh"] || v.zh || v.en || "";
  return v === null || v === undefined ? "" : String(v);
}

function badge(status) { return h("span.badge.st-" + status, {}, t("status_" + status)); }

const SCREENS = {
  home() {
    const s = state.slice;
    const n = {
      tubes: (s.rounds || []).length,
      deliveries: (s.deliveries || []).filter((d) => !mine("delivery").some((c) => c.data.order === d.id)).length,
      checkins: (s.checkins || []).filter((x) => x.due && !checkedIn(x.order)).length,
      visits: (s.visits || []).filter((v) => !mine("visit").some((c) => c.data.task === v.task)).length,
      buildings: (s.buildings || []).length, care: null, pass: null, playbooks: (s.playbooks || []).length,
      queue: pending() || null,
    };
    return [h("h2", {}, t("today") + " · " + s.today),
      h("nav.tiles", {}, Object.entries(n).filter(([k]) => allowed(k)).map(([k, v]) => h("a.tile", {href: "#" + k, id: "tile-" + k},
        h("span", {}, t(k)), v !== null ? h("b.count", {}, v) : null)))];
  },

  buildings() {
    if (!(state.slice.buildings || []).length) return h("p.card", {}, t("nothing"));
    return h("ul.list", {}, state.slice.buildings.map((b) => h("li", {},
      h("a.row", {href: "#building/" + b.id}, h("b", {}, bname(b)), h("small", {}, below(b.path))))));
  },

  building(id) {
    const b = idx.buildings.get(Number(id));
    if (!b) return h("p", {}, t("nothing"));
    return [h("h2", {}, bname(b)), ...(b.units || []).map((u) => h("section.card", {},
      h("h3", {}, u.name, " ", h("small", {}, t("households", {n: (u.households || []).length}))),
      (u.households || []).map((hh) => h("div.household", {}, h("b", {}, hh.label),
        h("ul.people", {}, (hh.residents || []).map((r) => h("li", {}, person(r))))))))];
  },

  tubes() {
    const s = state.slice;
    if (!(s.rounds || []).length) return [h("p.card", {}, t("no_rounds")), playbookLink("tubes")];
    const f = state.form.tubes || (state.form.tubes = {round: s.rounds[0].id});
    const rnd = () => s.rounds.find((r) => String(r.id) === String(f.round)) || s.rounds[0];
    const msg = h("p.msg", {id: "tube-msg", role: "status"});
    const count = h("p.hint", {id: "pool"});
    const barcode = h("input.big", {id: "barcode", name: "barcode", autocomplete: "off", autocapitalize: "characters",
                                    spellcheck: "false", enterkeyhint: "next"});
    const video = h("video.scan", {playsinline: true, muted: true, hidden: true});
    const ticks = () => $$("input[name=res]:checked");
    const recount = () => { count.textContent = t("pool", {n: ticks().length, max: rnd().pool_size}); };
    const picker = residentPicker("tubes", "checkbox", (r) => sampled(rnd().id).has(r.id) ? t("sampled") : "", recount);
    const submit = async () => {
      const code = barcode.value.trim().toUpperCase();
      const ids = ticks().map((i) => Number(i.value));
      msg.className = "msg warn";
      if (!code || !ids.length) { msg.textContent = t("tube_need"); return; }
      if (tubeBarcodes().has(code)) { msg.textContent = t("tube_dup", {b: code}); return; }
      if (ids.length > rnd().pool_size) { msg.textContent = t("pool_full", {max: rnd().pool_size}); return; }
      await change("tube", {round: rnd().id, barcode: code, residents: ids});
      barcode.value = "";
      picker.refresh();
      recount();
      msg.className = "msg ok";
      msg.textContent = t("tube_queued", {b: code});
      barcode.focus();
    };
    return [
      field(t("round"), (() => { const el = select("round", s.rounds.map((r) => [r.id, `${r.name} · ${r.on}`]), f.round);
        el.addEventListener("change", () => { f.round = el.value; picker.refresh(); recount(); }); return el; })()),
      field(t("barcode"), barcode),
      canScan() ? h("button.btn.secondary", {type: "button", onclick: () => camera(video, ["code_128", "code_39", "qr_code", "ean_13"],
        (v) => { barcode.value = v.trim(); msg.textContent = ""; })}, t("scan")) : null,
      video, picker.el, count, msg,
      h("button.btn.big", {type: "button", id: "register-tube", onclick: submit}, t("register_tube")),
      playbookLink("tubes")];
  },

  deliveries() {
    const done = new Map(mine("delivery").map((c) => [c.data.order, c]));
    const open = (state.slice.deliveries || []).filter((d) => !done.has(d.id));
    const list = open.map((d) => {
      const reason = h("input", {name: "reason", placeholder: t("reason")});
      const box = h("div.reason", {hidden: true}, reason,
        h("button.btn.danger", {type: "button", onclick: async () => {
          if (!reason.value.trim()) { reason.focus(); reason.placeholder = t("reason_need"); return; }
          await change("delivery", {order: d.id, delivered: false, reason: reason.value.trim()}); render(true);
        }}, t("not_delivered")));
      return h("section.card.delivery", {dataset: {order: d.id}},
        h("h3", {}, below(d.unit_path), " ", h("b", {}, d.household_label || (idx.households.get(d.household) || {}).label || "")),
        h("p", {}, items(d.items)), d.due_on ? h("small", {}, t("due", {d: d.due_on})) : null,
        h("div.btn-row", {},
          h("button.btn.ok", {type: "button", onclick: async () => { await change("delivery", {order: d.id, delivered: true}); render(true); }}, t("delivered")),
          h("button.btn.secondary", {type: "button", onclick: () => { box.hidden = false; reason.focus(); }}, t("not_delivered"))),
        box);
    });
    return [open.length ? list : h("p.card", {}, t("nothing")), queuedList("delivery"), playbookLink("deliveries")];
  },

  checkins() {
    const due = (state.slice.checkins || []).filter((x) => x.due && !checkedIn(x.order));
    const list = due.map((x) => {
      const temp = h("input.big", {name: "temperature", type: "number", step: "0.1", min: "34", max: "43", inputmode: "decimal"});
      const sym = h("input", {name: "symptoms"});
      const msg = h("p.msg.warn");
      return h("section.card.checkin", {dataset: {order: x.order}},
        h("h3", {}, who(x.resident)), h("small", {}, where(x.resident)),
        field(t("temperature"), temp), field(t("symptoms"), sym), msg,
        h("button.btn.big", {type: "button", onclick: async () => {
          const v = Number(temp.value);
          if (!temp.value || !(v >= 34 && v <= 43)) { msg.textContent = t("temp_need"); return; }
          await change("checkin", {order: x.order, temperature: v, symptoms: sym.value.trim()}); render(true);
        }}, t("record")));
    });
    return [due.length ? list : h("p.card", {}, t("nothing")), queuedList("checkin"), playbookLink("checkins")];
  },

  visits() {
    const open = (state.slice.visits || []).filter((v) => !mine("visit").some((c) => c.data.task === v.task));
    const list = open.map((v) => {
      const note = h("textarea", {name: "note", rows: 2});
      return h("section.card.visit", {dataset: {task: v.task}},
        h("h3", {}, who(v.resident), " · ", t("visit_" + v.kind)), h("small", {}, where(v.resident), " · ", t("due", {d: v.due_on})),
        field(t("note"), note),
        h("button.btn.big", {type: "button", onclick: async () => { await change("visit", {task: v.task, note: note.value.trim()}); render(true); }}, t("done")));
    });
    return [open.length ? list : h("p.card", {}, t("nothing")), queuedList("visit"), playbookLink("visits")];
  },

  care() {
    const msg = h("p.msg", {role: "status"});
    const need = select("need", [["", t("choose")], ...CONFIG.needs.map((k) => [k, t("need_" + k)])], "");
    const urgent = h("input", {type: "checkbox", name: "urgent"});
    const picker = residentPicker("care", "radio", () => "", () => {});
    return [picker.el, field(t("need"), need), h("label.check", {}, urgent, t("urgent")), msg,
      h("button.btn.big", {type: "button", id: "send-care", onclick: async () => {
        const r = $("input[name=res]:checked");
        msg.className = "msg warn";
        if (!r || !need.value) { msg.textContent = t("care_need"); return; }
        await change("care_request", {resident: Number(r.value), need: need.value, urgency: urgent.checked ? "critical" : ""});
        r.checked = false; need.value = ""; urgent.checked = false;
        msg.className = "msg ok"; msg.textContent = t("care_queued");
      }}, t("send_request")), queuedList("care_request"), playbookLink("care")];
  },

  pass() {
    const token = h("textarea", {name: "token", rows: 3, spellcheck: "false", autocapitalize: "off"});
    const areas = state.slice.areas || [];
    const at = select("area", areas.map((a) => [a.id, a.name || a.path]), state.form.passArea);
    at.addEventListener("change", () => { state.form.passArea = at.value; });
    const out = h("div.result", {id: "pass-result", role: "status"});
    const video = h("video.scan", {playsinline: true, muted: true, hidden: true});
    const check = async () => {
      const v = await verify(token.value, state.slice, today());
      const cls = v.state === "ok" ? "ok" : v.state === "nocrypto" ? "warn" : "danger";
      const key = {ok: "pass_ok", bad: "pass_bad", revoked: "pass_revoked", dates: "pass_dates", nocrypto: "pass_nocrypto"}[v.state];
      out.replaceChildren(h("h3." + cls, {}, t(key)),
        v.data ? h("p", {}, `#${v.data.p} · ${v.data.n} · ${v.data.f} – ${v.data.t}`) : null,
        v.data ? h("p", {}, t("pass_area", {a: (v.data.a || []).join("、")})) : null);
      if (token.value.trim() && mayCheck()) await change("pass_check", {token: token.value.trim(), checked_at_area: areas.length ? Number(at.value) : null});
    };
    return [field(t("token"), token),
      canScan() ? h("button.btn.secondary", {type: "button", onclick: () => camera(video, ["qr_code"], (v) => { token.value = v; check(); })}, t("scan")) : null,
      video, areas.length > 1 ? field(t("checked_at"), at) : null,
      h("button.btn.big", {type: "button", id: "check-pass", onclick: check}, t("check")), out];
  },

  playbooks() {
    return h("ul.list", {}, (state.slice.playbooks || []).map((p) => h("li", {},
      h("a.row", {href: "#playbook/" + p.slug}, h("b", {}, text(p.title))))));
  },

  playbook(slug) {
    const p = (state.slice.playbooks || []).find((x) => x.slug === slug);
    if (!p) return h("p", {}, t("nothing"));
    return [h("h2", {}, text(p.title)), p.summary ? h("p", {}, text(p.summary)) : null,
      h("ol.steps", {}, (p.steps || []).map((s) => h("li", {}, typeof s === "object" && s && "text" in s ? text(s.text) : text(s))))];
  },

  queue() {
    const list = state.changes.slice().reverse();
    return [h("button.btn.secondary", {type: "button", onclick: syncNow, disabled: !navigator.onLine}, t("sync_now")),
      list.length ? h("ul.list.changes", {}, list.map((c) => h("li.change", {dataset: {id: c.id, kind: c.kind, status: c.status}},
        h("div", {}, h("b", {}, t("kind_" + c.kind)), " ", summary(c), " ", badge(c.status)),
        h("small", {}, c.at.slice(0, 16).replace("T", " ")),
        c.message ? h("p.msg", {}, c.message) : null))) : h("p.card", {}, t("no_changes"))];
  },
};

/** Does one of the user's roles check passes (the server refuses a check from other roles)? */
function mayCheck() {
  const roles = (state.slice.user && state.slice.user.roles) || [];
  return roles.some((r) => CONFIG.pass_check_roles.indexOf(r) >= 0) && (state.slice.areas || []).length > 0;
}

/** A check-in made on this phone today: still waiting to be sent, or sent and dated today (once synced, the
 *  next slice says whether the order still needs one). */
function checkedIn(order) {
  return mine("checkin").some((c) => c.data.order === order && c.status !== "rejected" &&
                                     (c.status === "pending" || c.at.slice(0, 10) >= today()));
}

function person(r) {
  return [h("b", {}, r.name_masked), ` ${r.age ?? ""} ${r.sex ? t("sex_" + r.sex) : ""} `,
    (r.special || []).map((s) => h("span.badge", {}, s)),
    r.order ? h("span.badge.danger", {}, t("under_order", {d: r.order.until || ""})) : null];
}

function items(v) {
  if (Array.isArray(v)) return v.map((i) => (typeof i === "object" && i ? `${i.name || ""} ${i.quantity ?? ""} ${i.unit || ""}`.trim() : String(i))).join("，");
  if (v && typeof v === "object") return Object.entries(v).map(([k, q]) => `${k} ×${q}`).join("，");
  return v || "";
}

function summary(c) {
  const d = c.data;
  switch (c.kind) {
    case "tube": return `${d.barcode} · ${d.residents.map(who).join("、")}`;
    case "delivery": return `#${d.order} · ${d.delivered ? t("delivered") : t("not_delivered") + ": " + d.reason}`;
    case "checkin": return `${who((state.slice.checkins || []).find((x) => x.order === d.order)?.resident)} · ${d.temperature} °C`;
    case "visit": return `#${d.task} ${d.note || ""}`;
    case "care_request": return `${who(d.resident)} · ${t("need_" + d.need)}`;
    case "pass_check": return d.token.slice(0, 12) + "…";
    default: return "";
  }
}

function queuedList(kind) {
  const list = mine(kind);
  if (!list.length) return null;
  return h("ul.list.changes", {}, list.slice().reverse().map((c) => h("li.change", {dataset: {id: c.id, status: c.status}},
    summary(c), " ", badge(c.status), c.message ? h("small", {}, " ", c.message) : null)));
}

/** Building -> unit -> households with their residents (checkbox or radio named "res"). */
function residentPicker(key, type, note, onchange) {
  const f = state.form[key + "Pick"] || (state.form[key + "Pick"] = {building: "", unit: ""});
  const blds = state.slice.buildings || [];
  const bSel = select("building", [["", t("choose")], ...blds.map((b) => [b.id, bname(b)])], f.building);
  const uSel = h("select", {name: "unit"});
  const people = h("div.people-pick");
  const fillUnits = () => {
    const b = idx.buildings.get(Number(bSel.value));
    uSel.replaceChildren(...[["", t("choose")], ...(b ? b.units.map((u) => [u.id, u.name]) : [])]
      .map(([v, l]) => h("option", {value: v, selected: String(v) === String(f.unit)}, l)));
  };
  const refresh = () => {
    const x = idx.units.get(Number(uSel.value));
    people.replaceChildren(...(x ? x.unit.households : []).map((hh) => h("fieldset.household", {},
      h("legend", {}, hh.label),
      (hh.residents || []).map((r) => h("label.check", {}, h("input", {type, name: "res", value: r.id, onchange}),
        person(r), note(r) ? h("small.muted", {}, " ", note(r)) : null)))));
  };
  bSel.addEventListener("change", () => { f.building = bSel.value; f.unit = ""; fillUnits(); refresh(); });
  uSel.addEventListener("change", () => { f.unit = uSel.value; refresh(); onchange(); });
  fillUnits();
  refresh();
  return {el: h("div", {}, field(t("building"), bSel), field(t("unit"), uSel), people), refresh};
}

let stopCamera = null;
async function camera(video, formats, found) {
  if (stopCamera) { stopCamera(); stopCamera = null; return; }
  try { stopCamera = await scan(video, formats, (v) => { stopCamera = null; found(v); }); }
  catch (e) { notice(t("no_camera")); }
}

// ---------------------------------------------------------------------------------------------------- rendering

function renderStatus() {
  const online = navigator.onLine;
  const n = pending();
  statusBox.replaceChildren(...[
    h("span.pill." + (online ? "on" : "off"), {id: "net"}, t(online ? "online" : "offline")),
    n ? h("span.pill", {id: "pending"}, t("pending", {n})) : null,
    state.syncing ? h("span.pill", {}, t("syncing")) : null,
    state.slice ? h("small", {}, t("synced_at", {t: String(state.slice.generated_at).slice(0, 16).replace("T", " ")})) : null,
  ].filter(Boolean));
}

const FORMS = new Set(["tubes", "care", "pass"]);
function render(afterSync) {
  renderStatus();
  let [name, arg] = (location.hash.slice(1) || "home").split("/");
  if (!allowed(name)) [name, arg] = ["home", undefined];  // a screen the user's roles do not use
  if (afterSync === true && FORMS.has(name) && main.dataset.screen === name) return;  // keep what is being typed
  if (stopCamera) { stopCamera(); stopCamera = null; }
  document.getElementById("back").hidden = name === "home";
  document.getElementById("title").textContent = name === "home" ? t("app") : t(name === "building" ? "buildings" : name === "playbook" ? "playbooks" : name);
  if (!state.slice) {
    main.replaceChildren(h("p.card", {}, navigator.onLine ? t("setup") : t("need_network")));
    main.dataset.screen = "";
    return;
  }
  const screen = SCREENS[name] || SCREENS.home;
  main.replaceChildren(...[screen(arg)].flat(Infinity).filter(Boolean));
  main.dataset.screen = name;
}

function applyLang() {
  document.documentElement.lang = getLang() === "en" ? "en" : "zh-Hans";
  const btn = document.getElementById("lang");
  btn.textContent = textIn(otherLang(), "language");
  document.getElementById("back").setAttribute("aria-label", t("back"));
}

async function start() {
  applyLang();
  document.getElementById("lang").addEventListener("click", async () => {
    setLang(otherLang());
    applyLang();
    render();
    // online: the server answers in this language too, and the slice's playbooks come again in it
    if (navigator.onLine && (await net.setLanguage(getLang())) && state.dev) syncNow();
  });
  document.getElementById("back").addEventListener("click", () => { if (history.length > 1) history.back(); else location.hash = ""; });
  if ("serviceWorker" in navigator) navigator.serviceWorker.register(CONFIG.sw, {scope: CONFIG.scope}).catch(() => {});
  state.dev = await store.device();
  if (state.dev) {
    try {
      state.slice = await store.loadSlice(state.dev);
      state.changes = await store.changes(state.dev);
    } catch (e) { state.slice = null; }
  }
  index();
  render();
  window.addEventListener("hashchange", () => render());
  window.addEventListener("online", () => { renderStatus(); syncNow(); });
  window.addEventListener("offline", renderStatus);
  if (navigator.onLine) await syncNow();
  document.body.dataset.ready = "1";
}

start();
