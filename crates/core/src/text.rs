//! The two text services the core's rules need: Unicode NFC normalisation and full-match
//! regular expressions. Native builds bring their own (`unicode-normalization`, `regex-lite`,
//! feature `text-engines`); the widget leaves that feature off and registers the browser's
//! `String.prototype.normalize` and `RegExp` with [`set_platform`], which keeps about 60 kB of
//! tables and regex engine out of every page load.

use std::sync::OnceLock;

/// Text services provided by the platform when the `text-engines` feature is off.
#[derive(Clone, Copy, Debug)]
pub struct Platform {
    /// Unicode NFC normalisation.
    pub nfc: fn(&str) -> String,
    /// Whether `pattern` matches the whole of `text`; `None` when the pattern is invalid.
    pub full_match: fn(pattern: &str, text: &str) -> Option<bool>,
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
