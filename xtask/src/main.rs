//! `cargo xtask`: formseal's developer tasks, in Rust so they run wherever cargo does.
//! This file only parses the command line and dispatches; each task lives in its own module.
//! See matklad's cargo-xtask pattern; `.ci/run` is just `cargo xtask test`.

mod bench;
mod bench_collector;
mod compress;
mod demo;
mod deny;
mod fuzz;
mod postgres;
mod shell;
mod size;
mod test;
mod tools;
mod wasm;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Developer tasks for formseal.
#[derive(Parser)]
#[command(name = "cargo xtask", bin_name = "cargo xtask")]
struct Cli {
    #[command(subcommand)]
    task: Task,
}

#[derive(Subcommand)]
enum Task {
    /// Run everything CI runs (installs the tools it needs into the project first).
    Test {
        /// Run the remaining steps after one fails, and list all failures at the end.
        #[arg(long)]
        keep_going: bool,
        /// Run only this step (repeatable), e.g. `--step "cargo test"`; tools always run.
        #[arg(long = "step", value_name = "NAME")]
        only: Vec<String>,
    },
    /// Build the widget for wasm32 into pkg/ (wasm-bindgen + wasm-opt).
    Wasm,
    /// Build the widget and report its transfer size (raw, gzip -9, brotli).
    Size,
    /// Build the widget, make a dev key and serve the demo shop with the collector.
    Demo(demo::Args),
    /// Run the benchmarks (`decrypt`: only the decryption throughput; `pow`: only the proof of
    /// work in chromium).
    Bench(bench::Args),
    /// Load-test the collector on SQLite and PostgreSQL against a bare axum insert (ratios).
    BenchCollector(bench_collector::Args),
    /// Check dependencies with cargo-deny (licences, bans, sources; advisories when the
    /// RustSec database can be fetched).
    Deny,
    /// Fuzz the JWE parser, the config parser and the collector (30 s per target by default).
    Fuzz(fuzz::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.task {
        Task::Test { keep_going, only } => test::run(test::Options { keep_going, only }),
        Task::Wasm => wasm::run(),
        Task::Size => size::run(),
        Task::Demo(args) => demo::run(&args),
        Task::Bench(args) => bench::run(&args),
        Task::BenchCollector(args) => bench_collector::run(&args),
        Task::Deny => deny::run(),
        Task::Fuzz(args) => fuzz::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
