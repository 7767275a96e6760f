//! The collector behind `formseal serve`, as a library so that its tests drive the HTTP app
//! without a socket (`app(..).oneshot(..)`) and `formseal decrypt --db` / `export` read the same
//! store. The other commands live in the binary (`main.rs`); this root only exposes the collector.

#![cfg_attr(not(test), deny(clippy::unwrap_used))]
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod serve;
