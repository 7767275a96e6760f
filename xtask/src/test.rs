//! `cargo xtask test`: everything CI runs, in order ("green locally means green CI"), stopping
//! at the first failure unless `--keep-going`. It installs what it needs into the project first.
//! A new kind of test is one more entry in [`STEPS`]; the browser specs are the `browser` step.

use std::os::unix::process::CommandExt;
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

/// What CI runs, in order. The cheap checks go first so they fail fast. The `clippy` step builds
/// every host test too (clippy is the compiler of the workspace's crates in that build), so the
/// browser step and `cargo test` compile nothing of their own. The fuzz step starts in the
/// background after `clippy` (see [`Fuzz`]): its instrumented build and the fuzzing use the core
/// that the wasm link, the wasm tests and the browser specs leave idle. `cargo test` stays last,
/// so that a CI log ends with the test runner's own summary lines.
const STEPS: &[Step] = &[
    Step::new(TOOLS, tools),
    Step::new("fmt", fmt),
    Step::new("deny", deny::run),
    Step::new("clippy", clippy),
    Step::new(FUZZ, fuzz),
    Step::new("wasm", wasm_linted),
    Step::new("widget", widget),
    Step::new("browser", browser),
    Step::new(FUZZ_WAIT, fuzz_wait),
    Step::new("cargo test", cargo_test),
];

/// The step that starts fuzzing in the background, and the one that waits for it.
const FUZZ: &str = "fuzz";
const FUZZ_WAIT: &str = "fuzz (wait)";

/// How `cargo xtask test` runs its steps.
#[derive(Clone, Default)]
pub(crate) struct Options {
    /// Run the remaining steps after one fails (the tools step still stops the run), and list
    /// every failed step at the end. CI stops at the first failure.
    pub(crate) keep_going: bool,
    /// Run only these steps (by name; the tools step always runs first).
    pub(crate) only: Vec<String>,
}

/// Runs every step; the error names the step (or steps) that failed. Each step's time and the
/// total are printed after each step and once more, as a table, at the end.
pub(crate) fn run(options: Options) -> Result<()> {
    let start = Instant::now();
    let mut failed = Vec::new();
    let mut times: Vec<(&str, f64, bool)> = Vec::new();
    if let Some(unknown) = options
        .only
        .iter()
        .find(|name| !STEPS.iter().any(|step| step.name == name.as_str()))
    {
        let known: Vec<&str> = STEPS
            .iter()
            .map(|step| step.name)
            .filter(|name| *name != FUZZ_WAIT)
            .collect();
        bail!("no step {unknown:?}; the steps are {}", known.join(", "));
    }
    let chosen = |step: &Step| {
        options.only.is_empty()
            || step.name == TOOLS
            || options.only.iter().any(|name| name == step.name)
            || (step.name == FUZZ_WAIT && options.only.iter().any(|name| name == FUZZ))
    };
    for step in STEPS.iter().filter(|step| chosen(step)) {
        eprintln!("==> {}", step.name);
        let step_start = Instant::now();
        let result = (step.run)().with_context(|| format!("step `{}` failed", step.name));
        let took = step_start.elapsed().as_secs_f64();
        times.push((step.name, took, result.is_ok()));
        match result {
            Ok(()) => eprintln!(
                "    {} ok in {took:.1}s (total {:.1}s)",
                step.name,
                start.elapsed().as_secs_f64()
            ),
            Err(err) if options.keep_going && step.name != TOOLS => {
                eprintln!("error: {err:#}");
                failed.push(step.name);
            }
            Err(err) => {
                stop_fuzzing();
                print_times(&times, start);
                return Err(err);
            }
        }
    }
    print_times(&times, start);
    if !failed.is_empty() {
        bail!("steps failed: {}", failed.join(", "));
    }
    Ok(())
}

/// The time of every step that ran, and the total, for the end of the log.
fn print_times(times: &[(&str, f64, bool)], start: Instant) {
    eprintln!("==> times");
    for (name, secs, ok) in times {
        let mark = if *ok { "ok" } else { "FAILED" };
        eprintln!("    {name:<12} {:>6.1} min  {mark}", secs / 60.0);
    }
    eprintln!(
        "    {:<12} {:>6.1} min",
        "total",
        start.elapsed().as_secs_f64() / 60.0
    );
}

/// What the build and every test need: the wasm toolchain, the npm packages, chromium,
/// PostgreSQL, the Python virtualenv.
fn tools() -> Result<()> {
    wasm::ensure_tools()?;
    tools::ensure_chromium()?;
    tools::ensure_python_venv()?;
    tools::ensure_postgres().map(drop)
}

/// Where the browser specs live: one `*.test.mjs` per user action.
const E2E_DIR: &str = "tests/e2e";

/// The browser end-to-end tests: every spec starts its own collector with the `formseal` binary
/// of the host test build (serving `pkg/` and `www/`) and drives Debian's chromium, under node's
/// own test runner.
fn browser() -> Result<()> {
    // A no-op after the clippy step; it makes `--step browser` work on its own.
    shell::run(&mut host_tests(["--all-targets", "--no-run"]))?;
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
    let formseal = shell::target_dir().join("debug/formseal");
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

/// Where the background fuzz run writes its output.
fn fuzz_log() -> std::path::PathBuf {
    shell::target_dir().join("fuzz.log")
}

thread_local! {
    /// The background fuzz run, between the [`FUZZ`] and [`FUZZ_WAIT`] steps.
    static FUZZING: std::cell::RefCell<Option<std::process::Child>> = const { std::cell::RefCell::new(None) };
}

/// Starts a short fuzzing run of every target (`cargo xtask fuzz`, 30 s each) in the background,
/// its output going to `target/fuzz.log`; [`fuzz_wait`] waits for it and prints that log.
/// `cargo xtask fuzz --seconds N` runs longer, in the foreground.
fn fuzz() -> Result<()> {
    // Installing cargo-fuzz is done here, in the foreground, so that its output is in the log.
    crate::tools::CARGO_FUZZ.ensure()?;
    let log_path = fuzz_log();
    if let Some(dir) = log_path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let log = std::fs::File::create(&log_path)
        .with_context(|| format!("creating {}", log_path.display()))?;
    // A process group of its own, so that stopping it stops cargo-fuzz, rustc and the fuzzer.
    let child = shell::command(std::env::current_exe()?)
        .args(["fuzz", "--seconds", &crate::fuzz::CI_SECONDS.to_string()])
        .process_group(0)
        .stdout(log.try_clone()?)
        .stderr(log)
        .spawn()
        .context("starting `cargo xtask fuzz` in the background")?;
    eprintln!(
        "    fuzzing in the background (pid {}); output: {}",
        child.id(),
        log_path.display()
    );
    FUZZING.with(|f| *f.borrow_mut() = Some(child));
    Ok(())
}

/// Ends a background fuzz run that nobody will wait for (the run stops at a failed step).
fn stop_fuzzing() {
    if let Some(mut child) = FUZZING.with(|f| f.borrow_mut().take()) {
        let group = format!("-{}", child.id());
        let _ = std::process::Command::new("kill")
            .args(["-TERM", "--", &group])
            .status();
        let _ = child.wait();
    }
}

/// Waits for the background fuzz run, prints its output and fails when it failed.
fn fuzz_wait() -> Result<()> {
    let Some(mut child) = FUZZING.with(|f| f.borrow_mut().take()) else {
        bail!("the fuzz step did not start a fuzz run");
    };
    let status = child
        .wait()
        .context("waiting for the background fuzz run")?;
    let log = std::fs::read_to_string(fuzz_log()).unwrap_or_default();
    eprint!("{log}");
    if !status.success() {
        bail!("`cargo xtask fuzz` failed ({status}); its output is above and in target/fuzz.log");
    }
    Ok(())
}

fn fmt() -> Result<()> {
    shell::run(shell::cargo().args(["fmt", "--all", "--", "--check"]))
}

/// Clippy with `-D warnings` on every crate and target of the workspace, as `cargo clippy
/// --workspace --all-targets -- -D warnings` does, but in a full build of the host tests: cargo
/// clippy is `cargo check` with `clippy-driver` as the workspace's compiler, and the driver also
/// compiles. So one build serves clippy, the browser step's `formseal` binary and `cargo test`,
/// instead of a check build of every dependency and then a real one.
fn clippy() -> Result<()> {
    shell::run(&mut host_tests(["--all-targets", "--no-run"]))
}

/// `cargo test --workspace ARGS` with clippy as the compiler of the workspace's crates (see
/// [`clippy`]); every caller sets the same, so that no step rebuilds another's crates.
fn host_tests<const N: usize>(args: [&str; N]) -> std::process::Command {
    let mut cmd = shell::cargo();
    cmd.args(["test", "--workspace"]).args(args);
    shell::lint_with_clippy(&mut cmd);
    cmd
}

/// `pkg/`, each bundle (and the builder) linted with clippy for wasm32 with its own features as
/// it is built: the host clippy step sees only the default features, which the bundles split.
fn wasm_linted() -> Result<()> {
    wasm::build_with(wasm::Lint::Clippy)
}

/// Every Rust test, with a throwaway PostgreSQL on loopback so that the store and collector
/// tests run against both stores (they fail under `CI=true` without it). The server stops when
/// `server` is dropped, whether the tests passed or not. The default targets and the doc tests:
/// the clippy step built them already (as part of `--all-targets`).
fn cargo_test() -> Result<()> {
    let server = Server::start()?;
    shell::run(host_tests([]).envs(server.test_env()))
}
