//! A matrix: several statements rated on the same scale. Each statement is its own radio group
//! (a fieldset whose legend is the statement) inside the field's fieldset, so every radio has a
//! bound label and arrow keys move along each row.

use formseal_core::config::Field;
use leptos::prelude::*;
use serde_json::{Map, Value};

use super::field_notes::FieldNotes;
use super::form_state::FormState;

/// One matrix field; its answer is `{statement: option}`.
#[component]
pub(crate) fn MatrixField(
    /// The form the field belongs to.
    state: FormState,
    /// The matrix field.
    field: Field,
) -> impl IntoView {
    let name = state.dom_id(&field.id);
    let rows = field
        .statements
        .iter()
        .enumerate()
        .map(|(row, statement)| {
            let radios = field
                .options
                .iter()
                .enumerate()
                .map(|(col, option)| {
                    let id = format!("{name}-{row}-{col}");
                    let label = state.text(&option.label);
                    let state = state.clone();
                    let field_id = field.id.clone();
                    let statement = statement.value.clone();
                    let value = option.value.clone();
                    let on_change = move |_| {
                        let mut rows = state
                            .answers
                            .with_untracked(|a| a.get(&field_id).cloned())
                            .and_then(|v| v.as_object().cloned())
                            .unwrap_or_else(Map::new);
                        rows.insert(statement.clone(), Value::String(value.clone()));
                        state.set_answer(&field_id, Some(Value::Object(rows)));
                    };
                    view! {
                        <span class="fs-option">
                            <input type="radio" id=id.clone() name=format!("{name}-{row}")
                                value=option.value.clone() on:change=on_change/>
                            <label for=id>{label}</label>
                        </span>
                    }
                })
                .collect_view();
            view! {
                <fieldset class="fs-matrix-row" role="radiogroup">
                    <legend>{state.text(&statement.label)}</legend>
                    <div class="fs-options">{radios}</div>
                </fieldset>
            }
        })
        .collect_view();
    let required = field.required;
    let described = state.described_by(&field);
    let invalid = state.invalid(&field.id);
    let label = state.label(&field);
    view! {
        <fieldset
            class="fs-field fs-group fs-matrix"
            id=name
            tabindex="-1"
            aria-describedby=described
            aria-invalid=invalid
        >
            <legend class="fs-label">
                {label}
                {required.then(|| view! { <span class="fs-required" aria-hidden="true">" *"</span> })}
            </legend>
            {rows}
            <FieldNotes state=state.clone() field=field/>
        </fieldset>
    }
}
