//! How long a record may be kept, and how that travels in the envelope's protected header so a
//! store can delete expired records without decrypting them.
//!
//! The date says which retention period applies (a day, from the form's purposes), nothing about
//! the visitor. Deleting is the store's business; this file only derives and reads the date.

use serde_json::{Map, Value};

use crate::config::FormConfig;
use crate::envelope::{Envelope, EnvelopeKind};
use crate::time::Date;
use crate::{Error, Result};

/// The protected-header parameter with the retention date, `YYYY-MM-DD`.
pub const HEADER_PARAM: &str = "fs.exp";

/// The day from which `envelope` must no longer be kept: the day it was made plus the longest
/// retention of the purposes whose fields it carries.
///
/// A consent or withdrawal record is the proof of what the visitor agreed to (Art. 7(1) GDPR),
/// needed as long as any data that consent covers may be kept: it is kept for the longest
/// retention of the banner's purposes, whatever it granted. Another record without values is
/// kept as long as the longest of the purposes granted in it, or of the form when none was.
pub fn expiry(config: &FormConfig, envelope: &Envelope) -> Result<Date> {
    let made = envelope
        .at
        .get(..10)
        .and_then(Date::parse)
        .ok_or_else(|| Error::Envelope("the envelope time is not a date".into()))?;
    if matches!(
        envelope.kind,
        EnvelopeKind::Consent | EnvelopeKind::Withdrawal
    ) {
        return Ok(made.plus_days(i64::from(longest(config))));
    }
    let days_of = |purpose: &str| config.purpose(purpose).and_then(|p| p.retention_days);
    let by_fields = envelope
        .values
        .keys()
        .filter_map(|id| config.field(id))
        .flat_map(|field| field.purposes.iter())
        .filter_map(|purpose| days_of(purpose))
        .max();
    let by_consent = || {
        envelope
            .consent
            .granted
            .iter()
            .filter_map(|purpose| days_of(purpose))
            .max()
    };
    let days = by_fields
        .or_else(by_consent)
        .unwrap_or_else(|| longest(config));
    Ok(made.plus_days(i64::from(days)))
}

/// The longest retention of any purpose of the form, in days: no record of it may be kept
/// longer, whatever its header says.
pub fn longest(config: &FormConfig) -> u32 {
    config
        .purposes
        .iter()
        .filter_map(|p| p.retention_days)
        .max()
        .unwrap_or(0)
}

/// Reads the retention date from a (peeked or opened) protected header.
pub fn from_header(header: &Map<String, Value>) -> Result<Date> {
    let value = header.get(HEADER_PARAM).ok_or_else(|| {
        Error::Malformed(format!(
            "the protected header has no retention date ({HEADER_PARAM})"
        ))
    })?;
    value.as_str().and_then(Date::parse).ok_or_else(|| {
        Error::Malformed(format!(
            "the retention date ({HEADER_PARAM}) is not a date such as 2027-11-24"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_header_without_a_good_date_is_refused() {
        let header = |value: Value| {
            let mut map = Map::new();
            map.insert(HEADER_PARAM.into(), value);
            map
        };
        assert_eq!(
            from_header(&header("2027-11-24".into())).unwrap(),
            Date::parse("2027-11-24").unwrap()
        );
        for bad in [
            Value::from("2027-02-30"),
            Value::from("tomorrow"),
            Value::from(20_271_124),
            Value::Null,
        ] {
            let err = from_header(&header(bad)).unwrap_err().to_string();
            assert!(err.contains("is not a date"), "{err}");
        }
        let err = from_header(&Map::new()).unwrap_err().to_string();
        assert!(err.contains("no retention date (fs.exp)"), "{err}");
    }
}
