//! The browser's text services for the core: `String.prototype.normalize("NFC")`, `RegExp`,
//! `toLowerCase`/`toUpperCase` and `parseFloat`. Registering them (instead of compiling Unicode
//! tables, a regex engine and a float parser into the wasm) saves about 67 kB brotli per page
//! load.

use js_sys::{Array, JsString, Reflect, RegExp};
use wasm_bindgen::{JsCast, JsValue};

/// Hands the browser's NFC and regular expressions to the core; call once at start.
pub(crate) fn register() {
    formseal_core::text::set_platform(formseal_core::text::Platform {
        nfc,
        full_match,
        lowercase,
        uppercase,
        decimal,
    });
}

fn nfc(s: &str) -> String {
    JsString::from(s).normalize("NFC").into()
}

fn lowercase(s: &str) -> String {
    JsString::from(s).to_lower_case().into()
}

fn uppercase(s: &str) -> String {
    JsString::from(s).to_upper_case().into()
}

/// `parseFloat(text)`: correctly rounded, like Rust's parser. The core passes only whole decimal
/// literals (it checks their syntax first), so no prefix is left unread.
fn decimal(text: &str) -> f64 {
    js_sys::parse_float(text)
}

/// Full match with the `u` flag; an invalid pattern (`new RegExp` throws) is `None`.
fn full_match(pattern: &str, text: &str) -> Option<bool> {
    let constructor = Reflect::get(&js_sys::global(), &"RegExp".into()).ok()?;
    let args = Array::of2(
        &JsValue::from(format!("^(?:{pattern})$")),
        &JsValue::from("u"),
    );
    let regexp: RegExp = Reflect::construct(constructor.dyn_ref::<js_sys::Function>()?, &args)
        .ok()?
        .dyn_into()
        .ok()?;
    Some(regexp.test(text))
}
