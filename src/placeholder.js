// formseal embed placeholders: what a gated embed (a video, a map, a social post) shows in its
// own box while its purpose is not granted, instead of an empty frame. It names the provider
// and the purpose and offers **Load once** (this page view only: nothing is stored or sealed)
// and **Allow <purpose>** (a grant, sealed as a consent record like any other, method
// `placeholder`). Nothing from the provider, not even a thumbnail, is fetched before a click:
// the embed keeps its address in `data-src` until then. Only a page with an inert embed loads
// this module: the loader (pkg/formseal-loader.js) fetches it, pinned by its hash, when it
// finds one. `cargo xtask wasm` copies this file, minified, to pkg/formseal-placeholder.js with
// the built-in texts (from src/texts.json) written in.
//
// A page marks an embed as the loader's other gated content, and may name the provider and
// replace the sentence per element:
//   <iframe data-formseal-purpose="video" data-src="https://www.youtube-nocookie.com/embed/…"
//           data-formseal-provider="YouTube" data-formseal-placeholder="…" width="560" height="315">
// Any other gated element with `data-formseal-provider` (a <div> a social post renders into)
// gets a placeholder too.

// No imports: like the first layer, this module runs from a script element pinned by its hash.

/** The built-in texts of the placeholder, {key: {lang: text}}: the entries of src/texts.json
 * marked `"loader": "placeholder"`. `{provider}` and `{purpose}` are filled in. */
export const TEXTS = /*@TEXTS@*/ {};

// Themed with the banner's CSS properties. Only the placeholder's own box: it never covers
// anything but the embed it stands in for.
const CSS = `:host{display:block;box-sizing:border-box;max-width:100%;min-height:150px;border:1px solid color-mix(in srgb,var(--formseal-text,#1b1f24) 25%,transparent);border-radius:var(--formseal-radius,6px);background:var(--formseal-background,#fff);color:var(--formseal-text,#1b1f24);font:.95rem/1.4 var(--formseal-font,system-ui,sans-serif)}div{box-sizing:border-box;height:100%;display:flex;flex-direction:column;justify-content:center;align-items:center;gap:.75rem;padding:1rem;text-align:center}p{margin:0;max-width:40em}span{display:flex;flex-wrap:wrap;justify-content:center;gap:.5rem}button{padding:.5rem 1rem;border:2px solid var(--formseal-accent,#2457d6);border-radius:var(--formseal-radius,6px);background:var(--formseal-background,#fff);color:var(--formseal-accent,#2457d6);font:600 .9rem var(--formseal-font,system-ui,sans-serif);cursor:pointer}button[aria-busy=true]{cursor:progress;opacity:.75}button:focus-visible{outline:3px solid var(--formseal-accent,#2457d6);outline-offset:2px}`;

// The embeds that have a placeholder now.
const placed = new WeakSet();

/** `template` with `{provider}` and `{purpose}` filled in. */
export function fillIn(template, provider, purpose) {
  return template.replaceAll('{provider}', provider).replaceAll('{purpose}', purpose);
}

/** Who serves `el`: its `data-formseal-provider`, else the host of its `data-src`, else its
 * title. */
export function provider(el) {
  if (el.dataset.formsealProvider) return el.dataset.formsealProvider;
  try {
    return new URL(el.dataset.src, location.href).hostname;
  } catch {
    return el.title || el.localName;
  }
}

/**
 * Puts a placeholder in the box of each embed in `embeds` (inert elements gated by
 * `data-formseal-purpose`) of the banner `config`, in `lang`, with the texts picked by the
 * loader's `bannerText` (the config's override or the built-in one). `run(el)` activates `el`
 * now (Load once); Allow has `recorder()` (the loader's: the record build's API, once loaded)
 * grant the embed's purposes (method `placeholder`), and the loader then activates every embed
 * they allow, which removes the placeholders.
 */
export function place(embeds, { config, lang, bannerText, run, recorder }) {
  const text = (key) => bannerText(config, key, lang, TEXTS);
  const name = (id) => {
    const label = config.purposes.find((p) => p.id === id)?.label;
    return label?.[lang] ?? Object.values(label ?? {})[0] ?? id;
  };
  for (const el of embeds) {
    if (placed.has(el) || !el.isConnected) continue;
    placed.add(el);
    const ids = el.dataset.formsealPurpose.split(/[\s,]+/).filter(Boolean);
    const purpose = ids.map(name).join(', ');
    const who = provider(el);
    const host = document.createElement('formseal-placeholder');
    const shadow = host.attachShadow({ mode: 'open' });
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(CSS);
    shadow.adoptedStyleSheets = [sheet];
    // The embed's own box: its width and height attributes (an iframe's default 300 × 150),
    // scaled down with the page as the embed would be. CSSOM, which a strict CSP allows.
    const width = Number(el.getAttribute('width')) || (el.localName === 'iframe' ? 300 : 0);
    const height = Number(el.getAttribute('height')) || 150;
    if (width) {
      host.style.width = `${width}px`;
      host.style.aspectRatio = `${width} / ${height}`;
    }
    const box = document.createElement('div');
    box.setAttribute('role', 'group');
    box.setAttribute('aria-label', who);
    const note = document.createElement('p');
    note.textContent = el.dataset.formsealPlaceholder || fillIn(text('placeholder_notice'), who, purpose);
    const buttons = document.createElement('span');
    const once = button(fillIn(text('placeholder_once'), who, purpose), 'once');
    const grant = button(fillIn(text('placeholder_allow'), who, purpose), 'allow');
    buttons.append(once, grant);
    box.append(note, buttons);
    shadow.append(box);

    const hidden = el.hidden;
    el.hidden = true;
    el.before(host);
    // Once the loader activates the embed (Load once, or a grant here or anywhere: it marks
    // the embed `data-formseal-active`), the embed takes its box back and, if the visitor
    // clicked here, the focus.
    const watch = new MutationObserver(() => {
      if (!el.dataset.formsealActive) return;
      watch.disconnect();
      const focused = shadow.activeElement !== null;
      host.remove();
      el.hidden = hidden;
      placed.delete(el);
      if (focused) {
        if (!el.hasAttribute('tabindex') && el.localName !== 'iframe') el.tabIndex = -1;
        el.focus();
      }
    });
    watch.observe(el, { attributes: true, attributeFilter: ['data-formseal-active'] });
    // A box a social post renders into comes with its own gated script: that runs too.
    once.addEventListener('click', () => [el, ...el.querySelectorAll('[data-formseal-purpose]')].forEach(run));
    grant.addEventListener('click', () => {
      if (grant.getAttribute('aria-busy') === 'true') return;
      grant.setAttribute('aria-busy', 'true');
      recorder()
        .then((api) => api.consentAllow(ids))
        .catch((error) => console.error(error.message ?? error))
        .finally(() => grant.removeAttribute('aria-busy'));
    });
  }
}

function button(label, action) {
  const b = document.createElement('button');
  b.type = 'button';
  b.textContent = label;
  b.dataset.action = action;
  return b;
}

// For the loader, which runs this module from a script element (pinned by its hash).
globalThis[Symbol.for('formseal.placeholder')] = { place, TEXTS };
