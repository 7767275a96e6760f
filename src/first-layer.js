// formseal consent banner's first layer: the notice a first-time visitor sees (title, intro,
// privacy-notice link, Accept all / Reject all / Choose of equal size and weight), painted as
// plain DOM without any wasm, what a decision there does at once and the choice it keeps, and
// the removal of a withdrawn purpose's cookies (which the loader also loads this module for). Only a first visit loads this module: the loader (pkg/formseal-
// loader.js) fetches it, pinned by its hash, alongside the config when the browser holds no
// choice; a returning visitor never downloads it. `cargo xtask wasm` copies this file to
// pkg/formseal-first-layer.js with the built-in texts (from src/texts.json) and the CSS (from
// src/widget.css's `loader` section) written in.
//
// The builder's banner preview paints with this module too (with the loader's `bannerText`),
// so the preview and visitors' pages cannot drift apart.

// No imports: the loader runs this module from a script element pinned by its hash, and an
// import of the loader by URL could load a second, unpinned copy of it.

// How long a choice stays valid when the config does not say: the core's DEFAULT_EXPIRY_DAYS.
// crates/core/tests/loader_rules.rs holds `firstLayerChoice` (with these two helpers, which the
// loader has too) against the core's `consent::record`.
const DEFAULT_EXPIRY_DAYS = 182;
const needsConsent = (purpose) => purpose.legal_basis === 'consent';
const day = (ms) => new Date(ms).toISOString().slice(0, 10);

/** The choice the core's `consent::record` keeps for a first-layer decision granting
 * `granted` at `nowMs`, without its record id (the widget adds it when it seals the record). */
export function firstLayerChoice(config, granted, nowMs, gpc) {
  const asked = config.purposes.filter(needsConsent);
  const yes = asked.filter((p) => granted.includes(p.id) && !(gpc && p.sale_or_sharing)).map((p) => p.id);
  const days = config.consent?.expiry_days ?? DEFAULT_EXPIRY_DAYS;
  const signals = {};
  for (const [signal, purposes] of Object.entries(config.consent?.consent_mode ?? {}))
    signals[signal] = purposes.every((p) => yes.includes(p)) ? 'granted' : 'denied';
  return {
    v: 1,
    notice: config.privacy_notice.version,
    granted: yes,
    refused: asked.map((p) => p.id).filter((id) => !yes.includes(id)),
    decided: day(nowMs),
    expires: day(nowMs + days * 86400000),
    record: '',
    method: 'banner',
    ...(Object.keys(signals).length ? { signals } : {}),
  };
}

/** The built-in texts of the first layer, {key: {lang: text}}: the entries of src/texts.json
 * marked `"loader": "first-layer"`. */
export const TEXTS = /*@TEXTS@*/ {};
const CSS = /*@CSS@*/ '';

/**
 * Paints the first layer of `config` in `lang` into `shadow`: the same DOM, classes,
 * `data-action` hooks and CSS as the widget's, under a strict CSP (an adopted stylesheet, no
 * inline styles), with the texts the loader's `bannerText` picks (the config's override or the
 * built-in one of TEXTS); `onAction('accept-all' | 'reject-all' | 'choose', button)`, if given, gets the clicks.
 * Returns the painted section.
 */
export function paintFirstLayer(shadow, config, lang, onAction, bannerText) {
  const text = (key) => bannerText(config, key, lang, TEXTS);
  const sheet = new CSSStyleSheet();
  sheet.replaceSync(CSS);
  shadow.adoptedStyleSheets = [...shadow.adoptedStyleSheets, sheet];
  const el = (tag, props = {}, ...children) => {
    const node = Object.assign(document.createElement(tag), props);
    node.append(...children);
    return node;
  };
  const titleId = `fs-${config.id}-title`;
  const pick = (t) => t?.[lang] ?? Object.values(t ?? {})[0] ?? '';
  const section = el('section', { className: 'fs-banner' });
  section.setAttribute('aria-labelledby', titleId);
  section.append(el('h2', { id: titleId, className: 'fs-title' }, pick(config.texts?.title)));
  if (config.texts?.intro) section.append(el('p', { className: 'fs-intro' }, pick(config.texts.intro)));
  const link = el('a', { href: config.privacy_notice.url, target: '_blank', rel: 'noopener noreferrer' });
  link.append(text('privacy_notice'));
  section.append(el('p', { className: 'fs-privacy' }, link));
  const choices = el('div', { className: 'fs-choices' });
  for (const action of ['accept-all', 'reject-all', 'choose']) {
    const button = el('button', { type: 'button', className: 'fs-choice' }, text(action.replace('-', '_')));
    button.dataset.action = action;
    if (onAction) button.addEventListener('click', () => onAction(action, button));
    choices.append(button);
  }
  section.append(choices);
  shadow.append(section);
  return section;
}

/**
 * Shows the first layer on a visitor's page (`page`, from the loader): painted into `banner`'s
 * new shadow root, its Accept all / Reject all in force at once, exactly as a stored choice is
 * on the next page view: kept under `pendingKey` until its record is sealed, and announced with
 * `formseal:consent` as the widget announces a choice. `record()` has the record build seal
 * it; it is also fetched when the browser is idle or at the first interaction. Choose is the
 * loader's (`choose(button)` opens the dialog). Only a first visit needs any of this, so it
 * lives here rather than in the loader every page view downloads.
 */
export function showFirstLayer({ banner, config, lang, bannerText, pendingKey, chosen, gpc, choose, record }) {
  const asked = config.purposes.filter(needsConsent).map((p) => p.id);
  const layer = paintFirstLayer(banner.attachShadow({ mode: 'open' }), config, lang, (action, opener) => {
    if (action === 'choose') return choose(opener);
    const previous = chosen();
    const choice = firstLayerChoice(config, action === 'accept-all' ? asked : [], Date.now(), gpc());
    try {
      localStorage.setItem(pendingKey, JSON.stringify(choice));
    } catch {
      // Without storage the decision holds for this page; the record build still seals it now.
    }
    layer.hidden = true;
    banner.setAttribute('data-state', 'hidden');
    const withdrawn = (previous?.granted ?? []).filter((p) => !choice.granted.includes(p));
    const cookies = config.purposes.filter((p) => withdrawn.includes(p.id)).flatMap((p) => p.cookies ?? []);
    const reload = withdrawn.length > 0 && config.consent?.reload_on_withdrawal !== false;
    dispatchEvent(new CustomEvent('formseal:consent', { detail: { form: config.id, choice, withdrawn, cookies, reload } }));
    record();
  }, bannerText);
  banner.setAttribute('data-state', 'banner');
  (window.requestIdleCallback ?? setTimeout)(record);
  for (const type of ['pointerdown', 'keydown', 'focusin']) banner.addEventListener(type, record, { once: true });
}

/** The core's `Purpose::claims_cookie`: whether one of `patterns` (exact names, or a prefix
 * ending in `*`) names the cookie `name`. */
export const claimsCookie = (patterns, name) =>
  patterns.some((p) => (p.endsWith('*') ? name.startsWith(p.slice(0, -1)) : name === p));

// Expires each cookie by exact name or `prefix*`, on this host and every parent domain.
export function removeCookies(patterns) {
  const names = document.cookie.split(';').map((c) => c.split('=')[0].trim()).filter(Boolean);
  const parts = location.hostname.split('.');
  const domains = [''];
  for (let i = 0; i < parts.length - 1; i++) domains.push(`; domain=.${parts.slice(i).join('.')}`);
  for (const name of names) {
    if (!claimsCookie(patterns, name)) continue;
    for (const domain of domains)
      document.cookie = `${name}=; expires=Thu, 01 Jan 1970 00:00:00 GMT; path=/${domain}`;
  }
}

// For the loader, which runs this module from a script element (pinned by its hash): a module's
// exports do not reach the element. A symbol, so that it is no part of `window.formseal`.
globalThis[Symbol.for('formseal.first-layer')] = { paintFirstLayer, firstLayerChoice, showFirstLayer, removeCookies, TEXTS };
