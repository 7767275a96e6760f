//! Calendar dates and coarse timestamps, without a clock: callers pass the current time in.
//!
//! The core never reads the system clock (it runs in the browser and natively alike); this file
//! only converts between Unix time and the proleptic Gregorian calendar, and writes a date as
//! `YYYY-MM-DD` (serde, and the JSON Schema with the `schema` feature).

use std::fmt;

/// A calendar date (proleptic Gregorian).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Date {
    /// Year, e.g. 2026.
    pub year: i32,
    /// Month, 1 to 12.
    pub month: u8,
    /// Day of the month, 1 to 31.
    pub day: u8,
}

impl Date {
    /// Parses `YYYY-MM-DD`, the format of `<input type="date">`; `None` for anything else or an
    /// impossible date such as `2026-02-30`.
    pub fn parse(s: &str) -> Option<Self> {
        let bytes = s.as_bytes();
        if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
            return None;
        }
        let number = |range: std::ops::Range<usize>| -> Option<u32> {
            let part = s.get(range)?;
            part.bytes()
                .all(|b| b.is_ascii_digit())
                .then(|| part.parse().ok())?
        };
        let year = i32::try_from(number(0..4)?).ok()?;
        let month = u8::try_from(number(5..7)?).ok()?;
        let day = u8::try_from(number(8..10)?).ok()?;
        let date = Self { year, month, day };
        ((1..=12).contains(&month) && day >= 1 && day <= date.days_in_month()).then_some(date)
    }

    /// The date of a Unix timestamp (seconds since 1970-01-01T00:00:00Z), in UTC.
    pub fn from_unix(seconds: i64) -> Self {
        // Howard Hinnant's `civil_from_days`.
        let z = seconds.div_euclid(86_400) + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
        let year = (yoe + era * 400 + i64::from(month <= 2)) as i32;
        Self { year, month, day }
    }

    /// Days since 1970-01-01 (negative before it).
    pub fn days_since_epoch(self) -> i64 {
        // Howard Hinnant's `days_from_civil`.
        let year = i64::from(self.year) - i64::from(self.month <= 2);
        let era = year.div_euclid(400);
        let yoe = year - era * 400;
        let month = i64::from(self.month);
        let mp = if month > 2 { month - 3 } else { month + 9 };
        let doy = (153 * mp + 2) / 5 + i64::from(self.day) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    /// The date `days` days later (earlier when negative).
    pub fn plus_days(self, days: i64) -> Self {
        Self::from_unix((self.days_since_epoch() + days) * 86_400)
    }

    /// Whole years from `self` (a birth date) to `today`; negative if `self` is in the future.
    pub fn years_until(self, today: Date) -> i32 {
        let had_birthday = (today.month, today.day) >= (self.month, self.day);
        today.year - self.year - i32::from(!had_birthday)
    }

    fn days_in_month(self) -> u8 {
        match self.month {
            4 | 6 | 9 | 11 => 30,
            2 if self.year % 4 == 0 && (self.year % 100 != 0 || self.year % 400 == 0) => 29,
            2 => 28,
            _ => 31,
        }
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// A date is written `YYYY-MM-DD` in configs and JSON, as [`Date::parse`] reads it.
impl serde::Serialize for Date {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Date {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Date::parse(&text).ok_or_else(|| {
            serde::de::Error::custom(format!("{text:?} is not a date (write it YYYY-MM-DD)"))
        })
    }
}

/// In the JSON Schema a date is a string of format `date` (RFC 3339's `full-date`).
#[cfg(feature = "schema")]
impl schemars::JsonSchema for Date {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Date".into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "format": "date",
            "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
        })
    }
}

/// A Unix timestamp cut down to the hour, as RFC 3339 (`2026-11-24T10:00:00Z`).
///
/// Envelopes carry only this coarse time: precise timestamps help re-identify a visitor.
pub fn coarse_timestamp(unix_seconds: i64) -> String {
    let date = Date::from_unix(unix_seconds);
    let hour = unix_seconds.rem_euclid(86_400) / 3600;
    format!("{date}T{hour:02}:00:00Z")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_valid_dates_and_rejects_impossible_ones() {
        assert_eq!(
            Date::parse("2024-02-29"),
            Some(Date {
                year: 2024,
                month: 2,
                day: 29
            })
        );
        for bad in [
            "2023-02-29",
            "2026-13-01",
            "2026-00-10",
            "26-01-01",
            "2026-1-01",
            "2026-01-0a",
            "+026-01-01",
        ] {
            assert_eq!(Date::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn unix_time_converts_to_the_right_day_and_hour() {
        assert_eq!(Date::from_unix(0).to_string(), "1970-01-01");
        assert_eq!(Date::from_unix(951_782_400).to_string(), "2000-02-29");
        assert_eq!(coarse_timestamp(1_795_516_199), "2026-11-24T10:00:00Z");
        assert_eq!(coarse_timestamp(-1), "1969-12-31T23:00:00Z");
    }

    #[test]
    fn adding_days_crosses_months_leap_days_and_years() {
        let date = |s| Date::parse(s).unwrap();
        assert_eq!(date("1970-01-01").days_since_epoch(), 0);
        assert_eq!(date("2000-02-29").days_since_epoch(), 951_782_400 / 86_400);
        assert_eq!(date("1969-12-31").days_since_epoch(), -1);
        assert_eq!(date("2024-02-28").plus_days(1), date("2024-02-29"));
        assert_eq!(date("2026-11-24").plus_days(365), date("2027-11-24"));
        assert_eq!(date("2026-11-24").plus_days(36_500), date("2126-10-31"));
        assert_eq!(date("2026-01-01").plus_days(-1), date("2025-12-31"));
        for days in [-800_000, -1, 0, 59, 60, 365, 10_000, 2_932_896] {
            assert_eq!(Date::from_unix(days * 86_400).days_since_epoch(), days);
        }
    }

    #[test]
    fn dates_are_written_and_read_as_yyyy_mm_dd() {
        let date = Date::parse("2026-12-31").unwrap();
        assert_eq!(serde_json::to_string(&date).unwrap(), "\"2026-12-31\"");
        assert_eq!(
            serde_json::from_str::<Date>("\"2026-12-31\"").unwrap(),
            date
        );
        let err = serde_json::from_str::<Date>("\"2026-02-30\"").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("\"2026-02-30\" is not a date (write it YYYY-MM-DD)"),
            "{err}"
        );
        assert!(serde_json::from_str::<Date>("20261231").is_err());
    }

    #[test]
    fn age_counts_whole_years() {
        let birth = Date {
            year: 1990,
            month: 6,
            day: 15,
        };
        assert_eq!(
            birth.years_until(Date {
                year: 2026,
                month: 6,
                day: 14
            }),
            35
        );
        assert_eq!(
            birth.years_until(Date {
                year: 2026,
                month: 6,
                day: 15
            }),
            36
        );
    }
}
