// DOM helpers and the texts (rendered by the server in both languages; the choice is kept on the phone).
const TEXTS = JSON.parse(document.getElementById("phone-texts").textContent);
const LANGS = ["zh-hans", "en"];
let lang = localStorage.getItem("cordon.phone.lang");
if (LANGS.indexOf(lang) < 0) lang = JSON.parse(document.getElementById("phone-config").textContent).lang || "zh-hans";

export const getLang = () => lang;
export function setLang(l) { lang = l; localStorage.setItem("cordon.phone.lang", l); }
export const otherLang = () => (lang === "en" ? "zh-hans" : "en");

/** The text ``key`` in the current language, ``%(name)s`` filled from ``args``. */
export function t(key, args) {
  let s = TEXTS[lang][key];
  if (s === undefined) s = TEXTS.en[key] || key;
  if (args) s = s.replace(/%\((\w+)\)s/g, (m, k) => (k in args ? String(args[k]) : m));
  return s;
}
export const textIn = (l, key) => TEXTS[l][key];

/** h("button.big", {onclick}, "text", child, ...): an element; attributes starting with "on" are listeners; a
 *  child may be a list, of lists too (a screen's parts are built as nested lists). */
export function h(spec, attrs, ...children) {
  const [tag, ...classes] = spec.split(".");
  const el = document.createElement(tag || "div");
  if (classes.length) el.className = classes.join(" ");
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "dataset") Object.assign(el.dataset, v);
    else if (k in el && typeof v !== "string") el[k] = v;
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

export function field(label, input, hint) {
  return h("label.field", {}, h("span", {}, label), input, hint ? h("small.hint", {}, hint) : null);
}

export function select(name, options, value) {
  return h("select", {name}, options.map(([v, label]) => h("option", {value: v, selected: String(v) === String(value)}, label)));
}
