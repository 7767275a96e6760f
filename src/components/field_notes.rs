//! The lines under a field: its help text, the purposes it serves with their retention, and
//! its error. Each has the id the field's `aria-describedby` points at.

use formseal_core::config::Field;
use leptos::prelude::*;

use super::form_state::FormState;

/// Help, purpose and error lines of one field.
#[component]
pub(crate) fn FieldNotes(
    /// The form the field belongs to.
    state: FormState,
    /// The field described.
    field: Field,
) -> impl IntoView {
    let base = state.dom_id(&field.id);
    let help = state.help(&field).map(|help| {
        view! { <p id=format!("{base}-help") class="fs-help">{help}</p> }
    });
    let purposes = state.purpose_line(&field);
    let error = state.error(&field.id);
    view! {
        {help}
        <p id=format!("{base}-purpose") class="fs-purpose">{purposes}</p>
        <p id=format!("{base}-error") class="fs-error">{error}</p>
    }
}
