//! `cargo xtask deny`: the dependency checks of `deny.toml` with cargo-deny. Licences, bans and
//! sources need only Cargo.lock and the downloaded crates, so they always run and fail the build.
//! Advisories need the RustSec database from GitHub: when it cannot be fetched (no network, as
//! on machines that reach only the package registries) the check says so and is skipped, rather
//! than failing CI for a missing network; wherever it can be fetched, an advisory fails the run.

use anyhow::Result;

use crate::shell;
use crate::tools::CARGO_DENY;

/// Runs every check that can run here.
pub(crate) fn run() -> Result<()> {
    CARGO_DENY.ensure()?;
    // `--locked`: Cargo.lock as it is (cargo may still download crates of other platforms from
    // crates.io for `cargo metadata`); `--workspace`: the widget, the core, the command and
    // xtask; `-L error`: duplicate versions are warnings (deny.toml), not worth pages of CI log.
    shell::run(CARGO_DENY.command().args([
        "-L",
        "error",
        "--locked",
        "--workspace",
        "check",
        "--hide-inclusion-graph",
        "licenses",
        "bans",
        "sources",
    ]))?;
    advisories()
}

fn advisories() -> Result<()> {
    if let Err(err) = shell::run(CARGO_DENY.command().args(["fetch", "db"])) {
        eprintln!(
            "notice: advisories NOT checked: the RustSec advisory database could not be fetched \
             ({err:#}). The licence, ban and source checks passed. Run `cargo xtask deny` on a \
             machine that reaches GitHub to check advisories too."
        );
        return Ok(());
    }
    shell::run(CARGO_DENY.command().args([
        "--locked",
        "--workspace",
        "check",
        "--hide-inclusion-graph",
        "advisories",
    ]))
}
