//! The one error type of the core. Messages are lowercase, without a trailing period, and never
//! contain key material or a visitor's values: they are shown to site owners and written to logs.

use crate::answers::FieldProblem;
use crate::config::Problem;

/// Everything that can go wrong in the core.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The form config is not valid JSON or does not match the schema.
    #[error("{path}: {message}")]
    ConfigSyntax {
        /// JSON path of the offending value (`fields[2].type`), `$` for the whole document.
        path: String,
        /// What serde found wrong there.
        message: String,
    },
    /// The form config parsed but breaks one or more rules; every problem is listed.
    #[error("{} problem(s) in form config: {}", .0.len(), .0.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("; "))]
    ConfigInvalid(Vec<Problem>),
    /// The visitor's answers break the form's rules; every problem is listed.
    #[error("{} invalid answer(s): {}", .0.len(), .0.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("; "))]
    InvalidAnswers(Vec<FieldProblem>),
    /// A public or private key is malformed, of the wrong type or too small.
    #[error("key: {0}")]
    Key(String),
    /// An encrypted private key did not open: a wrong passphrase (or a damaged file).
    #[error("wrong passphrase for the private key (or the key file is damaged)")]
    Passphrase,
    /// A JWE could not be parsed: wrong number of parts, bad base64url, bad header JSON.
    #[error("malformed envelope: {0}")]
    Malformed(String),
    /// The JWE uses an algorithm formseal does not accept (only RSA-OAEP-256 with A256GCM).
    #[error("unsupported algorithm: {0}")]
    Unsupported(String),
    /// None of the JWE's recipients is the key we hold.
    #[error("no recipient matches key {kid}")]
    NoRecipient {
        /// Thumbprint of the key we tried.
        kid: String,
    },
    /// Decryption failed: the wrong key, or the envelope was altered after sealing.
    #[error("cannot open envelope: wrong key or tampered data")]
    Decrypt,
    /// The decrypted plaintext is not a formseal envelope.
    #[error("envelope content: {0}")]
    Envelope(String),
    /// The random number generator failed; nothing was sealed.
    #[error("random number generator failed")]
    Rng,
    /// Encryption failed for a reason other than the key (should not happen with valid keys).
    #[error("encryption failed: {0}")]
    Encrypt(String),
}

/// Result with the core's [`Error`].
pub type Result<T, E = Error> = core::result::Result<T, E>;
