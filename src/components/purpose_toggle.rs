//! One purpose in the privacy settings: a switch with the purpose's name, what is done with the
//! data and how long it is kept. Purposes that need no consent are shown as always on; purposes
//! refused under Global Privacy Control are shown off and locked, with the reason.

use std::collections::BTreeSet;

use formseal_core::config::{LegalBasis, Purpose};
use leptos::prelude::*;

use crate::i18n::{self, Builtin};

/// A switch for one purpose.
#[component]
pub(crate) fn PurposeToggle(
    /// The banner's form id, for element ids.
    form_id: String,
    /// The purpose.
    purpose: Purpose,
    /// The language to show.
    lang: String,
    /// Purposes switched on in the settings layer.
    switches: RwSignal<BTreeSet<String>>,
    /// Whether Global Privacy Control keeps this purpose off.
    gpc_locked: bool,
) -> impl IntoView {
    let dom_id = format!("fs-{form_id}-purpose-{}", purpose.id);
    let described = format!("{dom_id}-about");
    let always_on = purpose.legal_basis != LegalBasis::Consent;
    let id = purpose.id.clone();
    let checked = {
        let id = id.clone();
        move || always_on || switches.with(|s| s.contains(&id))
    };
    let on_change = move |ev| {
        let on = event_target_checked(&ev);
        switches.update(|s| {
            if on {
                s.insert(id.clone());
            } else {
                s.remove(&id);
            }
        });
    };
    let kept = purpose.retention_days.map(|days| {
        format!(
            " ({} {days} {})",
            i18n::builtin(&lang, Builtin::Kept),
            i18n::builtin(&lang, Builtin::Days)
        )
    });
    let note = if always_on {
        Some(i18n::builtin(&lang, Builtin::AlwaysOn))
    } else if gpc_locked {
        Some(i18n::builtin(&lang, Builtin::GpcNote))
    } else {
        None
    };
    view! {
        <li class="fs-purpose-item" data-purpose=purpose.id.clone()>
            <input
                type="checkbox"
                role="switch"
                id=dom_id.clone()
                prop:checked=checked
                disabled=always_on || gpc_locked
                aria-describedby=described.clone()
                on:change=on_change
            />
            <label for=dom_id class="fs-label">{i18n::pick(&purpose.label, &lang)}</label>
            <p id=described class="fs-help">
                {i18n::pick(&purpose.description, &lang)}
                {kept}
                {note.map(|n| view! { <strong class="fs-note">" " {n}</strong> })}
            </p>
        </li>
    }
}
