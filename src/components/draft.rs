//! Drafts, for a form whose config opts in with `save_draft`: unfinished answers kept in the
//! visitor's own `localStorage` (`formseal:draft:FORM_ID`), put back into the inputs on the next
//! visit, and removed once the answers are sealed or when the visitor clears them. They never
//! leave the browser. Files and rankings are not kept (a file's bytes do not belong in storage,
//! and a ranking's order lives in its list).

use formseal_core::answers::Answers;
use formseal_core::config::{FieldKind, FormConfig};
use serde_json::Value;
use wasm_bindgen::JsCast;
use web_sys::{
    Element, HtmlInputElement, HtmlOptionElement, HtmlSelectElement, HtmlTextAreaElement,
};

use crate::page;

fn key(form_id: &str) -> String {
    format!("formseal:draft:{form_id}")
}

/// Whether a field's answer may be kept in a draft: not files, rankings, hidden values, or
/// choices with an "other" text (their controls keep state of their own).
fn keepable(config: &FormConfig, field_id: &str) -> bool {
    config.field(field_id).is_some_and(|f| {
        !matches!(
            f.kind,
            FieldKind::File | FieldKind::Ranking | FieldKind::Hidden
        ) && f.other.is_none()
    })
}

/// The stored draft of `config`'s form, without anything a draft may not hold.
pub(crate) fn load(config: &FormConfig) -> Answers {
    let Some(text) =
        page::local_storage().and_then(|s| s.get_item(&key(&config.id)).ok().flatten())
    else {
        return Answers::new();
    };
    let mut answers: Answers = crate::page::from_json(&text).unwrap_or_default();
    answers.retain(|id, _| keepable(config, id));
    answers
}

/// Keeps `answers` (those a draft may hold) as the form's draft.
pub(crate) fn save(config: &FormConfig, answers: &Answers) {
    let Some(storage) = page::local_storage() else {
        return;
    };
    let mut kept = answers.clone();
    kept.retain(|id, _| keepable(config, id));
    if kept.is_empty() {
        let _ = storage.remove_item(&key(&config.id));
    } else if let Ok(json) = serde_json::to_string(&kept) {
        let _ = storage.set_item(&key(&config.id), &json);
    }
}

/// Removes the form's draft.
pub(crate) fn clear(form_id: &str) {
    if let Some(storage) = page::local_storage() {
        let _ = storage.remove_item(&key(form_id));
    }
}

/// Puts a draft's answers back into the rendered inputs of `form`, whose ids follow
/// `fs-FORM-FIELD` (radio groups `-N`, matrix rows `-ROW-COL`) and whose radios are named after
/// their field (matrix rows: `fs-FORM-FIELD-ROW`).
pub(crate) fn restore_inputs(form: &Element, config: &FormConfig, answers: &Answers) {
    for (id, value) in answers {
        let Some(field) = config.field(id) else {
            continue;
        };
        let base = format!("fs-{}-{id}", config.id);
        match (field.kind, value) {
            (FieldKind::Checkbox | FieldKind::Consent, Value::Bool(on)) => {
                if let Some(input) = by_id::<HtmlInputElement>(form, &base) {
                    input.set_checked(*on);
                }
            }
            (FieldKind::Select, _) => {
                if let Some(select) = by_id::<HtmlSelectElement>(form, &base) {
                    let wanted = strings(value);
                    let options = select.options();
                    for i in 0..options.length() {
                        if let Some(option) = options
                            .item(i)
                            .and_then(|o| o.dyn_into::<HtmlOptionElement>().ok())
                        {
                            option.set_selected(wanted.contains(&option.value()));
                        }
                    }
                }
            }
            (FieldKind::Matrix, Value::Object(rows)) => {
                for (row, statement) in field.statements.iter().enumerate() {
                    if let Some(Value::String(choice)) = rows.get(&statement.value) {
                        check_value(form, &format!("{base}-{row}"), choice);
                    }
                }
            }
            (FieldKind::Radio | FieldKind::Likert | FieldKind::Rating, _) => {
                // Radio groups and rating scales: inputs named after the field.
                for wanted in strings(value) {
                    check_value(form, &base, &wanted);
                }
            }
            (_, Value::String(text)) => {
                if let Some(input) = by_id::<HtmlInputElement>(form, &base) {
                    input.set_value(text);
                } else if let Some(area) = by_id::<HtmlTextAreaElement>(form, &base) {
                    area.set_value(text);
                }
            }
            (_, Value::Number(n)) => {
                if let Some(input) = by_id::<HtmlInputElement>(form, &base) {
                    input.set_value(&n.to_string());
                }
            }
            _ => {}
        }
    }
}

fn by_id<T: JsCast>(form: &Element, id: &str) -> Option<T> {
    form.query_selector(&format!("[id=\"{id}\"]"))
        .ok()
        .flatten()
        .and_then(|e| e.dyn_into::<T>().ok())
}

/// Ticks the input named `name` whose value is `value`.
fn check_value(form: &Element, name: &str, value: &str) {
    let Ok(inputs) = form.query_selector_all(&format!("input[name=\"{name}\"]")) else {
        return;
    };
    for i in 0..inputs.length() {
        if let Some(input) = inputs
            .item(i)
            .and_then(|n| n.dyn_into::<HtmlInputElement>().ok())
            && input.value() == value
        {
            input.set_checked(true);
        }
    }
}

/// A value as the strings an input holds (numbers as written, arrays item by item).
fn strings(value: &Value) -> Vec<String> {
    match value {
        Value::String(s) => vec![s.clone()],
        Value::Number(n) => vec![n.to_string()],
        Value::Array(items) => items.iter().flat_map(strings).collect(),
        _ => Vec::new(),
    }
}
