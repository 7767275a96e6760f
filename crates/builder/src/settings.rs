//! The form as a whole (id, kind, languages, texts, endpoint, privacy notice) and the public key
//! its submissions are sealed to, pasted or picked as a JWK or a PEM, shown with its key id.

use formseal_core::keys::{PublicJwk, RecipientKey};
use leptos::prelude::*;
use serde_json::{Value, json};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use crate::controls::{CheckInput, Kind, LangInputs, ListInput, Problems, SelectInput, TextInput};
use crate::doc::Doc;

/// Form kinds, as config values with the words shown.
const KINDS: [(&str, &str); 5] = [
    ("signup", "Sign-up"),
    ("survey", "Survey"),
    ("consent", "Consent banner"),
    ("access-request", "Access request"),
    ("erasure-request", "Erasure request"),
];

/// The form's own settings.
#[component]
pub(crate) fn Settings(doc: Doc) -> impl IntoView {
    let at = |pointer: &'static str| Signal::derive(move || pointer.to_owned());
    let kinds: Vec<(String, String)> = KINDS
        .iter()
        .map(|(v, t)| ((*v).to_owned(), (*t).to_owned()))
        .collect();
    let is_form = move || doc.text("/kind") != "consent";
    view! {
        <section class="b-section" aria-labelledby="b-settings-title">
            <h2 id="b-settings-title">"Form"</h2>
            <div class="b-grid">
                <TextInput doc pointer=at("/id") label="Id".into()/>
                <SelectInput doc pointer=at("/kind") label="Kind".into() options=kinds/>
                <TextInput doc pointer=at("/version") label="Version".into() kind=Kind::Number/>
                <ListInput doc pointer=at("/languages") label="Languages (comma-separated, e.g. en, nl)".into()/>
                <TextInput doc pointer=at("/endpoint") label="Endpoint (the collector's URL)".into()/>
                <TextInput doc pointer=at("/privacy_notice/url") label="Privacy notice URL".into()/>
                <TextInput doc pointer=at("/privacy_notice/version") label="Privacy notice version".into()/>
            </div>
            <LangInputs doc pointer=at("/texts/title") label="Title"/>
            <LangInputs doc pointer=at("/texts/intro") label="Introduction"/>
            <Show when=is_form>
                <LangInputs doc pointer=at("/texts/submit") label="Submit button"/>
                <LangInputs doc pointer=at("/texts/success") label="Thank-you message"/>
                <CheckInput doc pointer=at("/save_draft") label="Keep unfinished answers in the visitor's browser".into()/>
            </Show>
            <Problems doc pointer=at("/texts")/>
            <KeyInput doc/>
        </section>
    }
}

/// The recipients' key ids, and a box to paste or a picker to open a new public key.
#[component]
fn KeyInput(doc: Doc) -> impl IntoView {
    let pasted = RwSignal::new(String::new());
    let message = RwSignal::new(None::<(bool, String)>);
    let keys = move || {
        doc.get("/recipients")
            .and_then(|v| v.as_array().cloned())
            .unwrap_or_default()
            .into_iter()
            .map(|jwk| {
                serde_json::from_value::<PublicJwk>(jwk)
                    .map_err(|e| e.to_string())
                    .and_then(|jwk| RecipientKey::from_jwk(&jwk).map_err(|e| e.to_string()))
                    .map_or_else(
                        |e| format!("unusable key: {e}"),
                        |k| format!("{} ({}-bit RSA)", k.kid(), k.bits()),
                    )
            })
            .collect::<Vec<_>>()
    };
    let apply = move |text: String| {
        leptos::task::spawn_local(async move {
            match read_key(&text).await {
                Ok(key) => {
                    let jwk = serde_json::to_value(key.to_jwk()).unwrap_or(Value::Null);
                    doc.set("/recipients", Some(json!([jwk])));
                    message.set(Some((
                        true,
                        format!("Key {} is now the form's key.", key.kid()),
                    )));
                    pasted.set(String::new());
                }
                Err(reason) => message.set(Some((false, reason))),
            }
        });
    };
    let pick = move |ev: leptos::ev::Event| {
        let Some(file) = input_file(&ev) else {
            return;
        };
        leptos::task::spawn_local(async move {
            match JsFuture::from(file.text())
                .await
                .ok()
                .and_then(|t| t.as_string())
            {
                Some(text) => apply(text),
                None => message.set(Some((false, "Cannot read that file.".into()))),
            }
        });
    };
    view! {
        <fieldset class="b-key">
            <legend>"Public key"</legend>
            <p>"Submissions are sealed to:"</p>
            <ul class="b-kids">
                {move || keys().into_iter().map(|k| view! { <li><code>{k}</code></li> }).collect_view()}
            </ul>
            <Problems doc pointer=Signal::derive(|| "/recipients".to_owned())/>
            <div class="b-control">
                <label for="b-key-text">"Paste the public key (the JWK from formseal keygen, or a PEM)"</label>
                <textarea id="b-key-text" rows="4" prop:value=move || pasted.get()
                    aria-describedby="b-key-message"
                    on:input=move |ev| pasted.set(event_target_value(&ev))></textarea>
            </div>
            <div class="b-row">
                <button type="button" on:click=move |_| apply(pasted.get_untracked())>"Use this key"</button>
                <label class="b-file">
                    "Or open a key file "
                    <input type="file" accept=".json,.jwk,.pem,application/json" on:change=pick/>
                </label>
            </div>
            <p id="b-key-message" role="status" class:b-error=move || message.get().is_some_and(|(ok, _)| !ok)>
                {move || message.get().map(|(_, m)| m)}
            </p>
        </fieldset>
    }
}

/// The first file of a file input's change event.
pub(crate) fn input_file(ev: &leptos::ev::Event) -> Option<web_sys::File> {
    let input: web_sys::HtmlInputElement = ev.target()?.dyn_into().ok()?;
    let file = input.files()?.get(0);
    // The same file can be picked again.
    input.set_value("");
    file
}

/// A public key from a JWK (JSON) or a PEM (`BEGIN PUBLIC KEY`), checked like the widget does.
/// A private key is refused: it must never go into a config.
async fn read_key(text: &str) -> Result<RecipientKey, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("Paste a key first.".into());
    }
    if text.contains("PRIVATE KEY") || (text.starts_with('{') && text.contains("\"d\"")) {
        return Err(
            "This is a private key. It must stay with the data team and never go into a form \
             config: use the public key (public.jwk.json)."
                .into(),
        );
    }
    let jwk: PublicJwk = if text.starts_with('{') {
        serde_json::from_str(text).map_err(|e| format!("Not a public JWK: {e}."))?
    } else if text.contains("BEGIN PUBLIC KEY") {
        spki_to_jwk(text).await?
    } else if text.contains("BEGIN RSA PUBLIC KEY") {
        return Err("This is a PKCS#1 key; convert it with `openssl rsa -RSAPublicKey_in -in KEY -pubout` or use the JWK that formseal keygen wrote.".into());
    } else {
        return Err(
            "Not a key: paste a JWK ({\"kty\": \"RSA\", …}) or a PEM (-----BEGIN PUBLIC KEY-----)."
                .into(),
        );
    };
    RecipientKey::from_jwk(&jwk).map_err(|e| format!("This key cannot be used: {e}."))
}

/// The browser's WebCrypto reads the PEM's SubjectPublicKeyInfo and gives it back as a JWK.
async fn spki_to_jwk(pem: &str) -> Result<PublicJwk, String> {
    let body: String = pem
        .lines()
        .filter(|line| !line.starts_with("-----"))
        .collect::<Vec<_>>()
        .concat();
    let window = web_sys::window().ok_or("no window")?;
    let binary = window
        .atob(body.trim())
        .map_err(|_| "The PEM is not valid base64.".to_owned())?;
    let der: Vec<u8> = binary.chars().map(|c| c as u8).collect();
    let subtle = window.crypto().map_err(|_| "no WebCrypto")?.subtle();
    let algorithm = js_sys::Object::new();
    let set = |k: &str, v: &JsValue| js_sys::Reflect::set(&algorithm, &k.into(), v);
    let _ = set("name", &"RSA-OAEP".into());
    let _ = set("hash", &"SHA-256".into());
    let usages = js_sys::Array::of1(&"encrypt".into());
    let data = js_sys::Uint8Array::from(der.as_slice());
    let promise = subtle
        .import_key_with_object("spki", &data, &algorithm, true, &usages)
        .map_err(|_| "WebCrypto refused the key.".to_owned())?;
    let key: web_sys::CryptoKey = JsFuture::from(promise)
        .await
        .map_err(|_| "Not an RSA public key (SubjectPublicKeyInfo).".to_owned())?
        .dyn_into()
        .map_err(|_| "WebCrypto returned no key.".to_owned())?;
    let exported = subtle
        .export_key("jwk", &key)
        .map_err(|_| "WebCrypto cannot export the key.".to_owned())?;
    let jwk = JsFuture::from(exported)
        .await
        .map_err(|_| "WebCrypto cannot export the key.".to_owned())?;
    let json = js_sys::JSON::stringify(&jwk)
        .ok()
        .and_then(|s| s.as_string())
        .ok_or("WebCrypto returned no JWK.")?;
    let mut value: Value = serde_json::from_str(&json).map_err(|e| e.to_string())?;
    // WebCrypto names the algorithm RSA-OAEP-256 and adds key_ops/ext; keep n and e.
    let n = value["n"].take();
    let e = value["e"].take();
    serde_json::from_value(json!({"kty": "RSA", "n": n, "e": e})).map_err(|e| e.to_string())
}
