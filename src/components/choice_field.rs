//! Fields with a fixed set of answers: a select (one answer, or several with `multiple`) or a
//! group of radio buttons in a fieldset whose legend is the label.

use formseal_core::config::{Field, FieldKind};
use leptos::prelude::*;
use serde_json::Value;
use wasm_bindgen::JsCast;
use web_sys::{HtmlOptionElement, HtmlSelectElement};

use super::field_notes::FieldNotes;
use super::form_state::FormState;

/// One select or radio field.
#[component]
pub(crate) fn ChoiceField(
    /// The form the field belongs to.
    state: FormState,
    /// The field to render (select or radio).
    field: Field,
) -> impl IntoView {
    if matches!(field.kind, FieldKind::Radio | FieldKind::Likert) {
        view! { <RadioGroup state=state field=field/> }.into_any()
    } else if field.multiple && field.other.is_some() {
        view! { <CheckboxGroup state=state field=field/> }.into_any()
    } else {
        view! { <Select state=state field=field/> }.into_any()
    }
}

/// Several answers with an "other" choice: a group of checkboxes, the last with a free text.
#[component]
fn CheckboxGroup(state: FormState, field: Field) -> impl IntoView {
    let name = state.dom_id(&field.id);
    let chosen = RwSignal::new(Vec::<String>::new());
    let other_on = RwSignal::new(false);
    let other_text = RwSignal::new(String::new());
    let record = {
        let state = state.clone();
        let id = field.id.clone();
        move || {
            let mut values: Vec<Value> = chosen
                .get_untracked()
                .into_iter()
                .map(Value::String)
                .collect();
            let text = other_text.get_untracked();
            if other_on.get_untracked() && !text.trim().is_empty() {
                values.push(serde_json::json!({ "other": text }));
            }
            state.set_answer(&id, Some(Value::Array(values)));
        }
    };
    let boxes = field
        .options
        .iter()
        .enumerate()
        .map(|(i, option)| {
            let id = format!("{name}-{i}");
            let value = option.value.clone();
            let record = record.clone();
            let on_change = move |ev| {
                let on = event_target_checked(&ev);
                chosen.update(|c| {
                    c.retain(|v| v != &value);
                    if on {
                        c.push(value.clone());
                    }
                });
                record();
            };
            view! {
                <span class="fs-option">
                    <input type="checkbox" id=id.clone() name=name.clone()
                        value=option.value.clone() on:change=on_change/>
                    <label for=id>{state.text(&option.label)}</label>
                </span>
            }
        })
        .collect_view();
    let other = field.other.as_ref().map(|other| {
        let box_id = format!("{name}-other");
        let text_id = format!("{name}-other-text");
        let on_box = {
            let record = record.clone();
            move |ev| {
                other_on.set(event_target_checked(&ev));
                record();
            }
        };
        let record = record.clone();
        let on_text = move |ev| {
            other_text.set(event_target_value(&ev));
            record();
        };
        let label = state.text(&other.label);
        view! {
            <span class="fs-option fs-other">
                <input type="checkbox" id=box_id.clone() on:change=on_box/>
                <label for=box_id>{label.clone()}</label>
                <input type="text" id=text_id class="fs-other-text" aria-label=label
                    maxlength=other.max_chars() disabled=move || !other_on.get()
                    on:input=on_text/>
            </span>
        }
    });
    let described = state.described_by(&field);
    let invalid = state.invalid(&field.id);
    let required = field.required;
    let label = state.label(&field);
    view! {
        <fieldset
            class="fs-field fs-group"
            aria-describedby=described
            aria-invalid=invalid
        >
            <legend class="fs-label">
                {label}
                {required.then(|| view! { <span class="fs-required" aria-hidden="true">" *"</span> })}
            </legend>
            <div class="fs-options">{boxes}{other}</div>
            <FieldNotes state=state field=field/>
        </fieldset>
    }
}

/// A native `<select>`, with an empty first choice unless several answers are allowed.
#[component]
fn Select(state: FormState, field: Field) -> impl IntoView {
    let name = state.dom_id(&field.id);
    let multiple = field.multiple;
    let on_change = {
        let state = state.clone();
        let id = field.id.clone();
        move |ev: web_sys::Event| {
            let Some(select) = ev
                .target()
                .and_then(|t| t.dyn_into::<HtmlSelectElement>().ok())
            else {
                return;
            };
            let value = if multiple {
                let chosen = select.selected_options();
                let values: Vec<Value> = (0..chosen.length())
                    .filter_map(|i| chosen.item(i))
                    .filter_map(|o| o.dyn_into::<HtmlOptionElement>().ok())
                    .map(|o| Value::String(o.value()))
                    .collect();
                Value::Array(values)
            } else {
                Value::String(select.value())
            };
            state.set_answer(&id, Some(value));
        }
    };
    let options = field
        .options
        .iter()
        .map(|o| view! { <option value=o.value.clone()>{state.text(&o.label)}</option> })
        .collect_view();
    view! {
        <div class="fs-field">
            <label for=name.clone() class="fs-label">
                {state.label(&field)}
                {field.required.then(|| view! { <span class="fs-required" aria-hidden="true">" *"</span> })}
            </label>
            <select
                id=name.clone()
                name=name
                multiple=multiple
                aria-describedby=state.described_by(&field)
                aria-required=field.required.then_some("true")
                aria-invalid=state.invalid(&field.id)
                on:change=on_change
            >
                {(!multiple).then(|| view! { <option value="">"—"</option> })}
                {options}
            </select>
            <FieldNotes state=state field=field/>
        </div>
    }
}

/// A radio group in a fieldset; each radio has its own bound label.
#[component]
fn RadioGroup(state: FormState, field: Field) -> impl IntoView {
    let choices = field
        .options
        .iter()
        .map(|o| (Value::String(o.value.clone()), state.text(&o.label)))
        .collect();
    view! { <RadioChoices state=state field=field choices=choices class="fs-field fs-group"/> }
}

/// The shared markup of radio groups and rating scales.
#[component]
pub(crate) fn RadioChoices(
    /// The form the field belongs to.
    state: FormState,
    /// The field answered by the group.
    field: Field,
    /// Each radio's value and label, in order.
    choices: Vec<(Value, String)>,
    /// The fieldset's class.
    class: &'static str,
) -> impl IntoView {
    let name = state.dom_id(&field.id);
    let radios = choices
        .into_iter()
        .enumerate()
        .map(|(i, (value, label))| {
            let id = format!("{name}-{i}");
            let text = match &value {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            let state = state.clone();
            let field_id = field.id.clone();
            view! {
                <span class="fs-option">
                    <input
                        type="radio"
                        id=id.clone()
                        name=name.clone()
                        value=text
                        on:change=move |_| state.set_answer(&field_id, Some(value.clone()))
                    />
                    <label for=id>{label}</label>
                </span>
            }
        })
        .collect_view();
    let described = state.described_by(&field);
    let invalid = state.invalid(&field.id);
    let required = field.required;
    let label = state.label(&field);
    view! {
        <fieldset
            class=class
            role="radiogroup"
            aria-describedby=described
            aria-required=required.then_some("true")
            aria-invalid=invalid
        >
            <legend class="fs-label">
                {label}
                {required.then(|| view! { <span class="fs-required" aria-hidden="true">" *"</span> })}
            </legend>
            <div class="fs-options">{radios}</div>
            <FieldNotes state=state field=field/>
        </fieldset>
    }
}
