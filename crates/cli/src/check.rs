//! `formseal check`: reads a form config, lists every problem with its JSON path, and otherwise
//! summarises what the form collects, why, and for how long. An unknown key does not hide the
//! other problems: it is reported and set aside so the rest of the config is still checked.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::anyhow;
use formseal_core::config::FormConfig;
use formseal_core::keys::RecipientKey;
use serde::Serialize;
use serde_json::Value;

use crate::{Hinted, read_text, shown};

/// Check a form config and summarise it.
///
/// Prints every problem as `FILE: json.path: what is wrong (how to fix it)` on stderr and exits
/// with 1. When the config is fine, prints the form, its keys and, per purpose, its legal
/// basis, retention and the fields that serve it.
#[derive(Debug, clap::Args)]
#[command(after_help = "Example:\n  formseal check form.json")]
pub(crate) struct Args {
    /// The form config (JSON) to check.
    #[arg(value_name = "FORM.json")]
    form: PathBuf,
}

pub(crate) fn run(args: &Args) -> anyhow::Result<()> {
    let text = read_text(&args.form, "form config")?;
    let (config, problems) = FormConfig::check(&text);
    if !problems.is_empty() {
        for problem in &problems {
            eprintln!("{}: {problem}", shown(&args.form));
        }
        return Err(anyhow!(
            "{} problem{} in {}",
            problems.len(),
            if problems.len() == 1 { "" } else { "s" },
            shown(&args.form)
        ));
    }
    let config = config.ok_or_else(|| anyhow!("config did not parse"))?;
    print!("{}", summary(&config)?);
    Ok(())
}

/// Loads a config for the other commands: any problem is an error that points to `check`.
pub(crate) fn load(path: &Path) -> anyhow::Result<FormConfig> {
    let text = read_text(path, "form config")?;
    match FormConfig::from_json(&text) {
        Ok(config) => Ok(config),
        Err(err) => Err(anyhow::Error::new(err).context(Hinted::context(
            format!("{} is not a valid form config", shown(path)),
            format!("run `formseal check {}` to see every problem", shown(path)),
        ))),
    }
}

/// The summary of a valid config, as printed on stdout.
fn summary(config: &FormConfig) -> anyhow::Result<String> {
    let mut out = String::new();
    writeln!(
        out,
        "form {} version {} ({})",
        config.id,
        config.version,
        name_of(&config.kind)
    )?;
    writeln!(out, "languages: {}", config.languages.join(", "))?;
    writeln!(out, "endpoint: {}", config.endpoint)?;
    if let Some(last_day) = config.closes_at {
        writeln!(out, "closes: at the end of {last_day} (UTC)")?;
    }
    if let Some(max) = config.max_responses {
        writeln!(out, "responses: at most {max}")?;
    }
    writeln!(
        out,
        "privacy notice: {} (version {})",
        config.privacy_notice.url, config.privacy_notice.version
    )?;
    writeln!(out, "keys:")?;
    for jwk in &config.recipients {
        let key = RecipientKey::from_jwk(jwk)?;
        writeln!(out, "  {} ({}-bit RSA)", key.kid(), key.bits())?;
    }
    writeln!(out, "purposes:")?;
    for purpose in &config.purposes {
        let fields: Vec<&str> = config
            .fields
            .iter()
            .filter(|f| f.purposes.contains(&purpose.id))
            .map(|f| f.id.as_str())
            .collect();
        let retention = purpose
            .retention_days
            .map_or_else(|| "no retention".to_owned(), |d| format!("kept {d} days"));
        writeln!(
            out,
            "  {}: {}, {}, {}; fields: {}",
            purpose.id,
            name_of(&purpose.legal_basis),
            retention,
            if purpose.required {
                "required"
            } else {
                "optional"
            },
            if fields.is_empty() {
                "none".to_owned()
            } else {
                fields.join(", ")
            }
        )?;
    }
    if !config.pages.is_empty() {
        let pages: Vec<String> = config
            .pages
            .iter()
            .map(|p| {
                let when = if p.show_if.is_some() {
                    ", conditional"
                } else {
                    ""
                };
                let n = p.fields.len();
                let fields = if n == 1 { "field" } else { "fields" };
                format!("{} ({n} {fields}{when})", p.id)
            })
            .collect();
        writeln!(out, "pages: {}", pages.join(", "))?;
    }
    let conditional: Vec<&str> = config
        .fields
        .iter()
        .filter(|f| f.show_if.is_some())
        .map(|f| f.id.as_str())
        .collect();
    if !conditional.is_empty() {
        writeln!(out, "conditional fields: {}", conditional.join(", "))?;
    }
    if let Some(reward) = &config.reward {
        writeln!(
            out,
            "reward: {} for purpose {}, sealed apart from the answers: {}",
            name_of(&reward.kind),
            reward.purpose,
            reward.fields.join(", ")
        )?;
    }
    writeln!(out, "{} fields, no problems found", config.fields.len())?;
    Ok(out)
}

/// The config spelling of an enum value (`legitimate-interests`).
fn name_of<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(Value::String(s)) => s,
        _ => "?".to_owned(),
    }
}
