//! The Leptos components of the widget, one per form concept. They render a checked config
//! and collect answers; they never fetch, seal or store anything themselves (see `form.rs` for
//! the submit path, which calls `seal` and `delivery`).

// `#[component]` expands to `pub` props types and functions whatever the declared visibility.
#![allow(unreachable_pub)]

pub(crate) mod checkbox_field;
pub(crate) mod choice_field;
pub(crate) mod consent_banner;
pub(crate) mod field_notes;
pub(crate) mod file_field;
pub(crate) mod form;
pub(crate) mod form_state;
pub(crate) mod honeypot;
pub(crate) mod matrix_field;
pub(crate) mod purpose_toggle;
pub(crate) mod ranking_field;
pub(crate) mod rating_field;
pub(crate) mod status;
pub(crate) mod text_field;
