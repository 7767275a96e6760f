//! What the builder gives back: the live preview of the real widget (per language, desktop or
//! mobile width), the plaintext it would seal for the preview's answers, the config file to
//! download and the embed snippet to copy. Nothing here sends the config anywhere: the only
//! request is for the widget's own script, to compute its integrity hash.

use std::cell::RefCell;

use formseal::preview::{self, Mounted, Preview, Report};
use formseal_core::config::FormConfig;
use formseal_core::embed::{self, Snippet};
use formseal_core::keys::{PublicJwk, RecipientKey};
use leptos::html;
use leptos::prelude::*;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use crate::doc::Doc;

/// Where the page loads the widget's files from, as `formseal embed` assumes by default.
const PKG_URL: &str = "/pkg/";

thread_local! {
    /// The preview on screen; replaced on every change of the config or the language.
    static MOUNTED: RefCell<Option<Mounted>> = const { RefCell::new(None) };
}

/// The preview of the real widget, and what it would send.
#[component]
pub(crate) fn PreviewPane(doc: Doc) -> impl IntoView {
    let chosen = RwSignal::new(String::new());
    let mobile = RwSignal::new(false);
    let report = RwSignal::new(None::<Report>);
    let host = NodeRef::<html::Div>::new();
    // Only a config without problems is previewed: the widget itself refuses the others.
    let valid = Memo::new(move |_| {
        doc.checked
            .with(|(config, problems)| config.clone().filter(|_| problems.is_empty()))
    });
    let lang = Memo::new(move |_| {
        let languages = doc.languages();
        let chosen = chosen.get();
        if languages.contains(&chosen) {
            chosen
        } else {
            languages.into_iter().next().unwrap_or_default()
        }
    });
    Effect::new(move |_| {
        let (Some(host), Some(config)) = (host.get(), valid.get()) else {
            return;
        };
        let lang = lang.get();
        untrack(|| show(&host, config, &lang, report));
    });
    let languages = move || {
        doc.languages()
            .into_iter()
            .map(|l| {
                let selected = {
                    let l = l.clone();
                    move || lang.get() == l
                };
                view! { <option value=l.clone() prop:selected=selected>{l.clone()}</option> }
            })
            .collect_view()
    };
    view! {
        <section class="b-section b-preview-pane" aria-labelledby="b-preview-title">
            <h2 id="b-preview-title">"Preview"</h2>
            <div class="b-row">
                <label for="b-preview-lang">"Language"</label>
                <select id="b-preview-lang" on:change=move |ev| chosen.set(event_target_value(&ev))>
                    {languages}
                </select>
                <button type="button" aria-pressed=move || (!mobile.get()).to_string()
                    on:click=move |_| mobile.set(false)>"Desktop"</button>
                <button type="button" aria-pressed=move || mobile.get().to_string()
                    on:click=move |_| mobile.set(true)>"Mobile"</button>
            </div>
            <p class="b-stale" role="status" hidden=move || valid.with(Option::is_some)>
                "The preview shows the last version without problems; fix the problems listed to update it."
            </p>
            <div class="b-frame" class:b-mobile=move || mobile.get()>
                <div id="b-preview" node_ref=host></div>
            </div>
            <h2 id="b-sent-title">"What will be sent"</h2>
            <p class="b-note">
                "Nothing is sent from the builder. On a real page this plaintext is sealed in the
                visitor's browser with your public key; the collector sees only ciphertext."
            </p>
            <div class="b-sent" aria-labelledby="b-sent-title">
                {move || match report.get() {
                    Some(Report { plaintext: Some(text), .. }) => view! { <pre id="b-plaintext">{text}</pre> }.into_any(),
                    Some(Report { problems, .. }) => view! {
                        <p>"Nothing would be sent yet:"</p>
                        <ul id="b-not-yet">{problems.into_iter().map(|p| view! { <li>{p}</li> }).collect_view()}</ul>
                    }.into_any(),
                    None => view! { <p>"Fill in the preview to see what it would send."</p> }.into_any(),
                }}
            </div>
        </section>
    }
}

/// Renders `config` into the preview host, replacing the one before.
fn show(
    host: &web_sys::HtmlDivElement,
    config: FormConfig,
    lang: &str,
    report: RwSignal<Option<Report>>,
) {
    MOUNTED.with(|mounted| {
        // The old form goes first: its effects must not report over the new one's.
        mounted.borrow_mut().take();
        report.set(None);
        let reporter = Preview::new(move |r| report.set(Some(r)));
        match preview::mount(host, config, lang, reporter) {
            Ok(handle) => *mounted.borrow_mut() = Some(handle),
            Err(reason) => web_sys::console::error_1(&reason.into()),
        }
    });
}

/// Download of the config file and the embed snippet, both refused while there are problems.
#[component]
pub(crate) fn Export(doc: Doc) -> impl IntoView {
    let problems = move || doc.checked.with(|(_, p)| p.len());
    let message = RwSignal::new(String::new());
    let blocked = move || match problems() {
        0 => None,
        1 => Some("Fix the problem listed above first.".to_owned()),
        n => Some(format!("Fix the {n} problems listed above first.")),
    };
    let download = move |_| {
        if let Some(why) = blocked() {
            message.set(format!("Not downloaded. {why}"));
            return;
        }
        let name = format!("{}.json", doc.text("/id"));
        match save_file(&name, &doc.file_text()) {
            Ok(()) => message.set(format!("Downloaded {name}.")),
            Err(reason) => message.set(format!("Not downloaded: {reason}")),
        }
    };
    // The script and element `formseal embed` would name for the config as checked.
    let entry = Memo::new(move |_| {
        doc.checked
            .with(|(c, _)| c.as_ref().map(embed::entry_for))
            .unwrap_or((embed::SIGNUP_ENTRY, "formseal-form"))
    });
    let integrity = LocalResource::new(move || async move {
        let (entry, _) = entry.get();
        integrity_of(&format!("{PKG_URL}{entry}")).await
    });
    // A banner that maps Consent Mode gets its Consent Mode script first in the snippet.
    let consent_mode = Memo::new(move |_| {
        doc.checked
            .with(|(c, _)| c.as_ref().and_then(embed::consent_mode_of))
    });
    let early_integrity = LocalResource::new(move || async move {
        if consent_mode.with(Option::is_none) {
            return Ok(String::new());
        }
        integrity_of(&format!("{PKG_URL}{}", embed::CONSENT_MODE_ENTRY)).await
    });
    let snippet = move || -> Result<String, String> {
        if let Some(why) = blocked() {
            return Err(why);
        }
        let kid = first_kid(doc).ok_or("The form has no usable key.")?;
        let integrity = integrity
            .get()
            .ok_or("Reading the widget's integrity hash…")??;
        let (entry, element) = entry.get();
        let mode = consent_mode.get();
        let early_integrity = match &mode {
            Some(_) => early_integrity
                .get()
                .ok_or("Reading the Consent Mode script's integrity hash…")??,
            None => String::new(),
        };
        let early_url = format!("{PKG_URL}{}", embed::CONSENT_MODE_ENTRY);
        Ok(embed::snippet(&Snippet {
            script_url: &format!("{PKG_URL}{entry}"),
            element,
            integrity: &integrity,
            form_url: &format!("/forms/{}.json", doc.text("/id")),
            kid: &kid,
            consent_mode: mode
                .as_ref()
                .map(|mode| (early_url.as_str(), early_integrity.as_str(), mode)),
        }))
    };
    let copy = move |_| match snippet() {
        Ok(text) => {
            leptos::task::spawn_local(async move {
                match copy_text(&text).await {
                    Ok(()) => message.set("Snippet copied.".into()),
                    Err(()) => {
                        message.set("Cannot copy here: select the snippet and copy it.".into())
                    }
                }
            });
        }
        Err(why) => message.set(format!("Not copied. {why}")),
    };
    view! {
        <section class="b-section" aria-labelledby="b-export-title">
            <h2 id="b-export-title">"Download and embed"</h2>
            <div class="b-row">
                <button type="button" id="b-download" aria-disabled=move || blocked().map(|_| "true")
                    aria-describedby="b-export-message" on:click=download>"Download config"</button>
                <button type="button" id="b-copy" aria-disabled=move || blocked().map(|_| "true")
                    aria-describedby="b-export-message" on:click=copy>"Copy embed snippet"</button>
            </div>
            <p id="b-export-message" role="status">{move || message.get()}</p>
            <p class="b-blocked" hidden=move || blocked().is_none()>{blocked}</p>
            <label for="b-snippet">"Embed snippet (serve the config at /forms/<id>.json)"</label>
            <textarea id="b-snippet" rows="4" readonly
                prop:value=move || snippet().unwrap_or_default()></textarea>
        </section>
    }
}

/// The key id of the config's first recipient.
fn first_kid(doc: Doc) -> Option<String> {
    let jwk = doc.get("/recipients/0")?;
    let jwk: PublicJwk = serde_json::from_value(jwk).ok()?;
    RecipientKey::from_jwk(&jwk)
        .ok()
        .map(|k| k.kid().to_owned())
}

/// Offers `text` as a file download named `name`.
fn save_file(name: &str, text: &str) -> Result<(), String> {
    let document = web_sys::window()
        .and_then(|w| w.document())
        .ok_or("no document")?;
    let options = web_sys::BlobPropertyBag::new();
    options.set_type("application/json");
    let parts = js_sys::Array::of1(&JsValue::from_str(text));
    let blob = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options)
        .map_err(|_| "cannot make the file")?;
    let url =
        web_sys::Url::create_object_url_with_blob(&blob).map_err(|_| "cannot make the file")?;
    let link: web_sys::HtmlAnchorElement = document
        .create_element("a")
        .map_err(|_| "no document")?
        .dyn_into()
        .map_err(|_| "no document")?;
    link.set_href(&url);
    link.set_download(name);
    link.click();
    let _ = web_sys::Url::revoke_object_url(&url);
    Ok(())
}

/// The SRI value of the file at `url`, computed as `formseal embed` computes it from `pkg/`.
async fn integrity_of(url: &str) -> Result<String, String> {
    let window = web_sys::window().ok_or("no window")?;
    let unreadable =
        || format!("Cannot read the widget at {url}: build it with `cargo xtask wasm`.");
    let response: web_sys::Response = JsFuture::from(window.fetch_with_str(url))
        .await
        .map_err(|_| unreadable())?
        .dyn_into()
        .map_err(|_| unreadable())?;
    if !response.ok() {
        return Err(unreadable());
    }
    let bytes = JsFuture::from(response.array_buffer().map_err(|_| unreadable())?)
        .await
        .map_err(|_| unreadable())?;
    Ok(embed::integrity(&js_sys::Uint8Array::new(&bytes).to_vec()))
}

/// Writes `text` to the clipboard.
async fn copy_text(text: &str) -> Result<(), ()> {
    let navigator = web_sys::window().ok_or(())?.navigator();
    let clipboard = js_sys::Reflect::get(&navigator, &"clipboard".into()).map_err(|_| ())?;
    let write = js_sys::Reflect::get(&clipboard, &"writeText".into())
        .ok()
        .and_then(|f| f.dyn_into::<js_sys::Function>().ok())
        .ok_or(())?;
    let promise: js_sys::Promise = write
        .call1(&clipboard, &text.into())
        .map_err(|_| ())?
        .dyn_into()
        .map_err(|_| ())?;
    JsFuture::from(promise).await.map(|_| ()).map_err(|_| ())
}
