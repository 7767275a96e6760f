//! `cargo xtask bench`: runs the core's criterion bench (`crates/core/benches/seal.rs`), then the
//! OpenSSL baseline on the same machine in the same run, and reports formseal/openssl ratios:
//! per operation against `openssl speed`, and per command against `openssl pkeyutl` on N records;
//! and how a 200-question survey compares with a 10-question one (the same run's baseline), in
//! the core and in the widget in chromium (`tests/e2e/survey-bench.mjs`).
//! And the data team's throughput: `formseal decrypt` of 10,000 records at RSA-3072 on one thread
//! and on all of them, next to `openssl pkeyutl -decrypt` and `openssl speed` of the same run,
//! against the goal of all cores × 0.8 × OpenSSL's single-core private-key operations per second
//! (`cargo xtask bench decrypt` runs only that part).
//! And the visitor's side of the collector's proof of work: how long chromium takes to solve a
//! challenge at the default difficulty, in the Web Worker, through the widget, and on the page's
//! thread when the worker is refused, and the longest main-thread task meanwhile
//! (`tests/e2e/pow-bench.mjs`; `cargo xtask bench pow` runs only that part).
//! The table goes to stdout, the same numbers as JSON to `target/bench.json`. Nothing is asserted.

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context, Result, bail, ensure};
use serde_json::{Value, json};

use crate::shell::{self, project_root};

/// Modulus sizes the bench measures; the committed TEST keys exist for exactly these.
const BITS: [u32; 3] = [2048, 3072, 4096];

/// How many records the whole-command comparison decrypts.
const RECORDS: usize = 200;

/// Key size of the whole-command comparison: the size `formseal keygen` makes by default.
const RECORD_BITS: u32 = 3072;

/// How many records the throughput run decrypts.
const THROUGHPUT_RECORDS: usize = 10_000;

/// The throughput goal: all cores × this × OpenSSL's single-core private-key operations per
/// second.
const GOAL_PER_CORE: f64 = 0.8;

/// Which part of the bench to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Part {
    /// Everything.
    All,
    /// Only the decryption throughput (and the OpenSSL baselines it is compared with).
    Decrypt,
    /// Only the proof of work's solving time in chromium.
    Pow,
}

/// `cargo xtask bench [PART]`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// What to run.
    #[arg(value_enum, default_value = "all")]
    part: Part,
}

/// Question counts of the generated surveys the bench compares (`survey-*` groups).
const SURVEY_SIZES: [usize; 2] = [10, 200];

/// Challenges `tests/e2e/pow-bench.mjs` solves each way. The hidden number is uniform, so one
/// solve takes anything from nothing to twice the median: eleven runs left the median of the
/// same build 2x apart from one run to the next.
const POW_RUNS: &str = "21";

/// Seconds `openssl speed` spends on each operation.
const SPEED_SECONDS: &str = "3";

/// OpenSSL's RSA-OAEP with SHA-256 for both the hash and MGF1: what `alg: RSA-OAEP-256` means.
const OAEP_SHA256: [&str; 6] = [
    "-pkeyopt",
    "rsa_padding_mode:oaep",
    "-pkeyopt",
    "rsa_oaep_md:sha256",
    "-pkeyopt",
    "rsa_mgf1_md:sha256",
];

/// One row of the per-operation table: a criterion benchmark and the OpenSSL operation it is
/// compared with.
struct Operation {
    /// Criterion group, also the row's name in `target/bench.json`.
    group: &'static str,
    /// What is measured, for people.
    what: &'static str,
    /// Which half of the key OpenSSL's counterpart uses.
    baseline: Half,
}

#[derive(Clone, Copy)]
enum Half {
    Public,
    Private,
}

const OPERATIONS: [Operation; 3] = [
    Operation {
        group: "seal",
        what: "seal one typical submission",
        baseline: Half::Public,
    },
    Operation {
        group: "open",
        what: "open one record",
        baseline: Half::Private,
    },
    Operation {
        group: "oaep-decrypt",
        what: "RSA-OAEP-SHA256 decrypt only",
        baseline: Half::Private,
    },
];

/// OpenSSL's cost of one RSA operation at one key size, from `openssl speed`.
struct SpeedRow {
    /// Seconds per private-key operation, and the column it came from (`sign/s`, `decrypt/s`).
    private: (f64, String),
    /// Seconds per public-key operation, and its column (`verify/s`, `encrypt/s`).
    public: (f64, String),
}

/// Wall times of the whole-command comparison.
struct Commands {
    formseal: Duration,
    openssl: Duration,
    floor: Duration,
}

/// Runs the criterion bench and the OpenSSL baseline, prints the table and writes the JSON.
pub(crate) fn run(args: &Args) -> Result<()> {
    match args.part {
        Part::All => {}
        Part::Decrypt => return run_decrypt_only(),
        Part::Pow => return run_pow_only(),
    }
    let start = Instant::now();
    let started = SystemTime::now();
    let openssl_version = openssl_version()?;

    eprintln!("==> criterion: crates/core/benches/seal.rs");
    // Criterion's report goes to stderr with the other progress, so stdout is only the table.
    shell::run(
        shell::cargo()
            .args(["bench", "-p", "formseal-core", "--bench", "seal"])
            .stdout(io::stderr()),
    )?;
    let mut ours = BTreeMap::new();
    for op in &OPERATIONS {
        for bits in BITS {
            let id = format!("{}/rsa{bits}", op.group);
            ours.insert(id.clone(), criterion_median(&id, started)?);
        }
    }
    let rsa_crate = format!("oaep-decrypt/rsa-crate-rsa{RECORD_BITS}");
    ours.insert(rsa_crate.clone(), criterion_median(&rsa_crate, started)?);
    let prepare = criterion_median("prepare/newsletter", started)?;
    let mut survey = BTreeMap::new();
    for group in ["survey-prepare", "survey-seal"] {
        for n in SURVEY_SIZES {
            let id = format!("{group}/{n}-questions");
            survey.insert(id.clone(), criterion_median(&id, started)?);
        }
    }

    let (speed, commands, throughput) = decrypt_runs(&ours)?;

    build_widget_and_collector()?;
    eprintln!("==> the survey UI in chromium: tests/e2e/survey-bench.mjs");
    let in_browser = survey_in_browser()?;
    eprintln!("==> proof of work in chromium: tests/e2e/pow-bench.mjs");
    let pow = pow_in_browser()?;
    let elapsed = start.elapsed();

    // The table, then the same numbers as JSON.
    println!(
        "formseal vs {openssl_version}, same machine, same run (criterion median; ratio = formseal / openssl)"
    );
    println!();
    println!(
        "{:<30} {:>6} {:>11} {:>11}  {:<10} {:>8}",
        "per operation", "bits", "formseal", "openssl", "(openssl)", "ratio"
    );
    let mut rows = Vec::new();
    for op in &OPERATIONS {
        for bits in BITS {
            let id = format!("{}/rsa{bits}", op.group);
            let formseal = ours[&id];
            let row = &speed[&bits];
            let (openssl, column) = match op.baseline {
                Half::Public => &row.public,
                Half::Private => &row.private,
            };
            let ratio = formseal / openssl;
            println!(
                "{:<30} {bits:>6} {:>11} {:>11}  {:<10} {ratio:>7.2}x",
                op.what,
                seconds(formseal),
                seconds(*openssl),
                column,
            );
            rows.push(json!({
                "operation": op.group,
                "what": op.what,
                "bits": bits,
                "formseal_seconds": formseal,
                "openssl_seconds": openssl,
                "openssl_measure": format!("openssl speed {column}"),
                "ratio": ratio,
            }));
        }
    }
    println!(
        "{:<30} {:>6} {:>11}",
        "prepare only (no crypto)",
        "-",
        seconds(prepare)
    );

    let [small, large] = SURVEY_SIZES;
    println!();
    println!(
        "{:<52} {:>11} {:>11} {:>8}",
        "survey with branching (20 pages of 10 questions)",
        format!("{small} questions"),
        format!("{large} questions"),
        "ratio"
    );
    let mut survey_rows = Vec::new();
    for (group, what) in [
        ("survey-prepare", "validate + minimise + envelopes"),
        ("survey-seal", "the same, then seal (rsa2048)"),
    ] {
        let (a, b) = (
            survey[&format!("{group}/{small}-questions")],
            survey[&format!("{group}/{large}-questions")],
        );
        println!(
            "{what:<52} {:>11} {:>11} {:>7.1}x",
            seconds(a),
            seconds(b),
            b / a
        );
        survey_rows.push(json!({
            "operation": group,
            "what": what,
            "questions": [small, large],
            "seconds": [a, b],
            "ratio": b / a,
        }));
    }

    let per = |d: Duration| d.as_secs_f64() / RECORDS as f64;
    let command_ratio = commands.formseal.as_secs_f64() / commands.openssl.as_secs_f64();
    println!();
    println!(
        "{:<52} {:>9} {:>11} {:>8}",
        format!("whole command, {RECORDS} records, rsa{RECORD_BITS}"),
        "wall",
        "per record",
        "ratio"
    );
    println!(
        "{:<52} {:>9} {:>11} {:>7.2}x",
        "formseal decrypt (one process)",
        seconds(commands.formseal.as_secs_f64()),
        seconds(per(commands.formseal)),
        command_ratio
    );
    println!(
        "{:<52} {:>9} {:>11} {:>8}",
        "openssl pkeyutl -decrypt (one process a record)",
        seconds(commands.openssl.as_secs_f64()),
        seconds(per(commands.openssl)),
        "1.00x"
    );
    println!(
        "{:<52} {:>9} {:>11}",
        format!("  of which process start-up (openssl version x{RECORDS})"),
        seconds(commands.floor.as_secs_f64()),
        seconds(per(commands.floor)),
    );
    println!();
    println!(
        "{:<52} {:>11} {:>11} {:>8}",
        "survey UI in chromium (median of runs)", "10 questions", "200 questions", "ratio"
    );
    for (key, what) in [
        ("render_ms", "navigation → first page usable"),
        ("page_move_ms", "Next → next page shown, heading focused"),
        ("submit_ms", "submit → collector acknowledged"),
    ] {
        let (a, b) = (
            in_browser["small"][key].as_f64().unwrap_or(f64::NAN),
            in_browser["large"][key].as_f64().unwrap_or(f64::NAN),
        );
        println!(
            "{what:<52} {:>11} {:>11} {:>7.2}x",
            seconds(a / 1000.0),
            seconds(b / 1000.0),
            b / a
        );
    }
    print_throughput(&throughput);
    print_pow(&pow);
    println!();
    println!("run time {:.0} s", elapsed.as_secs_f64());

    let report = json!({
        "decrypt": throughput,
        "openssl": openssl_version,
        "per_operation": rows,
        "pow": { "browser": pow },
        "prepare_seconds": prepare,
        "survey": survey_rows,
        "survey_in_browser": in_browser,
        "whole_command": {
            "records": RECORDS,
            "bits": RECORD_BITS,
            "formseal_decrypt_seconds": commands.formseal.as_secs_f64(),
            "openssl_pkeyutl_seconds": commands.openssl.as_secs_f64(),
            "openssl_process_floor_seconds": commands.floor.as_secs_f64(),
            "ratio": command_ratio,
        },
        "run_seconds": elapsed.as_secs_f64(),
    });
    let out = project_root().join("target/bench.json");
    fs::write(&out, format!("{report:#}\n"))
        .with_context(|| format!("writing {}", out.display()))?;
    eprintln!("wrote target/bench.json");
    Ok(())
}

/// `cargo xtask bench decrypt`: the OpenSSL baselines, the RSA-OAEP criterion group and the
/// throughput run; the figures replace the `decrypt` part of `target/bench.json`.
fn run_decrypt_only() -> Result<()> {
    let started = SystemTime::now();
    let openssl_version = openssl_version()?;
    eprintln!("==> criterion: crates/core/benches/seal.rs, oaep-decrypt only");
    shell::run(
        shell::cargo()
            .args([
                "bench",
                "-p",
                "formseal-core",
                "--bench",
                "seal",
                "--",
                "oaep-decrypt",
            ])
            .stdout(io::stderr()),
    )?;
    let mut ours = BTreeMap::new();
    for id in [
        format!("oaep-decrypt/rsa{RECORD_BITS}"),
        format!("oaep-decrypt/rsa-crate-rsa{RECORD_BITS}"),
    ] {
        ours.insert(id.clone(), criterion_median(&id, started)?);
    }
    let (_, _, throughput) = decrypt_runs(&ours)?;
    println!("formseal vs {openssl_version}, same machine, same run");
    print_throughput(&throughput);
    replace_in_report([("openssl", json!(openssl_version)), ("decrypt", throughput)])?;
    eprintln!("wrote the decrypt part of target/bench.json");
    Ok(())
}

/// `cargo xtask bench pow`: the proof of work in chromium; the figures replace the `pow` part of
/// `target/bench.json`.
fn run_pow_only() -> Result<()> {
    build_widget_and_collector()?;
    eprintln!("==> proof of work in chromium: tests/e2e/pow-bench.mjs");
    let pow = pow_in_browser()?;
    print_pow(&pow);
    replace_in_report([("pow", json!({ "browser": pow }))])?;
    eprintln!("wrote the pow part of target/bench.json");
    Ok(())
}

/// Replaces these parts of `target/bench.json` (a part of the bench ran alone), keeping the
/// others of the last full run.
fn replace_in_report<const N: usize>(parts: [(&str, Value); N]) -> Result<()> {
    let out = project_root().join("target/bench.json");
    let mut report: Value = fs::read_to_string(&out)
        .ok()
        .and_then(|text| serde_json::from_str(&text).ok())
        .filter(Value::is_object)
        .unwrap_or_else(|| json!({}));
    for (key, value) in parts {
        report[key] = value;
    }
    fs::write(&out, format!("{report:#}\n")).with_context(|| format!("writing {}", out.display()))
}

/// The runs both the full bench and its decrypt part make, in this order: `openssl speed`, the
/// whole command against `openssl pkeyutl` on [`RECORDS`] records, and the throughput on
/// [`THROUGHPUT_RECORDS`] (next to `ours`, criterion's medians).
fn decrypt_runs(
    ours: &BTreeMap<String, f64>,
) -> Result<(BTreeMap<u32, SpeedRow>, Commands, Value)> {
    eprintln!("==> openssl speed");
    let speed = openssl_speed()?;
    eprintln!("==> whole command: decrypt {RECORDS} records at {RECORD_BITS} bits");
    let commands = whole_command()?;
    eprintln!("==> throughput: decrypt {THROUGHPUT_RECORDS} records at {RECORD_BITS} bits");
    let throughput = throughput(&commands, &speed, Some(ours))?;
    Ok((speed, commands, throughput))
}

/// Decrypts [`THROUGHPUT_RECORDS`] records (the whole-command run's envelopes, over and over)
/// with the release `formseal decrypt` on one thread and on all, and sets the rates next to
/// OpenSSL's of the same run: `openssl pkeyutl -decrypt` a record, and `openssl speed`'s
/// single-core private-key operations, which the goal is made of.
fn throughput(
    commands: &Commands,
    speed: &BTreeMap<u32, SpeedRow>,
    criterion: Option<&BTreeMap<String, f64>>,
) -> Result<Value> {
    let root = project_root();
    let dir = root.join("target/bench");
    let key = root.join(format!("crates/core/tests/examples/rsa{RECORD_BITS}.pem"));
    let formseal = root.join("target/release/formseal");
    let sealed: Vec<String> = fs::read_to_string(dir.join("sealed.jwe"))?
        .lines()
        .map(str::to_owned)
        .collect();
    ensure!(
        !sealed.is_empty(),
        "no sealed envelopes in target/bench/sealed.jwe"
    );
    let many = dir.join("throughput.jwe");
    let lines: Vec<&str> = sealed
        .iter()
        .cycle()
        .take(THROUGHPUT_RECORDS)
        .map(String::as_str)
        .collect();
    fs::write(&many, lines.join("\n") + "\n")?;
    let cores = std::thread::available_parallelism().map_or(1, usize::from);

    let rate = |threads: usize| -> Result<f64> {
        let records = dir.join(format!("throughput-{threads}.jsonl"));
        eprintln!(
            "$ RAYON_NUM_THREADS={threads} formseal decrypt --quiet --key {} {} > {}",
            shown(&key),
            shown(&many),
            shown(&records)
        );
        let mut cmd = shell::command(&formseal);
        cmd.env("RAYON_NUM_THREADS", threads.to_string());
        cmd.args(["decrypt", "--quiet", "--key"])
            .arg(&key)
            .arg(&many);
        cmd.stdout(fs::File::create(&records)?)
            .stderr(Stdio::null());
        let timer = Instant::now();
        let status = cmd.status().context("could not start formseal decrypt")?;
        let wall = timer.elapsed().as_secs_f64();
        ensure!(status.success(), "formseal decrypt failed ({status})");
        let opened = fs::read_to_string(&records)?.lines().count();
        ensure!(
            opened == THROUGHPUT_RECORDS,
            "formseal decrypt opened {opened} of {THROUGHPUT_RECORDS} records"
        );
        Ok(THROUGHPUT_RECORDS as f64 / wall)
    };
    let one = rate(1)?;
    let all = rate(cores)?;
    let openssl_ops = 1.0 / speed[&RECORD_BITS].private.0;
    let pkeyutl = RECORDS as f64 / commands.openssl.as_secs_f64();
    let goal = cores as f64 * GOAL_PER_CORE * openssl_ops;
    let mut report = json!({
        "records": THROUGHPUT_RECORDS,
        "bits": RECORD_BITS,
        "cores": cores,
        "records_per_s_1_thread": one,
        "records_per_s_all_threads": all,
        "openssl_private_ops_per_s": openssl_ops,
        "openssl_private_ops_measure": format!("openssl speed rsa{RECORD_BITS} {}", speed[&RECORD_BITS].private.1),
        "openssl_pkeyutl_records_per_s": pkeyutl,
        "ratio_1_thread_to_openssl_private_ops": one / openssl_ops,
        "ratio_all_threads_to_openssl_pkeyutl": all / pkeyutl,
        "goal_records_per_s": goal,
        "goal": format!("cores x {GOAL_PER_CORE} x openssl private-key ops/s"),
        "ratio_goal": all / goal,
        "goal_met": all >= goal,
    });
    if let Some(criterion) = criterion {
        let ours = criterion
            .get(&format!("oaep-decrypt/rsa{RECORD_BITS}"))
            .copied();
        let rsa_crate = criterion
            .get(&format!("oaep-decrypt/rsa-crate-rsa{RECORD_BITS}"))
            .copied();
        if let (Some(ours), Some(rsa_crate)) = (ours, rsa_crate) {
            report["oaep_decrypt_seconds"] = json!({
                "aws_lc_rs": ours,
                "rsa_crate_0_10": rsa_crate,
                "openssl_speed": speed[&RECORD_BITS].private.0,
            });
            report["ratio_rsa_crate_to_aws_lc_rs"] = json!(rsa_crate / ours);
        }
    }
    Ok(report)
}

/// The throughput table.
fn print_throughput(report: &Value) {
    let f = |key: &str| report[key].as_f64().unwrap_or(f64::NAN);
    println!();
    println!(
        "{:<60} {:>12} {:>8}",
        format!("decrypt {THROUGHPUT_RECORDS} records, rsa{RECORD_BITS}"),
        "records/s",
        "ratio"
    );
    println!(
        "{:<60} {:>12.0} {:>7.2}x",
        "formseal decrypt, 1 thread (vs openssl speed private ops/s)",
        f("records_per_s_1_thread"),
        f("ratio_1_thread_to_openssl_private_ops")
    );
    println!(
        "{:<60} {:>12.0} {:>7.2}x",
        format!(
            "formseal decrypt, all {} threads (vs the goal)",
            report["cores"].as_u64().unwrap_or(0)
        ),
        f("records_per_s_all_threads"),
        f("ratio_goal")
    );
    println!(
        "{:<60} {:>12.0}",
        "goal: cores x 0.8 x openssl private-key ops/s",
        f("goal_records_per_s")
    );
    println!(
        "{:<60} {:>12.0}",
        "openssl speed, private-key ops/s (one core)",
        f("openssl_private_ops_per_s")
    );
    println!(
        "{:<60} {:>12.0}",
        "openssl pkeyutl -decrypt, one process a record",
        f("openssl_pkeyutl_records_per_s")
    );
    if let Some(ops) = report.get("oaep_decrypt_seconds") {
        let s = |key: &str| ops[key].as_f64().unwrap_or(f64::NAN);
        println!(
            "{:<60} {:>12}",
            "RSA-OAEP decrypt alone: aws-lc-rs (used)",
            seconds(s("aws_lc_rs"))
        );
        println!(
            "{:<60} {:>12} {:>7.2}x",
            "RSA-OAEP decrypt alone: rsa 0.10 (before)",
            seconds(s("rsa_crate_0_10")),
            f("ratio_rsa_crate_to_aws_lc_rs")
        );
        println!(
            "{:<60} {:>12}",
            "RSA private-key operation: openssl speed",
            seconds(s("openssl_speed"))
        );
    }
}

/// What the browser runs need: the widget in `pkg/`, chromium and the debug `formseal` binary.
fn build_widget_and_collector() -> Result<()> {
    crate::wasm::run()?;
    crate::tools::ensure_chromium()?;
    shell::run(shell::cargo().args(["build", "--package", "formseal-cli", "--bin", "formseal"]))
}

/// Times the survey UI with 10 and 200 questions in headless chromium
/// (`tests/e2e/survey-bench.mjs`); returns its JSON report.
fn survey_in_browser() -> Result<Value> {
    let report = shell::read(
        shell::command("node")
            .args(["tests/e2e/survey-bench.mjs", "5"])
            .env("CHROMIUM", crate::tools::CHROMIUM),
    )?;
    serde_json::from_str(report.trim()).context("reading survey-bench.mjs's report")
}

/// Times the solving of the collector's challenges at its default difficulty in headless
/// chromium (`tests/e2e/pow-bench.mjs`); returns its JSON report.
fn pow_in_browser() -> Result<Value> {
    let report = shell::read(
        shell::command("node")
            .args(["tests/e2e/pow-bench.mjs", POW_RUNS])
            .env("CHROMIUM", crate::tools::CHROMIUM),
    )?;
    serde_json::from_str(report.trim()).context("reading pow-bench.mjs's report")
}

/// The proof-of-work table: per way of solving, the median and 90th percentile of one solve and
/// the longest the page's main thread was busy meanwhile (which should stay under 50 ms).
fn print_pow(report: &Value) {
    println!();
    println!(
        "{:<60} {:>9} {:>9} {:>13}",
        format!(
            "proof of work in chromium, difficulty {} ({} runs)",
            report["difficulty"], report["runs"]
        ),
        "median",
        "p90",
        "longest task"
    );
    for (part, what) in [
        (
            report,
            "Web Worker (pkg/formseal-pow.js), as src/pow.rs drives it",
        ),
        (&report["widget"], "widget: challenge received → post sent"),
        (
            &report["on_this_thread"],
            "widget, worker refused by the CSP: page's thread",
        ),
    ] {
        let in_seconds = |key: &str| part[key].as_f64().unwrap_or(f64::NAN) / 1000.0;
        println!(
            "{what:<60} {:>9} {:>9} {:>13}",
            seconds(in_seconds("solve_median_ms")),
            seconds(in_seconds("solve_p90_ms")),
            seconds(in_seconds("longest_task_ms"))
        );
    }
    println!(
        "{:<60} {:>9.0}",
        "SHA-256 hashes per second in the worker (median)",
        report["hashes_per_s"].as_f64().unwrap_or(f64::NAN)
    );
}

/// `openssl version`, or an error that says how to install it.
fn openssl_version() -> Result<String> {
    let shown = shell::read(shell::command("openssl").arg("version")).context(
        "the OpenSSL baseline needs the `openssl` command\n\nhint: apt-get install openssl",
    )?;
    Ok(shown.trim().to_owned())
}

/// The median time in seconds of one criterion benchmark of this run (`group/id`).
fn criterion_median(id: &str, started: SystemTime) -> Result<f64> {
    let path = project_root()
        .join("target/criterion")
        .join(id)
        .join("new/estimates.json");
    let text = fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    // Criterion leaves old results in place; a stale one would be a silent lie.
    let modified = fs::metadata(&path)?.modified()?;
    ensure!(
        modified >= started,
        "{} is from an earlier run; did the benchmark `{id}` run?",
        path.display()
    );
    let estimates: Value = serde_json::from_str(&text)?;
    let nanos = estimates["median"]["point_estimate"]
        .as_f64()
        .with_context(|| format!("no median in {}", path.display()))?;
    Ok(nanos * 1e-9)
}

/// Runs `openssl speed` on the three key sizes and reads its table.
///
/// OpenSSL 3.0 and 3.1 print `sign verify sign/s verify/s`: a signature is the bare private-key
/// operation (the cost of a decryption), a verification the public one (an encryption). A
/// version that prints `decrypt/s` and `encrypt/s` columns is read for those instead.
fn openssl_speed() -> Result<BTreeMap<u32, SpeedRow>> {
    let mut cmd = shell::command("openssl");
    cmd.args(["speed", "-seconds", SPEED_SECONDS]);
    cmd.args(BITS.map(|bits| format!("rsa{bits}")));
    let output = shell::read(&mut cmd)?;
    parse_speed(&output).context("reading the output of `openssl speed`")
}

fn parse_speed(output: &str) -> Result<BTreeMap<u32, SpeedRow>> {
    let mut header: Vec<&str> = Vec::new();
    let mut rows = BTreeMap::new();
    for line in output.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["rsa", bits, "bits", values @ ..] => {
                let bits: u32 = bits.parse()?;
                let column = |name: &str| -> Option<(f64, String)> {
                    let at = header.iter().position(|h| *h == name)?;
                    let rate: f64 = values.get(at)?.parse().ok()?;
                    (rate > 0.0).then(|| (1.0 / rate, name.to_owned()))
                };
                let private = column("decrypt/s").or_else(|| column("sign/s"));
                let public = column("encrypt/s").or_else(|| column("verify/s"));
                let (Some(private), Some(public)) = (private, public) else {
                    bail!("no sign/s and verify/s for rsa {bits}: {line:?} under {header:?}");
                };
                rows.insert(bits, SpeedRow { private, public });
            }
            // The column header is the line of names that ends in rates: `... sign/s verify/s`.
            [.., last] if last.ends_with("/s") => header = words,
            _ => {}
        }
    }
    for bits in BITS {
        ensure!(rows.contains_key(&bits), "no line for rsa {bits} bits");
    }
    Ok(rows)
}

/// Decrypts the same number of records the way a data team would: one `formseal decrypt` over
/// a file of envelopes, against a shell loop of `openssl pkeyutl -decrypt`, one per record.
fn whole_command() -> Result<Commands> {
    let root = project_root();
    let dir = root.join("target/bench");
    fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let key = root.join(format!("crates/core/tests/examples/rsa{RECORD_BITS}.pem"));

    // What the data team runs: the release build of the CLI.
    shell::run(shell::cargo().args(["build", "-p", "formseal-cli", "--release"]))?;
    let formseal = root.join("target/release/formseal");

    // The example form, sealed to the 3072-bit TEST key instead of its own 2048-bit one.
    let form = dir.join(format!("newsletter-rsa{RECORD_BITS}.json"));
    let mut config: Value = read_json(&root.join("examples/newsletter.json"))?;
    let jwk = read_json(&root.join(format!(
        "crates/core/tests/examples/rsa{RECORD_BITS}.pub.jwk.json"
    )))?;
    config["recipients"] = json!([jwk]);
    fs::write(&form, format!("{config:#}\n"))?;

    let answers = root.join("examples/answers.json");
    let sealed = dir.join("sealed.jwe");
    eprintln!(
        "$ formseal seal --form {} < examples/answers.json (x{RECORDS})",
        shown(&form)
    );
    let mut envelopes = String::new();
    for _ in 0..RECORDS {
        let mut cmd = shell::command(&formseal);
        cmd.args(["seal", "--form"]).arg(&form);
        cmd.stdin(fs::File::open(&answers)?);
        envelopes.push_str(&read_quietly(&mut cmd)?);
    }
    fs::write(&sealed, envelopes)?;

    // The same number of RSA-OAEP-SHA256 ciphertexts, each of a 32-byte content key.
    let cek_dir = dir.join("openssl");
    fs::create_dir_all(&cek_dir)?;
    eprintln!(
        "$ openssl pkeyutl -encrypt -inkey {} {} (x{RECORDS})",
        shown(&key),
        OAEP_SHA256.join(" ")
    );
    for record in 0..RECORDS {
        let plain = cek_dir.join(format!("{record}.key"));
        fs::write(&plain, [u8::try_from(record % 256)?; 32])?;
        let mut cmd = shell::command("openssl");
        cmd.args(["pkeyutl", "-encrypt", "-inkey"]).arg(&key);
        cmd.args(OAEP_SHA256);
        cmd.arg("-in").arg(&plain);
        cmd.arg("-out").arg(cek_dir.join(format!("{record}.enc")));
        read_quietly(&mut cmd)?;
    }

    // Timed: one formseal process for all records.
    let records = dir.join("records.jsonl");
    eprintln!(
        "$ formseal decrypt --key {} {} > {}",
        shown(&key),
        shown(&sealed),
        shown(&records)
    );
    let mut cmd = shell::command(&formseal);
    cmd.args(["decrypt", "--key"]).arg(&key).arg(&sealed);
    cmd.stdout(fs::File::create(&records)?)
        .stderr(Stdio::null());
    let timer = Instant::now();
    let status = cmd.status().context("could not start formseal decrypt")?;
    let formseal_time = timer.elapsed();
    ensure!(status.success(), "formseal decrypt failed ({status})");
    let opened = fs::read_to_string(&records)?.lines().count();
    ensure!(
        opened == RECORDS,
        "formseal decrypt opened {opened} of {RECORDS} records"
    );

    // Timed: one openssl process per record, as a shell loop would do it.
    eprintln!(
        "$ openssl pkeyutl -decrypt -inkey {} {} (x{RECORDS})",
        shown(&key),
        OAEP_SHA256.join(" ")
    );
    let timer = Instant::now();
    for record in 0..RECORDS {
        let mut cmd = shell::command("openssl");
        cmd.args(["pkeyutl", "-decrypt", "-inkey"]).arg(&key);
        cmd.args(OAEP_SHA256);
        cmd.arg("-in").arg(cek_dir.join(format!("{record}.enc")));
        cmd.arg("-out").arg(cek_dir.join(format!("{record}.dec")));
        quietly(&mut cmd)?;
    }
    let openssl_time = timer.elapsed();
    for record in 0..RECORDS {
        let plain = fs::read(cek_dir.join(format!("{record}.key")))?;
        let decrypted = fs::read(cek_dir.join(format!("{record}.dec")))?;
        ensure!(
            plain == decrypted,
            "openssl decrypted record {record} wrongly"
        );
    }

    // Timed: the same number of openssl processes that do nothing, to show the start-up cost.
    eprintln!("$ openssl version (x{RECORDS})");
    let timer = Instant::now();
    for _ in 0..RECORDS {
        quietly(shell::command("openssl").arg("version"))?;
    }
    let floor = timer.elapsed();

    Ok(Commands {
        formseal: formseal_time,
        openssl: openssl_time,
        floor,
    })
}

/// Runs `cmd` without echoing it (the caller echoes the loop once) and fails unless it succeeds.
fn quietly(cmd: &mut Command) -> Result<()> {
    let status = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .with_context(|| format!("could not start {:?}", cmd.get_program()))?;
    ensure!(status.success(), "{cmd:?} failed ({status})");
    Ok(())
}

/// Like [`quietly`], but returns standard output and shows standard error on failure.
fn read_quietly(cmd: &mut Command) -> Result<String> {
    let output = cmd
        .output()
        .with_context(|| format!("could not start {:?}", cmd.get_program()))?;
    ensure!(
        output.status.success(),
        "{cmd:?} failed ({}): {}",
        output.status,
        String::from_utf8_lossy(&output.stderr).trim()
    );
    Ok(String::from_utf8(output.stdout)?)
}

fn read_json(path: &Path) -> Result<Value> {
    let text = fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))
}

/// A path inside the project, as one would type it in the project root.
fn shown(path: &Path) -> String {
    let root = project_root();
    path.strip_prefix(&root)
        .map(Path::to_path_buf)
        .unwrap_or_else(|_| PathBuf::from(path))
        .display()
        .to_string()
}

/// Seconds, in the unit that keeps three or four significant digits.
fn seconds(s: f64) -> String {
    if s >= 1.0 {
        format!("{s:.2} s")
    } else if s >= 1e-3 {
        format!("{:.2} ms", s * 1e3)
    } else {
        format!("{:.1} µs", s * 1e6)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What OpenSSL 3.0 prints for `openssl speed -seconds 3 rsa2048 rsa3072 rsa4096`.
    const OPENSSL_3_0: &str = "\
version: 3.0.19
built on: Tue Jan 27 00:00:00 2026 UTC
options: bn(64,64)
CPUINFO: OPENSSL_ia32cap=0xfffa3203078bffff:0x40069c219c07ab
                  sign    verify    sign/s verify/s
rsa 2048 bits 0.000663s 0.000019s   1507.6  52380.6
rsa 3072 bits 0.002000s 0.000040s    500.0  25000.0
rsa 4096 bits 0.004000s 0.000070s    250.0  14285.7
";

    #[test]
    fn reads_sign_and_verify_rates_as_seconds_per_operation() {
        let rows = parse_speed(OPENSSL_3_0).expect("parses");
        let row = &rows[&3072];
        assert_eq!(row.private.1, "sign/s");
        assert_eq!(row.public.1, "verify/s");
        assert!((row.private.0 - 0.002).abs() < 1e-12);
        assert!((row.public.0 - 0.00004).abs() < 1e-12);
    }

    #[test]
    fn a_missing_key_size_is_an_error() {
        let partial = OPENSSL_3_0.replace("rsa 4096", "dsa 4096");
        assert!(parse_speed(&partial).is_err());
    }
}
