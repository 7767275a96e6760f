//! The visitor's consent: which purposes they granted, under which notice version.
//!
//! Only purposes with the legal basis `consent` need a grant; the others (contract, legitimate
//! interests...) are covered by the form itself. A consent banner's settings, the choice the
//! browser keeps and the record that proves it live here too; storing and showing consent is
//! the widget's job.

use std::collections::{BTreeMap, BTreeSet};

use rand_core::TryCryptoRng;
use serde::{Deserialize, Serialize};

use crate::Result;
use crate::answers::Answers;
use crate::config::{FieldKind, FormConfig, LegalBasis, Problem, Purpose, Text};
use crate::envelope::{
    ConsentRecord, ENVELOPE_VERSION, Envelope, EnvelopeKind, SealedEnvelope, random_id,
};
use crate::time::{self, Date};

/// What the visitor agreed to, as recorded in every envelope.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsentState {
    /// Version of the privacy notice the visitor saw.
    pub notice_version: String,
    /// Ids of the purposes the visitor granted.
    pub granted: BTreeSet<String>,
}

impl ConsentState {
    /// Whether data may be processed for this purpose.
    pub fn allows(&self, purpose: &Purpose) -> bool {
        purpose.legal_basis != LegalBasis::Consent || self.granted.contains(&purpose.id)
    }

    /// Whether a field's value may be kept: at least one of its purposes is allowed.
    pub fn allows_any(&self, config: &FormConfig, purposes: &[String]) -> bool {
        purposes
            .iter()
            .filter_map(|id| config.purpose(id))
            .any(|p| self.allows(p))
    }

    /// The consent a form submission was given under: `self` plus the purposes of every ticked
    /// consent checkbox in `answers`, under the form's notice version.
    pub fn with_form_answers(&self, config: &FormConfig, answers: &Answers) -> Self {
        let mut granted = self.granted.clone();
        for field in config
            .fields
            .iter()
            .filter(|f| f.kind == FieldKind::Consent)
        {
            if answers.get(&field.id).and_then(serde_json::Value::as_bool) == Some(true) {
                granted.extend(field.purposes.iter().cloned());
            }
        }
        // A grant only counts for purposes the form knows and that need consent at all.
        granted.retain(|id| {
            config
                .purpose(id)
                .is_some_and(|p| p.legal_basis == LegalBasis::Consent)
        });
        Self {
            notice_version: config.privacy_notice.version.clone(),
            granted,
        }
    }

    /// Purposes of the form that need consent and were not granted.
    pub fn refused<'c>(&self, config: &'c FormConfig) -> Vec<&'c str> {
        config
            .purposes
            .iter()
            .filter(|p| !self.allows(p))
            .map(|p| p.id.as_str())
            .collect()
    }
}

/// How a consent record came about.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ConsentMethod {
    /// A button of the banner's first layer, or its choices layer right after.
    Banner,
    /// The privacy settings the visitor opened later.
    Settings,
    /// The site's own code, through `formseal.consent.set()` or `.withdrawAll()`.
    Api,
    /// The browser's Global Privacy Control signal, without a click.
    Gpc,
    /// A consent checkbox inside a form.
    Form,
    /// **Allow** on the placeholder of a gated embed (a video, a map), granting its purpose.
    Placeholder,
}

/// How long a consent choice stays valid when the config does not say (about six months).
pub const DEFAULT_EXPIRY_DAYS: u32 = 182;

/// The longest a choice may stay valid: 13 months, the most European regulators accept.
pub const MAX_EXPIRY_DAYS: u32 = 395;

/// The Google Consent Mode v2 signals a config may map purposes to.
pub const CONSENT_MODE_SIGNALS: &[&str] = &[
    "ad_storage",
    "analytics_storage",
    "ad_user_data",
    "ad_personalization",
    "functionality_storage",
    "personalization_storage",
    "security_storage",
];

/// The banner's built-in texts a config may override (`consent.texts`), by key.
pub const BANNER_TEXTS: &[&str] = &[
    "accept_all",
    "reject_all",
    "choose",
    "save",
    "settings",
    "always_on",
    "withdraw_all",
    "receipt",
    "close",
    "gpc_note",
    "privacy_notice",
    "placeholder_notice",
    "placeholder_once",
    "placeholder_allow",
];

/// Settings of a consent banner, the `consent` object of a config with `kind: consent`.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsentSettings {
    /// Days a choice stays valid before the banner asks again.
    #[serde(default = "default_expiry_days")]
    pub expiry_days: u32,
    /// Google Consent Mode v2: each signal (`ad_storage`...) is granted when every purpose listed
    /// for it is granted. Empty: no Consent Mode calls.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub consent_mode: BTreeMap<String, Vec<String>>,
    /// Microsoft UET consent mode: `window.uetq.push('consent', …)` with `ad_storage` following
    /// the Consent Mode signal `ad_storage` (which `consent_mode` must map).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub uet: bool,
    /// Add a small "privacy settings" button at the end of every page, so withdrawing is always
    /// one click away (a site may instead mark its own link with `data-formseal-settings`).
    #[serde(default = "yes")]
    pub settings_button: bool,
    /// Reload the page after a withdrawal, so scripts that already ran stop.
    #[serde(default = "yes")]
    pub reload_on_withdrawal: bool,
    /// Replacements for built-in texts, by key (see [`BANNER_TEXTS`]).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub texts: BTreeMap<String, Text>,
}

fn default_expiry_days() -> u32 {
    DEFAULT_EXPIRY_DAYS
}

fn yes() -> bool {
    true
}

impl Default for ConsentSettings {
    fn default() -> Self {
        Self {
            expiry_days: DEFAULT_EXPIRY_DAYS,
            consent_mode: BTreeMap::new(),
            uet: false,
            settings_button: true,
            reload_on_withdrawal: true,
            texts: BTreeMap::new(),
        }
    }
}

impl ConsentSettings {
    /// The settings of `config`: its own, or the defaults.
    pub fn of(config: &FormConfig) -> Self {
        config.consent.clone().unwrap_or_default()
    }

    /// The Consent Mode v2 state for `granted`: each mapped signal is `granted` when all its
    /// purposes are, else `denied`.
    pub fn signals(&self, granted: &BTreeSet<String>) -> BTreeMap<String, String> {
        // Inserted one by one: `collect()` into a BTreeMap sorts first, and each sort it
        // instantiates costs the widget about 1 kB brotli.
        let mut signals = BTreeMap::new();
        for (signal, purposes) in &self.consent_mode {
            let on = purposes.iter().all(|p| granted.contains(p));
            let state = if on { "granted" } else { "denied" };
            signals.insert(signal.clone(), state.to_owned());
        }
        signals
    }

    /// Every rule these settings (and the banner's purposes) break.
    pub(crate) fn problems(&self, config: &FormConfig) -> Vec<Problem> {
        let mut problems = Vec::new();
        let mut push = |path: String, message: String, hint: Option<&str>| {
            problems.push(Problem {
                path,
                message,
                hint: hint.map(String::from),
            });
        };
        if !(1..=MAX_EXPIRY_DAYS).contains(&self.expiry_days) {
            push(
                "consent.expiry_days".into(),
                format!(
                    "expiry of {} days is outside 1 to {MAX_EXPIRY_DAYS}",
                    self.expiry_days
                ),
                Some("182 (six months) is the usual choice"),
            );
        }
        if !config
            .purposes
            .iter()
            .any(|p| p.legal_basis == LegalBasis::Consent)
        {
            push(
                "purposes".into(),
                "a consent banner needs at least one purpose with legal basis \"consent\"".into(),
                None,
            );
        }
        if self.uet && !self.consent_mode.contains_key("ad_storage") {
            push(
                "consent.uet".into(),
                "UET consent follows the Consent Mode signal ad_storage, which consent_mode does not map".into(),
                Some("add \"ad_storage\": [\"<purpose>\"] to consent.consent_mode"),
            );
        }
        for (signal, purposes) in &self.consent_mode {
            let path = format!("consent.consent_mode.{signal}");
            if !CONSENT_MODE_SIGNALS.contains(&signal.as_str()) {
                push(
                    path.clone(),
                    format!("\"{signal}\" is not a Consent Mode signal"),
                    Some("use ad_storage, analytics_storage, ad_user_data or ad_personalization"),
                );
            }
            if purposes.is_empty() {
                push(
                    path.clone(),
                    "list the purposes that grant this signal".into(),
                    None,
                );
            }
            for (i, id) in purposes.iter().enumerate() {
                if config.purpose(id).is_none() {
                    push(
                        format!("{path}[{i}]"),
                        format!("unknown purpose \"{id}\""),
                        None,
                    );
                }
            }
        }
        for (key, text) in &self.texts {
            let path = format!("consent.texts.{key}");
            if !BANNER_TEXTS.contains(&key.as_str()) {
                push(
                    path.clone(),
                    format!("unknown banner text \"{key}\""),
                    Some("see BANNER_TEXTS in the documentation for the keys"),
                );
            }
            for lang in &config.languages {
                if text.get(lang).is_none_or(|s| s.trim().is_empty()) {
                    push(
                        format!("{path}.{lang}"),
                        format!("missing translation for \"{lang}\""),
                        None,
                    );
                }
            }
        }
        for (i, purpose) in config.purposes.iter().enumerate() {
            for (j, cookie) in purpose.cookies.iter().enumerate() {
                let name = cookie.strip_suffix('*').unwrap_or(cookie);
                let valid = !name.is_empty()
                    && name
                        .bytes()
                        .all(|b| b.is_ascii_graphic() && !b"()<>@,;:\\\"/[]?={}*".contains(&b));
                if !valid {
                    push(
                        format!("purposes[{i}].cookies[{j}]"),
                        format!("\"{cookie}\" is not a cookie name"),
                        Some("use the exact name, or a prefix ending in * such as \"_ga_*\""),
                    );
                }
            }
            if purpose.sale_or_sharing && purpose.legal_basis != LegalBasis::Consent {
                push(
                    format!("purposes[{i}].sale_or_sharing"),
                    "selling, sharing or targeted advertising needs the legal basis \"consent\""
                        .into(),
                    None,
                );
            }
        }
        problems
    }
}

/// A visitor's current choice, as the browser keeps it (`formseal:consent:FORM_ID` in
/// `localStorage`). The page's loader reads the same JSON to apply the choice before any wasm
/// loads, so its shape is part of the public contract.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Choice {
    /// Version of this stored format.
    pub v: u32,
    /// Notice version the choice was made under.
    pub notice: String,
    /// Consent-based purposes granted.
    pub granted: Vec<String>,
    /// Consent-based purposes refused.
    pub refused: Vec<String>,
    /// Day the choice was made, `YYYY-MM-DD`.
    pub decided: String,
    /// Last day it is valid, `YYYY-MM-DD`.
    pub expires: String,
    /// Id of the sealed consent record that proves it (shown on the receipt).
    pub record: String,
    /// How it was made.
    pub method: ConsentMethod,
    /// Google Consent Mode v2 state for this choice (`ad_storage` → `granted` / `denied`), so
    /// the loader can replay it without knowing the mapping.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub signals: BTreeMap<String, String>,
    /// SHA-256 (hex) of the record as sealed and stored by the collector, for the receipt; none
    /// before the record is sealed (and in choices kept before receipts named it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sealed_sha256: Option<String>,
}

impl Choice {
    /// Whether the choice still holds for `config` on `today`: same notice version, not expired,
    /// and no purpose the config asks consent for is missing from it.
    pub fn is_current(&self, config: &FormConfig, today: Date) -> bool {
        let unexpired = Date::parse(&self.expires).is_some_and(|last| today <= last);
        let answered_all = config
            .purposes
            .iter()
            .filter(|p| p.legal_basis == LegalBasis::Consent)
            .all(|p| self.granted.contains(&p.id) || self.refused.contains(&p.id));
        self.v == 1 && self.notice == config.privacy_notice.version && unexpired && answered_all
    }

    /// The consent state this choice grants.
    pub fn state(&self) -> ConsentState {
        ConsentState {
            notice_version: self.notice.clone(),
            granted: self.granted.iter().cloned().collect(),
        }
    }

    /// The choice once its record is sealed as `sealed`: it names the record's SHA-256.
    pub fn sealed_as(mut self, sealed: &SealedEnvelope) -> Self {
        self.sealed_sha256 = Some(sealed.sha256());
        self
    }
}

/// The receipt the banner offers a visitor (a JSON file): their choice, the id of the sealed
/// record that proves it and that record's SHA-256 as the collector stores it, so that
/// `formseal consent-log --receipt` can find the record and check the receipt against it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    /// The site's origin (`https://www.example.com`).
    pub site: String,
    /// The banner's form id.
    pub banner: String,
    /// Where the privacy notice is published.
    pub privacy_notice: String,
    /// Version of the notice the choice was made under.
    pub notice_version: String,
    /// Purposes granted.
    pub granted: Vec<String>,
    /// Purposes refused.
    pub refused: Vec<String>,
    /// Day the choice was made, `YYYY-MM-DD`.
    pub decided: String,
    /// Last day the choice is valid, `YYYY-MM-DD`.
    pub valid_until: String,
    /// Id of the sealed consent record (inside the envelope).
    pub record: String,
    /// How the choice was made.
    pub how: ConsentMethod,
    /// SHA-256 (lowercase hex) of the sealed record as the collector stores it; null on a
    /// receipt of a choice whose record was not sealed yet.
    pub sealed_sha256: Option<String>,
}

impl Receipt {
    /// The receipt of `choice`, made on the banner `config` of the site `site`.
    pub fn new(site: &str, config: &FormConfig, choice: &Choice) -> Self {
        Self {
            site: site.to_owned(),
            banner: config.id.clone(),
            privacy_notice: config.privacy_notice.url.clone(),
            notice_version: choice.notice.clone(),
            granted: choice.granted.clone(),
            refused: choice.refused.clone(),
            decided: choice.decided.clone(),
            valid_until: choice.expires.clone(),
            record: choice.record.clone(),
            how: choice.method,
            sealed_sha256: choice.sealed_sha256.clone(),
        }
    }
}

/// What the visitor asked for, before it becomes a record.
#[derive(Clone, Debug)]
pub struct Decision<'a> {
    /// Purposes the visitor switched on.
    pub granted: &'a BTreeSet<String>,
    /// How the choice was made.
    pub method: ConsentMethod,
    /// Whether the browser sends Global Privacy Control: `sale_or_sharing` purposes are refused
    /// whatever `granted` says.
    pub gpc: bool,
    /// The choice stored before this one, if any.
    pub previous: Option<&'a Choice>,
    /// The visitor's pseudonymous subject id.
    pub subject: &'a str,
    /// Current time, Unix seconds; the record keeps only the hour, the choice only the day.
    pub now_unix: i64,
}

/// Turns a consent banner's decision into the envelope that records it and the choice the
/// browser keeps. The envelope is of kind `withdrawal` when a purpose granted before is now
/// refused, else `consent`. Every purpose that needs consent and is not granted is refused,
/// except in a first-visit Global Privacy Control record, which answers only for the
/// `sale_or_sharing` purposes (so the banner still asks about the rest).
pub fn record<R: TryCryptoRng + ?Sized>(
    config: &FormConfig,
    decision: &Decision<'_>,
    rng: &mut R,
) -> Result<(Envelope, Choice)> {
    // Global Privacy Control on a first visit answers only for the sale/sharing purposes; the
    // visitor still decides the others on the banner.
    let signal_only = decision.method == ConsentMethod::Gpc && decision.previous.is_none();
    let asked: Vec<&Purpose> = config
        .purposes
        .iter()
        .filter(|p| p.legal_basis == LegalBasis::Consent)
        .filter(|p| !signal_only || p.sale_or_sharing)
        .collect();
    let (granted, refused): (Vec<&Purpose>, Vec<&Purpose>) = asked
        .into_iter()
        .partition(|p| decision.granted.contains(&p.id) && !(decision.gpc && p.sale_or_sharing));
    let granted: Vec<String> = granted.into_iter().map(|p| p.id.clone()).collect();
    let refused: Vec<String> = refused.into_iter().map(|p| p.id.clone()).collect();
    let choice_granted: BTreeSet<String> = granted.iter().cloned().collect();
    let withdrew = decision
        .previous
        .is_some_and(|before| before.granted.iter().any(|id| refused.contains(id)));
    let id = random_id(rng)?;
    let settings = ConsentSettings::of(config);
    let envelope = Envelope {
        v: ENVELOPE_VERSION,
        id: id.clone(),
        form: config.id.clone(),
        form_version: config.version,
        kind: if withdrew {
            EnvelopeKind::Withdrawal
        } else {
            EnvelopeKind::Consent
        },
        at: time::coarse_timestamp(decision.now_unix),
        subject: decision.subject.to_owned(),
        consent: ConsentRecord {
            notice_version: config.privacy_notice.version.clone(),
            granted: granted.clone(),
            refused: refused.clone(),
            method: Some(decision.method),
        },
        values: Answers::new(),
        confirm: None,
    };
    let expires = i64::from(settings.expiry_days) * 86_400;
    let choice = Choice {
        v: 1,
        notice: config.privacy_notice.version.clone(),
        granted,
        refused,
        decided: Date::from_unix(decision.now_unix).to_string(),
        expires: Date::from_unix(decision.now_unix + expires).to_string(),
        signals: settings.signals(&choice_granted),
        record: id,
        method: decision.method,
        sealed_sha256: None,
    };
    Ok((envelope, choice))
}
