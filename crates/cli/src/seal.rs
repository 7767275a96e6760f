//! `formseal seal`: seals one submission from answers on stdin exactly as the widget does
//! (validate, minimise under the given consent, encrypt to the form's keys) and prints the JWE.
//! For trying a form and feeding test data to a collector; nothing is sent anywhere.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, IsTerminal, Read};
use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, anyhow};
use formseal_core::Error;
use formseal_core::answers::Answers;
use formseal_core::config::{FormConfig, LegalBasis};
use formseal_core::consent::ConsentState;
use formseal_core::envelope::{SubmissionInput, random_id, seal_envelopes};
use formseal_core::minimise::Applied;

use crate::{Hinted, check};

/// Seal one submission, the way the widget would, from answers on stdin.
///
/// Reads a JSON object of answers (field id → value) from stdin, checks it against the form,
/// drops what the consent does not cover, applies the form's generalisations and prints the
/// sealed envelope (JWE) on stdout; a survey whose visitor entered its reward gives a second
/// line, the reward entry, sealed apart. Invalid answers are all listed on stderr and nothing is
/// printed on stdout.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  formseal seal --form form.json < answers.json
  formseal seal --form form.json --consent personalisation < answers.json > sealed.jwe
  formseal seal --form form.json --param utm_source=mail --report < answers.json")]
pub(crate) struct Args {
    /// The form config (JSON) the answers belong to.
    #[arg(long, value_name = "FORM.json")]
    form: PathBuf,

    /// Purposes the visitor consented to outside the form (a cookie banner, an earlier visit),
    /// comma-separated; the form's own consent checkboxes are read from the answers.
    #[arg(long, value_name = "PURPOSE,...", value_delimiter = ',')]
    consent: Vec<String>,

    /// Pseudonymous subject id to record; a new random one by default.
    #[arg(long, value_name = "ID")]
    subject: Option<String>,

    /// A query parameter of the page, NAME=VALUE (repeatable); hidden fields take their value
    /// from these.
    #[arg(long = "param", value_name = "NAME=VALUE", value_parser = parse_param)]
    params: Vec<(String, String)>,

    /// Also print on stderr which minimisation rule ran on which field.
    #[arg(long)]
    report: bool,
}

pub(crate) fn run(args: &Args) -> anyhow::Result<()> {
    let config = check::load(&args.form)?;
    let consent = ConsentState {
        notice_version: config.privacy_notice.version.clone(),
        granted: granted(&config, &args.consent)?,
    };
    let answers = read_answers()?;
    let subject = match &args.subject {
        Some(subject) => subject.clone(),
        None => random_id(&mut getrandom::SysRng).context("cannot make a subject id")?,
    };
    let url_params: BTreeMap<String, String> = args.params.iter().cloned().collect();
    let now_unix = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .context("the system clock is before 1970")?
        .as_secs();
    let input = SubmissionInput {
        answers: &answers,
        consent: &consent,
        subject: &subject,
        now_unix: i64::try_from(now_unix).context("the system clock is far in the future")?,
        url_params: &url_params,
        lang: None,
    };
    let sealed = match seal_envelopes(&config, &input, &mut getrandom::SysRng) {
        Ok(sealed) => sealed,
        Err(Error::InvalidAnswers(problems)) => {
            for problem in &problems {
                let line = problem.to_string();
                // A required consent without a checkbox is reported on no field.
                eprintln!("answers: {}", line.strip_prefix(": ").unwrap_or(&line));
            }
            return Err(anyhow!(
                "{} invalid answer{}; nothing was sealed",
                problems.len(),
                if problems.len() == 1 { "" } else { "s" }
            ));
        }
        Err(other) => return Err(anyhow::Error::new(other).context("cannot seal the submission")),
    };
    if args.report {
        print_report(&sealed.report);
    }
    // A survey whose visitor entered its reward gives a second line: the reward entry.
    for (_, jwe) in &sealed.envelopes {
        println!("{jwe}");
    }
    Ok(())
}

/// The `--consent` purposes, checked against the form: a typo must not silently drop data.
fn granted(config: &FormConfig, purposes: &[String]) -> anyhow::Result<BTreeSet<String>> {
    let consent_based: Vec<&str> = config
        .purposes
        .iter()
        .filter(|p| p.legal_basis == LegalBasis::Consent)
        .map(|p| p.id.as_str())
        .collect();
    let mut granted = BTreeSet::new();
    for id in purposes.iter().map(|p| p.trim()).filter(|p| !p.is_empty()) {
        match config.purpose(id) {
            Some(p) if p.legal_basis == LegalBasis::Consent => {
                granted.insert(id.to_owned());
            }
            Some(_) => {
                return Err(Hinted::error(
                    format!("purpose \"{id}\" does not rest on consent, so it cannot be granted"),
                    format!(
                        "consent-based purposes of this form: {}",
                        consent_based.join(", ")
                    ),
                ));
            }
            None => {
                return Err(Hinted::error(
                    format!("the form has no purpose \"{id}\""),
                    format!(
                        "consent-based purposes of this form: {}",
                        consent_based.join(", ")
                    ),
                ));
            }
        }
    }
    Ok(granted)
}

fn read_answers() -> anyhow::Result<Answers> {
    let mut stdin = io::stdin();
    if stdin.is_terminal() {
        return Err(Hinted::error(
            "expected the answers as JSON on stdin",
            "formseal seal --form form.json < answers.json",
        ));
    }
    let mut text = String::new();
    stdin
        .read_to_string(&mut text)
        .context("cannot read the answers from stdin")?;
    // The values are a visitor's answers: errors name the position or the shape, never them.
    let hint = "give an object of field id to value, e.g. {\"email\": \"jan@example.nl\"}";
    let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        Hinted::error(
            format!(
                "the answers on stdin are not valid JSON (line {}, column {})",
                e.line(),
                e.column()
            ),
            hint,
        )
    })?;
    match value {
        serde_json::Value::Object(object) => Ok(object.into_iter().collect()),
        other => Err(Hinted::error(
            format!(
                "the answers on stdin are a JSON {}, not an object",
                json_kind(&other)
            ),
            hint,
        )),
    }
}

fn json_kind(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "boolean",
        serde_json::Value::Number(_) => "number",
        serde_json::Value::String(_) => "string",
        serde_json::Value::Array(_) => "array",
        serde_json::Value::Object(_) => "object",
    }
}

fn print_report(report: &[Applied]) {
    if report.is_empty() {
        eprintln!("minimisation: nothing to do");
    }
    for applied in report {
        let step = serde_json::to_value(applied.step)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_else(|| format!("{:?}", applied.step));
        let effect = if applied.changed { "" } else { " (no change)" };
        eprintln!("minimisation: {}: {step}{effect}", applied.field);
    }
}

fn parse_param(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((name, value)) if !name.is_empty() => Ok((name.to_owned(), value.to_owned())),
        _ => Err(format!(
            "expected NAME=VALUE, e.g. utm_source=newsletter, not {s:?}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_need_a_name_and_an_equals_sign() {
        assert_eq!(parse_param("ref=a=b"), Ok(("ref".into(), "a=b".into())));
        assert!(parse_param("=x").is_err());
        assert!(parse_param("utm_source").is_err());
    }
}
