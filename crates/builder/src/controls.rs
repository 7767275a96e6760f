//! Labelled inputs bound to a JSON pointer of the document, each with the check's problems for
//! that pointer shown right under it (`aria-invalid`, `aria-describedby`).
//!
//! Pointers are signals: a field's index changes when the list is reordered.

use leptos::prelude::*;
use serde_json::{Value, json};

use crate::doc::{Doc, dom_id};

/// The check's problems at `pointer` (or below it), as a list under the control.
#[component]
pub(crate) fn Problems(doc: Doc, pointer: Signal<String>) -> impl IntoView {
    let problems = move || doc.problems_at(&pointer.get());
    view! {
        <ul class="b-problems" id=move || format!("{}-problems", dom_id(&pointer.get()))>
            {move || {
                problems()
                    .into_iter()
                    .map(|p| {
                        let hint = p.hint.map(|h| format!(" ({h})")).unwrap_or_default();
                        view! { <li>{p.message}{hint}</li> }
                    })
                    .collect_view()
            }}
        </ul>
    }
}

/// `aria-invalid` and `aria-describedby` for the control of `pointer`.
fn invalid(doc: Doc, pointer: Signal<String>) -> impl Fn() -> Option<&'static str> + Copy {
    move || (!doc.problems_at(&pointer.get()).is_empty()).then_some("true")
}

fn described(pointer: Signal<String>) -> impl Fn() -> String + Copy {
    move || format!("{}-problems", dom_id(&pointer.get()))
}

/// How a text input's value goes into the document.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A string; empty removes the key.
    Text,
    /// A number; empty removes the key.
    Number,
}

/// A one-line input for the string or number at `pointer`.
#[component]
pub(crate) fn TextInput(
    doc: Doc,
    pointer: Signal<String>,
    label: String,
    #[prop(default = Kind::Text)] kind: Kind,
    /// Called instead of writing the document (a renamed id also renames its references).
    #[prop(optional)]
    on_change: Option<Callback<String>>,
) -> impl IntoView {
    let id = move || dom_id(&pointer.get());
    let write = move |text: String| {
        if let Some(on_change) = on_change {
            on_change.run(text);
            return;
        }
        let value = match kind {
            _ if text.trim().is_empty() => None,
            Kind::Text => Some(json!(text)),
            Kind::Number => Some(
                text.trim()
                    .parse::<u64>()
                    .map(Value::from)
                    .or_else(|_| text.trim().parse::<f64>().map(Value::from))
                    .unwrap_or_else(|_| json!(text)),
            ),
        };
        doc.set(&pointer.get_untracked(), value);
    };
    view! {
        <div class="b-control">
            <label for=id>{label}</label>
            <input
                id=id
                type=if kind == Kind::Number { "number" } else { "text" }
                prop:value=move || doc.text(&pointer.get())
                aria-invalid=invalid(doc, pointer)
                aria-describedby=described(pointer)
                on:input=move |ev| write(event_target_value(&ev))
            />
            <Problems doc pointer/>
        </div>
    }
}

/// One input per language for the text object at `pointer` (a label, a help text).
#[component]
pub(crate) fn LangInputs(doc: Doc, pointer: Signal<String>, label: &'static str) -> impl IntoView {
    let inputs = move || {
        doc.languages()
            .into_iter()
            .map(|lang| {
                let at = Signal::derive({
                    let lang = lang.clone();
                    move || format!("{}/{lang}", pointer.get())
                });
                view! { <TextInput doc pointer=at label=format!("{label} ({lang})")/> }
            })
            .collect_view()
    };
    view! {
        <div class="b-langs">
            {inputs}
            <Problems doc pointer/>
        </div>
    }
}

/// A checkbox for the boolean at `pointer`; unticked removes the key (false is the default).
#[component]
pub(crate) fn CheckInput(doc: Doc, pointer: Signal<String>, label: String) -> impl IntoView {
    let id = move || dom_id(&pointer.get());
    view! {
        <div class="b-control b-check">
            <input
                id=id
                type="checkbox"
                prop:checked=move || doc.get(&pointer.get()) == Some(Value::Bool(true))
                on:change=move |ev| {
                    let on = event_target_checked(&ev);
                    doc.set(&pointer.get_untracked(), on.then_some(Value::Bool(true)));
                }
            />
            <label for=id>{label}</label>
            <Problems doc pointer/>
        </div>
    }
}

/// A drop-down for the string at `pointer`; the option with value "" removes the key.
#[component]
pub(crate) fn SelectInput(
    doc: Doc,
    pointer: Signal<String>,
    label: String,
    /// (value, shown text) of each option.
    options: Vec<(String, String)>,
    /// Called instead of writing the document.
    #[prop(optional)]
    on_change: Option<Callback<String>>,
) -> impl IntoView {
    let id = move || dom_id(&pointer.get());
    let options = options
        .into_iter()
        .map(|(value, text)| {
            let selected = {
                let value = value.clone();
                move || doc.text(&pointer.get()) == value
            };
            view! { <option value=value prop:selected=selected>{text}</option> }
        })
        .collect_view();
    view! {
        <div class="b-control">
            <label for=id>{label}</label>
            <select
                id=id
                aria-invalid=invalid(doc, pointer)
                aria-describedby=described(pointer)
                on:change=move |ev| {
                    let value = event_target_value(&ev);
                    match on_change {
                        Some(on_change) => on_change.run(value),
                        None => doc.set(
                            &pointer.get_untracked(),
                            (!value.is_empty()).then(|| json!(value)),
                        ),
                    }
                }
            >
                {options}
            </select>
            <Problems doc pointer/>
        </div>
    }
}

/// A text input for a list of strings at `pointer`, written comma-separated.
#[component]
pub(crate) fn ListInput(doc: Doc, pointer: Signal<String>, label: String) -> impl IntoView {
    let id = move || dom_id(&pointer.get());
    let shown = move || {
        doc.get(&pointer.get())
            .and_then(|v| v.as_array().cloned())
            .unwrap_or_default()
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(", ")
    };
    view! {
        <div class="b-control">
            <label for=id>{label}</label>
            <input
                id=id
                type="text"
                prop:value=shown
                aria-invalid=invalid(doc, pointer)
                aria-describedby=described(pointer)
                on:change=move |ev| {
                    let items: Vec<Value> = event_target_value(&ev)
                        .split(',')
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(|s| json!(s))
                        .collect();
                    doc.set(&pointer.get_untracked(), (!items.is_empty()).then(|| json!(items)));
                }
            />
            <Problems doc pointer/>
        </div>
    }
}
