//! `cargo xtask test`: everything CI runs, in order ("green locally means green CI"), stopping
//! at the first failure unless `--keep-going`. It installs what it needs into the project first.
//! A new kind of test (say, browser tests) is one more entry in [`STEPS`].

use std::time::Instant;

use anyhow::{Context, Result, bail};

use crate::shell;
use crate::wasm;

/// One named stage of the CI run.
struct Step {
    /// Short name, shown in the `==> name` header and in the error when it fails.
    name: &'static str,
    run: fn() -> Result<()>,
}

impl Step {
    const fn new(name: &'static str, run: fn() -> Result<()>) -> Self {
        Self { name, run }
    }
}

/// The step every other one needs; it never lets the run go on when it fails.
const TOOLS: &str = "tools";

/// What CI runs, in order. The cheap checks go first so they fail fast. `cargo test` stays last
/// for now, so that a CI log ends with the test runner's own summary lines.
const STEPS: &[Step] = &[
    Step::new(TOOLS, wasm::ensure_tools),
    Step::new("fmt", fmt),
    Step::new("clippy", clippy),
    Step::new("wasm", wasm::build),
    Step::new("cargo test", cargo_test),
];

/// How `cargo xtask test` runs its steps.
#[derive(Clone, Copy, Default)]
pub(crate) struct Options {
    /// Run the remaining steps after one fails (the tools step still stops the run), and list
    /// every failed step at the end. CI stops at the first failure.
    pub(crate) keep_going: bool,
}

/// Runs every step; the error names the step (or steps) that failed.
pub(crate) fn run(options: Options) -> Result<()> {
    let start = Instant::now();
    let mut failed = Vec::new();
    for step in STEPS {
        eprintln!("==> {}", step.name);
        let step_start = Instant::now();
        let result = (step.run)().with_context(|| format!("step `{}` failed", step.name));
        match result {
            Ok(()) => eprintln!(
                "    {} ok in {:.1}s (total {:.1}s)",
                step.name,
                step_start.elapsed().as_secs_f64(),
                start.elapsed().as_secs_f64()
            ),
            Err(err) if options.keep_going && step.name != TOOLS => {
                eprintln!("error: {err:#}");
                failed.push(step.name);
            }
            Err(err) => return Err(err),
        }
    }
    if !failed.is_empty() {
        bail!("steps failed: {}", failed.join(", "));
    }
    Ok(())
}

fn fmt() -> Result<()> {
    shell::run(shell::cargo().args(["fmt", "--all", "--", "--check"]))
}

fn clippy() -> Result<()> {
    shell::run(shell::cargo().args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]))
}

fn cargo_test() -> Result<()> {
    shell::run(shell::cargo().args(["test", "--workspace"]))
}
