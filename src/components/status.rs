//! Where a form is in its life (the `data-state` hook) and the live region that tells the
//! visitor: sending, sent, will retry, failed, or what to correct.

use leptos::prelude::*;

use crate::i18n::{self, Builtin};

/// The state of one form, mirrored in `data-state`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Nothing submitted yet.
    Idle,
    /// Sealing or posting.
    Sending,
    /// The collector acknowledged the envelope (or the anti-abuse checks pretend it did).
    Sent,
    /// Posting failed for now; the envelope is queued and retried.
    Retrying,
    /// Sealing failed or the collector refused the envelope for good.
    Failed,
    /// The answers have problems.
    Error,
    /// The form is closed: past its closing date, or the collector has all the responses it
    /// takes.
    Closed,
}

impl Phase {
    /// The `data-state` value.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Idle => "idle",
            Self::Sending => "sending",
            Self::Sent => "sent",
            Self::Retrying => "retrying",
            Self::Failed => "failed",
            Self::Error => "error",
            Self::Closed => "closed",
        }
    }

    /// Whether the submit button is disabled: a submission is under way or done.
    pub(crate) fn busy(self) -> bool {
        matches!(
            self,
            Self::Sending | Self::Retrying | Self::Sent | Self::Closed
        )
    }
}

/// The polite live region with the form's state in words.
#[component]
pub(crate) fn Status(
    /// The form's state.
    phase: RwSignal<Phase>,
    /// The language of the form.
    lang: String,
    /// The config's success text, when it has one.
    success: Option<String>,
) -> impl IntoView {
    let text = move || match phase.get() {
        Phase::Idle => String::new(),
        Phase::Sending => i18n::builtin(&lang, Builtin::Sending).to_owned(),
        Phase::Sent => success
            .clone()
            .unwrap_or_else(|| i18n::builtin(&lang, Builtin::Success).to_owned()),
        Phase::Retrying => i18n::builtin(&lang, Builtin::WillRetry).to_owned(),
        Phase::Failed => i18n::builtin(&lang, Builtin::Failed).to_owned(),
        Phase::Error => i18n::builtin(&lang, Builtin::FixErrors).to_owned(),
        Phase::Closed => i18n::builtin(&lang, Builtin::FormClosed).to_owned(),
    };
    view! { <p role="status" aria-live="polite" class="fs-status">{text}</p> }
}
