//! The consent banner's cost per page view, side by side with two consent managers installed
//! from npm at the versions issue 5 names: what a returning visitor and a first visit download
//! (raw and brotli bytes), the ratios, and the budgets with a pass/over mark.
//! It measures files as they are; building them is `wasm.rs`'s job, installing them `tools.rs`'s.

use std::fs;

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

use super::{Sizes, measure};
use crate::shell::project_root;
use crate::{tools, wasm};

/// A consent manager from npm: the exact version pinned in `package.json` and the files a site
/// loads from it, relative to the package.
struct Package {
    name: &'static str,
    version: &'static str,
    files: &'static [&'static str],
}

/// The consent managers the banner is compared with. The only place their file paths live.
const PACKAGES: [Package; 2] = [
    // Its README's set-up: the UMD script and the stylesheet.
    Package {
        name: "vanilla-cookieconsent",
        version: "3.1.0",
        files: &["dist/cookieconsent.umd.js", "dist/cookieconsent.css"],
    },
    // The build sites load from its CDN, with the CSS and the translations inside.
    Package {
        name: "klaro",
        version: "0.7.22",
        files: &["dist/klaro.js"],
    },
];

/// The consent config the demo's banner loads.
const CONSENT_CONFIG: &str = "examples/consent.json";

/// Issue 5: a returning visitor loads at most this many brotli bytes (5 kB).
const RETURNING_BUDGET: usize = 5_000;

/// Width of the first column of the tables.
const NAME_WIDTH: usize = 62;

/// One page view: the files it downloads, `None` for one that is not built.
struct View {
    label: String,
    files: Vec<(String, Option<Sizes>)>,
}

impl View {
    fn of(label: impl Into<String>, files: &[String]) -> Result<Self> {
        let files = files
            .iter()
            .map(|file| {
                let path = project_root().join(file);
                let sizes = match fs::read(&path) {
                    Ok(bytes) if file.ends_with(".json") => {
                        Some(measure(super::served_config(&bytes)?.as_bytes())?)
                    }
                    Ok(bytes) => Some(measure(&bytes)?),
                    Err(err) if err.kind() == std::io::ErrorKind::NotFound => None,
                    Err(err) => {
                        return Err(err).with_context(|| format!("reading {}", path.display()));
                    }
                };
                Ok((file.clone(), sizes))
            })
            .collect::<Result<_>>()?;
        Ok(Self {
            label: label.into(),
            files,
        })
    }

    /// Whether every file is there, so that the total is the real one.
    fn complete(&self) -> bool {
        self.files.iter().all(|(_, sizes)| sizes.is_some())
    }

    /// Raw and brotli bytes of the files that are there.
    fn total(&self) -> (usize, usize) {
        self.files
            .iter()
            .filter_map(|(_, sizes)| sizes.as_ref())
            .fold((0, 0), |(raw, brotli), s| (raw + s.raw, brotli + s.brotli))
    }

    fn brotli(&self) -> usize {
        self.total().1
    }

    fn print(&self) {
        println!("{}", self.label);
        for (file, sizes) in &self.files {
            match sizes {
                Some(s) => println!("  {file:<NAME_WIDTH$} {:>10} {:>10}", s.raw, s.brotli),
                None => println!("  {file:<NAME_WIDTH$} {:>21}", "not built"),
            }
        }
        let (raw, brotli) = self.total();
        let label = if self.complete() {
            "total"
        } else {
            "total of the files built"
        };
        println!("  {label:<NAME_WIDTH$} {raw:>10} {brotli:>10}");
    }

    fn to_json(&self) -> Value {
        let files: serde_json::Map<_, _> = self
            .files
            .iter()
            .map(|(file, sizes)| {
                let value = sizes
                    .as_ref()
                    .map_or(Value::Null, |s| json!({"raw": s.raw, "brotli": s.brotli}));
                (file.clone(), value)
            })
            .collect();
        let (raw, brotli) = self.total();
        json!({
            "files": files,
            "total": {"raw": raw, "brotli": brotli},
            "complete": self.complete(),
        })
    }
}

/// Prints the comparison and returns it as JSON for `target/size.json`.
pub(super) fn compare() -> Result<Value> {
    tools::ensure_node_modules()?;
    // The example banner maps Consent Mode, so its snippet has the Consent Mode script too.
    let returning_files = [
        wasm::CONSENT_MODE.to_owned(),
        wasm::LOADER.to_owned(),
        CONSENT_CONFIG.to_owned(),
    ];
    let first_files = [
        wasm::CONSENT_MODE.to_owned(),
        wasm::LOADER.to_owned(),
        CONSENT_CONFIG.to_owned(),
        wasm::FIRST_LAYER.to_owned(),
        // Accept all or Reject all: the record build seals the decision; the consent build
        // (the dialog) comes only with Choose.
        wasm::RECORD.glue(),
        wasm::RECORD.wasm(),
    ];
    let returning = View::of("formseal, returning visitor", &returning_files)?;
    let first = View::of("formseal, first visit (banner shown)", &first_files)?;
    let others = PACKAGES
        .iter()
        .map(|package| {
            check_installed(package)?;
            let files: Vec<String> = package
                .files
                .iter()
                .map(|file| format!("node_modules/{}/{file}", package.name))
                .collect();
            View::of(format!("{} {}", package.name, package.version), &files)
        })
        .collect::<Result<Vec<_>>>()?;
    if let Some(missing) = others.iter().find(|view| !view.complete()) {
        bail!(
            "{} lacks a file this comparison measures; was it published with another layout?",
            missing.label
        );
    }

    println!(
        "\n{:<width$} {:>10} {:>10}",
        "consent banner per page view, bytes",
        "raw",
        "brotli",
        width = NAME_WIDTH + 2
    );
    for view in [&returning, &first].into_iter().chain(&others) {
        view.print();
    }

    println!(
        "\n{:<32}{}",
        "formseal / other, brotli",
        others
            .iter()
            .map(|o| format!("{:>30}", o.label))
            .collect::<String>()
    );
    let mut ratios = serde_json::Map::new();
    for (key, name, view) in [
        ("returning_visitor", "returning visitor", &returning),
        ("first_visit", "first visit", &first),
    ] {
        let row: Vec<f64> = others
            .iter()
            .map(|o| ratio(view.brotli(), o.brotli()))
            .collect();
        let marked = if view.complete() { "" } else { " (incomplete)" };
        println!(
            "  {:<30}{}",
            format!("{name}{marked}"),
            row.iter()
                .map(|r| format!("{:>29.2}x", r))
                .collect::<String>()
        );
        ratios.insert(
            key.to_owned(),
            others
                .iter()
                .zip(&row)
                .map(|(o, r)| (o.label.clone(), json!(r)))
                .collect::<serde_json::Map<_, _>>()
                .into(),
        );
    }

    let klaro = others
        .iter()
        .find(|o| o.label.starts_with("klaro "))
        .context("klaro is not among the packages compared")?;
    let budgets = [
        (
            "returning_visitor",
            format!("returning visitor <= {RETURNING_BUDGET} B"),
            &returning,
            returning.brotli() <= RETURNING_BUDGET,
        ),
        (
            "first_visit",
            format!("first visit < klaro ({} B)", klaro.brotli()),
            &first,
            first.brotli() < klaro.brotli(),
        ),
    ];
    println!("\nbudgets (issue 5), brotli");
    let mut verdicts = serde_json::Map::new();
    for (key, budget, view, within) in budgets {
        let verdict = match (view.complete(), within) {
            (false, _) => "not built",
            (true, true) => "pass",
            (true, false) => "over",
        };
        println!("  {budget:<NAME_WIDTH$} {:>10} B  {verdict}", view.brotli());
        verdicts.insert(
            key.to_owned(),
            json!({"budget": budget, "brotli": view.brotli(), "verdict": verdict}),
        );
    }

    let mut views = serde_json::Map::new();
    views.insert("formseal_returning_visitor".into(), returning.to_json());
    views.insert("formseal_first_visit".into(), first.to_json());
    for view in &others {
        views.insert(view.label.clone(), view.to_json());
    }
    Ok(json!({ "views": views, "ratios": ratios, "budgets": verdicts }))
}

/// Fails unless `node_modules` holds exactly the pinned version (`npm ci` installs it).
fn check_installed(package: &Package) -> Result<()> {
    let manifest = project_root()
        .join("node_modules")
        .join(package.name)
        .join("package.json");
    let text = fs::read_to_string(&manifest)
        .with_context(|| format!("reading {}; run `npm ci`", manifest.display()))?;
    let installed: Value =
        serde_json::from_str(&text).with_context(|| format!("parsing {}", manifest.display()))?;
    if installed["version"] != package.version {
        bail!(
            "node_modules has {} {}, the comparison wants {}: run `npm ci`",
            package.name,
            installed["version"],
            package.version
        );
    }
    Ok(())
}

/// `a / b`, rounded to two decimals.
fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 {
        return f64::NAN;
    }
    // Sizes are far below 2^52, so the conversions are exact.
    let r = a as f64 / b as f64;
    (r * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_not_built_is_marked_and_left_out_of_the_total() {
        let view = View::of(
            "test",
            &["Cargo.toml".to_owned(), "pkg/not-a-file.js".to_owned()],
        )
        .unwrap();
        assert!(!view.complete());
        let cargo_toml = fs::read(project_root().join("Cargo.toml")).unwrap();
        assert_eq!(view.total().0, cargo_toml.len());
        assert!(view.to_json()["files"]["pkg/not-a-file.js"].is_null());
    }

    #[test]
    fn ratios_have_two_decimals() {
        assert_eq!(ratio(4757, 13786), 0.35);
        assert_eq!(ratio(237_968, 59_235), 4.02);
        assert!(ratio(1, 0).is_nan());
    }
}
