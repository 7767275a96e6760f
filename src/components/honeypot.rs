//! The honeypot: an input that people never see or reach (moved off-screen by the stylesheet,
//! out of the tab order, hidden from screen readers) and that form-filling bots tend to fill.

use leptos::prelude::*;

/// The trap input; `filled` turns true when anything is typed into it.
#[component]
pub(crate) fn Honeypot(
    /// The form id, to keep the input's id unique on the page.
    form_id: String,
    /// Set when the trap has been filled.
    filled: RwSignal<bool>,
) -> impl IntoView {
    let id = format!("fs-{form_id}-website-hp");
    view! {
        <div class="fs-hp" aria-hidden="true">
            <label for=id.clone()>"Website"</label>
            <input
                type="text"
                id=id
                name="fs-website"
                tabindex="-1"
                autocomplete="off"
                on:input=move |ev| filled.set(!event_target_value(&ev).is_empty())
            />
        </div>
    }
}
