// formseal Consent Mode, first in <head>: a classic script (not a module), so it runs before the
// site's own tags that follow it. It puts Google Consent Mode's `consent default` (every mapped
// signal denied, `wait_for_update`) into the dataLayer and, for a visitor whose choice is kept
// and not expired, the stored `consent update`, before any `config` or `event` command; the
// same for Microsoft UET (`window.uetq`) when the config maps it. `formseal embed` writes the
// banner's id, its signals and `data-uet` into this script's tag. The loader, which comes later,
// checks the choice fully (notice version, every purpose answered) and sends `denied` again if
// the choice kept here no longer holds. `cargo xtask wasm` copies this file, minified and
// wrapped in a function of its own (esbuild's `iife`: nothing here leaks into the page's
// globals), to pkg/formseal-consent-mode.js.

const tag = document.currentScript;
const signals = (tag.dataset.signals ?? '').split(' ').filter(Boolean);
const read = (key) => {
  try {
    return JSON.parse(localStorage.getItem(key));
  } catch {
    return null;
  }
};
const id = tag.dataset.form;
const choice = read(`formseal:pending:${id}`) ?? read(`formseal:consent:${id}`);
const kept = choice?.v === 1 && choice.expires >= new Date().toISOString().slice(0, 10) ? choice.signals : null;
const denied = Object.fromEntries(signals.map((s) => [s, 'denied']));
const dataLayer = (window.dataLayer = window.dataLayer || []);
// gtag's own shape: the arguments object, not an array.
function gtag() {
  dataLayer.push(arguments);
}
gtag('consent', 'default', { ...denied, wait_for_update: 500 });
if (kept) gtag('consent', 'update', kept);
if ('uet' in tag.dataset) {
  const uetq = (window.uetq = window.uetq || []);
  uetq.push('consent', 'default', { ad_storage: 'denied' });
  if (kept?.ad_storage) uetq.push('consent', 'update', { ad_storage: kept.ad_storage });
}
// For the loader: what was sent, so it neither sends a second default nor leaves a stale grant.
globalThis[Symbol.for('formseal.consent-mode')] = { kept };
