//! `cargo xtask fuzz`: runs the cargo-fuzz targets of `fuzz/` (its own workspace) for a while
//! each. cargo-fuzz needs nightly compiler flags (`-Z sanitizer`); `RUSTC_BOOTSTRAP=1` lets the
//! stable toolchain accept them, so no second toolchain is installed. A crash leaves its input
//! in `fuzz/artifacts/TARGET/` and fails the run.

use anyhow::{Result, bail};

use crate::shell::project_root;
use crate::tools::CARGO_FUZZ;

/// Every target in `fuzz/fuzz_targets/`.
pub(crate) const TARGETS: [&str; 3] = ["jwe", "config", "collector"];

/// How long `cargo xtask test` fuzzes each target, in seconds.
pub(crate) const CI_SECONDS: u32 = 30;

/// What to fuzz and for how long.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Seconds per target.
    #[arg(long, default_value_t = CI_SECONDS)]
    pub(crate) seconds: u32,
    /// Targets to run (default: all of them): jwe, config, collector.
    pub(crate) targets: Vec<String>,
}

/// Builds and runs each target for `args.seconds`.
pub(crate) fn run(args: &Args) -> Result<()> {
    let targets: Vec<&str> = if args.targets.is_empty() {
        TARGETS.to_vec()
    } else {
        args.targets.iter().map(String::as_str).collect()
    };
    if let Some(unknown) = targets.iter().find(|t| !TARGETS.contains(t)) {
        bail!(
            "no fuzz target {unknown:?}; the targets are {}",
            TARGETS.join(", ")
        );
    }
    CARGO_FUZZ.ensure()?;
    let fuzz_dir = project_root().join("fuzz");
    for target in targets {
        // The corpus grows in fuzz/corpus/TARGET (ignored by git), so each run starts where
        // the last one stopped; fuzz/seeds/TARGET (committed: example configs, sealed
        // envelopes) gives it valid inputs to mutate from the first run on.
        let corpus = format!("corpus/{target}");
        std::fs::create_dir_all(fuzz_dir.join(&corpus))?;
        let seeds = format!("seeds/{target}");
        let mut command = CARGO_FUZZ.command();
        command.args(["run", "--release", target, &corpus]);
        if fuzz_dir.join(&seeds).is_dir() {
            command.arg(&seeds);
        }
        crate::shell::run(
            command
                .arg("--")
                .arg(format!("-max_total_time={}", args.seconds))
                .arg("-timeout=10")
                .current_dir(&fuzz_dir)
                .env("RUSTC_BOOTSTRAP", "1"),
        )?;
    }
    Ok(())
}
