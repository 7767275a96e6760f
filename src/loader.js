// formseal consent loader: the one script a page with a consent banner loads.
//
// It applies a returning visitor's stored choice at once (gated scripts, iframes and images;
// Google Consent Mode) without loading any wasm, and loads the consent build of the widget
// (formseal-consent.js, pinned by its hash below; it holds no forms) only when the banner or the
// settings must be shown, or a sealed record still waits to be sent. Forms come with their own
// bundle and follow consent through the stored choices. The choice itself is made and sealed by the
// widget, which announces it with the `formseal:consent` event; this file only applies it.
// `cargo xtask wasm` copies it to pkg/formseal-loader.js with the widget's hash filled in.

const WIDGET = new URL('formseal-consent.js', import.meta.url).href;
const WIDGET_INTEGRITY = '__WIDGET_INTEGRITY__';
const CHOICE = 'formseal:consent:';
const QUEUE = 'formseal:queue:';
const SETTINGS = {
  en: 'Privacy settings',
  nl: 'Privacy-instellingen',
  de: 'Datenschutz-Einstellungen',
  fr: 'Paramètres de confidentialité',
};
// At the end of the page rather than floating: it must never cover the page's own content.
const BUTTON_CSS = `:host{display:block;text-align:center;margin:1rem}button{
padding:.4rem .8rem;border:2px solid var(--formseal-accent,#2457d6);border-radius:var(--formseal-radius,6px);
background:var(--formseal-background,#fff);color:var(--formseal-text,#1b1f24);
font:600 .875rem var(--formseal-font,system-ui,sans-serif);cursor:pointer}
button:focus-visible{outline:3px solid var(--formseal-accent,#2457d6);outline-offset:2px}`;

const banner = document.querySelector('formseal-consent');
let config = null;
let widget = null;
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

function gtag() {
  (window.dataLayer = window.dataLayer || []).push(arguments);
}

function signals() {
  return Object.keys(config?.consent?.consent_mode ?? {});
}

function needsConsent(purpose) {
  return purpose.legal_basis === 'consent';
}

// The same rule as the core's `Choice::is_current`: same notice, not expired, every purpose
// that needs consent answered.
function current(choice) {
  if (!choice || choice.v !== 1 || choice.notice !== config.privacy_notice.version) return false;
  if (new Date().toISOString().slice(0, 10) > choice.expires) return false;
  return config.purposes
    .filter(needsConsent)
    .every((p) => choice.granted.includes(p.id) || choice.refused.includes(p.id));
}

// Global Privacy Control asks for sale/sharing purposes to be refused, and recorded as such.
function gpcPending(choice) {
  return (
    navigator.globalPrivacyControl === true &&
    config.purposes.some((p) => p.sale_or_sharing && needsConsent(p) && !choice?.refused.includes(p.id))
  );
}

// Loads the widget once and resolves to its API when the banner (if any) has mounted.
function loadWidget() {
  widget ??= new Promise((resolve, reject) => {
    if (![...document.scripts].some((s) => s.src === WIDGET)) {
      const script = document.createElement('script');
      script.type = 'module';
      script.src = WIDGET;
      script.integrity = WIDGET_INTEGRITY;
      script.crossOrigin = 'anonymous';
      script.onerror = () => reject(new Error(`formseal: cannot load ${WIDGET}`));
      document.head.append(script);
    }
    const deadline = Date.now() + 15000;
    const wait = () => {
      const state = banner?.getAttribute('data-state');
      if (state === 'error') reject(new Error('formseal: the consent banner could not start'));
      else if (window.formseal?.widget && (!banner || ['banner', 'settings', 'hidden'].includes(state)))
        resolve(window.formseal.widget);
      else if (Date.now() > deadline) reject(new Error('formseal: the widget did not start'));
      else setTimeout(wait, 25);
    };
    wait();
  });
  return widget;
}

// Runs what the granted purposes allow: gated scripts are re-created as real ones, iframes,
// images and media get their `data-src`. Nothing is ever undone here: a withdrawal reloads.
function apply(choice) {
  const allowed = new Set(choice.granted);
  for (const p of config.purposes) if (!needsConsent(p)) allowed.add(p.id);
  if (signals().length && choice.signals) gtag('consent', 'update', choice.signals);
  for (const el of document.querySelectorAll('[data-formseal-purpose]')) {
    const needs = el.dataset.formsealPurpose.split(/[\s,]+/).filter(Boolean);
    if (el.dataset.formsealActive || !needs.every((p) => allowed.has(p))) continue;
    el.dataset.formsealActive = 'true';
    needs.forEach((p) => activated.add(p));
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
}

// Expires each cookie by exact name or `prefix*`, on this host and every parent domain.
function removeCookies(patterns) {
  const names = document.cookie.split(';').map((c) => c.split('=')[0].trim()).filter(Boolean);
  const parts = location.hostname.split('.');
  const domains = [''];
  for (let i = 0; i < parts.length - 1; i++) domains.push(`; domain=.${parts.slice(i).join('.')}`);
  for (const name of names) {
    const hit = patterns.some((p) => (p.endsWith('*') ? name.startsWith(p.slice(0, -1)) : name === p));
    if (!hit) continue;
    for (const domain of domains)
      document.cookie = `${name}=; expires=Thu, 01 Jan 1970 00:00:00 GMT; path=/${domain}`;
  }
}

function language() {
  const wanted = (banner.getAttribute('lang') || document.documentElement.lang || '').toLowerCase();
  const ok = (l) => l && config.languages.some((c) => c.toLowerCase().split('-')[0] === l.split('-')[0]);
  return ok(wanted) ? wanted.split('-')[0] : config.languages[0];
}

// The "privacy settings" button at the end of every page: withdrawing is always one click away.
function showButton() {
  if (button || config.consent?.settings_button === false) return;
  const lang = language();
  const host = document.createElement('formseal-settings');
  const shadow = host.attachShadow({ mode: 'open' });
  const sheet = new CSSStyleSheet();
  sheet.replaceSync(BUTTON_CSS);
  shadow.adoptedStyleSheets = [sheet];
  button = document.createElement('button');
  button.type = 'button';
  button.textContent = config.consent?.texts?.settings?.[lang] ?? SETTINGS[lang] ?? SETTINGS.en;
  button.addEventListener('click', () => api.show());
  shadow.append(button);
  document.body.append(host);
}

function report(error) {
  console.error(error.message ?? error);
}

const api = {
  /** The stored choice (`granted`, `refused`, `expires`, `record`...) and whether it still holds. */
  get: () => (config ? { ...read(CHOICE + config.id), current: current(read(CHOICE + config.id)) } : null),
  /** Opens the privacy settings. */
  show: () => loadWidget().then((w) => w.consentShow()),
  /** Grants (`true`) or refuses (`false`) the named purposes; resolves to the stored choice. */
  set: (changes) => loadWidget().then((w) => w.consentSet(changes)),
  /** Refuses every purpose; resolves to the stored choice. */
  withdrawAll: () => loadWidget().then((w) => w.consentWithdrawAll()),
};
window.formseal = Object.assign(window.formseal || {}, { consent: api });

addEventListener('formseal:consent', (event) => {
  const { choice, withdrawn, cookies, reload } = event.detail;
  apply(choice);
  removeCookies(cookies);
  showButton();
  if (reload && withdrawn.some((p) => activated.has(p))) location.reload();
});
document.addEventListener('click', (event) => {
  if (event.target.closest?.('[data-formseal-settings]')) {
    event.preventDefault();
    api.show().catch(report);
  }
});

async function start() {
  if (!banner) return;
  const src = banner.getAttribute('src');
  try {
    const response = await fetch(src, { credentials: 'omit' });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    config = await response.json();
  } catch (error) {
    // Fail closed: gated content stays inert.
    report(new Error(`formseal: cannot load the consent config ${src}: ${error.message}`));
    return;
  }
  if (signals().length) {
    gtag('consent', 'default', Object.fromEntries([...signals().map((s) => [s, 'denied']), ['wait_for_update', 500]]));
  }
  const choice = read(CHOICE + config.id);
  if (current(choice)) {
    apply(choice);
    showButton();
  }
  if (!current(choice) || gpcPending(choice) || (read(QUEUE + config.id) ?? []).length > 0) {
    loadWidget().catch(report);
  }
}

start();
