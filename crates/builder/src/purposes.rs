//! The purposes: why data is asked for, on what legal basis and for how long, and which fields
//! each one covers. A purpose's id is what fields name; renaming it renames those references.

use leptos::prelude::*;
use serde_json::{Value, json};

use crate::controls::{CheckInput, Kind, LangInputs, ListInput, Problems, SelectInput, TextInput};
use crate::doc::Doc;

/// The lawful bases of Art. 6(1) GDPR, as config values with the words shown.
const BASES: [(&str, &str); 6] = [
    ("consent", "Consent (a)"),
    ("contract", "Contract (b)"),
    ("legal-obligation", "Legal obligation (c)"),
    ("vital-interests", "Vital interests (d)"),
    ("public-task", "Public task (e)"),
    ("legitimate-interests", "Legitimate interests (f)"),
];

/// Every purpose of the form, and the button that adds one.
#[component]
pub(crate) fn PurposeList(doc: Doc, announce: WriteSignal<String>) -> impl IntoView {
    let count = move || doc.purpose_ids().len();
    let add = move |_| {
        let ids = doc.purpose_ids();
        let id = (1..)
            .map(|n| format!("purpose_{n}"))
            .find(|id| !ids.contains(id))
            .unwrap_or_default();
        let texts = |text: &str| -> serde_json::Map<String, Value> {
            doc.languages()
                .into_iter()
                .map(|lang| (lang, json!(text)))
                .collect()
        };
        let mut list = doc
            .get("/purposes")
            .and_then(|v| v.as_array().cloned())
            .unwrap_or_default();
        list.push(json!({
            "id": id,
            "label": texts("New purpose"),
            "description": texts("What we do with it."),
            "legal_basis": "consent",
            "retention_days": 365
        }));
        doc.set("/purposes", Some(json!(list)));
        announce.set(format!("Added purpose {id}."));
    };
    view! {
        <section class="b-section" aria-labelledby="b-purposes-title">
            <h2 id="b-purposes-title">"Purposes"</h2>
            <Problems doc pointer=Signal::derive(|| "/purposes".to_owned())/>
            <ol class="b-purposes-list">
                <For each=move || 0..count() key=|i| *i let:i>
                    <PurposeCard doc index=i announce/>
                </For>
            </ol>
            <button type="button" class="b-add" on:click=add>"Add purpose"</button>
        </section>
    }
}

#[component]
fn PurposeCard(doc: Doc, index: usize, announce: WriteSignal<String>) -> impl IntoView {
    let at = move |rest: &'static str| Signal::derive(move || format!("/purposes/{index}{rest}"));
    let id = move || doc.text(&format!("/purposes/{index}/id"));
    let covers = move || {
        let id = id();
        let covered: Vec<String> = doc.value.with(|v| {
            v.pointer("/fields")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter(|f| {
                    f.get("purposes")
                        .and_then(Value::as_array)
                        .is_some_and(|p| p.iter().any(|p| p.as_str() == Some(id.as_str())))
                })
                .filter_map(|f| f.get("id").and_then(Value::as_str).map(String::from))
                .collect()
        });
        if covered.is_empty() {
            "Covers no field yet.".to_owned()
        } else {
            format!("Covers: {}", covered.join(", "))
        }
    };
    let rename = Callback::new(move |new: String| rename_purpose(doc, index, &new));
    let remove = move |_| {
        let name = id();
        let mut list = doc
            .get("/purposes")
            .and_then(|v| v.as_array().cloned())
            .unwrap_or_default();
        if index < list.len() {
            list.remove(index);
        }
        doc.set("/purposes", Some(json!(list)));
        announce.set(format!(
            "Removed purpose {name}; fields that named it now show a problem."
        ));
    };
    let bases: Vec<(String, String)> = BASES
        .iter()
        .map(|(v, t)| ((*v).to_owned(), (*t).to_owned()))
        .collect();
    let is_banner = move || doc.text("/kind") == "consent";
    view! {
        <li class="b-card" data-purpose=id>
            <div class="b-card-head">
                <span class="b-card-title">{id}</span>
                <span class="b-covers">{covers}</span>
                <button type="button" class="b-remove" aria-label=move || format!("Remove purpose {}", id())
                    on:click=remove>"Remove"</button>
            </div>
            <div class="b-grid">
                <TextInput doc pointer=at("/id") label="Id".into() on_change=rename/>
                <SelectInput doc pointer=at("/legal_basis") label="Legal basis".into() options=bases/>
                <TextInput doc pointer=at("/retention_days") label="Kept for (days)".into() kind=Kind::Number/>
                <CheckInput doc pointer=at("/required") label="Required to submit".into()/>
            </div>
            <LangInputs doc pointer=at("/label") label="Name"/>
            <LangInputs doc pointer=at("/description") label="Description"/>
            <Show when=is_banner>
                <CheckInput doc pointer=at("/sale_or_sharing") label="Sale or sharing (Global Privacy Control refuses it)".into()/>
                <ListInput doc pointer=at("/cookies") label="Cookies removed on withdrawal (comma-separated, prefix*)".into()/>
            </Show>
            <Problems doc pointer=at("")/>
        </li>
    }
}

/// Renames purpose `index` and every field's reference to it.
fn rename_purpose(doc: Doc, index: usize, new: &str) {
    let old = doc.text(&format!("/purposes/{index}/id"));
    doc.value.update(|v| {
        if let Some(purpose) = v.pointer_mut(&format!("/purposes/{index}")) {
            purpose["id"] = json!(new);
        }
        let fields = v.pointer_mut("/fields").and_then(Value::as_array_mut);
        for field in fields.into_iter().flatten() {
            let purposes = field.get_mut("purposes").and_then(Value::as_array_mut);
            for purpose in purposes.into_iter().flatten() {
                if purpose.as_str() == Some(old.as_str()) {
                    *purpose = json!(new);
                }
            }
        }
    });
}
