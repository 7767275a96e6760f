//! formseal-core: everything about a submission that does not need a browser, a network or a disk.
//!
//! It parses and validates form configs, minimises answers against the visitor's consent, and
//! seals the result as a JWE to the company's public key (opening lives behind the `open`
//! feature, which the widget does not enable). It does no I/O and builds for wasm32 and native.

#![cfg_attr(not(test), deny(clippy::unwrap_used))]

pub mod answers;
pub mod config;
pub mod consent;
pub mod embed;
pub mod envelope;
pub mod error;
pub mod jwe;
pub mod keys;
pub mod logic;
pub mod minimise;
pub mod retention;
pub mod text;
pub mod time;
pub mod upload;

pub use error::{Error, Result};
