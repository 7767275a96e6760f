//! Finding `<formseal-form>` elements and mounting the widget into each: an open Shadow DOM
//! root with the constructed stylesheet, the config fetched and checked (`trust`, fail closed),
//! then the Leptos form. Elements added to the page later are found through a `MutationObserver`.
//!
//! What the form looks like and does lives in `components`; this file only decides whether it
//! may be shown at all.

use std::sync::Arc;

use formseal_core::config::{FormConfig, FormKind};
#[cfg(feature = "forms")]
use formseal_core::time::Date;
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::Closure;
use web_sys::{
    CssStyleSheet, Element, HtmlElement, MutationObserver, MutationObserverInit, MutationRecord,
    ShadowRoot, ShadowRootInit, ShadowRootMode,
};

#[cfg(feature = "banner")]
use crate::components::consent_banner::ConsentBanner;
#[cfg(feature = "forms")]
use crate::components::form::Form;
#[cfg(feature = "forms")]
use crate::i18n::Builtin;
#[cfg(feature = "forms")]
use crate::trust::show_only;
use crate::trust::{CONSENT_TAG, fail_closed, load};
use crate::{delivery, i18n, page};

/// The custom element of a form.
const FORM_TAG: &str = "formseal-form";

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
    delivery::retry_when_online();
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
            // Past its closing date the form is a sentence saying so, in the form's language
            // (the collector refuses it too).
            if config.is_closed(Date::from_unix(crate::seal::now_unix())) {
                show_only(
                    &host,
                    &shadow,
                    &lang,
                    Builtin::FormClosed,
                    "fs-closed",
                    "closed",
                );
                return;
            }
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
