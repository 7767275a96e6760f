//! Sealing in the browser: the core's submission path (validate → minimise → seal), with the
//! visitor's clock and the browser's random numbers. Async so the cryptography can move to the
//! browser's own WebCrypto without changing callers.
//!
//! Nothing here sends anything; it returns the ciphertext for the delivery queue.

use formseal_core::config::FormConfig;
use formseal_core::envelope::{self, Sealed, SubmissionInput};

/// Validates, minimises and seals one submission to every recipient key of `config`.
///
/// Fails closed: an invalid answer, a bad key or a crypto failure is an error and nothing is
/// sealed. The caller checks the pinned key id before calling this.
pub async fn seal(
    config: &FormConfig,
    input: &SubmissionInput<'_>,
) -> Result<Sealed, formseal_core::Error> {
    envelope::seal_submission(config, input, &mut getrandom::SysRng)
}

/// The current time in Unix seconds, from the visitor's clock (only the hour is kept).
pub fn now_unix() -> i64 {
    (js_sys::Date::now() / 1000.0) as i64
}
