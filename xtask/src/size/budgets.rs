//! Issue 13's budgets: the keys `cargo xtask size` writes into `target/size.json` (brotli q11
//! bytes, times in ms), each printed with its budget and a pass/over mark. The byte counts of
//! a first visit come from the files the browser fetched in the throttled run
//! (`throttled.mjs`): before "Reject all" was visible and clickable (critical), and in all.

use std::fs;
use std::path::Path;

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

use super::measure;
use crate::shell::{self, project_root};
use crate::{demo, tools, wasm};

/// Fresh first visits per page in the throttled run.
const THROTTLED_RUNS: u32 = 5;

/// The demo's configs the throttled site serves at `/forms/<id>.json`; the first three are
/// embedded into its pages (sign-up, banner, survey).
const CONFIGS: [&str; 3] = [
    "examples/newsletter.json",
    "examples/consent.json",
    "examples/survey.json",
];

/// Brotli bytes of files named by their URL path on the throttled site (`/pkg/…`, `/forms/…`).
fn brotli_of(site: &Path, paths: &Value) -> Result<usize> {
    let paths = paths
        .as_array()
        .context("the throttled run listed no files")?;
    let mut total = 0;
    for url_path in paths {
        let url_path = url_path.as_str().context("a file path is not a string")?;
        let file = if let Some(rest) = url_path.strip_prefix("/pkg/") {
            project_root().join(wasm::OUT_DIR).join(rest)
        } else if let Some(rest) = url_path.strip_prefix("/forms/") {
            site.join("forms").join(rest)
        } else {
            bail!("the throttled run fetched an unexpected formseal file {url_path}");
        };
        let bytes = fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
        total += measure(&bytes)?.brotli;
    }
    Ok(total)
}

/// Builds the throttled run's site (the demo's pages with every snippet), runs `throttled.mjs`
/// and returns its report.
fn throttled(site: &Path) -> Result<Value> {
    tools::ensure_chromium()?;
    let root = project_root();
    let formseal = root.join("target/debug/formseal");
    let forms = site.join("forms");
    fs::create_dir_all(&forms)?;
    let mut snippets = Vec::new();
    for config in CONFIGS {
        let text = fs::read_to_string(root.join(config))?;
        let id = serde_json::from_str::<Value>(&text)?["id"]
            .as_str()
            .with_context(|| format!("{config} has no id"))?
            .to_owned();
        fs::write(
            forms.join(format!("{id}.json")),
            super::served_config(text.as_bytes())?,
        )?;
        snippets.push(shell::read(
            shell::command(&formseal)
                .arg("embed")
                .arg(root.join(config)),
        )?);
    }
    demo::write_site(&root.join("www"), &site.join("www"), &snippets)?;
    let report = shell::read(
        shell::command("node")
            .arg("xtask/src/size/throttled.mjs")
            .arg(site)
            .arg(THROTTLED_RUNS.to_string())
            .env("CHROMIUM", tools::CHROMIUM),
    )?;
    serde_json::from_str(report.trim()).context("reading throttled.mjs's report")
}

/// A budget row: the key, its value, the budget in words and whether it holds (`None`: only
/// reported).
struct Row {
    key: &'static str,
    value: f64,
    unit: &'static str,
    budget: String,
    within: Option<bool>,
}

/// Measures every key, prints the budgets and returns the keys as nested JSON (`banner.
/// returning_brotli` is `{"banner": {"returning_brotli": …}}`).
pub(super) fn report(banners: &Value) -> Result<(Value, Value)> {
    let site = project_root().join("target/size-throttled");
    let run = throttled(&site)?;
    let returning = banners["views"]["formseal_returning_visitor"]["total"]["brotli"]
        .as_u64()
        .context("no returning-visitor total")?;
    let klaro = banners["views"]["klaro 0.7.22"]["total"]["brotli"]
        .as_u64()
        .context("no klaro total")?;
    let critical = brotli_of(&site, &run["first_visit"]["critical"])?;
    let total = brotli_of(&site, &run["first_visit"]["total"])?;
    let bundle = |b: &wasm::Bundle| -> Result<usize> {
        b.files().iter().try_fold(0, |sum, file| {
            Ok(sum + measure(&fs::read(project_root().join(file))?)?.brotli)
        })
    };
    let signup = bundle(&wasm::SIGNUP)?;
    let survey = bundle(&wasm::SURVEY)?;
    let ms = |key: &str| run["banner_visible_ms"][key].as_f64().unwrap_or(f64::NAN);
    let (fs_ms, klaro_ms, cc_ms) = (ms("formseal"), ms("klaro"), ms("cookieconsent"));
    let signup_ms = run["signup_interactive_ms"].as_f64().unwrap_or(f64::NAN);

    let bytes = |n: usize| n as f64;
    let rows = [
        Row {
            key: "banner.returning_brotli",
            value: returning as f64,
            unit: "B",
            budget: "<= 5,000".into(),
            within: Some(returning <= 5_000),
        },
        Row {
            key: "banner.first_visit.critical_brotli",
            value: bytes(critical),
            unit: "B",
            budget: "<= 12,000".into(),
            within: Some(critical <= 12_000),
        },
        Row {
            key: "banner.first_visit.total_brotli",
            value: bytes(total),
            unit: "B",
            budget: format!("< klaro {klaro}"),
            within: Some((total as u64) < klaro),
        },
        Row {
            key: "form.signup_brotli",
            value: bytes(signup),
            unit: "B",
            budget: "<= 120,000 (aim 80,000)".into(),
            within: Some(signup <= 120_000),
        },
        Row {
            key: "form.survey_brotli",
            value: bytes(survey),
            unit: "B",
            budget: "<= 160,000".into(),
            within: Some(survey <= 160_000),
        },
        Row {
            key: "throttled.banner_visible_ms.formseal",
            value: fs_ms,
            unit: "ms",
            budget: format!("< cookieconsent {cc_ms}"),
            within: Some(fs_ms < cc_ms),
        },
        Row {
            key: "throttled.banner_visible_ms.klaro",
            value: klaro_ms,
            unit: "ms",
            budget: "peer".into(),
            within: None,
        },
        Row {
            key: "throttled.banner_visible_ms.cookieconsent",
            value: cc_ms,
            unit: "ms",
            budget: "peer".into(),
            within: None,
        },
        Row {
            key: "throttled.signup_interactive_ms",
            value: signup_ms,
            unit: "ms",
            budget: "reported (aim < 1,500)".into(),
            within: None,
        },
    ];
    println!(
        "\nbudgets (issue 13); throttled: 4x CPU, 150 ms RTT, 1.6 Mbit/s, median of {THROTTLED_RUNS}"
    );
    let mut keys = json!({});
    for row in &rows {
        let verdict = match row.within {
            Some(true) => "pass",
            Some(false) => "over",
            None => "",
        };
        println!(
            "  {:<44} {:>9} {:<3} {:<26} {verdict}",
            row.key, row.value, row.unit, row.budget
        );
        let mut at = &mut keys;
        let parts: Vec<&str> = row.key.split('.').collect();
        for part in &parts[..parts.len() - 1] {
            at = at
                .as_object_mut()
                .context("a budget key is both a value and a group")?
                .entry(*part)
                .or_insert_with(|| json!({}));
        }
        // Bytes and rounded milliseconds: whole numbers (the values are far below 2^52).
        at[parts[parts.len() - 1]] = if row.value.is_finite() {
            json!(row.value.round() as u64)
        } else {
            Value::Null
        };
    }
    Ok((keys, run))
}
