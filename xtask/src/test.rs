//! `cargo xtask test`: everything CI runs, in order ("green locally means green CI"), stopping
//! at the first failure unless `--keep-going`. It installs what it needs into the project first.
//! A new kind of test is one more entry in [`STEPS`]; the browser specs are the `browser` step.

use std::time::Instant;

use anyhow::{Context, Result, bail};

use crate::postgres::Server;
use crate::shell::{self, project_root};
use crate::{deny, tools, wasm};

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
    Step::new(TOOLS, tools),
    Step::new("fmt", fmt),
    Step::new("clippy", clippy),
    Step::new("deny", deny::run),
    Step::new("wasm", wasm::build),
    Step::new("widget", widget),
    Step::new("browser", browser),
    Step::new("fuzz", fuzz),
    Step::new("cargo test", cargo_test),
];

/// How `cargo xtask test` runs its steps.
#[derive(Clone, Default)]
pub(crate) struct Options {
    /// Run the remaining steps after one fails (the tools step still stops the run), and list
    /// every failed step at the end. CI stops at the first failure.
    pub(crate) keep_going: bool,
    /// Run only these steps (by name; the tools step always runs first).
    pub(crate) only: Vec<String>,
}

/// Runs every step; the error names the step (or steps) that failed.
pub(crate) fn run(options: Options) -> Result<()> {
    let start = Instant::now();
    let mut failed = Vec::new();
    if let Some(unknown) = options
        .only
        .iter()
        .find(|name| !STEPS.iter().any(|step| step.name == name.as_str()))
    {
        let known: Vec<&str> = STEPS.iter().map(|step| step.name).collect();
        bail!("no step {unknown:?}; the steps are {}", known.join(", "));
    }
    let chosen = |step: &Step| {
        options.only.is_empty()
            || step.name == TOOLS
            || options.only.iter().any(|name| name == step.name)
    };
    for step in STEPS.iter().filter(|step| chosen(step)) {
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

/// What the build and every test need: the wasm toolchain, the npm packages, chromium,
/// PostgreSQL.
fn tools() -> Result<()> {
    wasm::ensure_tools()?;
    tools::ensure_chromium()?;
    tools::ensure_postgres().map(drop)
}

/// Where the browser specs live: one `*.test.mjs` per user action.
const E2E_DIR: &str = "tests/e2e";

/// The browser end-to-end tests: builds the `formseal` binary (each spec starts its own
/// collector with it, serving `pkg/` and `www/`), then runs every spec in Debian's chromium
/// with node's own test runner.
fn browser() -> Result<()> {
    shell::run(shell::cargo().args(["build", "--package", "formseal-cli", "--bin", "formseal"]))?;
    let dir = project_root().join(E2E_DIR);
    let mut specs: Vec<String> = std::fs::read_dir(&dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|entry| entry.ok())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".test.mjs"))
        .map(|name| format!("{E2E_DIR}/{name}"))
        .collect();
    specs.sort();
    if specs.is_empty() {
        bail!("no *.test.mjs in {E2E_DIR}");
    }
    let formseal = project_root().join("target/debug/formseal");
    shell::run(
        shell::command("node")
            .args(["--test", "--test-reporter=spec"])
            .args(&specs)
            .env("FORMSEAL_BIN", formseal)
            .env("CHROMIUM", tools::CHROMIUM),
    )
}

/// The widget's own tests, compiled to wasm32 and run in headless chromium by
/// wasm-bindgen-test-runner through chromedriver (`tests/widget.rs`).
fn widget() -> Result<()> {
    shell::run(
        shell::cargo()
            .args([
                "test",
                "--package",
                "formseal",
                "--target",
                "wasm32-unknown-unknown",
            ])
            .env(
                "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER",
                tools::wasm_bindgen_test_runner(),
            )
            .env("CHROMEDRIVER", tools::CHROMEDRIVER),
    )
}

/// A short fuzzing run of every target; `cargo xtask fuzz --seconds N` runs longer.
fn fuzz() -> Result<()> {
    crate::fuzz::run(&crate::fuzz::Args {
        seconds: crate::fuzz::CI_SECONDS,
        targets: Vec::new(),
    })
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

/// Every Rust test, with a throwaway PostgreSQL on loopback so that the store and collector
/// tests run against both stores (they fail under `CI=true` without it). The server stops when
/// `server` is dropped, whether the tests passed or not.
fn cargo_test() -> Result<()> {
    let server = Server::start()?;
    shell::run(
        shell::cargo()
            .args(["test", "--workspace"])
            .envs(server.test_env()),
    )
}
