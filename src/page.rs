//! What the widget reads from and keeps in the page: allow-listed URL parameters, the page's
//! language, the visitor's pseudonymous subject id, timers and console messages.
//!
//! It never reads cookies, the user agent or anything that could fingerprint the visitor.

// A banner-only build (without the `forms` feature) reads no URL parameters.
#![cfg_attr(not(feature = "forms"), allow(dead_code))]

use std::collections::BTreeMap;

use formseal_core::config::HIDDEN_PARAM_ALLOW_LIST;
use formseal_core::envelope;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::Closure;

/// The `localStorage` key of the visitor's pseudonymous subject id.
const SUBJECT_KEY: &str = "formseal:subject";

/// Logs `message` with `console.error`, for the site owner.
pub(crate) fn console_error(message: &str) {
    web_sys::console::error_1(&message.into());
}

/// The page's `localStorage`, when the browser allows it (private modes may not).
pub(crate) fn local_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

/// The allow-listed campaign parameters of the page's URL; nothing else is read from it.
pub(crate) fn url_params() -> BTreeMap<String, String> {
    let search = web_sys::window()
        .and_then(|w| w.location().search().ok())
        .unwrap_or_default();
    let Ok(params) = web_sys::UrlSearchParams::new_with_str(&search) else {
        return BTreeMap::new();
    };
    // Inserted one by one: `collect()` into a BTreeMap sorts first, and each sort it
    // instantiates costs the widget about 1 kB brotli.
    let mut found = BTreeMap::new();
    for name in HIDDEN_PARAM_ALLOW_LIST {
        if let Some(value) = params.get(name) {
            found.insert((*name).to_owned(), value);
        }
    }
    found
}

/// The `lang` attribute of the page's `<html>` element.
pub(crate) fn html_lang() -> Option<String> {
    let lang = web_sys::window()?
        .document()?
        .document_element()?
        .get_attribute("lang")?;
    Some(lang)
}

/// The visitor's random subject id, created once and kept in `localStorage` so that later
/// records (withdrawals, requests) can be linked to this one. Without storage it lives as long
/// as the page.
pub(crate) fn subject_id() -> Result<String, formseal_core::Error> {
    let storage = local_storage();
    if let Some(id) = storage
        .as_ref()
        .and_then(|s| s.get_item(SUBJECT_KEY).ok().flatten())
        .filter(|id| !id.is_empty())
    {
        return Ok(id);
    }
    let id = envelope::random_id(&mut getrandom::SysRng)?;
    if let Some(storage) = storage {
        // A full or blocked storage only costs the link between records.
        let _ = storage.set_item(SUBJECT_KEY, &id);
    }
    Ok(id)
}

/// Milliseconds since the Unix epoch, from the visitor's clock (kept only in the browser).
pub(crate) fn now_ms() -> f64 {
    js_sys::Date::now()
}

/// Runs `f` once after `ms` milliseconds.
pub(crate) fn set_timeout(ms: f64, f: impl FnOnce() + 'static) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let callback = Closure::once_into_js(f);
    let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(
        callback.unchecked_ref(),
        ms.clamp(0.0, f64::from(i32::MAX)) as i32,
    );
}

/// Reads JSON the one way the widget does: the browser's `JSON.parse`, then serde over the
/// resulting JS value (serde-wasm-bindgen). Every `Deserialize` impl is monomorphised for this
/// one deserializer only, and serde_json's parser stays out of the wasm.
pub(crate) fn from_json<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, String> {
    let value = js_sys::JSON::parse(text).map_err(|_| "not valid JSON".to_owned())?;
    T::deserialize(serde_wasm_bindgen::Deserializer::from(value)).map_err(|e| e.to_string())
}

/// The page's origin (`https://shop.example`), for the visitor's own receipt.
#[cfg(feature = "banner")]
pub(crate) fn origin() -> String {
    web_sys::window()
        .and_then(|w| w.location().origin().ok())
        .unwrap_or_default()
}
