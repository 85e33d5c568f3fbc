// The interface in the six UN languages: English, French, Spanish, Russian, Chinese, Arabic.
//
// The language is, in order: `?lang=` in the page's URL, the one the user chose before
// (localStorage), the participant's `lang`, the browser's languages, English. Arabic sets
// dir="rtl" on <html>; the CSS uses logical properties so the layout mirrors.
// Static text in the pages carries `data-i18n="key"` (text) and
// `data-i18n-attr="attribute:key;…"`; `translatePage()` fills them in.
// Strings are values or functions of a parameter map; `{name}` placeholders are filled.

import ar from "./lang/ar.js";
import en from "./lang/en.js";
import es from "./lang/es.js";
import fr from "./lang/fr.js";
import ru from "./lang/ru.js";
import zh from "./lang/zh.js";

export const DICTIONARIES = { en, fr, es, ru, zh, ar };
export const LANGUAGES = [
  { code: "ar", name: "العربية" },
  { code: "zh", name: "中文" },
  { code: "en", name: "English" },
  { code: "fr", name: "Français" },
  { code: "ru", name: "Русский" },
  { code: "es", name: "Español" },
];
const RTL = new Set(["ar"]);
const STORAGE_KEY = "floor.lang";

let current = "en";
const listeners = new Set();

function supported(code) {
  if (!code) return null;
  const base = String(code).toLowerCase().split(/[-_]/)[0];
  return base in DICTIONARIES ? base : null;
}

function stored() {
  try {
    return localStorage.getItem(STORAGE_KEY);
  } catch {
    return null;
  }
}

/** The language to start in, given the participant's `lang` (may be null). */
export function chooseLanguage(participantLang) {
  const fromUrl = new URLSearchParams(location.search).get("lang");
  for (const candidate of [fromUrl, stored(), participantLang, ...(navigator.languages || [])]) {
    const code = supported(candidate);
    if (code) return code;
  }
  return "en";
}

export function currentLanguage() {
  return current;
}

/** Switches the interface language; `remember` keeps the choice for the next visit. */
export function setLanguage(code, { remember = false } = {}) {
  const lang = supported(code) || "en";
  if (remember) {
    try {
      localStorage.setItem(STORAGE_KEY, lang);
    } catch {
      // private mode: the choice lasts for this page only
    }
  }
  current = lang;
  document.documentElement.lang = lang;
  document.documentElement.dir = RTL.has(lang) ? "rtl" : "ltr";
  translatePage();
  for (const listener of listeners) listener(lang);
}

export function onLanguage(listener) {
  listeners.add(listener);
}

/** The string `key` in the current language, with `{placeholders}` filled from `params`. */
export function t(key, params = {}) {
  let value = DICTIONARIES[current][key];
  if (value === undefined) value = en[key];
  if (value === undefined) return key;
  if (typeof value === "function") return value(params);
  return value.replace(/\{(\w+)\}/g, (_, name) => (name in params ? String(params[name]) : ""));
}

/** Fills every `data-i18n` and `data-i18n-attr` element under `root`. */
export function translatePage(root = document) {
  for (const node of root.querySelectorAll("[data-i18n]")) {
    node.textContent = t(node.dataset.i18n);
  }
  for (const node of root.querySelectorAll("[data-i18n-attr]")) {
    for (const pair of node.dataset.i18nAttr.split(";")) {
      const [attribute, key] = pair.split(":");
      if (attribute && key) node.setAttribute(attribute.trim(), t(key.trim()));
    }
  }
}

/** A language's name in the current interface language (`fr` → "French"). */
export function languageName(code) {
  if (!code) return "";
  try {
    const names = new Intl.DisplayNames([current], { type: "language" });
    return names.of(code) || code;
  } catch {
    return code;
  }
}

/** A clock time (hours, minutes, seconds) in the current language's conventions. */
export function clockTime(epochMs) {
  return new Intl.DateTimeFormat(current === "ar" ? "ar-u-nu-latn" : current, {
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
    hour12: false,
  }).format(new Date(epochMs));
}
