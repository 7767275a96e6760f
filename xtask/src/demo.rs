//! `cargo xtask demo`: will build the widget and serve the demo pages under `www/`.
//! Not written yet; the subcommand exists so the task list is complete and discoverable.

use anyhow::{Result, bail};

/// Serves the demo; for now it says that it cannot yet.
pub(crate) fn run() -> Result<()> {
    bail!("not yet: `cargo xtask demo` has no demo pages to serve (www/ is still to be written)")
}
