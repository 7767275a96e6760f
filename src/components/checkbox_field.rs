//! A single checkbox: a yes/no question, or a consent box whose purposes are granted when it is
//! ticked (the core counts them; an unticked box leaves its fields unvalidated and unsent).

use formseal_core::config::Field;
use leptos::prelude::*;
use serde_json::Value;

use super::field_notes::FieldNotes;
use super::form_state::FormState;

/// One checkbox or consent field.
#[component]
pub(crate) fn CheckboxField(
    /// The form the field belongs to.
    state: FormState,
    /// The checkbox or consent field.
    field: Field,
) -> impl IntoView {
    let name = state.dom_id(&field.id);
    let on_change = {
        let state = state.clone();
        let id = field.id.clone();
        move |ev| state.set_answer(&id, Some(Value::Bool(event_target_checked(&ev))))
    };
    view! {
        <div class="fs-field fs-check">
            <input
                type="checkbox"
                id=name.clone()
                name=name.clone()
                aria-describedby=state.described_by(&field)
                aria-required=field.required.then_some("true")
                aria-invalid=state.invalid(&field.id)
                on:change=on_change
            />
            <label for=name class="fs-label">
                {state.label(&field)}
                {field.required.then(|| view! { <span class="fs-required" aria-hidden="true">" *"</span> })}
            </label>
            <FieldNotes state=state field=field/>
        </div>
    }
}
