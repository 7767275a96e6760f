//! The Leptos components of the widget, one per form concept. They render a checked config
//! and collect answers; they never fetch, seal or store anything themselves (see `form.rs` for
//! the submit path, which calls `seal` and `delivery`).

// `#[component]` expands to `pub` props types and functions whatever the declared visibility.
#![allow(unreachable_pub)]

#[cfg(feature = "forms")]
pub(crate) mod checkbox_field;
#[cfg(feature = "forms")]
pub(crate) mod choice_field;
#[cfg(feature = "banner")]
pub(crate) mod consent_banner;
#[cfg(feature = "forms")]
pub(crate) mod draft;
#[cfg(feature = "forms")]
pub(crate) mod field_notes;
#[cfg(feature = "survey")]
pub(crate) mod file_field;
#[cfg(feature = "forms")]
pub(crate) mod form;
#[cfg(feature = "forms")]
pub(crate) mod form_state;
#[cfg(feature = "forms")]
pub(crate) mod honeypot;
#[cfg(feature = "survey")]
pub(crate) mod matrix_field;
#[cfg(feature = "banner")]
pub(crate) mod purpose_toggle;
#[cfg(feature = "survey")]
pub(crate) mod ranking_field;
#[cfg(feature = "survey")]
pub(crate) mod rating_field;
#[cfg(feature = "forms")]
pub(crate) mod status;
#[cfg(feature = "forms")]
pub(crate) mod text_field;
