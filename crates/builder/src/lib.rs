//! The marketer's builder: a page (`www/builder.html`) where a form, survey, privacy request or
//! consent banner config is made from a template or an opened file, edited with controls
//! instead of by hand, checked with the same rules as `formseal check` (each problem shown next
//! to its control), previewed with the real widget, then downloaded with its embed snippet.
//!
//! The work is kept in the browser's `localStorage`; the config is never sent anywhere.
//!
//! The page starts it with `mountBuilder(element, paintFirstLayer)` after the module's `init()`
//! (`paintFirstLayer` from the consent loader, for the banner preview).

// `#[component]` expands to `pub` props types and functions whatever the declared visibility.
#![allow(unreachable_pub)]

mod controls;
mod doc;
mod fields;
mod output;
mod purposes;
mod settings;

use leptos::prelude::*;
use wasm_bindgen::prelude::wasm_bindgen;

use crate::doc::{Doc, TEMPLATES, template, to_pointer};
use crate::fields::{FieldList, focus_later};
use crate::output::{Export, PreviewPane};
use crate::purposes::PurposeList;
use crate::settings::{Settings, input_file};

/// Mounts the builder into `root`. `paint_first_layer` is the consent loader's
/// `paintFirstLayer`: the banner preview paints its first layer with it, as visitors see it.
#[wasm_bindgen(js_name = mountBuilder)]
pub fn mount_builder(root: web_sys::HtmlElement, paint_first_layer: Option<js_sys::Function>) {
    std::panic::set_hook(Box::new(|info| {
        web_sys::console::error_1(&format!("formseal builder: {info}").into());
    }));
    if let Some(painter) = paint_first_layer {
        formseal::preview::paint_first_layer_with(painter);
    }
    leptos::mount::mount_to(root, App).forget();
}

/// The whole page: the toolbar, every problem in one list, the editor and the preview.
#[component]
fn App() -> impl IntoView {
    let doc = Doc::new();
    let (announced, announce) = signal(String::new());
    view! {
        <header class="b-toolbar">
            <h1>"formseal builder"</h1>
            <Start doc announce/>
        </header>
        <p class="b-live" role="status" aria-live="polite">{announced}</p>
        <main class="b-main">
            <div class="b-editor">
                <Summary doc/>
                <Settings doc/>
                <PurposeList doc announce/>
                // A banner has purposes, not fields.
                <Show when=move || doc.text("/kind") != "consent">
                    <FieldList doc announce/>
                </Show>
            </div>
            <div class="b-side">
                <Export doc/>
                <PreviewPane doc/>
            </div>
        </main>
    }
}

/// Start from a template or open a config file.
#[component]
fn Start(doc: Doc, announce: WriteSignal<String>) -> impl IntoView {
    let picked = RwSignal::new(0usize);
    let error = RwSignal::new(String::new());
    // The work a template or a file replaced, until the next change of document.
    let replaced = RwSignal::new(None::<serde_json::Value>);
    let replace = move |value: serde_json::Value| {
        replaced.set(Some(doc.value.get_untracked()));
        doc.load(value);
        error.set(String::new());
    };
    let start = move |_| {
        let (name, _) = TEMPLATES[picked.get_untracked()];
        replace(template(picked.get_untracked()));
        announce.set(format!(
            "Started from the template {name}; Undo brings your work back."
        ));
    };
    let undo = move |_| {
        if let Some(previous) = replaced.get_untracked() {
            replaced.set(None);
            doc.load(previous);
            announce.set("Your work is back.".into());
        }
    };
    let open = move |ev: leptos::ev::Event| {
        let Some(file) = input_file(&ev) else {
            return;
        };
        leptos::task::spawn_local(async move {
            let name = file.name();
            let text = wasm_bindgen_futures::JsFuture::from(file.text())
                .await
                .ok()
                .and_then(|t| t.as_string());
            match text.map(|t| serde_json::from_str::<serde_json::Value>(&t)) {
                Some(Ok(value)) if value.is_object() => {
                    replace(value);
                    announce.set(format!("Opened {name}; Undo brings your work back."));
                }
                Some(Ok(_)) => {
                    error.set(format!("{name} is not a config: it is not a JSON object."))
                }
                Some(Err(e)) => error.set(format!("{name} is not valid JSON: {e}.")),
                None => error.set(format!("Cannot read {name}.")),
            }
        });
    };
    view! {
        <div class="b-row">
            <label for="b-template">"Template"</label>
            <select id="b-template" on:change=move |ev| {
                picked.set(event_target_value(&ev).parse().unwrap_or(0));
            }>
                {TEMPLATES.iter().enumerate().map(|(i, (name, _))| view! {
                    <option value=i.to_string()>{*name}</option>
                }).collect_view()}
            </select>
            <button type="button" id="b-start" on:click=start>"Start from template"</button>
            <button type="button" id="b-undo" hidden=move || replaced.with(Option::is_none)
                on:click=undo>"Undo"</button>
            <label class="b-file" for="b-open">"Open a config file"</label>
            <input id="b-open" type="file" accept=".json,application/json" on:change=open/>
        </div>
        <p class="b-error" role="alert">{move || error.get()}</p>
    }
}

/// Every problem of the config, missing translations apart, each a link to its control.
#[component]
fn Summary(doc: Doc) -> impl IntoView {
    let problems = move || doc.checked.with(|(_, p)| p.clone());
    let is_translation = |message: &str| message.starts_with("missing translation");
    let item = |p: formseal_core::config::Problem| {
        let pointer = to_pointer(&p.path);
        let target = doc::dom_id(&pointer);
        let hint = p.hint.map(|h| format!(" ({h})")).unwrap_or_default();
        let path = if p.path.is_empty() {
            "$".to_owned()
        } else {
            p.path
        };
        view! {
            <li>
                <button type="button" class="b-link" on:click=move |_| focus_control(&target)>
                    <code>{path}</code>
                </button>
                {format!(": {}{hint}", p.message)}
            </li>
        }
    };
    view! {
        <section class="b-section b-summary" aria-labelledby="b-summary-title">
            <h2 id="b-summary-title">{move || match problems().len() {
                0 => "No problems: ready to download".to_owned(),
                1 => "1 problem".to_owned(),
                n => format!("{n} problems"),
            }}</h2>
            <ul id="b-problem-list">
                {move || problems().into_iter().filter(|p| !is_translation(&p.message)).map(item).collect_view()}
            </ul>
            <Show when=move || problems().iter().any(|p| is_translation(&p.message))>
                <h3>"Missing translations"</h3>
                <ul id="b-missing-translations">
                    {move || problems().into_iter().filter(|p| is_translation(&p.message)).map(item).collect_view()}
                </ul>
            </Show>
        </section>
    }
}

/// Opens the editor of the control with id `target` (or the closest one above it) and focuses it.
fn focus_control(target: &str) {
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    // `b-fields-3-label-en` may not exist (a missing key): try `b-fields-3-label`, `b-fields-3`.
    let mut id = target.to_owned();
    loop {
        if let Some(element) = document.get_element_by_id(&id) {
            if let Some(details) = element.closest("details").ok().flatten() {
                let _ = details.set_attribute("open", "");
            }
            focus_later(id);
            return;
        }
        match id.rfind('-') {
            Some(at) if at > 1 => id.truncate(at),
            _ => return,
        }
    }
}
