//! `cargo xtask bench-collector`: the collector under load on SQLite and on PostgreSQL, next to a
//! bare axum handler that inserts the same bytes into the same kind of database in the same run
//! (`crates/cli/benches/collector.rs` has the load generator and both servers). This task starts
//! the throwaway PostgreSQL, runs the bench in release mode and leaves the numbers on stdout and
//! in `target/bench-collector.json`, with the proof of work's cost per request under `pow`
//! (`verify_us`; `spend_us` and the baseline `insert_us` per store). Nothing is asserted.

use anyhow::Result;

use crate::postgres::Server;
use crate::shell::{self, project_root};

/// How much load; the bench stops at whichever bound comes first.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Requests per server (each a distinct sealed envelope).
    #[arg(long, default_value_t = 20_000)]
    requests: usize,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// Longest run per server, in seconds.
    #[arg(long, default_value_t = 30)]
    seconds: u64,
}

pub(crate) fn run(args: &Args) -> Result<()> {
    let server = Server::start()?;
    let json = project_root().join("target/bench-collector.json");
    shell::run(
        shell::cargo()
            .args(["bench", "-p", "formseal-cli", "--bench", "collector", "--"])
            .args(["--requests", &args.requests.to_string()])
            .args(["--concurrency", &args.concurrency.to_string()])
            .args(["--seconds", &args.seconds.to_string()])
            .arg("--json")
            .arg(&json)
            .env("FORMSEAL_BENCH_POSTGRES", &server.url),
    )
}
