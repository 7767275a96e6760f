//! `cargo xtask size`: builds the widget and reports its transfer size, the budget a site owner
//! pays on every page: raw, gzip -9 and brotli (quality 11) bytes per file in `pkg/` and in total.
//! Then the consent banner per page view against two consent managers from npm
//! (`size/banners.rs`), and the start-up: the demo page served by the collector, opened 10 times
//! in headless chromium, timed from navigation to an interactive form (median and p90). Last,
//! issue 13's budgets (`size/budgets.rs`): the page weights per widget kind and a throttled run
//! (`size/throttled.mjs`) of formseal's banner against klaro's and vanilla-cookieconsent's.
//! The tables go to stdout, the same numbers as JSON to `target/size.json`.

use std::fs;
use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};

use anyhow::{Context, Result, bail};
use serde_json::json;

use crate::compress;
use crate::shell::{self, project_root};
use crate::{demo, tools, wasm};

mod banners;
mod budgets;

/// How many times the start-up is measured.
const STARTUP_RUNS: u32 = 10;

/// Sizes in bytes of one file, as stored and as sent compressed.
#[derive(Default)]
struct Sizes {
    raw: usize,
    gzip: usize,
    brotli: usize,
}

/// Builds `pkg/`, prints the size table and writes `target/size.json`.
pub(crate) fn run() -> Result<()> {
    wasm::run()?;
    let mut rows = Vec::new();
    for file in wasm::BUNDLES.iter().flat_map(|b| b.files()) {
        let path = project_root().join(&file);
        let bytes = fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        rows.push((file, measure(&bytes)?));
    }
    let total = rows.iter().fold(Sizes::default(), |sum, (_, sizes)| Sizes {
        raw: sum.raw + sizes.raw,
        gzip: sum.gzip + sizes.gzip,
        brotli: sum.brotli + sizes.brotli,
    });

    println!(
        "{:<24} {:>10} {:>10} {:>10}",
        "file", "raw", "gzip -9", "brotli"
    );
    for (file, sizes) in rows
        .iter()
        .map(|(f, s)| (f.as_str(), s))
        .chain([("total", &total)])
    {
        println!(
            "{file:<24} {:>10} {:>10} {:>10}",
            sizes.raw, sizes.gzip, sizes.brotli
        );
    }

    let as_json =
        |sizes: &Sizes| json!({"raw": sizes.raw, "gzip": sizes.gzip, "brotli": sizes.brotli});
    let files: serde_json::Map<_, _> = rows
        .iter()
        .map(|(file, sizes)| (file.clone(), as_json(sizes)))
        .collect();
    let banners = banners::compare()?;
    let startup = startup()?;
    let (budget_keys, throttled) = budgets::report(&banners)?;
    println!(
        "\nstart-up to an interactive form, {} runs: median {} ms, p90 {} ms; the page without the \
         widget loads in {} ms (median), so {}x; over the wire {} bytes",
        startup["runs"],
        startup["median_ms"],
        startup["p90_ms"],
        startup["baseline_median_ms"],
        startup["ratio_to_baseline"],
        startup["transfer_bytes"]["total"]
    );
    // Issue 13's keys at the top level, next to the detail they come from.
    let mut report = budget_keys;
    report["throttled_run"] = throttled;
    let detail = json!({
        "files": files,
        "total": as_json(&total),
        "consent_banner": banners,
        "startup": startup,
    });
    for (key, value) in detail.as_object().into_iter().flatten() {
        report[key] = value.clone();
    }
    let out = project_root().join("target/size.json");
    fs::write(&out, format!("{report:#}\n"))
        .with_context(|| format!("writing {}", out.display()))?;
    eprintln!("wrote target/size.json");
    Ok(())
}

/// A form config as the collector serves it at `/forms/<id>.json`: compact JSON (whitespace
/// out, the same values), which is what a visitor downloads.
fn served_config(bytes: &[u8]) -> Result<String> {
    let value: serde_json::Value =
        serde_json::from_slice(bytes).context("a form config is not JSON")?;
    Ok(value.to_string())
}

/// The raw, gzip -9 and brotli sizes of `bytes`.
fn measure(bytes: &[u8]) -> Result<Sizes> {
    Ok(Sizes {
        raw: bytes.len(),
        gzip: compress::gzip(bytes)?.len(),
        brotli: compress::brotli(bytes)?.len(),
    })
}

/// Serves the demo page with the collector and times the widget's start-up with
/// `tests/e2e/startup.mjs` in headless chromium; returns that script's JSON report.
fn startup() -> Result<serde_json::Value> {
    tools::ensure_chromium()?;
    shell::run(shell::cargo().args(["build", "--package", "formseal-cli", "--bin", "formseal"]))?;
    let root = project_root();
    let formseal = root.join("target/debug/formseal");
    let form = root.join("examples/newsletter.json");
    let dir = root.join("target/size-site");
    let snippets = [form.clone(), root.join("examples/survey.json")]
        .iter()
        .map(|config| shell::read(shell::command(&formseal).arg("embed").arg(config)))
        .collect::<Result<Vec<_>>>()?;
    demo::write_site(&root.join("www"), &dir.join("www"), &snippets)?;
    let db = dir.join("collector.sqlite");
    let _ = fs::remove_file(&db);
    let mut collector = Collector(
        shell::command(&formseal)
            .args(["serve", "--listen", "127.0.0.1:0", "--db"])
            .arg(&db)
            .arg("--form")
            .arg(&form)
            .arg("--www")
            .arg(dir.join("www"))
            .args(["--pkg", wasm::OUT_DIR])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .context("starting the collector")?,
    );
    let mut url = String::new();
    let stdout = collector.0.stdout.take().context("no stdout")?;
    BufReader::new(stdout).read_line(&mut url)?;
    let url = url.trim();
    if !url.starts_with("http://") {
        bail!("the collector printed no URL");
    }
    let report = shell::read(
        shell::command("node")
            .args(["tests/e2e/startup.mjs", url, &STARTUP_RUNS.to_string()])
            .env("CHROMIUM", tools::CHROMIUM),
    )?;
    serde_json::from_str(report.trim()).context("reading startup.mjs's report")
}

/// The collector process, stopped when dropped.
struct Collector(Child);

impl Drop for Collector {
    fn drop(&mut self) {
        // It holds nothing worth a graceful stop: a throwaway database of no submissions.
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
