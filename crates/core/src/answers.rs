//! A visitor's raw answers and the checks the widget runs before it minimises and seals them.
//!
//! Problems are codes, not sentences: the widget words them in the visitor's language. Only the
//! fields whose purposes are allowed are checked; the rest will be dropped anyway.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::Serialize;
use serde_json::Value;

use crate::config::{Field, FieldKind, FormConfig, LegalBasis, MinimiseRule};
use crate::consent::ConsentState;
use crate::logic::Visibility;
use crate::minimise::phone_to_e164;
use crate::time::Date;
use crate::upload::{FileAnswer, FileProblem};

/// Raw answers as the form collected them, by field id.
pub type Answers = BTreeMap<String, Value>;

/// What is wrong with one answer.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "code", rename_all = "kebab-case")]
pub enum AnswerProblem {
    /// A required field is empty.
    Required,
    /// The value has the wrong JSON type for the field (a programming error in the caller).
    WrongType,
    /// Fewer characters than `min_length`.
    TooShort {
        /// The minimum.
        min: u32,
    },
    /// More characters than `max_length`.
    TooLong {
        /// The maximum.
        max: u32,
    },
    /// Does not match the field's pattern.
    Pattern,
    /// Not an e-mail address.
    Email,
    /// Not a phone number we can write as E.164.
    Phone,
    /// Not a date (`YYYY-MM-DD`).
    Date,
    /// Not a number.
    Number,
    /// Below the field's `min`.
    BelowMin {
        /// The minimum.
        min: f64,
    },
    /// Above the field's `max`.
    AboveMax {
        /// The maximum.
        max: f64,
    },
    /// Not one of the field's options.
    NotAnOption,
    /// Not a whole number on the rating scale.
    NotOnScale {
        /// Lowest rating.
        min: u8,
        /// Highest rating.
        max: u8,
    },
    /// A required consent-based purpose was not granted.
    ConsentRequired {
        /// The purpose id.
        purpose: String,
    },
    /// A required matrix has statements without an answer.
    MatrixIncomplete {
        /// The statements not answered, in order.
        missing: Vec<String>,
    },
    /// A matrix answer names a statement the field does not have.
    UnknownStatement,
    /// A ranking leaves options out.
    RankingIncomplete,
    /// A ranking names an option twice.
    RankingDuplicate,
    /// More than one "other" answer, or the free text is empty.
    OtherInvalid,
    /// The "other" free text is longer than allowed.
    OtherTooLong {
        /// The maximum in characters.
        max: u32,
    },
    /// The file is larger than the field allows.
    FileTooLarge {
        /// The limit in bytes.
        max_bytes: u64,
    },
    /// The file's type is not one the field accepts.
    FileType {
        /// What the field accepts.
        accept: Vec<String>,
    },
    /// The file's content does not match its type (a renamed file).
    FileContent,
    /// Not a readable file answer (a programming error in the caller).
    FileMalformed,
}

/// A problem with the answer to one field.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FieldProblem {
    /// The field id.
    pub field: String,
    /// What is wrong.
    #[serde(flatten)]
    pub problem: AnswerProblem,
}

impl fmt::Display for FieldProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use AnswerProblem as P;
        write!(f, "{}: ", self.field)?;
        match &self.problem {
            P::Required => write!(f, "an answer is required"),
            P::WrongType => write!(f, "the value has the wrong type"),
            P::TooShort { min } => write!(f, "needs at least {min} characters"),
            P::TooLong { max } => write!(f, "allows at most {max} characters"),
            P::Pattern => write!(f, "does not match the expected format"),
            P::Email => write!(f, "not an e-mail address"),
            P::Phone => write!(f, "not a phone number with a country code"),
            P::Date => write!(f, "not a date (YYYY-MM-DD)"),
            P::Number => write!(f, "not a number"),
            P::BelowMin { min } => write!(f, "must be at least {min}"),
            P::AboveMax { max } => write!(f, "must be at most {max}"),
            P::NotAnOption => write!(f, "not one of the options"),
            P::NotOnScale { min, max } => write!(f, "must be a whole number from {min} to {max}"),
            P::ConsentRequired { purpose } => write!(f, "consent for \"{purpose}\" is required"),
            P::MatrixIncomplete { missing } => {
                write!(f, "statements without an answer: {}", missing.join(", "))
            }
            P::UnknownStatement => write!(f, "not one of the statements"),
            P::RankingIncomplete => write!(f, "every option must be ranked"),
            P::RankingDuplicate => write!(f, "an option is ranked twice"),
            P::OtherInvalid => write!(f, "the \"other\" answer is empty or given twice"),
            P::OtherTooLong { max } => {
                write!(f, "the \"other\" answer allows at most {max} characters")
            }
            P::FileTooLarge { max_bytes } => write!(f, "the file is larger than {max_bytes} bytes"),
            P::FileType { accept } => {
                write!(
                    f,
                    "this type of file is not accepted (only {})",
                    accept.join(", ")
                )
            }
            P::FileContent => write!(f, "the file's content does not match its type"),
            P::FileMalformed => write!(f, "not a readable file"),
        }
    }
}

/// Checks `answers` against the form's rules. `consent` must already include the form's own
/// consent checkboxes ([`ConsentState::with_form_answers`]); `today` decides age bands, which
/// conditions may test. Fields hidden by logic are not checked (their answers will be dropped).
/// Empty when everything is fine.
pub fn validate(
    config: &FormConfig,
    answers: &Answers,
    consent: &ConsentState,
    today: Date,
) -> Vec<FieldProblem> {
    let visibility = Visibility::of(config, answers, consent, today);
    check_fields(config, answers, consent, &visibility, &|_| true, true)
}

/// Checks only the visible fields of one page, for the widget's Next button. An unknown page id
/// has no problems.
pub fn validate_page(
    config: &FormConfig,
    page: &str,
    answers: &Answers,
    consent: &ConsentState,
    today: Date,
) -> Vec<FieldProblem> {
    let pages = config.pages();
    let Some(page) = pages.iter().find(|p| p.id == page) else {
        return Vec::new();
    };
    let on_page = str_set(page.fields.iter().map(String::as_str));
    let visibility = Visibility::of(config, answers, consent, today);
    check_fields(
        config,
        answers,
        consent,
        &visibility,
        &|id| on_page.contains(id),
        false,
    )
}

fn check_fields(
    config: &FormConfig,
    answers: &Answers,
    consent: &ConsentState,
    visibility: &Visibility,
    include: &dyn Fn(&str) -> bool,
    whole_form: bool,
) -> Vec<FieldProblem> {
    let mut problems = Vec::new();
    for purpose in config
        .purposes
        .iter()
        .filter(|p| p.required && p.legal_basis == LegalBasis::Consent && !consent.allows(p))
    {
        // Report it on the checkbox that grants it, so the visitor knows where to click.
        let field = config
            .fields
            .iter()
            .find(|f| f.kind == FieldKind::Consent && f.purposes.contains(&purpose.id))
            .map_or_else(String::new, |f| f.id.clone());
        if (field.is_empty() && whole_form) || (!field.is_empty() && include(&field)) {
            problems.push(FieldProblem {
                field,
                problem: AnswerProblem::ConsentRequired {
                    purpose: purpose.id.clone(),
                },
            });
        }
    }
    for (_, field) in config.fields_in_order() {
        if field.kind == FieldKind::Hidden
            || !include(&field.id)
            || !visibility.field(&field.id)
            || !consent.allows_any(config, &field.purposes)
        {
            continue;
        }
        let found = answers.get(&field.id).filter(|v| !is_empty(v));
        let result = match found {
            None if field.required && field.kind != FieldKind::Consent => {
                Err(AnswerProblem::Required)
            }
            None => Ok(()),
            Some(value) => check_value(field, value),
        };
        if let Err(problem) = result {
            problems.push(FieldProblem {
                field: field.id.clone(),
                problem,
            });
        }
    }
    problems
}

/// Whether a value counts as no answer: null, an unticked box, blank text, an empty list or
/// object.
pub(crate) fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null | Value::Bool(false) => true,
        Value::String(s) => s.trim().is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    }
}

/// Checks one non-empty answer against its field.
pub(crate) fn check_value(field: &Field, value: &Value) -> Result<(), AnswerProblem> {
    use AnswerProblem as P;
    use FieldKind as K;
    match field.kind {
        K::Text | K::Email | K::Tel | K::Textarea => {
            let s = value.as_str().ok_or(P::WrongType)?;
            let s = crate::text::nfc(s.trim());
            let chars = s.chars().count();
            if let Some(min) = field.min_length.filter(|m| chars < *m as usize) {
                return Err(P::TooShort { min });
            }
            // A truncate rule cuts long text instead of refusing it.
            let truncates = matches!(field.minimise, Some(MinimiseRule::Truncate { .. }));
            if let Some(max) = field
                .max_length
                .filter(|m| chars > *m as usize && !truncates)
            {
                return Err(P::TooLong { max });
            }
            if field.kind == K::Email && !looks_like_email(&s) {
                return Err(P::Email);
            }
            if field.kind == K::Tel {
                let country = match &field.minimise {
                    Some(MinimiseRule::E164 { country_code }) => Some(country_code.as_str()),
                    _ => None,
                };
                phone_to_e164(&s, country).ok_or(P::Phone)?;
            }
            if let Some(pattern) = &field.pattern {
                // The config check has compiled every pattern; an invalid one fails closed.
                if crate::text::full_match(pattern, &s) != Some(true) {
                    return Err(P::Pattern);
                }
            }
            Ok(())
        }
        K::Number => {
            let n = match value {
                Value::Number(n) => n.as_f64(),
                Value::String(s) => crate::text::number(s.trim()).filter(|n| n.is_finite()),
                _ => None,
            }
            .ok_or(P::Number)?;
            if let Some(min) = field.min.filter(|m| n < *m) {
                return Err(P::BelowMin { min });
            }
            if let Some(max) = field.max.filter(|m| n > *m) {
                return Err(P::AboveMax { max });
            }
            Ok(())
        }
        K::Date => {
            let s = value.as_str().ok_or(P::WrongType)?;
            Date::parse(s.trim()).map(|_| ()).ok_or(P::Date)
        }
        K::Select | K::Radio | K::Likert => {
            let items: Vec<&Value> = match value {
                Value::Array(items) if field.multiple => items.iter().collect(),
                single => vec![single],
            };
            let mut others = 0;
            for item in items {
                if let Some(text) = other_text(item) {
                    let other = field.other.as_ref().ok_or(P::NotAnOption)?;
                    others += 1;
                    let text = crate::text::nfc(text.trim());
                    if text.is_empty() || others > 1 {
                        return Err(P::OtherInvalid);
                    }
                    let max = other.max_chars();
                    if text.chars().count() > max as usize {
                        return Err(P::OtherTooLong { max });
                    }
                } else if !is_option(field, item) {
                    return Err(P::NotAnOption);
                }
            }
            Ok(())
        }
        K::Matrix => {
            let Value::Object(rows) = value else {
                return Err(P::WrongType);
            };
            for (statement, choice) in rows {
                if !field.statements.iter().any(|s| &s.value == statement) {
                    return Err(P::UnknownStatement);
                }
                if !is_option(field, choice) && !is_empty(choice) {
                    return Err(P::NotAnOption);
                }
            }
            let missing: Vec<String> = field
                .statements
                .iter()
                .filter(|s| rows.get(&s.value).is_none_or(is_empty))
                .map(|s| s.value.clone())
                .collect();
            if field.required && !missing.is_empty() {
                return Err(P::MatrixIncomplete { missing });
            }
            Ok(())
        }
        K::Ranking => {
            let Value::Array(items) = value else {
                return Err(P::WrongType);
            };
            let mut seen = BTreeSet::new();
            for item in items {
                if !is_option(field, item) {
                    return Err(P::NotAnOption);
                }
                if !seen.insert(item.as_str()) {
                    return Err(P::RankingDuplicate);
                }
            }
            (seen.len() == field.options.len())
                .then_some(())
                .ok_or(P::RankingIncomplete)
        }
        K::File => {
            let file = FileAnswer::from_value(value).ok_or(P::FileMalformed)?;
            file.check(field).map_err(|problem| match problem {
                FileProblem::Malformed => P::FileMalformed,
                FileProblem::TooLarge { max_bytes } => P::FileTooLarge { max_bytes },
                FileProblem::TypeNotAccepted => P::FileType {
                    accept: field.accept.clone(),
                },
                FileProblem::ContentMismatch => P::FileContent,
            })
        }
        K::Checkbox | K::Consent => value.as_bool().map(|_| ()).ok_or(P::WrongType),
        K::Rating => {
            let (min, max) = field.scale.map_or((0, 10), |s| s.range());
            let n = match value {
                Value::Number(n) => n.as_f64(),
                Value::String(s) => crate::text::number(s.trim()),
                _ => None,
            };
            match n {
                Some(n) if n.fract() == 0.0 && n >= f64::from(min) && n <= f64::from(max) => Ok(()),
                _ => Err(P::NotOnScale { min, max }),
            }
        }
        K::Hidden => Ok(()),
    }
}

/// The strings as a set, inserted one by one: `collect()` into a BTreeSet sorts first, and each
/// sort it instantiates costs the widget about 1 kB brotli.
pub(crate) fn str_set<'a>(items: impl IntoIterator<Item = &'a str>) -> BTreeSet<&'a str> {
    let mut set = BTreeSet::new();
    for item in items {
        set.insert(item);
    }
    set
}

/// Whether the value is one of the field's option values.
pub(crate) fn is_option(field: &Field, value: &Value) -> bool {
    value
        .as_str()
        .is_some_and(|s| field.options.iter().any(|o| o.value == s))
}

/// The free text of an `{"other": "..."}` answer.
pub(crate) fn other_text(value: &Value) -> Option<&str> {
    match value {
        Value::Object(map) if map.len() == 1 => map.get("other")?.as_str(),
        _ => None,
    }
}

/// A deliberately loose check: one `@`, something before it, a dotted domain after it, no
/// white space. The real test of an address is mail reaching it.
fn looks_like_email(s: &str) -> bool {
    let Some((local, domain)) = s.rsplit_once('@') else {
        return false;
    };
    !local.is_empty()
        && s.len() <= 254
        && !s.chars().any(char::is_whitespace)
        && !local.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_check_is_loose_but_not_empty() {
        assert!(looks_like_email("Jan.de.Vries@example.nl"));
        for bad in [
            "",
            "jan",
            "jan@",
            "@example.nl",
            "jan@localhost",
            "j an@example.nl",
            "a@b@c.nl",
        ] {
            assert!(!looks_like_email(bad), "{bad}");
        }
    }
}
