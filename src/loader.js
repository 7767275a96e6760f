// formseal consent loader: the one script a page with a consent banner loads.
//
// It applies a returning visitor's stored choice at once (gated scripts, iframes and images;
// Google Consent Mode) without loading any wasm. On a first visit it paints the banner's first
// layer with the first-layer module (formseal-first-layer.js, pinned by its hash below, fetched
// alongside the config only when the browser holds no choice), and Accept all / Reject all take
// effect at once; the record build of the widget (formseal-record.js, pinned by its hash below;
// no UI, no forms), fetched when the browser is idle or at the first interaction, then seals the
// record of that decision. Until it has, the decision waits in this browser's storage
// (`formseal:pending:FORM_ID`, the stored choice without its record id) and is sealed on this or
// the next page view. An embed (an iframe, or an element naming its provider) whose purpose is
// not granted gets a placeholder from the placeholder module (formseal-placeholder.js, pinned
// likewise, fetched only for a page with such an embed): Load once, or Allow its purpose.
// Choose and the privacy settings open the consent build's dialog
// (formseal-consent.js, pinned likewise), loaded when they are opened; it makes records too, so
// once it is there it serves the JS API as well. Forms come with their own bundle and follow
// consent through the stored choices. `cargo xtask wasm` copies this file, minified, to
// pkg/formseal-loader.js with the hashes and the built-in texts (from src/texts.json) written in.

// The two wasm builds the loader may load, pinned by their hashes, and the global each hands its
// API to.
const BUILDS = {
  record: [new URL('formseal-record.js', import.meta.url).href, '__RECORD_INTEGRITY__', 'recorder'],
  banner: [new URL('formseal-consent.js', import.meta.url).href, '__WIDGET_INTEGRITY__', 'widget'],
};
// The modules only some page views need, `formseal-NAME.js` by name, each pinned by its hash:
// the first layer (a first visit) and the embeds' placeholders (a page with an inert embed).
const MODULES = { 'first-layer': '__FIRST_LAYER_INTEGRITY__', placeholder: '__PLACEHOLDER_INTEGRITY__' };
const CHOICE = 'formseal:consent:';
const PENDING = 'formseal:pending:';
const QUEUE = 'formseal:queue:';
// Where the loader leaves the config's text on the <formseal-consent> element for the widget.
const CONFIG_TEXT = Symbol.for('formseal.config');
// The built-in texts the loader itself shows (the settings button), {key: {lang: text}}: the
// entries of src/texts.json marked `"loader": "loader"`, written in by `cargo xtask wasm`.
const TEXTS = /*@TEXTS@*/ {};
// At the end of the page rather than floating: it must never cover the page's own content.
const BUTTON_CSS = `:host{display:block;text-align:center;margin:1rem}button{padding:.4rem .8rem;border:2px solid var(--formseal-accent,#2457d6);border-radius:var(--formseal-radius,6px);background:var(--formseal-background,#fff);color:var(--formseal-text,#1b1f24);font:600 .875rem var(--formseal-font,system-ui,sans-serif);cursor:pointer}button[aria-busy=true]{cursor:progress;opacity:.75}button:focus-visible{outline:3px solid var(--formseal-accent,#2457d6);outline-offset:2px}`;

// ---- The rules the core also has (`Choice::is_current`; `consent::record`'s is in the first
// layer): pure functions of their inputs, exported so that the core's tests can hold them
// against its own.

const needsConsent = (purpose) => purpose.legal_basis === 'consent';
const day = (ms) => new Date(ms).toISOString().slice(0, 10);

/** The core's `Choice::is_current`: same notice, not expired on `today`, every purpose that
 * needs consent answered. */
export function isCurrent(config, choice, today) {
  if (!choice || choice.v !== 1 || choice.notice !== config.privacy_notice.version) return false;
  if (!/^\d{4}-\d\d-\d\d$/.test(choice.expires ?? '') || today > choice.expires) return false;
  return config.purposes
    .filter(needsConsent)
    .every((p) => choice.granted.includes(p.id) || choice.refused.includes(p.id));
}

/** The language the widget's `i18n::choose` picks: the element's `lang` if the config has it,
 * else the config's first language matching `<html lang>`, else its first language. */
export function chooseLanguage(languages, requested, page) {
  const find = (wanted) => {
    if (!wanted) return undefined;
    const w = wanted.trim().toLowerCase();
    return (
      languages.find((l) => l.toLowerCase() === w) ??
      languages.find((l) => l.toLowerCase().split('-')[0] === w.split('-')[0])
    );
  };
  return find(requested) ?? find(page) ?? languages[0] ?? 'en';
}

/** A text of the banner in `lang`: the config's override (`consent.texts`), else the built-in
 * one of `builtin` (English for a language without built-in texts), as the widget picks them. */
export function bannerText(config, key, lang, builtin = TEXTS) {
  const override = config.consent?.texts?.[key];
  if (override) return override[lang] ?? Object.values(override)[0];
  const texts = builtin[key];
  return texts[lang.split('-')[0].toLowerCase()] ?? texts.en;
}

// ---- The page: everything below runs only in a browser (the core's tests import the rules).

const banner = globalThis.document?.querySelector('formseal-consent');
let config = null;
// Per build: the promise of its API once loaded, and whether its banner has said it is ready.
const loading = {};
const ready = new Set();
let button = null;
const activated = new Set();

function storage() {
  try {
    return window.localStorage;
  } catch {
    return null;
  }
}

function read(key) {
  try {
    return JSON.parse(storage()?.getItem(key) ?? 'null');
  } catch {
    return null;
  }
}

// The choice in force: a decision not sealed yet, else the sealed one.
function chosen() {
  return read(PENDING + config.id) ?? read(CHOICE + config.id);
}

function gtag() {
  (window.dataLayer = window.dataLayer || []).push(arguments);
}

function signals() {
  return Object.keys(config?.consent?.consent_mode ?? {});
}

// What the Consent Mode script before the site's tags sent (formseal-consent-mode.js), if the
// snippet has it: `{kept}`, the stored signals it sent as an update.
const early = () => globalThis[Symbol.for('formseal.consent-mode')];

// Sends the Consent Mode (and UET) state `states` as an update; once is enough.
let sent = null;
function consentUpdate(states) {
  const text = JSON.stringify(states);
  if (text === sent) return;
  sent = text;
  gtag('consent', 'update', states);
  if (config.consent?.uet && states.ad_storage) (window.uetq = window.uetq || []).push('consent', 'update', { ad_storage: states.ad_storage });
}

function current(choice) {
  return isCurrent(config, choice, day(Date.now()));
}

const gpc = () => navigator.globalPrivacyControl === true;

// Global Privacy Control asks for sale/sharing purposes to be refused, and recorded as such.
function gpcPending(choice) {
  return gpc() && config.purposes.some((p) => p.sale_or_sharing && needsConsent(p) && !choice?.refused.includes(p.id));
}

// Adds a module script for `src` pinned by `integrity` (once) and resolves when it has run.
function loadScript(src, integrity) {
  return new Promise((resolve, reject) => {
    if ([...document.scripts].some((s) => s.src === src)) return resolve();
    const script = document.createElement('script');
    script.type = 'module';
    script.src = src;
    script.integrity = integrity;
    script.crossOrigin = 'anonymous';
    script.onload = resolve;
    script.onerror = () => {
      script.remove();
      reject(new Error(`formseal: cannot load ${src}`));
    };
    document.head.append(script);
  });
}

// Loads the module `name` of MODULES once and resolves to it. A failed load may be tried again.
const modules = {};
function loadModule(name) {
  modules[name] ??= loadScript(new URL(`formseal-${name}.js`, import.meta.url).href, MODULES[name]).then(
    () => globalThis[Symbol.for(`formseal.${name}`)],
    (error) => {
      delete modules[name];
      throw error;
    },
  );
  return modules[name];
}
const loadFirstLayer = () => loadModule('first-layer');
const placeholders = () => loadModule('placeholder');

// Whether this browser holds a choice (sealed or pending) of any banner: without one, this is
// a first visit, and the first layer is fetched alongside the config rather than after it.
function holdsAChoice() {
  return Object.keys(storage() ?? {}).some((key) => key.startsWith(CHOICE) || key.startsWith(PENDING));
}

// Loads the wasm build `kind` once and resolves to its API when the banner (if any) has
// mounted and any decision made on the first layer is sealed. A failed load may be tried again.
function loadBuild(kind) {
  const [src, integrity, global] = BUILDS[kind];
  loading[kind] ??= new Promise((resolve, reject) => {
    const fail = (error) => {
      delete loading[kind];
      reject(error);
    };
    let failed = false;
    loadScript(src, integrity).catch((error) => {
      failed = true;
      fail(error);
    });
    const deadline = Date.now() + 15000;
    const wait = () => {
      const api = window.formseal?.[global];
      if (failed) return;
      if (banner?.getAttribute('data-state') === 'error') reject(new Error(`formseal: the ${kind} build did not start`));
      else if (api && (!banner || ready.has(kind))) seal(api).then(resolve, resolve);
      else if (Date.now() > deadline) fail(new Error(`formseal: the ${kind} build did not start`));
      else setTimeout(wait, 25);
    };
    wait();
  }).then(() => window.formseal[global]);
  return loading[kind];
}

// What makes records: the consent build if it is (being) loaded, else the lighter record build.
function recorder() {
  return loading.banner ?? loadBuild('record');
}

// The consent build with its dialog. A record build still starting finishes first (its
// records sealed), so that the two never seal the same decision.
function dialog() {
  return (loading.record ?? Promise.resolve()).catch(() => {}).then(() => loadBuild('banner'));
}

// Has the widget seal a first-layer decision still waiting; one tab at a time, so that a
// decision gets exactly one record however many tabs are open.
function seal(api) {
  if (!config || !read(PENDING + config.id)) return Promise.resolve();
  const run = () => api.consentSeal().catch(report);
  return navigator.locks ? navigator.locks.request(PENDING + config.id, run) : run();
}

// Runs what the choice in force allows in `root` (the document, or content added later):
// gated scripts are re-created as real ones, iframes, images and media get their `data-src`.
// An embed left inert gets a placeholder (the placeholder module, loaded only then). Nothing
// is ever undone here: a withdrawal reloads.
function follow(root) {
  const allowed = new Set(inForce?.granted);
  for (const p of config.purposes) if (!needsConsent(p)) allowed.add(p.id);
  const gated = [...root.querySelectorAll('[data-formseal-purpose]')];
  if (root.matches?.('[data-formseal-purpose]')) gated.unshift(root);
  const inert = [];
  for (const el of gated) {
    if (el.dataset.formsealActive) continue;
    if (purposesOf(el).every((p) => allowed.has(p))) run(el);
    else if (el.localName === 'iframe' || el.dataset.formsealProvider) inert.push(el);
  }
  // Load once runs the embed; Allow is a grant the record build seals (method `placeholder`),
  // in force (and the embed activated) through `formseal:consent`.
  if (inert.length) placeholders().then((m) => m.place(inert, { config, lang: language(), bannerText, run, recorder }), report);
}

const purposesOf = (el) => el.dataset.formsealPurpose.split(/[\s,]+/).filter(Boolean);

// Activates one gated element, granted or loaded once from its placeholder.
function run(el) {
  el.dataset.formsealActive = 'true'; // which also removes its placeholder
  purposesOf(el).forEach((p) => activated.add(p));
  if (el.localName === 'script') {
    const script = document.createElement('script');
    for (const { name, value } of el.attributes) if (name !== 'type') script.setAttribute(name, value);
    if (el.dataset.type) script.type = el.dataset.type;
    script.text = el.text;
    el.replaceWith(script);
  } else {
    if (el.dataset.srcset) el.srcset = el.dataset.srcset;
    if (el.dataset.src) el.src = el.dataset.src;
  }
}

// The choice in force on this page view: content added later follows it.
let inForce = null;

// Puts `choice` in force: Consent Mode, the gated content there is, and what comes later.
function apply(choice) {
  inForce = choice;
  if (signals().length && choice.signals) consentUpdate(choice.signals);
  follow(document);
}

// Gated content a single-page site adds after start (a framework's render, innerHTML, a new
// route) follows the choice in force: activated when granted, left inert otherwise.
function watchLateContent() {
  new MutationObserver((mutations) => {
    for (const mutation of mutations)
      for (const node of mutation.addedNodes) if (node.nodeType === 1 && node.isConnected) follow(node);
  }).observe(document.documentElement, { childList: true, subtree: true });
}

function language() {
  return chooseLanguage(config.languages, banner.getAttribute('lang'), document.documentElement.lang);
}

// Opens the widget's settings dialog from `opener`, busy until the widget is there.
function openSettings(opener) {
  if (opener.getAttribute('aria-busy') === 'true') return;
  opener.setAttribute('aria-busy', 'true');
  api
    .show()
    .catch(report)
    .finally(() => opener.removeAttribute('aria-busy'));
}

// The "privacy settings" button at the end of every page: withdrawing is always one click away.
function showButton() {
  if (button || config.consent?.settings_button === false) return;
  const host = document.createElement('formseal-settings');
  const shadow = host.attachShadow({ mode: 'open' });
  const sheet = new CSSStyleSheet();
  sheet.replaceSync(BUTTON_CSS);
  shadow.adoptedStyleSheets = [sheet];
  button = document.createElement('button');
  button.type = 'button';
  button.textContent = bannerText(config, 'settings', language());
  button.addEventListener('click', () => openSettings(button));
  shadow.append(button);
  document.body.append(host);
}

// Paints the first layer once its module is there; the module makes Accept all / Reject all
// take effect at once (kept as pending, announced as the widget announces a choice) and has the
// record build seal the record. Without the module (it could not be loaded) the widget comes
// at once and paints its own.
async function paint() {
  let module;
  try {
    module = await loadFirstLayer();
  } catch (error) {
    report(error);
    dialog().catch(report);
    return;
  }
  if (banner.shadowRoot) return;
  module.showFirstLayer({
    banner,
    config,
    pendingKey: PENDING + config.id,
    chosen,
    gpc,
    lang: language(),
    bannerText,
    choose: openSettings,
    record: () => recorder().then(seal).catch(report),
  });
}

function report(error) {
  console.error(error.message ?? error);
}

const api = {
  /** The choice in force (`granted`, `refused`, `expires`, `record`...; `record` is empty
   * until the widget has sealed it) and whether it still holds. */
  get: () => (config ? { ...chosen(), current: current(chosen()) } : null),
  /** Opens the privacy settings. */
  show: () => dialog().then((w) => w.consentShow()),
  /** Grants (`true`) or refuses (`false`) the named purposes; resolves to the stored choice. */
  set: (changes) => recorder().then((w) => w.consentSet(changes)),
  /** Refuses every purpose; resolves to the stored choice. */
  withdrawAll: () => recorder().then((w) => w.consentWithdrawAll()),
};

async function start() {
  if (!banner) return;
  const src = banner.getAttribute('src');
  if (!holdsAChoice()) loadFirstLayer().catch(() => {}); // reported when painting
  try {
    const response = await fetch(src, { credentials: 'omit' });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const text = await response.text();
    config = JSON.parse(text);
    // The widget checks this very text as it checks a config it fetched, without fetching it again.
    banner[CONFIG_TEXT] = text;
  } catch (error) {
    // Fail closed: gated content stays inert.
    report(new Error(`formseal: cannot load the consent config ${src}: ${error.message}`));
    return;
  }
  const denied = Object.fromEntries(signals().map((s) => [s, 'denied']));
  if (early()) {
    sent = JSON.stringify(early().kept);
  } else if (signals().length) {
    // Without the Consent Mode script in the snippet the default comes now: after the site's
    // own tags if they came first (the README says to put the snippet first in <head>).
    gtag('consent', 'default', { ...denied, wait_for_update: 500 });
    if (config.consent?.uet) (window.uetq = window.uetq || []).push('consent', 'default', { ad_storage: 'denied' });
  }
  watchLateContent();
  const choice = chosen();
  // A choice the Consent Mode script sent that no longer holds (a new notice, a new purpose).
  if (early()?.kept && !current(choice)) consentUpdate(denied);
  if (current(choice)) {
    apply(choice);
    showButton();
  } else {
    follow(document);
    // The widget may already have mounted (a page with a form loads it at once): then the
    // first layer is its own.
    if (!banner.shadowRoot) paint();
  }
  const pending = read(PENDING + config.id);
  if (pending || gpcPending(choice) || (read(QUEUE + config.id) ?? []).length > 0) {
    recorder().catch(report);
  }
  if (pending) addEventListener('online', () => recorder().catch(report));
}

if (globalThis.document) {
  window.formseal = Object.assign(window.formseal || {}, { consent: api });
  addEventListener('formseal:ready', (event) => ready.add(event.detail?.build));
  addEventListener('formseal:consent', (event) => {
    const { choice, withdrawn, cookies, reload } = event.detail;
    apply(choice);
    showButton();
    // The cookies of withdrawn purposes go before any reload; the code that removes them is
    // the first layer's (a withdrawal is rare, and a returning visitor's page stays lighter).
    const removed = cookies.length
      ? loadFirstLayer().then((module) => module.removeCookies(cookies), report)
      : Promise.resolve();
    if (reload && withdrawn.some((p) => activated.has(p))) removed.then(() => location.reload());
  });
  document.addEventListener('click', (event) => {
    const link = event.target.closest?.('[data-formseal-settings]');
    if (link) {
      event.preventDefault();
      openSettings(link);
    }
  });
  start();
}
