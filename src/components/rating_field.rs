//! A rating (1-5, 1-10 or NPS 0-10) as a radio group with a fieldset and legend: native
//! controls, so arrow keys move along the scale.

use formseal_core::config::Field;
use leptos::prelude::*;
use serde_json::Value;

use super::choice_field::RadioChoices;
use super::form_state::FormState;

/// One rating field.
#[component]
pub(crate) fn RatingField(
    /// The form the field belongs to.
    state: FormState,
    /// The rating field.
    field: Field,
) -> impl IntoView {
    let (min, max) = field.scale.map_or((0, 10), |s| s.range());
    let choices = (min..=max)
        .map(|n| (Value::from(n), n.to_string()))
        .collect();
    // NPS and other scales may name their ends ("not at all likely" … "extremely likely").
    let ends = field.end_labels.as_ref().map(|labels| {
        view! {
            <p class="fs-end-labels">
                <span>{min.to_string()} " = " {state.text(&labels.low)}</span>
                <span>{max.to_string()} " = " {state.text(&labels.high)}</span>
            </p>
        }
    });
    view! {
        <RadioChoices state=state field=field choices=choices class="fs-field fs-group fs-rating"/>
        {ends}
    }
}
