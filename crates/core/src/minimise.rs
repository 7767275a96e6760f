//! Minimisation: what is left of the visitor's answers after consent and the declared
//! generalisations, computed before anything is sealed.
//!
//! Pure functions only. Values of unconsented purposes and of fields hidden by conditional logic
//! are dropped (never sent empty), text is trimmed and NFC-normalised, and every step is reported
//! so the widget can show it.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use crate::answers::Answers;
use crate::answers::{is_option, other_text, str_set};
use crate::config::{Field, FieldKind, FormConfig, MinimiseRule};
use crate::consent::ConsentState;
use crate::logic::Visibility;
use crate::text::{lowercase, nfc, number as number_text, uppercase};
use crate::time::Date;
use crate::upload::FileAnswer;

/// The most characters a hidden field keeps from its URL parameter.
pub const HIDDEN_VALUE_MAX_CHARS: usize = 100;

/// What minimisation needs besides the answers: today's date (for age bands) and the page's
/// URL parameters (the only source of hidden values).
#[derive(Clone, Debug)]
pub struct MinimiseContext<'a> {
    /// The visitor's current date.
    pub today: Date,
    /// Query parameters of the page the form is on.
    pub url_params: &'a BTreeMap<String, String>,
}

/// The minimised answers and the steps that produced them.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Minimised {
    /// The values that will be sealed, by field id.
    pub values: Answers,
    /// Every rule that ran, in field order.
    pub report: Vec<Applied>,
}

/// One rule that ran on one field.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Applied {
    /// The field id (or the unknown key, for [`Step::DroppedUnknownField`]).
    pub field: String,
    /// What ran.
    pub step: Step,
    /// Whether it changed the value (drops always do).
    pub changed: bool,
}

/// The minimisation steps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Step {
    /// None of the field's purposes is consented to: the value is dropped.
    DroppedNoConsent,
    /// The value is empty (or an unticked box): nothing is sent.
    DroppedEmpty,
    /// The answer names no field of the form.
    DroppedUnknownField,
    /// The value does not fit the field (wrong type, not an option, not a date...).
    DroppedInvalid,
    /// A hidden field's value did not come from its URL parameter.
    DroppedNotFromUrl,
    /// The field (or its page) is hidden by conditional logic: whatever was typed is dropped.
    DroppedHiddenByLogic,
    /// Leading and trailing white space removed.
    Trimmed,
    /// Unicode NFC normalisation.
    Nfc,
    /// E-mail address lower-cased.
    LowerCased,
    /// Phone number written as E.164.
    E164,
    /// Text cut to the field's maximum length or truncate rule.
    Truncated,
    /// Date of birth reduced to its year.
    BirthYear,
    /// Date of birth reduced to an age band.
    AgeBand,
    /// Postcode reduced to its prefix.
    PostcodePrefix,
    /// Hidden value taken from the allow-listed URL parameter.
    FromUrl,
    /// A file name reduced to a safe base name.
    FileName,
}

impl Step {
    /// Whether this step removed the value.
    pub fn is_drop(self) -> bool {
        matches!(
            self,
            Self::DroppedNoConsent
                | Self::DroppedEmpty
                | Self::DroppedUnknownField
                | Self::DroppedInvalid
                | Self::DroppedNotFromUrl
                | Self::DroppedHiddenByLogic
        )
    }
}

/// Minimises `answers` for `config` under `consent` (which should already include the form's
/// own consent checkboxes, see [`ConsentState::with_form_answers`]).
///
/// Minimising the result again changes nothing.
pub fn minimise(
    config: &FormConfig,
    answers: &Answers,
    consent: &ConsentState,
    ctx: &MinimiseContext<'_>,
) -> Minimised {
    let mut out = Minimised::default();
    let known = str_set(config.fields.iter().map(|f| f.id.as_str()));
    for key in answers.keys().filter(|k| !known.contains(k.as_str())) {
        out.report(key, Step::DroppedUnknownField, true);
    }
    let visibility = Visibility::of(config, answers, consent, ctx.today);
    for field in &config.fields {
        if !visibility.field(&field.id) {
            let from_url = field.kind == FieldKind::Hidden
                && field
                    .param
                    .as_ref()
                    .is_some_and(|p| ctx.url_params.contains_key(p));
            if answers.contains_key(&field.id) || from_url {
                out.report(&field.id, Step::DroppedHiddenByLogic, true);
            }
            continue;
        }
        let raw = if field.kind == FieldKind::Hidden {
            hidden_value(field, answers, ctx, &mut out)
        } else {
            answers.get(&field.id).cloned()
        };
        let Some(raw) = raw else { continue };
        if !consent.allows_any(config, &field.purposes) {
            out.report(&field.id, Step::DroppedNoConsent, true);
            continue;
        }
        let mut steps = Vec::new();
        match minimise_value(field, raw, ctx.today, &mut steps) {
            Ok(Some(value)) => {
                for (step, changed) in steps {
                    out.report(&field.id, step, changed);
                }
                out.values.insert(field.id.clone(), value);
            }
            Ok(None) => out.report(&field.id, Step::DroppedEmpty, true),
            Err(()) => out.report(&field.id, Step::DroppedInvalid, true),
        }
    }
    out
}

impl Minimised {
    fn report(&mut self, field: &str, step: Step, changed: bool) {
        self.report.push(Applied {
            field: field.to_owned(),
            step,
            changed,
        });
    }
}

/// A hidden field's value comes only from its URL parameter; anything in the answers is ignored.
fn hidden_value(
    field: &Field,
    answers: &Answers,
    ctx: &MinimiseContext<'_>,
    out: &mut Minimised,
) -> Option<Value> {
    let from_url = field
        .param
        .as_ref()
        .and_then(|p| ctx.url_params.get(p))
        .filter(|v| !v.trim().is_empty())
        .map(|v| Value::String(v.clone()));
    // A value in the answers counts only if it is what the URL gives (after minimisation, so
    // that minimising an already minimised result changes nothing).
    if let Some(given) = answers.get(&field.id) {
        let from_url_minimised = from_url.clone().and_then(|raw| {
            minimise_value(field, raw, ctx.today, &mut Vec::new())
                .ok()
                .flatten()
        });
        if from_url_minimised.as_ref() != Some(given) {
            out.report(&field.id, Step::DroppedNotFromUrl, true);
        }
    }
    if from_url.is_some() {
        out.report(&field.id, Step::FromUrl, false);
    }
    from_url
}

/// The minimised value of one answer, `None` when it is empty or does not fit the field.
pub(crate) fn kept_value(field: &Field, raw: Value, today: Date) -> Option<Value> {
    minimise_value(field, raw, today, &mut Vec::new())
        .ok()
        .flatten()
}

/// `Ok(None)` for an empty value, `Err(())` for one that does not fit the field.
fn minimise_value(
    field: &Field,
    raw: Value,
    today: Date,
    steps: &mut Vec<(Step, bool)>,
) -> Result<Option<Value>, ()> {
    use FieldKind as K;
    match field.kind {
        K::Text | K::Email | K::Tel | K::Textarea | K::Hidden => {
            let Value::String(s) = raw else {
                return Err(());
            };
            Ok(minimise_text(field, s, steps)?.map(Value::String))
        }
        K::Number => number(&raw).map(Some),
        K::Date => {
            let Value::String(s) = raw else {
                // A birth-year value (a number) is already minimised.
                return match (&field.minimise, raw.as_i64()) {
                    (Some(MinimiseRule::BirthYear), Some(y)) if (1000..=9999).contains(&y) => {
                        steps.push((Step::BirthYear, false));
                        Ok(Some(raw))
                    }
                    _ => Err(()),
                };
            };
            minimise_date(field, s.trim(), today, steps).map(Some)
        }
        K::Select if field.multiple => {
            let Value::Array(items) = raw else {
                return Err(());
            };
            // Keep the options' order and drop repeats, so the same choice seals the same way;
            // an "other" answer goes last.
            let mut chosen: Vec<Value> = field
                .options
                .iter()
                .filter(|o| items.iter().any(|i| i.as_str() == Some(&o.value)))
                .map(|o| Value::String(o.value.clone()))
                .collect();
            let mut other = None;
            for item in &items {
                if other_text(item).is_some() {
                    if other.is_some() {
                        return Err(());
                    }
                    other = minimise_other(field, item, steps)?;
                } else if !chosen.contains(item) {
                    return Err(());
                }
            }
            chosen.extend(other);
            Ok((!chosen.is_empty()).then_some(Value::Array(chosen)))
        }
        K::Select | K::Radio | K::Likert => match raw {
            Value::String(s) if s.is_empty() => Ok(None),
            Value::String(s) if field.options.iter().any(|o| o.value == s) => {
                Ok(Some(Value::String(s)))
            }
            other if other_text(&other).is_some() => minimise_other(field, &other, steps),
            _ => Err(()),
        },
        K::Matrix => {
            let Value::Object(rows) = raw else {
                return Err(());
            };
            if rows
                .keys()
                .any(|k| !field.statements.iter().any(|s| &s.value == k))
            {
                return Err(());
            }
            let mut kept = serde_json::Map::new();
            for statement in &field.statements {
                match rows.get(&statement.value) {
                    Some(choice) if is_option(field, choice) => {
                        kept.insert(statement.value.clone(), choice.clone());
                    }
                    Some(Value::Null) | None => {}
                    Some(Value::String(s)) if s.is_empty() => {}
                    Some(_) => return Err(()),
                }
            }
            Ok((!kept.is_empty()).then_some(Value::Object(kept)))
        }
        K::Ranking => {
            let Value::Array(items) = raw else {
                return Err(());
            };
            if items.is_empty() {
                return Ok(None);
            }
            let distinct = str_set(items.iter().filter_map(Value::as_str));
            let complete = items.len() == field.options.len()
                && distinct.len() == items.len()
                && items.iter().all(|i| is_option(field, i));
            if complete {
                Ok(Some(Value::Array(items)))
            } else {
                Err(())
            }
        }
        K::File => {
            if raw.is_null() {
                return Ok(None);
            }
            let file = FileAnswer::from_value(&raw).ok_or(())?;
            file.check(field).map_err(|_| ())?;
            let minimised = file.minimised();
            steps.push((Step::FileName, minimised.name != file.name));
            serde_json::to_value(minimised).map(Some).map_err(|_| ())
        }
        K::Checkbox | K::Consent => match raw {
            Value::Bool(true) => Ok(Some(Value::Bool(true))),
            Value::Bool(false) => Ok(None),
            _ => Err(()),
        },
        K::Rating => {
            let (lo, hi) = field.scale.map_or((0, 10), |s| s.range());
            let n = number(&raw)?.as_f64().ok_or(())?;
            if n.fract() != 0.0 || n < f64::from(lo) || n > f64::from(hi) {
                return Err(());
            }
            Ok(Some(Value::from(n as u8)))
        }
    }
}

/// An `{"other": "..."}` answer with its text trimmed, normalised and capped; `None` when blank.
fn minimise_other(
    field: &Field,
    item: &Value,
    steps: &mut Vec<(Step, bool)>,
) -> Result<Option<Value>, ()> {
    let (Some(other), Some(text)) = (&field.other, other_text(item)) else {
        return Err(());
    };
    let text = normalise_text(text.to_owned(), steps);
    let cut = truncate_chars(&text, other.max_chars() as usize);
    steps.push((Step::Truncated, cut != text));
    Ok((!cut.is_empty()).then(|| serde_json::json!({ "other": cut })))
}

/// A JSON number, or a string holding one (what an `<input type="number">` gives).
fn number(raw: &Value) -> Result<Value, ()> {
    match raw {
        Value::Number(n) => Ok(Value::Number(n.clone())),
        Value::String(s) => {
            let n = number_text(s.trim()).ok_or(())?;
            if !n.is_finite() {
                return Err(());
            }
            // Whole numbers stay integers so `42` and `"42"` seal identically.
            if n.fract() == 0.0 && n.abs() < 9.0e15 {
                Ok(Value::from(n as i64))
            } else {
                serde_json::Number::from_f64(n).map(Value::Number).ok_or(())
            }
        }
        _ => Err(()),
    }
}

fn minimise_text(
    field: &Field,
    s: String,
    steps: &mut Vec<(Step, bool)>,
) -> Result<Option<String>, ()> {
    let mut s = normalise_text(s, steps);
    match (field.kind, &field.minimise) {
        (FieldKind::Email, _) => {
            let lower = nfc(&lowercase(&s));
            steps.push((Step::LowerCased, lower != s));
            s = lower;
        }
        (FieldKind::Tel, rule) if !s.is_empty() => {
            let country = match rule {
                Some(MinimiseRule::E164 { country_code }) => Some(country_code.as_str()),
                _ => None,
            };
            let e164 = phone_to_e164(&s, country).ok_or(())?;
            steps.push((Step::E164, e164 != s));
            s = e164;
        }
        (_, Some(MinimiseRule::PostcodePrefix { length })) => {
            let prefix = postcode_prefix(&s, *length as usize);
            steps.push((Step::PostcodePrefix, prefix != s));
            s = prefix;
        }
        _ => {}
    }
    let cap = match (field.kind, &field.minimise, field.max_length) {
        (FieldKind::Hidden, _, _) => Some(HIDDEN_VALUE_MAX_CHARS),
        (_, Some(MinimiseRule::Truncate { length }), max) => {
            Some((*length).min(max.unwrap_or(u32::MAX)) as usize)
        }
        (_, _, max) => max.map(|m| m as usize),
    };
    if let Some(cap) = cap {
        let cut = truncate_chars(&s, cap);
        steps.push((Step::Truncated, cut != s));
        s = cut;
    }
    Ok((!s.is_empty()).then_some(s))
}

/// Trims and NFC-normalises, recording both steps.
fn normalise_text(s: String, steps: &mut Vec<(Step, bool)>) -> String {
    let trimmed = s.trim();
    steps.push((Step::Trimmed, trimmed.len() != s.len()));
    let normalised = nfc(trimmed);
    steps.push((Step::Nfc, normalised != trimmed));
    normalised
}

/// At most `max` characters, cut on a character boundary, still NFC and trimmed.
fn truncate_chars(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let cut: String = s.chars().take(max).collect();
    nfc(&cut).trim_end().to_owned()
}

fn minimise_date(
    field: &Field,
    s: &str,
    today: Date,
    steps: &mut Vec<(Step, bool)>,
) -> Result<Value, ()> {
    match &field.minimise {
        Some(MinimiseRule::BirthYear) => {
            if let Some(year) = parse_year(s) {
                steps.push((Step::BirthYear, false));
                return Ok(Value::from(year));
            }
            let date = Date::parse(s).ok_or(())?;
            steps.push((Step::BirthYear, true));
            Ok(Value::from(date.year))
        }
        Some(MinimiseRule::AgeBand { width }) => {
            if is_age_band(s, *width) {
                steps.push((Step::AgeBand, false));
                return Ok(Value::String(s.to_owned()));
            }
            let date = Date::parse(s).ok_or(())?;
            let age = date.years_until(today);
            if age < 0 {
                return Err(());
            }
            let width = (*width).max(1) as i32;
            let low = age - age % width;
            steps.push((Step::AgeBand, true));
            Ok(Value::String(format!("{low}-{}", low + width - 1)))
        }
        _ => Date::parse(s)
            .map(|d| Value::String(d.to_string()))
            .ok_or(()),
    }
}

fn parse_year(s: &str) -> Option<i32> {
    (s.len() == 4 && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

/// Whether `s` is already an age band of this width (`30-39` for width 10).
fn is_age_band(s: &str, width: u32) -> bool {
    let Some((low, high)) = s.split_once('-') else {
        return false;
    };
    let digits = |p: &str| !p.is_empty() && p.len() <= 3 && p.bytes().all(|b| b.is_ascii_digit());
    if !digits(low) || !digits(high) {
        return false;
    }
    match (low.parse::<u32>(), high.parse::<u32>()) {
        (Ok(low), Ok(high)) => width > 0 && low % width == 0 && high + 1 == low + width,
        _ => false,
    }
}

/// The first `len` letters and digits of a postcode, upper-cased (`1234 ab` → `1234` for 4).
pub fn postcode_prefix(postcode: &str, len: usize) -> String {
    let kept: String = postcode
        .chars()
        .filter(|c| c.is_alphanumeric())
        .take(len)
        .collect();
    uppercase(&kept)
}

/// A phone number in E.164 (`+31612345678`), or `None` if it cannot be one.
///
/// Spaces, dashes, dots, slashes and parentheses are removed; `00` becomes `+`; a national
/// number (leading `0`, or no prefix at all) gets `country_code` when one is given.
pub fn phone_to_e164(raw: &str, country_code: Option<&str>) -> Option<String> {
    let compact: String = raw
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '.' | '/' | '(' | ')' | '\u{a0}'))
        .collect();
    let international = if let Some(rest) = compact.strip_prefix('+') {
        rest.to_owned()
    } else if let Some(rest) = compact.strip_prefix("00") {
        rest.to_owned()
    } else {
        let national = compact.strip_prefix('0').unwrap_or(&compact);
        format!("{}{national}", country_code?)
    };
    let valid = (8..=15).contains(&international.len())
        && international.bytes().all(|b| b.is_ascii_digit())
        && !international.starts_with('0');
    valid.then(|| format!("+{international}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_numbers_become_e164() {
        assert_eq!(
            phone_to_e164("06-12 34 56 78", Some("31")).as_deref(),
            Some("+31612345678")
        );
        assert_eq!(phone_to_e164("0031 20", Some("31")), None, "too short");
        assert_eq!(
            phone_to_e164("+44 20 7946 0958", None).as_deref(),
            Some("+442079460958")
        );
        assert_eq!(phone_to_e164("0612345678", None), None);
        assert_eq!(phone_to_e164("+31 6 abc", Some("31")), None);
    }

    #[test]
    fn postcodes_keep_their_prefix() {
        assert_eq!(postcode_prefix("1234 ab", 4), "1234");
        assert_eq!(postcode_prefix("SW1A 1AA", 3), "SW1");
    }

    #[test]
    fn age_bands_are_recognised() {
        assert!(is_age_band("30-39", 10));
        assert!(!is_age_band("31-40", 10));
        assert!(!is_age_band("1990-05-01", 10));
    }

    #[test]
    fn truncation_keeps_whole_characters() {
        assert_eq!(truncate_chars("héllo wörld", 7), "héllo w");
        assert_eq!(truncate_chars("ab  cd", 4), "ab");
    }
}
