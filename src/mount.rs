//! Finding `<formseal-form>` elements and mounting the widget into each: an open Shadow DOM
//! root with the constructed stylesheet, the config fetched and checked (fail closed), then the
//! Leptos form. Elements added to the page later are found through a `MutationObserver`.
//!
//! What the form looks like and does lives in `components`; this file only decides whether it
//! may be shown at all.

use std::sync::Arc;

use formseal_core::config::{FormConfig, FormKind};
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::Closure;
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    CssStyleSheet, Element, HtmlElement, MutationObserver, MutationObserverInit, MutationRecord,
    RequestCredentials, RequestInit, Response, ShadowRoot, ShadowRootInit, ShadowRootMode,
};

#[cfg(feature = "banner")]
use crate::components::consent_banner::ConsentBanner;
#[cfg(feature = "forms")]
use crate::components::form::Form;
use crate::i18n::{self, Builtin};
use crate::{delivery, page};

/// The custom element of a form.
const FORM_TAG: &str = "formseal-form";

/// The custom element of a consent banner.
const CONSENT_TAG: &str = "formseal-consent";

/// The symbol (`Symbol.for`) under which the consent loader leaves the banner config's text on
/// its `<formseal-consent>` element (src/loader.js's `CONFIG_TEXT`).
const CONFIG_TEXT: &str = "formseal.config";

/// The elements this build mounts, as a selector: a build mounts only what it can render, so
/// a page with a form bundle and the consent bundle has each element mounted by its own.
const TAGS: &str = match (cfg!(feature = "forms"), cfg!(feature = "banner")) {
    (true, true) => "formseal-form, formseal-consent",
    (true, false) => FORM_TAG,
    _ => CONSENT_TAG,
};

/// Whether this build mounts elements named `tag`.
fn mounts(tag: &str) -> bool {
    (cfg!(feature = "forms") && tag.eq_ignore_ascii_case(FORM_TAG))
        || (cfg!(feature = "banner") && tag.eq_ignore_ascii_case(CONSENT_TAG))
}

/// Whether this is the sign-up build on a page that also loads the survey build, which renders
/// every form: then the survey build mounts the page's forms and this one stands aside, so the
/// two never race for an element. Module scripts run after the document is parsed, so every
/// script tag of the page is there to see.
fn stands_aside(document: &web_sys::Document) -> bool {
    if !cfg!(feature = "forms") || cfg!(feature = "survey") {
        return false;
    }
    let suffix = format!("/{}", formseal_core::embed::SURVEY_ENTRY);
    let base = document.url().unwrap_or_default();
    let scripts = document.scripts();
    (0..scripts.length()).any(|i| {
        scripts
            .item(i)
            .and_then(|s| s.get_attribute("src"))
            .and_then(|src| web_sys::Url::new_with_base(&src, &base).ok())
            .is_some_and(|url| url.pathname().ends_with(&suffix))
    })
}

/// The widget's CSS, adopted by every shadow root (no inline styles: works under a strict CSP).
const CSS: &str = include_str!("widget.css");

thread_local! {
    /// Whether `start` has run: the observer and the `online` listener are installed once.
    static STARTED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    /// One constructed stylesheet shared by every widget on the page.
    static SHEET: Option<CssStyleSheet> = CssStyleSheet::new()
        .ok()
        .filter(|sheet| sheet.replace_sync(CSS).is_ok());
}

/// Mounts every `<formseal-form>` in the document and watches for ones added later.
pub(crate) fn start() {
    if STARTED.replace(true) {
        return;
    }
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    if stands_aside(&document) {
        return;
    }
    if let Ok(found) = document.query_selector_all(TAGS) {
        for i in 0..found.length() {
            if let Some(element) = found.item(i).and_then(|n| n.dyn_into::<Element>().ok()) {
                mount(element);
            }
        }
    }
    let on_change = Closure::<dyn Fn(js_sys::Array)>::new(|records: js_sys::Array| {
        for record in records.iter() {
            let Ok(record) = record.dyn_into::<MutationRecord>() else {
                continue;
            };
            let added = record.added_nodes();
            for i in 0..added.length() {
                if let Some(element) = added.item(i).and_then(|n| n.dyn_into::<Element>().ok()) {
                    mount_within(element);
                }
            }
        }
    });
    if let (Ok(observer), Some(root)) = (
        MutationObserver::new(on_change.as_ref().unchecked_ref()),
        document.document_element(),
    ) {
        let options = MutationObserverInit::new();
        options.set_child_list(true);
        options.set_subtree(true);
        let _ = observer.observe_with_options(&root, &options);
    }
    // The observer lives as long as the page.
    on_change.forget();

    let on_online = Closure::<dyn Fn()>::new(delivery::deliver_all);
    if let Some(window) = web_sys::window() {
        let _ =
            window.add_event_listener_with_callback("online", on_online.as_ref().unchecked_ref());
    }
    on_online.forget();
}

/// Mounts `element` if it is one of ours, and every one inside it.
fn mount_within(element: Element) {
    if let Ok(found) = element.query_selector_all(TAGS) {
        for i in 0..found.length() {
            if let Some(inner) = found.item(i).and_then(|n| n.dyn_into::<Element>().ok()) {
                mount(inner);
            }
        }
    }
    if mounts(&element.tag_name()) {
        mount(element);
    }
}

/// Attaches the shadow root and starts loading the config; an element is mounted once. A
/// banner's shadow root the consent loader made (it paints the first layer) is taken over:
/// the loader keeps `data-state` until the banner has mounted.
fn mount(host: Element) {
    let shadow = match host.shadow_root() {
        Some(shadow) if host.tag_name().eq_ignore_ascii_case(CONSENT_TAG) && !mounted(&shadow) => {
            adopt_sheet(&shadow);
            shadow
        }
        Some(_) => return,
        None => {
            let Some(shadow) = attach(&host) else {
                page::console_error("formseal: cannot attach a shadow root to the element");
                return;
            };
            let _ = host.set_attribute("data-state", "loading");
            shadow
        }
    };
    // Marks the shadow root as the widget's at once, so that a second call leaves it alone.
    let _ = host.set_attribute("data-formseal-mounted", "");
    wasm_bindgen_futures::spawn_local(async move {
        match load(&host).await {
            Ok(config) => render(host, shadow, config),
            Err(reason) => fail_closed(&host, &shadow, &reason),
        }
    });
}

/// Whether the widget has mounted (or is mounting) into `shadow`.
fn mounted(shadow: &ShadowRoot) -> bool {
    shadow.host().has_attribute("data-formseal-mounted")
}

/// Attaches an open shadow root to `host` that has adopted the widget's stylesheet.
pub(crate) fn attach(host: &Element) -> Option<ShadowRoot> {
    let shadow = host
        .attach_shadow(&ShadowRootInit::new(ShadowRootMode::Open))
        .ok()?;
    adopt_sheet(&shadow);
    Some(shadow)
}

/// Gives `shadow` the widget's stylesheet (instead of any it had: the loader's first-layer
/// rules are a section of it).
fn adopt_sheet(shadow: &ShadowRoot) {
    SHEET.with(|sheet| {
        if let Some(sheet) = sheet {
            shadow.set_adopted_style_sheets(&js_sys::Array::of1(sheet));
        }
    });
}

/// Fetches the config named by `src` and checks that its key is valid and pinned by `key-id`.
async fn load(host: &Element) -> Result<FormConfig, String> {
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
fn fail_closed(host: &Element, shadow: &ShadowRoot, reason: &str) {
    page::console_error(reason);
    // The loader's first layer goes too: no decision made on it could be sealed.
    shadow.set_inner_html("");
    let lang = host.get_attribute("lang").or_else(page::html_lang);
    let sentence = i18n::builtin(lang.as_deref().unwrap_or("en"), Builtin::Unavailable);
    if let Some(document) = web_sys::window().and_then(|w| w.document())
        && let Ok(p) = document.create_element("p")
    {
        p.set_class_name("fs-unavailable");
        p.set_text_content(Some(sentence));
        let _ = shadow.append_child(&p);
    }
    let _ = host.set_attribute("data-state", "error");
}

/// Mounts the Leptos form into a container inside the shadow root.
fn render(host: Element, shadow: ShadowRoot, config: FormConfig) {
    let Some(container) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.create_element("div").ok())
        .and_then(|d| d.dyn_into::<HtmlElement>().ok())
    else {
        return;
    };
    container.set_class_name("fs-root");
    if shadow.append_child(&container).is_err() {
        return;
    }
    let lang = i18n::choose(
        &config.languages,
        host.get_attribute("lang").as_deref(),
        page::html_lang().as_deref(),
    );
    let config = Arc::new(config);
    // `load` has matched the config's kind to the element, and this build mounts only the
    // elements it renders, so exactly one branch is compiled in for each kind it meets.
    let _ = &shadow;
    let handle = if config.kind == FormKind::Consent {
        #[cfg(feature = "banner")]
        {
            mount_to(container, move || {
                view! { <ConsentBanner config=config lang=lang host=host/> }.into_any()
            })
        }
        #[cfg(not(feature = "banner"))]
        {
            let _ = (container, lang);
            fail_closed(
                &host,
                &shadow,
                "formseal: this build holds no consent banner",
            );
            return;
        }
    } else {
        #[cfg(feature = "forms")]
        {
            mount_to(container, move || {
                view! { <Form config=config lang=lang host=host/> }.into_any()
            })
        }
        #[cfg(not(feature = "forms"))]
        {
            let _ = (container, lang);
            fail_closed(
                &host,
                &shadow,
                "formseal: this build holds only the consent banner",
            );
            return;
        }
    };
    // The form lives as long as the page.
    handle.forget();
}
