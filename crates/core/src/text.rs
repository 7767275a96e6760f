//! The text services the core's rules need: Unicode NFC normalisation, full-match regular
//! expressions, Unicode case mapping and reading a number written as text. Native builds bring
//! their own (`unicode-normalization`, `regex-lite` and the standard library, feature
//! `text-engines`); the widget leaves that feature off and registers the browser's
//! `String.prototype.normalize`, `RegExp`, `toLowerCase`/`toUpperCase` and `parseFloat` with
//! [`set_platform`], which keeps about 60 kB of tables and regex engine (and another 7 kB of
//! case tables and float parsing) out of every page load.

use std::sync::OnceLock;

/// Text services provided by the platform when the `text-engines` feature is off.
#[derive(Clone, Copy, Debug)]
pub struct Platform {
    /// Unicode NFC normalisation.
    pub nfc: fn(&str) -> String,
    /// Whether `pattern` matches the whole of `text`; `None` when the pattern is invalid.
    pub full_match: fn(pattern: &str, text: &str) -> Option<bool>,
    /// Unicode lower case (what `str::to_lowercase` does).
    pub lowercase: fn(&str) -> String,
    /// Unicode upper case (what `str::to_uppercase` does).
    pub uppercase: fn(&str) -> String,
    /// The value of a decimal number literal, correctly rounded (JavaScript's `parseFloat`).
    /// Only ever called with text that [`number`] has checked to be one.
    pub decimal: fn(&str) -> f64,
}

static PLATFORM: OnceLock<Platform> = OnceLock::new();

/// Registers the platform's text services; only the first call counts. Returns whether this
/// call's services are the ones in use.
pub fn set_platform(platform: Platform) -> bool {
    PLATFORM.set(platform).is_ok()
}

/// `s` in Unicode Normalisation Form C.
///
/// Without `text-engines` and without a registered platform, text is left as it is: it is then
/// still trimmed, capped and sealed, only not normalised.
pub fn nfc(s: &str) -> String {
    #[cfg(feature = "text-engines")]
    {
        use unicode_normalization::UnicodeNormalization;
        s.nfc().collect()
    }
    #[cfg(not(feature = "text-engines"))]
    {
        PLATFORM.get().map_or_else(|| s.to_owned(), |p| (p.nfc)(s))
    }
}

/// Whether `pattern` matches the whole of `text`. `None` when the pattern is invalid or no
/// regular-expression engine is available: callers treat that as "does not match" (fail closed).
pub fn full_match(pattern: &str, text: &str) -> Option<bool> {
    #[cfg(feature = "text-engines")]
    {
        let anchored = format!("^(?:{pattern})$");
        regex_lite::Regex::new(&anchored)
            .ok()
            .map(|re| re.is_match(text))
    }
    #[cfg(not(feature = "text-engines"))]
    {
        PLATFORM.get().and_then(|p| (p.full_match)(pattern, text))
    }
}

/// Why `pattern` is not a valid regular expression, if it is not. Without `text-engines` this
/// cannot tell and says nothing (`formseal check` does the checking).
pub fn pattern_error(pattern: &str) -> Option<String> {
    #[cfg(feature = "text-engines")]
    {
        regex_lite::Regex::new(pattern).err().map(|e| e.to_string())
    }
    #[cfg(not(feature = "text-engines"))]
    {
        let _ = pattern;
        None
    }
}

/// `s` in lower case (Unicode). Without `text-engines` and without a registered platform only
/// ASCII letters change.
pub fn lowercase(s: &str) -> String {
    #[cfg(feature = "text-engines")]
    {
        s.to_lowercase()
    }
    #[cfg(not(feature = "text-engines"))]
    {
        PLATFORM
            .get()
            .map_or_else(|| s.to_ascii_lowercase(), |p| (p.lowercase)(s))
    }
}

/// `s` in upper case (Unicode). Without `text-engines` and without a registered platform only
/// ASCII letters change.
pub fn uppercase(s: &str) -> String {
    #[cfg(feature = "text-engines")]
    {
        s.to_uppercase()
    }
    #[cfg(not(feature = "text-engines"))]
    {
        PLATFORM
            .get()
            .map_or_else(|| s.to_ascii_uppercase(), |p| (p.uppercase)(s))
    }
}

/// The number `s` spells, exactly as `s.parse::<f64>()` reads it (so `inf` and `NaN` are
/// numbers too; callers that want finite numbers filter). Without `text-engines` the syntax is
/// checked here and the platform turns the digits into the (equally correctly rounded) value;
/// without a registered platform only the special values are numbers.
pub fn number(s: &str) -> Option<f64> {
    #[cfg(feature = "text-engines")]
    {
        s.parse().ok()
    }
    #[cfg(not(feature = "text-engines"))]
    {
        if let Some(special) = special_number(s) {
            return Some(special);
        }
        if !is_decimal_literal(s) {
            return None;
        }
        PLATFORM.get().map(|p| (p.decimal)(s))
    }
}

/// `inf`, `infinity` and `nan` in any case, with an optional sign: the values
/// `f64::from_str` reads besides decimal literals.
#[cfg(any(test, not(feature = "text-engines")))]
fn special_number(s: &str) -> Option<f64> {
    let (negative, word) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let value = if word.eq_ignore_ascii_case("inf") || word.eq_ignore_ascii_case("infinity") {
        f64::INFINITY
    } else if word.eq_ignore_ascii_case("nan") {
        f64::NAN
    } else {
        return None;
    };
    Some(if negative { -value } else { value })
}

/// Whether `s` is a decimal literal as `f64::from_str` accepts it: an optional sign, digits with
/// at most one `.` (at least one digit in all), then optionally `e` or `E`, an optional sign and
/// at least one digit. JavaScript's `parseFloat` reads every such text whole.
#[cfg(any(test, not(feature = "text-engines")))]
fn is_decimal_literal(s: &str) -> bool {
    let s = s.strip_prefix(['+', '-']).unwrap_or(s);
    let (mantissa, exponent) = match s.find(['e', 'E']) {
        Some(at) => (&s[..at], Some(&s[at + 1..])),
        None => (s, None),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok =
        digits(whole) && digits(fraction) && !(whole.is_empty() && fraction.is_empty());
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['+', '-']).unwrap_or(e);
        !e.is_empty() && digits(e)
    });
    mantissa_ok && exponent_ok
}

#[cfg(test)]
mod syntax_tests {
    use super::*;

    /// The syntax check and the special values accept exactly what the standard library's
    /// parser accepts, and give the same special values.
    #[test]
    fn number_syntax_matches_the_standard_library() {
        let texts = [
            "0",
            "-0",
            "+0",
            "42",
            "007",
            "1.5",
            "-1.5",
            ".5",
            "5.",
            "-.5",
            "+5.",
            "1e5",
            "1E5",
            "1e+5",
            "1e-5",
            "1.5e3",
            ".5e1",
            "5.e1",
            "1e400",
            "1e-400",
            "123456789012345678901",
            "",
            ".",
            "-",
            "+",
            "e5",
            ".e5",
            "1e",
            "1e+",
            "1e5.5",
            "1..5",
            "1.5.",
            "--1",
            "+-1",
            " 1",
            "1 ",
            "1_000",
            "0x10",
            "1,5",
            "١",
            "inf",
            "-inf",
            "+inf",
            "INF",
            "Infinity",
            "-infinity",
            "iNfInItY",
            "nan",
            "NaN",
            "-NaN",
            "+nan",
            "infinit",
            "infinityy",
            "nana",
            "in",
            "e",
            "E",
            "1e5e5",
            "1ee5",
            "1.5E-07",
            "0.0000001",
            "9007199254740993",
        ];
        for text in texts {
            let std = text.parse::<f64>();
            let ours = special_number(text).or_else(|| is_decimal_literal(text).then_some(0.0));
            assert_eq!(std.is_ok(), ours.is_some(), "{text:?}");
            if let (Ok(std), Some(special)) = (std, special_number(text)) {
                assert!(
                    std.to_bits() == special.to_bits() || (std.is_nan() && special.is_nan()),
                    "{text:?}"
                );
            }
        }
    }
}

#[cfg(all(test, feature = "text-engines"))]
mod tests {
    use super::*;

    #[test]
    fn nfc_composes_and_patterns_match_whole_text() {
        assert_eq!(nfc("e\u{301}"), "\u{e9}");
        assert_eq!(full_match("[0-9]{4}", "1234"), Some(true));
        assert_eq!(full_match("[0-9]{4}", "12345"), Some(false));
        assert_eq!(
            full_match("a|b", "ab"),
            Some(false),
            "alternation stays anchored"
        );
        assert_eq!(full_match("([a-z", "a"), None);
        assert!(pattern_error("([a-z").is_some());
    }
}
