//! The snippet a site owner pastes into a page: the widget's module script with its Subresource
//! Integrity hash, and the element pinned to the form's key id. `formseal embed` prints it and
//! the builder shows it; both go through [`snippet`], so they cannot drift apart.

use base64ct::{Base64, Encoding};
use sha2::{Digest, Sha384};

use crate::config::{FormConfig, FormKind};

/// The sign-up build's entry module: sign-up, contact, access and erasure request forms without
/// survey features. A page with such a form loads only this; it fetches its own wasm.
pub const SIGNUP_ENTRY: &str = "formseal-signup.js";

/// The survey build's entry module: every form, with pages, conditions, ratings, matrices,
/// rankings, file uploads and rewards ([`FormConfig::survey_only_feature`]).
pub const SURVEY_ENTRY: &str = "formseal-survey.js";

/// The consent build's entry module: the banner's settings dialog and the sealing of consent
/// records, no forms. Pages never name it; the loader loads it, pinned by its hash, when the
/// visitor opens Choose or the privacy settings.
pub const CONSENT_BUNDLE: &str = "formseal-consent.js";

/// The record build's entry module: the sealing of consent records and the JS API, without any
/// UI. Pages never name it; the loader loads it, pinned by its hash, to seal a decision made on
/// its first layer.
pub const RECORD_BUNDLE: &str = "formseal-record.js";

/// The consent loader: a page with a banner loads only this; it applies a stored choice itself
/// and loads [`RECORD_BUNDLE`] only when a record must be made, [`CONSENT_BUNDLE`] only when
/// the settings must be shown.
pub const CONSENT_ENTRY: &str = "formseal-loader.js";

/// The Consent Mode script a banner's snippet puts first: a classic script, so the Consent Mode
/// default (and a returning visitor's stored update) reach the dataLayer before the site's own
/// tags that follow it.
pub const CONSENT_MODE_ENTRY: &str = "formseal-consent-mode.js";

/// What the Consent Mode script of `config` is told in its tag: the banner's id, the signals
/// `consent.consent_mode` maps and whether UET follows them. `None` when the config maps none.
pub fn consent_mode_of(config: &FormConfig) -> Option<ConsentMode> {
    let settings = config.consent.as_ref()?;
    if config.kind != FormKind::Consent || settings.consent_mode.is_empty() {
        return None;
    }
    Some(ConsentMode {
        form_id: config.id.clone(),
        signals: settings
            .consent_mode
            .keys()
            .cloned()
            .collect::<Vec<_>>()
            .join(" "),
        uet: settings.uet,
    })
}

/// The attributes of the Consent Mode script's tag (see [`consent_mode_of`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsentMode {
    /// The banner's config id: where its stored choice is.
    pub form_id: String,
    /// The mapped signals, space-separated.
    pub signals: String,
    /// Whether UET's `ad_storage` follows the signal of that name.
    pub uet: bool,
}

/// The script file and the element `config` is embedded with: the loader for a banner, the
/// survey build for a config that needs it, else the lighter sign-up build.
pub fn entry_for(config: &FormConfig) -> (&'static str, &'static str) {
    if config.kind == FormKind::Consent {
        (CONSENT_ENTRY, "formseal-consent")
    } else if config.survey_only_feature().is_some() {
        (SURVEY_ENTRY, "formseal-form")
    } else {
        (SIGNUP_ENTRY, "formseal-form")
    }
}

/// What goes into the snippet.
#[derive(Clone, Copy, Debug)]
pub struct Snippet<'a> {
    /// URL of the entry script.
    pub script_url: &'a str,
    /// `formseal-form` or `formseal-consent`.
    pub element: &'a str,
    /// `sha384-<base64>` of the entry script.
    pub integrity: &'a str,
    /// URL the page loads the config from.
    pub form_url: &'a str,
    /// Key id the element pins.
    pub kid: &'a str,
    /// For a banner that maps Consent Mode: its script's URL, its `sha384-<base64>` and tag.
    pub consent_mode: Option<(&'a str, &'a str, &'a ConsentMode)>,
}

/// The lines to paste, each attribute value HTML-escaped: the Consent Mode script first (if any),
/// then the entry script and the element.
pub fn snippet(s: &Snippet<'_>) -> String {
    let early = s
        .consent_mode
        .map(|(url, integrity, mode)| {
            format!(
                "<script src=\"{}\" integrity=\"{}\" crossorigin=\"anonymous\" data-form=\"{}\" data-signals=\"{}\"{}></script>\n",
                attribute(url),
                attribute(integrity),
                attribute(&mode.form_id),
                attribute(&mode.signals),
                if mode.uet { " data-uet" } else { "" },
            )
        })
        .unwrap_or_default();
    early
        + &format!(
            "<script type=\"module\" src=\"{}\" integrity=\"{}\" crossorigin=\"anonymous\"></script>\n\
         <{element} src=\"{}\" key-id=\"{}\"></{element}>\n",
            attribute(s.script_url),
            attribute(s.integrity),
            attribute(s.form_url),
            attribute(s.kid),
            element = s.element,
        )
}

/// The Subresource Integrity value browsers check for a file: `sha384-<base64>` of its bytes.
pub fn integrity(bytes: &[u8]) -> String {
    format!("sha384-{}", Base64::encode_string(&Sha384::digest(bytes)))
}

/// Escapes text for a double-quoted HTML attribute.
fn attribute(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integrity_is_the_sri_form_of_sha384() {
        // SHA-384 of "abc" (FIPS 180-2 example), base64.
        assert_eq!(
            integrity(b"abc"),
            "sha384-ywB1P0WjXou1oD1pmsZQBycsMqsO3tFjGotgWkP/W+2AhgcroefMI1i67KE0yCWn"
        );
    }

    fn example(name: &str) -> FormConfig {
        let path = format!("{}/../../examples/{name}.json", env!("CARGO_MANIFEST_DIR"));
        FormConfig::from_json(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    #[test]
    fn each_config_names_the_build_that_renders_it() {
        assert_eq!(entry_for(&example("newsletter")).0, SIGNUP_ENTRY);
        assert_eq!(entry_for(&example("contact")).0, SIGNUP_ENTRY);
        assert_eq!(entry_for(&example("privacy-request")).0, SIGNUP_ENTRY);
        assert_eq!(
            entry_for(&example("survey")),
            (SURVEY_ENTRY, "formseal-form")
        );
        assert_eq!(
            entry_for(&example("consent")),
            (CONSENT_ENTRY, "formseal-consent")
        );
        // A sign-up form with one survey-only field needs the survey build.
        let mut signup = example("newsletter");
        signup.fields[0].kind = crate::config::FieldKind::Ranking;
        assert_eq!(signup.survey_only_feature(), Some("a ranking field"));
        assert_eq!(entry_for(&signup).0, SURVEY_ENTRY);
    }

    #[test]
    fn a_banner_with_consent_mode_gets_its_script_first() {
        let banner = example("consent");
        let mode = consent_mode_of(&banner).unwrap();
        assert_eq!(mode.form_id, "cookies");
        assert!(
            mode.signals.split(' ').any(|s| s == "ad_storage"),
            "{}",
            mode.signals
        );
        let text = snippet(&Snippet {
            script_url: "/pkg/formseal-loader.js",
            element: "formseal-consent",
            integrity: "sha384-l",
            form_url: "/forms/cookies.json",
            kid: "k",
            consent_mode: Some(("/pkg/formseal-consent-mode.js", "sha384-c", &mode)),
        });
        let lines: Vec<&str> = text.lines().collect();
        assert!(
            lines[0].starts_with(
                "<script src=\"/pkg/formseal-consent-mode.js\" integrity=\"sha384-c\""
            )
        );
        assert!(lines[0].contains("data-form=\"cookies\""));
        assert!(
            !lines[0].contains("type=\"module\"")
                && !lines[0].contains("async")
                && !lines[0].contains("defer")
        );
        assert!(lines[1].contains("formseal-loader.js"));
        // Forms and banners without Consent Mode have none.
        assert_eq!(consent_mode_of(&example("newsletter")), None);
        let mut plain = banner.clone();
        plain.consent.as_mut().unwrap().consent_mode.clear();
        assert_eq!(consent_mode_of(&plain), None);
    }

    #[test]
    fn attributes_are_escaped() {
        let text = snippet(&Snippet {
            script_url: "/pkg/formseal-signup.js",
            element: "formseal-form",
            integrity: "sha384-x",
            form_url: "/forms/a.json?x=\"><script>",
            kid: "k&",
            consent_mode: None,
        });
        assert!(text.contains("src=\"/forms/a.json?x=&quot;&gt;&lt;script&gt;\""));
        assert!(text.contains("key-id=\"k&amp;\""));
    }
}
