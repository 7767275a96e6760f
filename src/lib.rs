//! The formseal widget: the `<formseal-form>` custom element, compiled to wasm32. It renders a
//! form config with Leptos inside a Shadow DOM root, validates the answers with the core's rules,
//! seals them in the browser and delivers only the ciphertext to the config's endpoint.
//!
//! It holds no private key and cannot open envelopes (the core's `open` feature is off here).
//! It fails closed: a config whose key is missing, malformed, too short or not the one pinned in
//! the snippet's `key-id` renders a plain sentence and never sends anything.
//!
//! # The embed snippet
//!
//! ```html
//! <script type="module" src="/pkg/formseal-signup.js" integrity="sha384-…" crossorigin="anonymous"></script>
//! <formseal-form src="/forms/newsletter.json" key-id="KID" lang="nl"></formseal-form>
//! ```
//!
//! `cargo xtask wasm` builds this crate once per widget kind with its features (`forms`: the
//! sign-up build, `survey`: the survey build, `banner`: the consent build the loader loads); a
//! build mounts only the elements it renders, and `formseal embed` names the build a config
//! needs (`formseal_core::embed::entry_for`).
//!
//! `lang` is optional: by default the form's first language matching `<html lang>`, else the
//! form's first language. Every `<formseal-form>` in the document is mounted when the module
//! starts, and ones added later through a `MutationObserver`.
//!
//! # Stable hooks (for tests and site owners)
//!
//! - The host element gets `data-state` = `loading` (until the config is checked), then one of
//!   `idle | sending | sent | retrying | failed | error`. `error` means validation errors, or
//!   (when there is no `<form>`) that the widget failed closed.
//! - Inside the **open** shadow root: one `<form class="fs-form" data-form="FORM_ID">` with the
//!   same `data-state`; each input has `name` = `fs-FORM_ID-FIELD_ID` and `id` = the same (radio
//!   and rating inputs: `id` = `fs-FORM_ID-FIELD_ID-N`, N counting from 0, inside a
//!   `<fieldset role="radiogroup">` with a `<legend>`); every input has a `<label for>`.
//! - Per field, `aria-describedby` names `fs-FORM_ID-FIELD_ID-help` (when there is help),
//!   `-purpose` (the purposes and retention) and `-error` (empty unless invalid); an invalid
//!   field has `aria-invalid="true"`.
//! - The submit button is `<button type="submit" class="fs-submit">`, disabled while sending,
//!   retrying or sent.
//! - The status region is `<p role="status" aria-live="polite" class="fs-status">`, its text
//!   saying sending / sent / will retry / failed.
//! - When the widget fails closed, the shadow root holds only `<p class="fs-unavailable">`.
//! - Sealed envelopes wait in `localStorage` under `formseal:queue:FORM_ID` (a JSON array of
//!   `{id, endpoint, contentType, jwe, attempts, nextAttemptAt, pow?}`, `pow` being the
//!   collector's solved challenge `{payload, expires}`) until the endpoint answers 200 or 201;
//!   the pseudonymous subject id is kept under `formseal:subject`.

#[cfg(any(feature = "forms", feature = "banner"))]
mod components;
pub mod consent;
mod delivery;
// The banner's texts are dead code in the form builds, and all but one in the record build.
#[cfg_attr(not(feature = "banner"), allow(dead_code))]
mod i18n;
#[cfg(any(feature = "forms", feature = "banner"))]
mod mount;
mod page;
mod pow;
#[cfg(any(feature = "forms", feature = "banner"))]
pub mod preview;
#[cfg(not(any(feature = "forms", feature = "banner")))]
mod recorder;
pub mod seal;
mod text;
mod trust;

use wasm_bindgen::prelude::wasm_bindgen;

/// Runs when the module is initialised: mounts every `<formseal-form>` (and banner), now and
/// later; the record build, which renders nothing, makes the banner's records instead.
#[wasm_bindgen(start)]
pub fn start() {
    text::register();
    #[cfg(any(feature = "forms", feature = "banner"))]
    mount::start();
    #[cfg(not(any(feature = "forms", feature = "banner")))]
    recorder::start();
}
