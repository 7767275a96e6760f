//! `cargo xtask test`: everything CI runs, in order, stopping at the first failure ("green
//! locally means green CI"). It installs what it needs into the project first. A new kind of
//! test (say, browser tests) is one more entry in [`STEPS`].

use std::time::Instant;

use anyhow::{Context, Result};

use crate::shell;
use crate::wasm;

/// One named stage of the CI run.
struct Step {
    /// Short name, shown in the `==> name` header and in the error when it fails.
    name: &'static str,
    run: fn() -> Result<()>,
}

/// What CI runs, in order. The cheap checks go first so they fail fast. `cargo test` stays last
/// for now, so that a CI log ends with the test runner's own summary lines.
const STEPS: &[Step] = &[
    Step {
        name: "tools",
        run: wasm::ensure_tools,
    },
    Step {
        name: "fmt",
        run: fmt,
    },
    Step {
        name: "clippy",
        run: clippy,
    },
    Step {
        name: "wasm",
        run: wasm::build,
    },
    Step {
        name: "cargo test",
        run: cargo_test,
    },
];

/// Runs every step; the error names the step that failed.
pub(crate) fn run() -> Result<()> {
    let start = Instant::now();
    for step in STEPS {
        eprintln!("==> {}", step.name);
        let step_start = Instant::now();
        (step.run)().with_context(|| format!("step `{}` failed", step.name))?;
        eprintln!(
            "    {} ok in {:.1}s (total {:.1}s)",
            step.name,
            step_start.elapsed().as_secs_f64(),
            start.elapsed().as_secs_f64()
        );
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
