//! Fields typed as text: text, email, tel, number, date and textarea, each a native control
//! with its label bound by `for`.

use formseal_core::config::{Field, FieldKind};
use leptos::prelude::*;
use serde_json::Value;

use super::field_notes::FieldNotes;
use super::form_state::FormState;

/// One text-like field.
#[component]
pub(crate) fn TextField(
    /// The form the field belongs to.
    state: FormState,
    /// The field to render (text, email, tel, number, date or textarea).
    field: Field,
) -> impl IntoView {
    let name = state.dom_id(&field.id);
    let kind = field.kind;
    let on_input = {
        let state = state.clone();
        let id = field.id.clone();
        move |text: String| {
            let value = match kind {
                // A number is sent as a number when it is one; otherwise the check says so.
                FieldKind::Number => formseal_core::text::number(text.trim())
                    .and_then(serde_json::Number::from_f64)
                    .map_or(Value::String(text), Value::Number),
                _ => Value::String(text),
            };
            state.set_answer(&id, Some(value));
        }
    };
    let (input_type, autocomplete) = match kind {
        FieldKind::Email => ("email", Some("email")),
        FieldKind::Tel => ("tel", Some("tel")),
        FieldKind::Number => ("number", None),
        FieldKind::Date => ("date", None),
        _ => ("text", None),
    };
    let described = state.described_by(&field);
    let required = field.required.then_some("true");
    let control = if kind == FieldKind::Textarea {
        view! {
            <textarea
                id=name.clone()
                name=name.clone()
                rows="4"
                aria-describedby=described
                aria-required=required
                aria-invalid=state.invalid(&field.id)
                on:input=move |ev| on_input(event_target_value(&ev))
            ></textarea>
        }
        .into_any()
    } else {
        view! {
            <input
                type=input_type
                id=name.clone()
                name=name.clone()
                step=(kind == FieldKind::Number).then_some("any")
                autocomplete=autocomplete
                aria-describedby=described
                aria-required=required
                aria-invalid=state.invalid(&field.id)
                on:input=move |ev| on_input(event_target_value(&ev))
            />
        }
        .into_any()
    };
    view! {
        <div class="fs-field">
            <label for=name class="fs-label">
                {state.label(&field)}
                {field.required.then(|| view! { <span class="fs-required" aria-hidden="true">" *"</span> })}
            </label>
            {control}
            <FieldNotes state=state field=field/>
        </div>
    }
}
