//! `cargo xtask bench`: will run the benchmarks (crates' `benches/`, widget start-up) and report.
//! Not written yet; the subcommand exists so the task list is complete and discoverable.

use anyhow::{Result, bail};

/// Runs the benchmarks; for now it says that it cannot yet.
pub(crate) fn run() -> Result<()> {
    bail!("not yet: `cargo xtask bench` has no benchmarks to run (benches/ is still to be written)")
}
