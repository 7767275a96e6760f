//! Whether the widget may use a config at all: it is fetched (or taken from the consent
//! loader, which fetched it already), parsed, checked and its key matched to the one the
//! snippet pins. Anything less and the widget fails closed: one plain sentence for the visitor,
//! the reason in the console, nothing ever sealed. Every build goes through here, the record
//! build (which has no UI) as well as the ones that render with Leptos.

use formseal_core::config::{FormConfig, FormKind};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Element, RequestCredentials, RequestInit, Response, ShadowRoot};

use crate::i18n::{self, Builtin};
use crate::page;

/// The custom element of a consent banner.
pub(crate) const CONSENT_TAG: &str = "formseal-consent";

/// The symbol (`Symbol.for`) under which the consent loader leaves the banner config's text on
/// its `<formseal-consent>` element (src/loader.js's `CONFIG_TEXT`).
const CONFIG_TEXT: &str = "formseal.config";

/// Fetches the config named by `src` and checks that its key is valid and pinned by `key-id`.
pub(crate) async fn load(host: &Element) -> Result<FormConfig, String> {
    let src = host
        .get_attribute("src")
        .filter(|s| !s.trim().is_empty())
        .ok_or("formseal: the element has no src attribute (the form config's URL)")?;
    let pinned = host
        .get_attribute("key-id")
        .map(|k| k.trim().to_owned())
        .filter(|k| !k.is_empty())
        .ok_or("formseal: key-id missing: the embed snippet must pin the form's key id")?;
    // The consent loader has fetched the banner's config already and leaves its text on the
    // element; it is checked below exactly as a fetched one.
    let handed = js_sys::Reflect::get(host, &js_sys::Symbol::for_(CONFIG_TEXT))
        .ok()
        .and_then(|text| text.as_string());
    let text = match handed {
        Some(text) => text,
        None => fetch_text(&src)
            .await
            .map_err(|e| format!("formseal: cannot load the form config {src}: {e}"))?,
    };
    let config = js_sys::JSON::parse(&text)
        .map_err(|_| "not valid JSON".to_owned())
        .and_then(|value| {
            FormConfig::from_deserializer(serde_wasm_bindgen::Deserializer::from(value))
                .map_err(|e| e.to_string())
        })
        .map_err(|e| format!("formseal: the form config {src} is invalid: {e}"))?;
    let wants_banner = host.tag_name().eq_ignore_ascii_case(CONSENT_TAG);
    if wants_banner != (config.kind == FormKind::Consent) {
        return Err(if wants_banner {
            format!(
                "formseal: <formseal-consent> needs a config of kind \"consent\"; {src} is a form"
            )
        } else {
            format!("formseal: {src} is a consent banner: embed it with <formseal-consent>")
        });
    }
    #[cfg(not(feature = "survey"))]
    if let Some(feature) = config.survey_only_feature() {
        return Err(format!(
            "formseal: {src} uses {feature}, which this build leaves out: embed it with {}",
            formseal_core::embed::SURVEY_ENTRY
        ));
    }
    let keys = config
        .recipient_keys()
        .map_err(|e| format!("formseal: the form config {src} has no usable key: {e}"))?;
    if !keys.iter().any(|k| k.kid() == pinned) {
        let found: Vec<&str> = keys.iter().map(|k| k.kid()).collect();
        return Err(format!(
            "formseal: key id mismatch: pinned {pinned}, config has {}",
            found.join(", ")
        ));
    }
    Ok(config)
}

async fn fetch_text(url: &str) -> Result<String, String> {
    let window = web_sys::window().ok_or("no window")?;
    let init = RequestInit::new();
    init.set_credentials(RequestCredentials::Omit);
    let response = JsFuture::from(window.fetch_with_str_and_init(url, &init))
        .await
        .map_err(|_| "network error".to_owned())?;
    let response: Response = response.dyn_into().map_err(|_| "not a response")?;
    if !response.ok() {
        return Err(format!("HTTP {}", response.status()));
    }
    let text = response.text().map_err(|_| "unreadable body")?;
    let text = JsFuture::from(text)
        .await
        .map_err(|_| "unreadable body".to_owned())?;
    text.as_string().ok_or_else(|| "unreadable body".to_owned())
}

/// Shows the visitor one plain sentence and tells the site owner why; nothing will be sent.
pub(crate) fn fail_closed(host: &Element, shadow: &ShadowRoot, reason: &str) {
    page::console_error(reason);
    // The loader's first layer goes too: no decision made on it could be sealed.
    let lang = host.get_attribute("lang").or_else(page::html_lang);
    let lang = lang.as_deref().unwrap_or("en");
    show_only(
        host,
        shadow,
        lang,
        Builtin::Unavailable,
        "fs-unavailable",
        "error",
    );
}

/// Replaces what `shadow` shows with the one built-in sentence `text` in `lang` (a `<p>` of
/// class `class`) and sets the element's `data-state` to `state`.
pub(crate) fn show_only(
    host: &Element,
    shadow: &ShadowRoot,
    lang: &str,
    text: Builtin,
    class: &str,
    state: &str,
) {
    shadow.set_inner_html("");
    let sentence = i18n::builtin(lang, text);
    if let Some(document) = web_sys::window().and_then(|w| w.document())
        && let Ok(p) = document.create_element("p")
    {
        p.set_class_name(class);
        p.set_text_content(Some(sentence));
        let _ = shadow.append_child(&p);
    }
    let _ = host.set_attribute("data-state", state);
}
