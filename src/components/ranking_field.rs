//! A ranking: the options in an ordered list, each with Move up / Move down buttons, so the
//! order can be changed with the keyboard alone; focus follows the moved option, so pressing a
//! button again moves it further. The answer is the option values in order; it is recorded from
//! the first move on.

use formseal_core::config::Field;
use leptos::html;
use leptos::prelude::*;
use serde_json::Value;
use wasm_bindgen::JsCast;

use super::field_notes::FieldNotes;
use super::form_state::FormState;
use crate::i18n::{self, Builtin};
use crate::page;

/// One ranking field.
#[component]
pub(crate) fn RankingField(
    /// The form the field belongs to.
    state: FormState,
    /// The ranking field.
    field: Field,
) -> impl IntoView {
    let name = state.dom_id(&field.id);
    let order = RwSignal::new((0..field.options.len()).collect::<Vec<usize>>());
    let list = NodeRef::<html::Ol>::new();
    let field_id = field.id.clone();
    let options = field.options.clone();
    let record = {
        let state = state.clone();
        let options = options.clone();
        move || {
            let values = order
                .get_untracked()
                .iter()
                .map(|&i| Value::String(options[i].value.clone()))
                .collect();
            state.set_answer(&field_id, Some(Value::Array(values)));
        }
    };
    let up = i18n::builtin(&state.lang, Builtin::MoveUp);
    let down = i18n::builtin(&state.lang, Builtin::MoveDown);
    let items = {
        let state = state.clone();
        let name = name.clone();
        move || {
            let current = order.get();
            let last = current.len().saturating_sub(1);
            current
                .iter()
                .enumerate()
                .map(|(at, &option)| {
                    let label = state.text(&options[option].label);
                    let swap = {
                        let record = record.clone();
                        let value = options[option].value.clone();
                        move |with: usize| {
                            order.update(|o| o.swap(at, with));
                            record();
                            refocus(list, value.clone(), with > at);
                        }
                    };
                    let swap_down = swap.clone();
                    view! {
                        <li class="fs-rank" data-option=options[option].value.clone()>
                            <span id=format!("{name}-{option}")>{label.clone()}</span>
                            <button type="button" class="fs-link" disabled=at == 0
                                aria-label=format!("{up}: {label}")
                                on:click=move |_| swap(at.saturating_sub(1))>"↑"</button>
                            <button type="button" class="fs-link" disabled=at == last
                                aria-label=format!("{down}: {label}")
                                on:click=move |_| swap_down((at + 1).min(last))>"↓"</button>
                        </li>
                    }
                })
                .collect_view()
        }
    };
    let required = field.required;
    let described = state.described_by(&field);
    let invalid = state.invalid(&field.id);
    let label = state.label(&field);
    view! {
        <fieldset
            class="fs-field fs-group fs-ranking"
            id=name
            tabindex="-1"
            aria-describedby=described
            aria-invalid=invalid
        >
            <legend class="fs-label">
                {label}
                {required.then(|| view! { <span class="fs-required" aria-hidden="true">" *"</span> })}
            </legend>
            <ol class="fs-ranks" node_ref=list>{items}</ol>
            <FieldNotes state=state.clone() field=field/>
        </fieldset>
    }
}

/// After a move, focuses the moved option's button of the same direction (its other one once it
/// reached the end of the list), once the list shows the new order.
fn refocus(list: NodeRef<html::Ol>, value: String, down: bool) {
    page::set_timeout(0.0, move || {
        let Some(list) = list.get_untracked() else {
            return;
        };
        let items = list.children();
        let Some(item) = (0..items.length())
            .filter_map(|i| items.item(i))
            .find(|item| item.get_attribute("data-option").as_deref() == Some(value.as_str()))
        else {
            return;
        };
        let buttons = item.get_elements_by_tag_name("button");
        let order = if down { [1, 0] } else { [0, 1] };
        if let Some(button) = order
            .into_iter()
            .filter_map(|i| buttons.item(i))
            .find(|b| !b.has_attribute("disabled"))
            .and_then(|b| b.dyn_into::<web_sys::HtmlElement>().ok())
        {
            let _ = button.focus();
        }
    });
}
