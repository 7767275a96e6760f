//! Form config, version 1: the one JSON file a marketer edits, and its validation.
//!
//! Parsing rejects unknown keys (a typo must never silently drop a rule); validation then lists
//! every problem at once with its JSON path. Rendering and minimising live elsewhere.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Serialize};

pub use crate::consent::ConsentSettings;
use crate::keys::{PublicJwk, RecipientKey};
use crate::logic::Condition;
use crate::time::Date;
use crate::{Error, Result};

/// The only config schema version this build understands (the `formseal` key of a config).
pub const SCHEMA_VERSION: u32 = 1;

/// URL parameters a hidden field may take its value from. Campaign tags only: nothing that
/// identifies a person (no `email`, no click ids such as `gclid` or `fbclid`).
pub const HIDDEN_PARAM_ALLOW_LIST: &[&str] = &[
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_term",
    "utm_content",
    "ref",
];

/// The longest retention a purpose may declare: one hundred years, which catches typos in days.
pub const MAX_RETENTION_DAYS: u32 = 36_500;

/// Largest file a file field accepts when its config names no `max_bytes`: 5 MiB.
pub const DEFAULT_MAX_FILE_BYTES: u64 = 5 * 1024 * 1024;

/// The most a file field may allow: 20 MiB. The file is read and sealed in the visitor's
/// browser, and its ciphertext is posted in one request.
pub const MAX_FILE_BYTES: u64 = 20 * 1024 * 1024;

/// Most characters of an "other" answer when the config names no `max_length`.
pub const DEFAULT_OTHER_MAX_CHARS: u32 = 200;

/// Id of the one page of a form that declares no `pages`.
pub const SINGLE_PAGE_ID: &str = "main";

/// A text in every language of the form, keyed by language tag (`"nl"`, `"en"`).
pub type Text = BTreeMap<String, String>;

/// The JSON Schema (draft 2020-12) of config v1, generated from [`FormConfig`] and the types it
/// holds, with their doc comments as descriptions: what `formseal schema` prints for editors.
/// It describes the document's shape; [`FormConfig::check`] also checks rules that a schema
/// cannot say (a field's purposes must be declared, translations complete...).
#[cfg(feature = "schema")]
pub fn json_schema() -> serde_json::Value {
    schemars::schema_for!(FormConfig).to_value()
}

/// A complete form (or consent banner) as the marketer describes it.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FormConfig {
    /// The JSON Schema this file follows (`formseal schema` prints it), for editors that
    /// complete and check as one types; formseal itself ignores it.
    #[serde(rename = "$schema", default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// Config schema version; must be [`SCHEMA_VERSION`].
    pub formseal: u32,
    /// Stable id of the form (`newsletter`), carried in every envelope.
    pub id: String,
    /// Version of this form's content; bump it when fields or purposes change.
    pub version: u32,
    /// What the form is for.
    pub kind: FormKind,
    /// Languages the form is written in; the first is the default.
    pub languages: Vec<String>,
    /// Form-level texts.
    pub texts: FormTexts,
    /// Where sealed envelopes are posted: an `https:` URL, `http:` only for localhost, or a path
    /// on the page's own origin (`/submit`).
    pub endpoint: String,
    /// Public keys every submission is sealed to (more than one during key rotation).
    pub recipients: Vec<PublicJwk>,
    /// The privacy notice the visitor is shown and consents under.
    pub privacy_notice: PrivacyNotice,
    /// Why data is collected; every field serves one or more of these.
    pub purposes: Vec<Purpose>,
    /// The questions. Without `pages` this is also the display order.
    #[serde(default)]
    #[cfg_attr(
        not(feature = "form-fields"),
        serde(deserialize_with = "unread::fields")
    )]
    pub fields: Vec<Field>,
    /// Settings of a consent banner (`kind: consent` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consent: Option<ConsentSettings>,
    /// Survey pages, in order; each lists its fields. Empty for a one-page form (see
    /// [`FormConfig::pages`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[cfg_attr(
        not(feature = "survey-parts"),
        serde(deserialize_with = "unread::pages")
    )]
    pub pages: Vec<Page>,
    /// An incentive for answering (surveys only): its contact data are sealed apart from the
    /// answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        not(feature = "survey-parts"),
        serde(deserialize_with = "unread::reward")
    )]
    pub reward: Option<Reward>,
    /// Keep unfinished answers in the visitor's own browser (`localStorage`) until they are sent
    /// or the visitor clears them; off by default, when they live only as long as the page.
    /// Files and rankings are never kept.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub save_draft: bool,
    /// The last day the form takes submissions, `YYYY-MM-DD` in UTC: it is open through the end
    /// of that day and closed from the next, when the widget shows a closed message instead of
    /// the form and the collector refuses new submissions. Not for a consent banner or a privacy
    /// request form, which never close.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closes_at: Option<Date>,
    /// The most submissions the collector stores for this form id (1 or more); once it holds
    /// that many it refuses new ones. Not for a consent banner, a privacy request form, or a
    /// survey with a reward (whose entries are stored as submissions of their own).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(range(min = 1)))]
    pub max_responses: Option<u32>,
    /// How `formseal export --format hubspot|mailchimp` names this form's fields in a CRM's
    /// contact import: per CRM, field id → column. Only the data team's `formseal` reads it.
    #[cfg(feature = "export-columns")]
    #[serde(default, skip_serializing_if = "ExportColumns::is_empty")]
    pub export: ExportColumns,
    /// The widget skips the export mapping unread: it is the data team's business.
    #[cfg(not(feature = "export-columns"))]
    #[serde(default, skip_serializing)]
    pub export: serde::de::IgnoredAny,
}

/// When a form stops taking submissions: its config's `closes_at` and `max_responses`, and the
/// one rule the widget and the collector both apply to them ([`Closing::is_closed`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Closing {
    /// The last day submissions are taken (UTC).
    pub closes_at: Option<Date>,
    /// The most submissions stored for the form.
    pub max_responses: Option<u32>,
}

impl Closing {
    /// Whether the form is closed on `today` (a UTC date): from the day after `closes_at` on.
    pub fn is_closed(self, today: Date) -> bool {
        self.closes_at.is_some_and(|last_day| today > last_day)
    }
}

/// The parts of a config that a build of the widget leaves out, refused unread so that it links
/// none of their parsers: without `form-fields` (the consent build) fields, pages and a reward,
/// which a banner never has ([`FormConfig::problems`] says so for every build); without
/// `survey-parts` (the sign-up build) pages, a reward and `show_if` conditions, which only the
/// survey build renders ([`FormConfig::survey_only_feature`]). An absent or `null` part, or an
/// empty list, is no part at all.
#[cfg(not(feature = "survey-parts"))]
mod unread {
    use serde::Deserialize as _;
    use serde::de::{Error as _, IgnoredAny};

    /// Why a build refuses a config that has `key`.
    fn refusal(key: &str, what: &str) -> String {
        if cfg!(feature = "form-fields") {
            format!(
                "{key}: uses {what}, which this build leaves out: embed it with {}",
                crate::embed::SURVEY_ENTRY
            )
        } else {
            format!("{key}: {}", super::not_in_a_banner(key))
        }
    }

    /// Accepts a list `key` only when absent, `null` or `[]`.
    fn empty<'de, D: serde::Deserializer<'de>, T>(
        deserializer: D,
        key: &str,
        what: &str,
    ) -> Result<Vec<T>, D::Error> {
        match Option::<Vec<IgnoredAny>>::deserialize(deserializer) {
            Ok(list) if list.as_ref().is_none_or(Vec::is_empty) => Ok(Vec::new()),
            // A list with entries, or not a list at all.
            _ => Err(D::Error::custom(refusal(key, what))),
        }
    }

    /// Accepts `key` only when absent or `null`.
    fn absent<'de, D: serde::Deserializer<'de>, T>(
        deserializer: D,
        key: &str,
        what: &str,
    ) -> Result<Option<T>, D::Error> {
        match Option::<IgnoredAny>::deserialize(deserializer) {
            Ok(None) => Ok(None),
            _ => Err(D::Error::custom(refusal(key, what))),
        }
    }

    /// `fields`, which the consent build leaves out.
    #[cfg(not(feature = "form-fields"))]
    pub(super) fn fields<'de, D: serde::Deserializer<'de>, T>(d: D) -> Result<Vec<T>, D::Error> {
        empty(d, "fields", "fields")
    }

    /// `pages`.
    pub(super) fn pages<'de, D: serde::Deserializer<'de>, T>(d: D) -> Result<Vec<T>, D::Error> {
        empty(d, "pages", "pages")
    }

    /// `reward`.
    pub(super) fn reward<'de, D: serde::Deserializer<'de>, T>(d: D) -> Result<Option<T>, D::Error> {
        absent(d, "reward", "a reward")
    }

    /// A field's `show_if`.
    pub(super) fn show_if<'de, D: serde::Deserializer<'de>, T>(
        d: D,
    ) -> Result<Option<T>, D::Error> {
        absent(d, "show_if", "show_if conditions")
    }
}

/// The problem of a consent banner's config that has `key` (`fields`, `pages`, `reward`).
fn not_in_a_banner(key: &str) -> String {
    format!("a consent banner has no {key} (\"kind\": \"consent\")")
}

/// Field ids that stand for a record's own facts in an export mapping, next to the form's fields.
#[cfg(feature = "export-columns")]
pub const RECORD_FACTS: [&str; 6] = ["@id", "@at", "@form", "@subject", "@granted", "@refused"];

/// The CRM import columns of a form's fields (`"export"` in the config): for each CRM, field id
/// (or one of [`RECORD_FACTS`], such as `@at`) → the column its values go in. Fields not named
/// are left out of that CRM's export.
#[cfg(feature = "export-columns")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportColumns {
    /// HubSpot's contact import, e.g. `{"email": "Email", "name": "First Name"}`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub hubspot: BTreeMap<String, String>,
    /// Mailchimp's contact import, e.g. `{"email": "Email Address", "name": "First Name"}`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub mailchimp: BTreeMap<String, String>,
}

#[cfg(feature = "export-columns")]
impl ExportColumns {
    /// Whether no CRM has a mapping.
    pub fn is_empty(&self) -> bool {
        self.hubspot.is_empty() && self.mailchimp.is_empty()
    }

    /// The problems of one CRM's mapping (`map`, reported under `path`) for `config`: a field id
    /// that is neither a field of the form nor a record fact, an empty column name, or two fields
    /// in one column. Also what `formseal export --map FILE` checks.
    pub fn problems_of(
        map: &BTreeMap<String, String>,
        config: Option<&FormConfig>,
        path: &str,
    ) -> Vec<Problem> {
        let mut problems = Vec::new();
        let mut columns = BTreeMap::<&str, &str>::new();
        for (field, column) in map {
            let known = RECORD_FACTS.contains(&field.as_str())
                || config.is_none_or(|c| c.fields.iter().any(|f| f.id == *field));
            if !known {
                problems.push(Problem::new(
                    format!("{path}.{field}"),
                    format!(
                        "the form has no field {field:?} (map a field id, or one of {})",
                        RECORD_FACTS.join(", ")
                    ),
                ));
            }
            if column.trim().is_empty() {
                problems.push(Problem::new(
                    format!("{path}.{field}"),
                    "the column name must not be empty",
                ));
            } else if let Some(other) = columns.insert(column.as_str(), field.as_str()) {
                problems.push(Problem::new(
                    format!("{path}.{field}"),
                    format!("the column {column:?} is the column of {other:?} too"),
                ));
            }
        }
        problems
    }
}

/// One page (section) of a survey.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Page {
    /// Stable id (`about-you`).
    pub id: String,
    /// Heading of the page.
    pub title: Text,
    /// Optional paragraph under the heading.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<Text>,
    /// Ids of the fields on this page, in display order.
    pub fields: Vec<String>,
    /// The page is shown only when this holds on the answers of earlier pages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub show_if: Option<Condition>,
}

/// A prize draw or voucher offered for answering a survey.
///
/// Contact details for it are a purpose of their own, with its own consent and retention: they
/// are sealed in a separate envelope with its own ids, and the answers envelope then carries a
/// fresh random subject id, so the two cannot be linked by anyone but the key holder.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reward {
    /// What is offered.
    pub kind: RewardKind,
    /// Short text shown with the offer ("Win one of three €50 vouchers").
    pub label: Text,
    /// Optional terms or details.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<Text>,
    /// Id of the consent-based purpose the contact details serve.
    pub purpose: String,
    /// Ids of the fields that belong to the reward: its consent checkbox and contact fields.
    pub fields: Vec<String>,
}

/// The kinds of reward.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RewardKind {
    /// A draw among the entries.
    PrizeDraw,
    /// A voucher for every entry.
    Voucher,
}

/// What a form is for; it decides the envelope kind of its submissions.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FormKind {
    /// Newsletter or account sign-up.
    Signup,
    /// Survey or feedback form.
    Survey,
    /// Consent banner.
    Consent,
    /// A visitor asks for the data held about them.
    AccessRequest,
    /// A visitor asks for their data to be deleted.
    ErasureRequest,
}

/// Texts that belong to the form as a whole.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FormTexts {
    /// Heading of the form.
    pub title: Text,
    /// Optional paragraph under the heading.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intro: Option<Text>,
    /// Label of the submit button (a built-in text when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub submit: Option<Text>,
    /// Shown after a successful submission (a built-in text when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub success: Option<Text>,
    /// Subject of the double opt-in mail that `formseal confirm` sends (a built-in text when
    /// absent); `{title}` is replaced by the form's title.
    #[cfg(feature = "confirm-mail")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confirm_subject: Option<Text>,
    /// Body of that mail, plain text; `{title}` is replaced by the form's title and `{link}` by
    /// the confirmation link (which is put on a line of its own after the text when the body has
    /// no `{link}`). A built-in text when absent.
    #[cfg(feature = "confirm-mail")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confirm_body: Option<Text>,
    /// The widget skips the mail's texts unread: only `formseal confirm` sends it.
    #[cfg(not(feature = "confirm-mail"))]
    #[serde(default, skip_serializing)]
    pub confirm_subject: serde::de::IgnoredAny,
    /// The same.
    #[cfg(not(feature = "confirm-mail"))]
    #[serde(default, skip_serializing)]
    pub confirm_body: serde::de::IgnoredAny,
}

/// The privacy notice a form links to.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrivacyNotice {
    /// Where the notice is published.
    pub url: String,
    /// Version of the notice; recorded with every consent so it can be proven later.
    pub version: String,
}

/// One reason for processing personal data, as the privacy notice states it.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Purpose {
    /// Stable id (`newsletter`, `analytics`).
    pub id: String,
    /// Short name shown next to the fields that serve it.
    pub label: Text,
    /// One or two sentences on what is done with the data.
    pub description: Text,
    /// Article 6 GDPR basis for the processing.
    pub legal_basis: LegalBasis,
    /// How long data for this purpose is kept, in days. Required: a purpose without a retention
    /// period is an error.
    #[serde(default)]
    pub retention_days: Option<u32>,
    /// The form cannot be submitted without this purpose (for a consent-based purpose: without
    /// the visitor's consent to it).
    #[serde(default)]
    pub required: bool,
    /// Selling or sharing data, or targeted advertising: refused without asking when the
    /// browser sends the Global Privacy Control signal.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub sale_or_sharing: bool,
    /// Cookies this purpose sets, removed when its consent is withdrawn: exact names, or a
    /// prefix ending in `*` (`_ga_*`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cookies: Vec<String>,
    /// Double opt-in: a sign-up granting this purpose counts only once the owner of its e-mail
    /// address has confirmed it. The widget seals a fresh random token with the sign-up
    /// ([`crate::envelope::Confirmation`]); `formseal confirm` mails the address a link with it,
    /// and the collector stores only the SHA-256 of a token whose link was clicked.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub double_opt_in: bool,
    /// With `double_opt_in`: `formseal purge` deletes a sign-up that was mailed and not
    /// confirmed within this many days of being made.
    #[cfg(feature = "confirm-mail")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(range(min = 1)))]
    pub confirm_within_days: Option<u32>,
    /// The widget skips the deadline unread: it is the data team's business.
    #[cfg(not(feature = "confirm-mail"))]
    #[serde(default, skip_serializing)]
    pub confirm_within_days: serde::de::IgnoredAny,
}

/// The lawful bases of Article 6(1) GDPR.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LegalBasis {
    /// 6(1)(a): the visitor's consent. Only this basis needs a grant before data is sent.
    Consent,
    /// 6(1)(b): needed for a contract with the visitor.
    Contract,
    /// 6(1)(c): needed to comply with a legal obligation.
    LegalObligation,
    /// 6(1)(d): needed to protect someone's vital interests.
    VitalInterests,
    /// 6(1)(e): a task in the public interest.
    PublicTask,
    /// 6(1)(f): the company's legitimate interests.
    LegitimateInterests,
}

/// One question of a form.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Field {
    /// Stable id; the key of the value in the envelope.
    pub id: String,
    /// What kind of input it is.
    #[serde(rename = "type")]
    pub kind: FieldKind,
    /// Label shown to the visitor (every type but `hidden` needs one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<Text>,
    /// Help text under the input.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help: Option<Text>,
    /// Ids of the purposes this field serves; at least one.
    #[serde(default)]
    pub purposes: Vec<String>,
    /// The visitor must answer (when the field's purposes are granted).
    #[serde(default, skip_serializing_if = "is_false")]
    pub required: bool,
    /// Regular expression the whole answer must match (text, textarea, email, tel).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    /// Smallest allowed number (number fields).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    /// Largest allowed number (number fields).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    /// Fewest characters (text-like fields).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_length: Option<u32>,
    /// Most characters (text-like fields).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_length: Option<u32>,
    /// The allowed answers (select, radio).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<ChoiceOption>,
    /// A select that allows several answers.
    #[serde(default, skip_serializing_if = "is_false")]
    pub multiple: bool,
    /// The scale of a rating field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale: Option<RatingScale>,
    /// The URL parameter a hidden field reads (one of [`HIDDEN_PARAM_ALLOW_LIST`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub param: Option<String>,
    /// The generalisation applied before sealing, beyond the type's own normalisation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minimise: Option<MinimiseRule>,
    /// The field is shown (and its answer kept) only when this holds on earlier answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        not(feature = "survey-parts"),
        serde(deserialize_with = "unread::show_if")
    )]
    pub show_if: Option<Condition>,
    /// The rows of a matrix field; its `options` are the scale every row is answered on.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub statements: Vec<ChoiceOption>,
    /// Texts at the two ends of a rating scale (NPS: "not at all likely" ... "extremely likely").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_labels: Option<EndLabels>,
    /// A select or radio field also takes a free-text "other" answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub other: Option<OtherOption>,
    /// File types a file field accepts: MIME types (`application/pdf`, `image/*`) or file name
    /// extensions (`.pdf`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub accept: Vec<String>,
    /// Largest file a file field accepts, in bytes ([`DEFAULT_MAX_FILE_BYTES`] when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_bytes: Option<u64>,
}

impl Purpose {
    /// Whether `name` is one of this purpose's [`cookies`](Self::cookies): an exact name, or a
    /// name starting with a pattern's prefix before its `*`. The first layer's `claimsCookie`
    /// (src/first-layer.js, which removes a withdrawn purpose's cookies) is held against this
    /// one by tests/loader_rules.rs.
    pub fn claims_cookie(&self, name: &str) -> bool {
        self.cookies
            .iter()
            .any(|pattern| match pattern.strip_suffix('*') {
                Some(prefix) => name.starts_with(prefix),
                None => name == pattern,
            })
    }
}

impl Field {
    /// The largest file this field accepts, in bytes.
    pub fn max_file_bytes(&self) -> u64 {
        self.max_bytes.unwrap_or(DEFAULT_MAX_FILE_BYTES)
    }
}

/// Texts at the low and high end of a rating scale.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EndLabels {
    /// Under the lowest rating.
    pub low: Text,
    /// Under the highest rating.
    pub high: Text,
}

/// The free-text "other" choice of a select or radio field. Its answer is `{"other": "..."}`
/// (an item of the array for a multiple select).
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OtherOption {
    /// Label of the "other" choice.
    pub label: Text,
    /// Most characters of the free text ([`DEFAULT_OTHER_MAX_CHARS`] when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_length: Option<u32>,
}

impl OtherOption {
    /// Most characters kept of the free text.
    pub fn max_chars(&self) -> u32 {
        self.max_length.unwrap_or(DEFAULT_OTHER_MAX_CHARS)
    }
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// The input types of config version 1.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FieldKind {
    /// One line of text.
    Text,
    /// An e-mail address; trimmed and lower-cased before sealing.
    Email,
    /// A phone number; normalised to E.164 before sealing.
    Tel,
    /// A number.
    Number,
    /// A calendar date, `YYYY-MM-DD`.
    Date,
    /// Several lines of text.
    Textarea,
    /// A drop-down of options (several with `multiple`).
    Select,
    /// Radio buttons, one answer.
    Radio,
    /// A single yes/no checkbox.
    Checkbox,
    /// A checkbox that grants the field's purposes when ticked.
    Consent,
    /// A rating on a fixed scale.
    Rating,
    /// A value taken only from an allow-listed URL parameter, never typed.
    Hidden,
    /// One statement rated on an agree/disagree scale; the scale is the field's `options`.
    Likert,
    /// Several statements (`statements`), each rated on the same scale (`options`). The answer
    /// is an object from statement value to option value.
    Matrix,
    /// The visitor puts every option in order; the answer is the array of option values.
    Ranking,
    /// A file, read and sealed in the browser. The answer is an object with `name`, `type`,
    /// `size` and `data` (the bytes, base64url without padding).
    File,
}

impl FieldKind {
    /// Whether answers of this type are free text (trimmed, NFC-normalised, length-capped).
    pub fn is_text(self) -> bool {
        matches!(self, Self::Text | Self::Email | Self::Tel | Self::Textarea)
    }
}

/// One allowed answer of a select or radio field.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChoiceOption {
    /// What is stored in the envelope.
    pub value: String,
    /// What the visitor sees.
    pub label: Text,
}

/// The scales a rating field can use.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RatingScale {
    /// One to five stars.
    #[serde(rename = "1-5")]
    OneToFive,
    /// One to ten.
    #[serde(rename = "1-10")]
    OneToTen,
    /// Net Promoter Score, zero to ten.
    #[serde(rename = "nps")]
    Nps,
}

impl RatingScale {
    /// Lowest and highest allowed rating.
    pub fn range(self) -> (u8, u8) {
        match self {
            Self::OneToFive => (1, 5),
            Self::OneToTen => (1, 10),
            Self::Nps => (0, 10),
        }
    }
}

/// Declared generalisations, run on the visitor's device before sealing.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "kebab-case", deny_unknown_fields)]
pub enum MinimiseRule {
    /// A date of birth becomes its year.
    BirthYear,
    /// A date of birth becomes an age band such as `30-39`.
    AgeBand {
        /// Width of a band in years (default 10).
        #[serde(default = "default_band_width")]
        width: u32,
    },
    /// A postcode keeps only its first characters (`1234 AB` → `1234`).
    PostcodePrefix {
        /// How many letters or digits to keep.
        length: u32,
    },
    /// Free text is cut to this many characters.
    Truncate {
        /// The most characters kept.
        length: u32,
    },
    /// A phone number written without an international prefix gets this country calling code.
    E164 {
        /// Country calling code without `+`, e.g. `"31"` for the Netherlands.
        country_code: String,
    },
}

fn default_band_width() -> u32 {
    10
}

impl MinimiseRule {
    /// The name used in configs and in minimisation reports.
    pub fn name(&self) -> &'static str {
        match self {
            Self::BirthYear => "birth-year",
            Self::AgeBand { .. } => "age-band",
            Self::PostcodePrefix { .. } => "postcode-prefix",
            Self::Truncate { .. } => "truncate",
            Self::E164 { .. } => "e164",
        }
    }
}

/// One thing wrong with a config: where, what, and (when we can tell) how to fix it.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// JSON path of the offending value, e.g. `fields[3].purposes[0]`.
    pub path: String,
    /// What is wrong, lowercase, no trailing period.
    pub message: String,
    /// How to fix it, when there is something useful to say.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

impl Problem {
    pub(crate) fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            message: message.into(),
            hint: None,
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, " ({hint})")?;
        }
        Ok(())
    }
}

impl FormConfig {
    /// Parses and validates a config; the error lists every problem found (see
    /// [`FormConfig::check`]).
    pub fn from_json(json: &str) -> Result<Self> {
        match Self::check(json) {
            (Some(config), problems) if problems.is_empty() => Ok(config),
            (_, problems) => Err(Error::ConfigInvalid(problems)),
        }
    }

    /// The config from an already-parsed document, through any serde deserializer — the widget
    /// passes serde-wasm-bindgen's over the browser's `JSON.parse` result, so it links no JSON
    /// parser (and no float parsing) — with the checks that make it trustworthy, as
    /// [`FormConfig::from_json`] has them: the structure (unknown keys and wrong types refused),
    /// the schema version, then every rule of [`FormConfig::problems`]. Any problem is an
    /// error, and the widget fails closed on it.
    pub fn from_deserializer<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self> {
        let config = Self::deserialize(deserializer).map_err(|e| Error::ConfigSyntax {
            path: "$".into(),
            message: e.to_string(),
        })?;
        if config.formseal != SCHEMA_VERSION {
            return Err(Error::ConfigSyntax {
                path: "formseal".into(),
                message: format!(
                    "unsupported config version {} (this formseal reads version {SCHEMA_VERSION})",
                    config.formseal
                ),
            });
        }
        let problems = config.problems();
        if problems.is_empty() {
            Ok(config)
        } else {
            Err(Error::ConfigInvalid(problems))
        }
    }

    /// Parses and validates, reporting every problem at once: each unknown key (set aside so
    /// the rest of the document can still be checked), then every broken rule. Any other syntax
    /// error (bad JSON, a wrong type) stops there: the document's shape is too uncertain to go
    /// on. The config is `None` when it could not be parsed at all.
    pub fn check(json: &str) -> (Option<Self>, Vec<Problem>) {
        let mut problems = Vec::new();
        let mut document: Option<serde_json::Value> = None;
        // A config has far fewer keys than this; the bound only guards against a loop.
        for _ in 0..1000 {
            let parsed = match &document {
                Some(value) => Self::parse(&value.to_string()),
                None => Self::parse(json),
            };
            let (path, message) = match parsed {
                Ok(config) => {
                    problems.extend(config.problems());
                    return (Some(config), problems);
                }
                Err(Error::ConfigSyntax { path, message }) => (path, message),
                Err(other) => {
                    problems.push(Problem::new("$", other.to_string()));
                    return (None, problems);
                }
            };
            let unknown = unknown_key(&message);
            let removed = unknown.as_ref().is_some_and(|(key, _)| {
                let value =
                    document.get_or_insert_with(|| serde_json::from_str(json).unwrap_or_default());
                remove_key(value, &path, key)
            });
            match unknown {
                Some((key, expected)) if removed => {
                    problems.push(unknown_key_problem(&path, &key, &expected));
                }
                _ => {
                    problems.push(Problem::new(path, message));
                    return (None, problems);
                }
            }
        }
        (None, problems)
    }

    /// Parses a config without the semantic checks of [`FormConfig::problems`].
    ///
    /// The schema version is checked first, so a config written for a newer formseal fails
    /// with that message instead of a confusing list of unknown keys.
    pub fn parse(json: &str) -> Result<Self> {
        let value: serde_json::Value =
            serde_json::from_str(json).map_err(|e| Error::ConfigSyntax {
                path: "$".into(),
                message: format!("not valid JSON: {e}"),
            })?;
        match value.get("formseal") {
            Some(v) if v.as_u64() == Some(u64::from(SCHEMA_VERSION)) => {}
            Some(v) => {
                return Err(Error::ConfigSyntax {
                    path: "formseal".into(),
                    message: format!(
                        "unsupported config version {v} (this formseal reads version {SCHEMA_VERSION})"
                    ),
                });
            }
            None => {
                return Err(Error::ConfigSyntax {
                    path: "formseal".into(),
                    message: format!(
                        "missing config version (add \"formseal\": {SCHEMA_VERSION} at the top)"
                    ),
                });
            }
        }
        deserialize_with_path(value)
    }

    /// Every rule this config breaks, in document order; empty when it is valid.
    pub fn problems(&self) -> Vec<Problem> {
        let mut check = Checker {
            problems: Vec::new(),
            languages: &self.languages,
        };
        check.form(self);
        // A build that reads no pages, reward or conditions (`unread`) has none to check: these
        // would find nothing there, and leaving them out keeps their code out of its wasm.
        if cfg!(feature = "survey-parts") {
            check.pages(self);
            check.reward(self);
        }
        let mut problems = check.problems;
        #[cfg(feature = "export-columns")]
        {
            let export = &self.export;
            problems.extend(ExportColumns::problems_of(
                &export.hubspot,
                Some(self),
                "export.hubspot",
            ));
            problems.extend(ExportColumns::problems_of(
                &export.mailchimp,
                Some(self),
                "export.mailchimp",
            ));
        }
        if cfg!(feature = "survey-parts") {
            problems.extend(crate::logic::problems(self));
        }
        problems
    }

    /// The first thing in this config that only the survey build of the widget renders
    /// (`formseal-survey.js`, see [`crate::embed`]), or `None` when the sign-up build renders it:
    /// a survey, pages, conditions, a reward, and rating, matrix, ranking and file fields.
    /// A consent banner is neither (it is embedded with the loader).
    pub fn survey_only_feature(&self) -> Option<&'static str> {
        if self.kind == FormKind::Survey {
            return Some("kind survey");
        }
        if !self.pages.is_empty() {
            return Some("pages");
        }
        if self.reward.is_some() {
            return Some("a reward");
        }
        if self.pages.iter().any(|p| p.show_if.is_some())
            || self.fields.iter().any(|f| f.show_if.is_some())
        {
            return Some("show_if conditions");
        }
        self.fields.iter().find_map(|f| match f.kind {
            FieldKind::Rating => Some("a rating field"),
            FieldKind::Matrix => Some("a matrix field"),
            FieldKind::Ranking => Some("a ranking field"),
            FieldKind::File => Some("a file field"),
            _ => None,
        })
    }

    /// When this form stops taking submissions (see [`Closing`]).
    pub fn closing(&self) -> Closing {
        Closing {
            closes_at: self.closes_at,
            max_responses: self.max_responses,
        }
    }

    /// Whether the form is closed on `today` (a UTC date): from the day after `closes_at` on.
    /// The widget shows its closed message instead of the form then; the collector refuses.
    pub fn is_closed(&self, today: Date) -> bool {
        self.closing().is_closed(today)
    }

    /// The pages in display order. A form without `pages` has one page, [`SINGLE_PAGE_ID`],
    /// titled like the form, with every field.
    pub fn pages(&self) -> Cow<'_, [Page]> {
        if !self.pages.is_empty() {
            return Cow::Borrowed(&self.pages);
        }
        Cow::Owned(vec![Page {
            id: SINGLE_PAGE_ID.into(),
            title: self.texts.title.clone(),
            description: None,
            fields: self.fields.iter().map(|f| f.id.clone()).collect(),
            show_if: None,
        }])
    }

    /// Fields in display order, each with the index of its page in [`FormConfig::pages`].
    /// Hidden fields that are on no page come last, with no page.
    pub fn fields_in_order(&self) -> Vec<(Option<usize>, &Field)> {
        let mut out = Vec::with_capacity(self.fields.len());
        let mut placed = BTreeSet::new();
        // An index, so a 200-question survey is not 200 scans of 200 fields.
        // Inserted one by one: `collect()` into a BTreeMap sorts first, and each sort it
        // instantiates costs the widget about 1 kB brotli.
        let mut by_id = BTreeMap::new();
        for field in &self.fields {
            by_id.insert(field.id.as_str(), field);
        }
        for (index, page) in self.pages().iter().enumerate() {
            for id in &page.fields {
                if let Some(field) = by_id.get(id.as_str()).copied()
                    && placed.insert(field.id.as_str())
                {
                    out.push((Some(index), field));
                }
            }
        }
        for field in &self.fields {
            if !placed.contains(field.id.as_str()) {
                out.push((None, field));
            }
        }
        out
    }

    /// Whether the field holds the reward's consent or contact details (sealed apart).
    pub fn is_reward_field(&self, id: &str) -> bool {
        self.reward
            .as_ref()
            .is_some_and(|r| r.fields.iter().any(|f| f == id))
    }

    /// The recipient keys, validated. Fails closed: any bad key is an error.
    pub fn recipient_keys(&self) -> Result<Vec<RecipientKey>> {
        if self.recipients.is_empty() {
            return Err(Error::Key("the form config has no recipient key".into()));
        }
        self.recipients.iter().map(RecipientKey::from_jwk).collect()
    }

    /// The e-mail field whose address confirms a double opt-in for purpose `purpose`: the
    /// first `email` field that serves it.
    pub fn confirmation_field(&self, purpose: &str) -> Option<&Field> {
        self.fields
            .iter()
            .find(|f| f.kind == FieldKind::Email && f.purposes.iter().any(|p| p == purpose))
    }

    /// The purpose with this id.
    pub fn purpose(&self, id: &str) -> Option<&Purpose> {
        self.purposes.iter().find(|p| p.id == id)
    }

    /// The first purpose that claims the cookie `name` ([`Purpose::claims_cookie`]).
    pub fn purpose_of_cookie(&self, name: &str) -> Option<&Purpose> {
        self.purposes.iter().find(|p| p.claims_cookie(name))
    }

    /// The field with this id.
    pub fn field(&self, id: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.id == id)
    }

    /// The text in `lang`, falling back to the form's default language.
    pub fn text<'t>(&self, text: &'t Text, lang: &str) -> &'t str {
        text.get(lang)
            .or_else(|| self.languages.first().and_then(|l| text.get(l)))
            .or_else(|| text.values().next())
            .map_or("", String::as_str)
    }
}

/// Collects problems while walking a config.
struct Checker<'c> {
    problems: Vec<Problem>,
    languages: &'c [String],
}

impl Checker<'_> {
    /// `closes_at` and `max_responses`: only for forms that may close, and a limit of one or
    /// more that the collector can count.
    fn closing(&mut self, config: &FormConfig) {
        let never_closes = match config.kind {
            FormKind::Consent => Some("a consent banner never closes"),
            FormKind::AccessRequest | FormKind::ErasureRequest => {
                Some("a privacy request form never closes: visitors may ask at any time")
            }
            FormKind::Signup | FormKind::Survey => None,
        };
        let present = [
            ("closes_at", config.closes_at.is_some()),
            ("max_responses", config.max_responses.is_some()),
        ];
        if let Some(reason) = never_closes {
            for (key, _) in present.into_iter().filter(|(_, present)| *present) {
                self.push_hint(key, reason, format!("remove \"{key}\""));
            }
            return;
        }
        match config.max_responses {
            Some(0) => self.push_hint(
                "max_responses",
                "max_responses must be 1 or more",
                "leave it out for no limit".into(),
            ),
            // The collector counts envelopes, and cannot tell answers from reward entries
            // without decrypting them.
            Some(_) if config.reward.is_some() => self.push_hint(
                "max_responses",
                "a survey with a reward cannot have max_responses: its reward entries are \
                 stored as submissions of their own",
                "remove \"max_responses\" or the reward".into(),
            ),
            _ => {}
        }
    }

    fn push(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.problems.push(Problem {
            path: path.into(),
            message: message.into(),
            hint: None,
        });
    }

    fn push_hint(&mut self, path: impl Into<String>, message: impl Into<String>, hint: String) {
        self.problems.push(Problem {
            path: path.into(),
            message: message.into(),
            hint: Some(hint),
        });
    }

    fn form(&mut self, config: &FormConfig) {
        self.id("id", &config.id);
        if config.version == 0 {
            self.push("version", "form version must be 1 or more");
        }
        self.languages(config);
        self.text("texts.title", &config.texts.title);
        let optional_texts = [
            ("texts.intro", &config.texts.intro),
            ("texts.submit", &config.texts.submit),
            ("texts.success", &config.texts.success),
        ];
        for (path, text) in optional_texts {
            if let Some(text) = text {
                self.text(path, text);
            }
        }
        self.url("endpoint", &config.endpoint);
        self.recipients(&config.recipients);
        self.url("privacy_notice.url", &config.privacy_notice.url);
        if config.privacy_notice.version.trim().is_empty() {
            self.push(
                "privacy_notice.version",
                "privacy notice version must not be empty",
            );
        }
        self.purposes(&config.purposes);
        // The widget only seals the token; whether the config's double opt-in makes sense is
        // for `formseal check`, the builder and `formseal confirm` to say.
        #[cfg(feature = "confirm-mail")]
        self.double_opt_in(config);
        match (&config.consent, config.kind) {
            (Some(settings), FormKind::Consent) => {
                self.problems.extend(settings.problems(config));
            }
            (Some(_), _) => self.push_hint(
                "consent",
                "consent settings on a form that is not a consent banner",
                "remove \"consent\" or set \"kind\": \"consent\"".into(),
            ),
            (None, FormKind::Consent) => {
                self.problems
                    .extend(ConsentSettings::default().problems(config));
            }
            (None, _) => {}
        }
        if config.kind == FormKind::Consent {
            let present = [
                ("fields", !config.fields.is_empty()),
                ("pages", !config.pages.is_empty()),
                ("reward", config.reward.is_some()),
            ];
            for (key, _) in present.into_iter().filter(|(_, present)| *present) {
                self.push_hint(key, not_in_a_banner(key), format!("remove \"{key}\""));
            }
        }
        self.closing(config);
        let purpose_ids: Vec<&str> = config.purposes.iter().map(|p| p.id.as_str()).collect();
        if config.fields.is_empty() && config.kind != FormKind::Consent {
            self.push("fields", "a form needs at least one field");
        }
        if !cfg!(feature = "form-fields") {
            // The consent build reads no fields (`unread`): there are none to check.
            return;
        }
        let is_request = matches!(
            config.kind,
            FormKind::AccessRequest | FormKind::ErasureRequest
        );
        let reachable = config
            .fields
            .iter()
            .any(|f| f.required && matches!(f.kind, FieldKind::Email | FieldKind::Tel));
        if is_request && !reachable {
            self.push_hint(
                "fields",
                "a privacy request needs a required e-mail or phone field",
                "the data team must be able to answer the visitor".into(),
            );
        }
        let mut seen = BTreeSet::new();
        for (i, field) in config.fields.iter().enumerate() {
            let path = format!("fields[{i}]");
            if !seen.insert(field.id.as_str()) {
                self.push(
                    format!("{path}.id"),
                    format!("duplicate field id \"{}\"", field.id),
                );
            }
            self.field(&path, field, config, &purpose_ids);
        }
    }

    fn pages(&mut self, config: &FormConfig) {
        if config.pages.is_empty() {
            return;
        }
        let field_ids: Vec<&str> = config.fields.iter().map(|f| f.id.as_str()).collect();
        let mut page_ids = BTreeSet::new();
        let mut placed: BTreeMap<&str, String> = BTreeMap::new();
        for (i, page) in config.pages.iter().enumerate() {
            let path = format!("pages[{i}]");
            self.id(&format!("{path}.id"), &page.id);
            if !page_ids.insert(page.id.as_str()) {
                self.push(
                    format!("{path}.id"),
                    format!("duplicate page id \"{}\"", page.id),
                );
            }
            self.text(&format!("{path}.title"), &page.title);
            if let Some(description) = &page.description {
                self.text(&format!("{path}.description"), description);
            }
            if page.fields.is_empty() {
                self.push(format!("{path}.fields"), "a page needs at least one field");
            }
            for (j, id) in page.fields.iter().enumerate() {
                let here = format!("{path}.fields[{j}]");
                let Some(field) = config.field(id) else {
                    let mut hint = "list ids from \"fields\"".to_owned();
                    if let Some(best) = closest(id, &field_ids) {
                        hint = format!("did you mean \"{best}\"?");
                    }
                    self.push_hint(here, format!("unknown field \"{id}\""), hint);
                    continue;
                };
                if let Some(first) = placed.get(id.as_str()) {
                    self.push(
                        here,
                        format!("field \"{id}\" is already on {first}; a field is on one page"),
                    );
                    continue;
                }
                placed.insert(&field.id, format!("page \"{}\"", page.id));
                if field.kind == FieldKind::Consent && page.show_if.is_some() {
                    self.push_hint(
                        format!("{path}.show_if"),
                        format!(
                            "page \"{}\" holds consent checkbox \"{id}\" and cannot be conditional",
                            page.id
                        ),
                        "consent checkboxes are always shown; move it to a page without show_if"
                            .into(),
                    );
                }
            }
        }
        for (i, field) in config.fields.iter().enumerate() {
            if field.kind != FieldKind::Hidden && !placed.contains_key(field.id.as_str()) {
                self.push_hint(
                    format!("fields[{i}]"),
                    format!("field \"{}\" is on no page", field.id),
                    "add its id to the \"fields\" of one of the pages".into(),
                );
            }
        }
    }

    fn reward(&mut self, config: &FormConfig) {
        let Some(reward) = &config.reward else {
            return;
        };
        if config.kind != FormKind::Survey {
            self.push("reward", "only a survey can offer a reward");
        }
        self.text("reward.label", &reward.label);
        if let Some(description) = &reward.description {
            self.text("reward.description", description);
        }
        match config.purpose(&reward.purpose) {
            None => self.push(
                "reward.purpose",
                format!("unknown purpose \"{}\"", reward.purpose),
            ),
            Some(purpose) => {
                if purpose.legal_basis != LegalBasis::Consent {
                    self.push(
                        "reward.purpose",
                        format!(
                            "the reward's purpose \"{}\" must be based on consent",
                            purpose.id
                        ),
                    );
                }
                if purpose.required {
                    self.push_hint(
                        "reward.purpose",
                        format!("the reward's purpose \"{}\" is required", purpose.id),
                        "taking part in a reward must be optional; remove \"required\"".into(),
                    );
                }
            }
        }
        let mut has_consent = false;
        let mut has_contact = false;
        for (j, id) in reward.fields.iter().enumerate() {
            let path = format!("reward.fields[{j}]");
            let Some(field) = config.field(id) else {
                self.push(path, format!("unknown field \"{id}\""));
                continue;
            };
            if field.purposes != [reward.purpose.clone()] {
                self.push_hint(
                    path,
                    format!(
                        "reward field \"{id}\" must serve only the reward's purpose \"{}\"",
                        reward.purpose
                    ),
                    "its data is sealed apart from the answers, for that purpose alone".into(),
                );
            }
            match field.kind {
                FieldKind::Consent => has_consent = true,
                FieldKind::Hidden => self.push(
                    format!("reward.fields[{j}]"),
                    "a reward field cannot be hidden",
                ),
                _ => has_contact = true,
            }
        }
        for (i, field) in config.fields.iter().enumerate() {
            if field.purposes.contains(&reward.purpose) && !reward.fields.contains(&field.id) {
                self.push_hint(
                    format!("fields[{i}].purposes"),
                    format!(
                        "field \"{}\" serves the reward's purpose but is not one of reward.fields",
                        field.id
                    ),
                    "list it in reward.fields, or give it another purpose".into(),
                );
            }
        }
        if !has_consent {
            self.push_hint(
                "reward.fields",
                "the reward has no consent checkbox",
                "add a consent field for the reward's purpose and list it here".into(),
            );
        }
        if !has_contact {
            self.push("reward.fields", "the reward asks no contact details");
        }
    }

    fn id(&mut self, path: &str, id: &str) {
        let ok = !id.is_empty()
            && id.len() <= 64
            && id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        if !ok {
            self.push_hint(
                path,
                format!("invalid id \"{id}\""),
                "use 1 to 64 lowercase letters, digits, - or _".into(),
            );
        }
    }

    fn languages(&mut self, config: &FormConfig) {
        if config.languages.is_empty() {
            self.push_hint(
                "languages",
                "no languages",
                "list at least one, e.g. [\"nl\", \"en\"]".into(),
            );
        }
        let mut seen = BTreeSet::new();
        for (i, lang) in config.languages.iter().enumerate() {
            let well_formed = lang.split('-').enumerate().all(|(n, part)| {
                let len_ok = if n == 0 {
                    (2..=3).contains(&part.len())
                } else {
                    (2..=8).contains(&part.len())
                };
                len_ok && part.bytes().all(|b| b.is_ascii_alphanumeric())
            });
            if !well_formed {
                self.push_hint(
                    format!("languages[{i}]"),
                    format!("\"{lang}\" is not a language tag"),
                    "use a BCP 47 tag such as \"nl\" or \"en-GB\"".into(),
                );
            }
            if !seen.insert(lang) {
                self.push(
                    format!("languages[{i}]"),
                    format!("duplicate language \"{lang}\""),
                );
            }
        }
    }

    /// A translated text must exist, and be non-empty, in exactly the form's languages.
    fn text(&mut self, path: &str, text: &Text) {
        for lang in self.languages {
            match text.get(lang) {
                // The path names the missing key, where the translation goes.
                None => self.push(
                    format!("{path}.{lang}"),
                    format!("missing translation for \"{lang}\""),
                ),
                Some(s) if s.trim().is_empty() => {
                    self.push(format!("{path}.{lang}"), "text must not be empty");
                }
                Some(_) => {}
            }
        }
        for lang in text.keys() {
            if !self.languages.contains(lang) {
                let hint = format!("add \"{lang}\" to languages or remove this text");
                self.push_hint(
                    format!("{path}.{lang}"),
                    format!("text in \"{lang}\", which is not one of the form's languages"),
                    hint,
                );
            }
        }
    }

    fn url(&mut self, path: &str, url: &str) {
        if url.starts_with('/') && !url.starts_with("//") {
            return; // A path on the page's own origin.
        }
        let Some((scheme, rest)) = url.split_once("://") else {
            self.push_hint(
                path,
                format!("\"{url}\" is not an absolute URL"),
                "use https://host/path, or a path such as /submit".into(),
            );
            return;
        };
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        let host = host_of(authority);
        match scheme.to_ascii_lowercase().as_str() {
            "https" if !host.is_empty() => {}
            "http" if is_loopback(host) => {}
            "http" => self.push_hint(
                path,
                format!("plain http to \"{host}\" is not allowed"),
                "use https (http is only allowed for localhost)".into(),
            ),
            _ => self.push_hint(
                path,
                format!("\"{url}\" is not an https URL"),
                "use https://host/path".into(),
            ),
        }
    }

    fn recipients(&mut self, recipients: &[PublicJwk]) {
        if recipients.is_empty() {
            self.push_hint(
                "recipients",
                "no recipient key",
                "add the public JWK printed by `formseal keygen`".into(),
            );
        }
        let mut kids = BTreeSet::new();
        for (i, jwk) in recipients.iter().enumerate() {
            match RecipientKey::from_jwk(jwk) {
                Ok(key) => {
                    if !kids.insert(key.kid().to_owned()) {
                        self.push(
                            format!("recipients[{i}]"),
                            format!("duplicate key {}", key.kid()),
                        );
                    }
                }
                Err(e) => self.push(format!("recipients[{i}]"), e.to_string()),
            }
        }
    }

    fn purposes(&mut self, purposes: &[Purpose]) {
        if purposes.is_empty() {
            self.push("purposes", "a form needs at least one purpose");
        }
        let mut seen = BTreeSet::new();
        for (i, purpose) in purposes.iter().enumerate() {
            let path = format!("purposes[{i}]");
            self.id(&format!("{path}.id"), &purpose.id);
            if !seen.insert(purpose.id.as_str()) {
                self.push(
                    format!("{path}.id"),
                    format!("duplicate purpose id \"{}\"", purpose.id),
                );
            }
            self.text(&format!("{path}.label"), &purpose.label);
            self.text(&format!("{path}.description"), &purpose.description);
            match purpose.retention_days {
                None => self.push_hint(
                    format!("{path}.retention_days"),
                    format!("purpose \"{}\" has no retention period", purpose.id),
                    "say how many days the data is kept, e.g. \"retention_days\": 365".into(),
                ),
                Some(0) => self.push(
                    format!("{path}.retention_days"),
                    "retention must be at least 1 day",
                ),
                Some(d) if d > MAX_RETENTION_DAYS => self.push(
                    format!("{path}.retention_days"),
                    format!("retention of {d} days is more than {MAX_RETENTION_DAYS}"),
                ),
                Some(_) => {}
            }
        }
    }

    /// A double opt-in purpose is a consent that an e-mail field of a sign-up form or survey
    /// serves: without an address there is nobody to ask, and without consent nothing to prove.
    /// Also the mail's texts.
    #[cfg(feature = "confirm-mail")]
    fn double_opt_in(&mut self, config: &FormConfig) {
        let texts = [
            ("texts.confirm_subject", &config.texts.confirm_subject),
            ("texts.confirm_body", &config.texts.confirm_body),
        ];
        for (path, text) in texts {
            if let Some(text) = text {
                self.text(path, text);
            }
        }
        for (i, purpose) in config.purposes.iter().enumerate() {
            let path = format!("purposes[{i}]");
            if !purpose.double_opt_in {
                if purpose.confirm_within_days.is_some() {
                    self.push_hint(
                        format!("{path}.confirm_within_days"),
                        format!(
                            "purpose \"{}\" sets confirm_within_days without double opt-in",
                            purpose.id
                        ),
                        "add \"double_opt_in\": true or remove confirm_within_days".into(),
                    );
                }
                continue;
            }
            if purpose.legal_basis != LegalBasis::Consent {
                self.push(
                    format!("{path}.double_opt_in"),
                    format!(
                        "double opt-in confirms consent, but purpose \"{}\" is not consent-based",
                        purpose.id
                    ),
                );
            }
            if !matches!(config.kind, FormKind::Signup | FormKind::Survey) {
                self.push(
                    format!("{path}.double_opt_in"),
                    "double opt-in is for sign-up forms and surveys",
                );
            } else if config.confirmation_field(&purpose.id).is_none() {
                self.push_hint(
                    format!("{path}.double_opt_in"),
                    format!(
                        "no e-mail field serves purpose \"{}\": there is no address to confirm",
                        purpose.id
                    ),
                    format!(
                        "add an \"email\" field with \"purposes\": [\"{}\"]",
                        purpose.id
                    ),
                );
            }
            match purpose.confirm_within_days {
                Some(0) => self.push(
                    format!("{path}.confirm_within_days"),
                    "confirm_within_days must be at least 1",
                ),
                Some(days) if purpose.retention_days.is_some_and(|r| days > r) => self.push(
                    format!("{path}.confirm_within_days"),
                    format!(
                        "confirm_within_days ({days}) is longer than the retention ({} days)",
                        purpose.retention_days.unwrap_or_default()
                    ),
                ),
                _ => {}
            }
        }
    }

    fn field(&mut self, path: &str, field: &Field, config: &FormConfig, purpose_ids: &[&str]) {
        use FieldKind as K;
        self.id(&format!("{path}.id"), &field.id);
        match (&field.label, field.kind) {
            (Some(label), _) => self.text(&format!("{path}.label"), label),
            (None, K::Hidden) => {}
            (None, _) => self.push(
                format!("{path}.label"),
                format!("field \"{}\" has no label", field.id),
            ),
        }
        if let Some(help) = &field.help {
            self.text(&format!("{path}.help"), help);
        }
        if field.purposes.is_empty() {
            self.push_hint(
                format!("{path}.purposes"),
                format!("field \"{}\" serves no purpose", field.id),
                format!("name one or more of: {}", purpose_ids.join(", ")),
            );
        }
        for (j, id) in field.purposes.iter().enumerate() {
            if !purpose_ids.contains(&id.as_str()) {
                let mut hint = format!("known: {}", purpose_ids.join(", "));
                if let Some(best) = closest(id, purpose_ids) {
                    hint = format!("did you mean \"{best}\"? {hint}");
                }
                self.push_hint(
                    format!("{path}.purposes[{j}]"),
                    format!("unknown purpose \"{id}\""),
                    hint,
                );
            }
        }
        if field.kind == K::Consent && field.show_if.is_some() {
            self.push_hint(
                format!("{path}.show_if"),
                "a consent checkbox cannot be conditional",
                "consent checkboxes are always shown; put the condition on the fields instead"
                    .into(),
            );
        }
        if field.kind == K::Consent {
            for (j, id) in field.purposes.iter().enumerate() {
                if config
                    .purpose(id)
                    .is_some_and(|p| p.legal_basis != LegalBasis::Consent)
                {
                    self.push(
                        format!("{path}.purposes[{j}]"),
                        format!(
                            "a consent checkbox can only grant consent-based purposes; \"{id}\" has another legal basis"
                        ),
                    );
                }
            }
        }
        self.field_attributes(path, field);
    }

    /// Each validation attribute is only meaningful for some types; elsewhere it is a mistake.
    fn field_attributes(&mut self, path: &str, field: &Field) {
        use FieldKind as K;
        let kind = field.kind;
        let misplaced = |name: &str| format!("\"{name}\" does not apply to a {kind:?} field");
        if field.pattern.is_some() && !kind.is_text() {
            self.push(format!("{path}.pattern"), misplaced("pattern"));
        }
        if let Some(pattern) = &field.pattern
            && let Some(e) = crate::text::pattern_error(pattern)
        {
            self.push(
                format!("{path}.pattern"),
                format!("invalid regular expression: {e}"),
            );
        }
        if (field.min.is_some() || field.max.is_some()) && kind != K::Number {
            self.push(format!("{path}.min"), misplaced("min/max"));
        }
        if let (Some(min), Some(max)) = (field.min, field.max)
            && min > max
        {
            self.push(
                format!("{path}.min"),
                format!("min {min} is above max {max}"),
            );
        }
        if (field.min_length.is_some() || field.max_length.is_some()) && !kind.is_text() {
            self.push(
                format!("{path}.max_length"),
                misplaced("min_length/max_length"),
            );
        }
        if let (Some(min), Some(max)) = (field.min_length, field.max_length)
            && min > max
        {
            self.push(
                format!("{path}.min_length"),
                format!("min_length {min} is above max_length {max}"),
            );
        }
        let has_options = matches!(
            kind,
            K::Select | K::Radio | K::Likert | K::Matrix | K::Ranking
        );
        if has_options && field.options.is_empty() {
            self.push(
                format!("{path}.options"),
                format!("a {kind:?} field needs options"),
            );
        } else if matches!(kind, K::Likert | K::Matrix | K::Ranking) && field.options.len() < 2 {
            self.push(
                format!("{path}.options"),
                format!("a {kind:?} field needs at least two options"),
            );
        }
        if !has_options && !field.options.is_empty() {
            self.push(format!("{path}.options"), misplaced("options"));
        }
        let mut values = BTreeSet::new();
        for (j, option) in field.options.iter().enumerate() {
            if option.value.is_empty() {
                self.push(
                    format!("{path}.options[{j}].value"),
                    "option value must not be empty",
                );
            }
            if !values.insert(option.value.as_str()) {
                self.push(
                    format!("{path}.options[{j}].value"),
                    format!("duplicate option \"{}\"", option.value),
                );
            }
            self.text(&format!("{path}.options[{j}].label"), &option.label);
        }
        if field.multiple && kind != K::Select {
            self.push(format!("{path}.multiple"), misplaced("multiple"));
        }
        self.new_attributes(path, field);
        match (kind, field.scale) {
            (K::Rating, None) => self.push_hint(
                format!("{path}.scale"),
                "a rating field needs a scale",
                "use \"1-5\", \"1-10\" or \"nps\"".into(),
            ),
            (K::Rating, Some(_)) | (_, None) => {}
            (_, Some(_)) => self.push(format!("{path}.scale"), misplaced("scale")),
        }
        match (kind, &field.param) {
            (K::Hidden, None) => self.push_hint(
                format!("{path}.param"),
                "a hidden field needs the URL parameter it reads",
                format!("one of: {}", HIDDEN_PARAM_ALLOW_LIST.join(", ")),
            ),
            (K::Hidden, Some(param)) if !HIDDEN_PARAM_ALLOW_LIST.contains(&param.as_str()) => self
                .push_hint(
                    format!("{path}.param"),
                    format!("URL parameter \"{param}\" is not on the allow-list"),
                    format!("one of: {}", HIDDEN_PARAM_ALLOW_LIST.join(", ")),
                ),
            (K::Hidden, Some(_)) | (_, None) => {}
            (_, Some(_)) => self.push(format!("{path}.param"), misplaced("param")),
        }
        if let Some(rule) = &field.minimise {
            self.rule(&format!("{path}.minimise"), kind, rule);
        }
    }

    /// The attributes of the survey question types: statements, end labels, "other", files.
    fn new_attributes(&mut self, path: &str, field: &Field) {
        use FieldKind as K;
        let kind = field.kind;
        let misplaced = |name: &str| format!("\"{name}\" does not apply to a {kind:?} field");
        match (kind, field.statements.is_empty()) {
            (K::Matrix, true) => self.push(
                format!("{path}.statements"),
                "a Matrix field needs statements",
            ),
            (K::Matrix, false) | (_, true) => {}
            (_, false) => self.push(format!("{path}.statements"), misplaced("statements")),
        }
        let mut values = BTreeSet::new();
        for (j, statement) in field.statements.iter().enumerate() {
            if statement.value.is_empty() {
                self.push(
                    format!("{path}.statements[{j}].value"),
                    "statement value must not be empty",
                );
            }
            if !values.insert(statement.value.as_str()) {
                self.push(
                    format!("{path}.statements[{j}].value"),
                    format!("duplicate statement \"{}\"", statement.value),
                );
            }
            self.text(&format!("{path}.statements[{j}].label"), &statement.label);
        }
        if let Some(labels) = &field.end_labels {
            if kind == K::Rating {
                self.text(&format!("{path}.end_labels.low"), &labels.low);
                self.text(&format!("{path}.end_labels.high"), &labels.high);
            } else {
                self.push(format!("{path}.end_labels"), misplaced("end_labels"));
            }
        }
        if let Some(other) = &field.other {
            if matches!(kind, K::Select | K::Radio) {
                self.text(&format!("{path}.other.label"), &other.label);
                if other.max_length == Some(0) {
                    self.push(
                        format!("{path}.other.max_length"),
                        "max_length must be 1 or more",
                    );
                }
            } else {
                self.push(format!("{path}.other"), misplaced("other"));
            }
        }
        if kind != K::File {
            if !field.accept.is_empty() {
                self.push(format!("{path}.accept"), misplaced("accept"));
            }
            if field.max_bytes.is_some() {
                self.push(format!("{path}.max_bytes"), misplaced("max_bytes"));
            }
            return;
        }
        if field.accept.is_empty() {
            self.push_hint(
                format!("{path}.accept"),
                "a file field needs the types it accepts",
                "e.g. [\"application/pdf\", \"image/*\", \".docx\"]".into(),
            );
        }
        for (j, accept) in field.accept.iter().enumerate() {
            if !crate::upload::is_accept_entry(accept) {
                self.push_hint(
                    format!("{path}.accept[{j}]"),
                    format!("\"{accept}\" is not a file type"),
                    "use a lowercase MIME type (image/png, image/*) or an extension (.pdf)".into(),
                );
            }
        }
        match field.max_bytes {
            Some(0) => self.push(format!("{path}.max_bytes"), "max_bytes must be 1 or more"),
            Some(n) if n > MAX_FILE_BYTES => self.push_hint(
                format!("{path}.max_bytes"),
                format!("{n} bytes is more than the {MAX_FILE_BYTES} a file field may allow"),
                "files are sealed in the visitor's browser and posted in one request".into(),
            ),
            _ => {}
        }
    }

    fn rule(&mut self, path: &str, kind: FieldKind, rule: &MinimiseRule) {
        use FieldKind as K;
        let fits = match rule {
            MinimiseRule::BirthYear | MinimiseRule::AgeBand { .. } => kind == K::Date,
            MinimiseRule::PostcodePrefix { .. } => kind == K::Text,
            MinimiseRule::Truncate { .. } => matches!(kind, K::Text | K::Textarea),
            MinimiseRule::E164 { .. } => kind == K::Tel,
        };
        if !fits {
            self.push(
                path,
                format!(
                    "rule \"{}\" does not apply to a {kind:?} field",
                    rule.name()
                ),
            );
        }
        match rule {
            MinimiseRule::AgeBand { width: 0 } => {
                self.push(format!("{path}.width"), "age band width must be 1 or more");
            }
            MinimiseRule::PostcodePrefix { length: 0 } | MinimiseRule::Truncate { length: 0 } => {
                self.push(format!("{path}.length"), "length must be 1 or more");
            }
            MinimiseRule::E164 { country_code }
                if country_code.is_empty()
                    || country_code.len() > 3
                    || !country_code.bytes().all(|b| b.is_ascii_digit())
                    || country_code.starts_with('0') =>
            {
                self.push_hint(
                    format!("{path}.country_code"),
                    format!("\"{country_code}\" is not a country calling code"),
                    "digits without +, e.g. \"31\" for the Netherlands".into(),
                );
            }
            _ => {}
        }
    }
}

/// Deserializes a config, naming the JSON path of the first problem (feature `json-paths`).
#[cfg(feature = "json-paths")]
fn deserialize_with_path(value: serde_json::Value) -> Result<FormConfig> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        Error::ConfigSyntax {
            path: if path == "." { "$".into() } else { path },
            message: e.into_inner().to_string(),
        }
    })
}

/// Deserializes a config; without `json-paths` (the widget, to stay small) the problem is
/// reported for the whole document and `formseal check` shows where it is.
#[cfg(not(feature = "json-paths"))]
fn deserialize_with_path(value: serde_json::Value) -> Result<FormConfig> {
    serde_json::from_value(value).map_err(|e| Error::ConfigSyntax {
        path: "$".into(),
        message: e.to_string(),
    })
}

/// The host of a URL authority (`user@host:port`), without brackets for IPv6.
fn host_of(authority: &str) -> &str {
    let authority = authority.rsplit('@').next().unwrap_or(authority);
    if let Some(rest) = authority.strip_prefix('[') {
        return rest.split(']').next().unwrap_or_default();
    }
    authority.split(':').next().unwrap_or_default()
}

fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost") || host == "::1" || host.starts_with("127.")
}

/// The candidate most like `word`, if one is close enough to be a likely typo.
#[cfg(feature = "json-paths")]
pub(crate) fn closest<'a, S: AsRef<str>>(word: &str, candidates: &'a [S]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (strsim::damerau_levenshtein(word, c.as_ref()), c.as_ref()))
        .filter(|(d, c)| *d <= 2.max(c.len() / 4))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Without `json-paths` (the widget) there are no typo hints.
#[cfg(not(feature = "json-paths"))]
pub(crate) fn closest<'a, S: AsRef<str>>(_word: &str, _candidates: &'a [S]) -> Option<&'a str> {
    None
}

/// The key and the expected keys of serde's "unknown field `x`, expected one of `a`, `b`".
fn unknown_key(message: &str) -> Option<(String, Vec<String>)> {
    let rest = message.strip_prefix("unknown field `")?;
    let (key, rest) = rest.split_once('`')?;
    let expected = rest
        .split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect();
    Some((key.to_owned(), expected))
}

fn unknown_key_problem(path: &str, key: &str, expected: &[String]) -> Problem {
    // serde_path_to_error may or may not include the unknown key in the path; show it once.
    let path = if path == key || path.ends_with(&format!(".{key}")) {
        path.to_owned()
    } else if path == "$" || path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    };
    let known = expected.join(", ");
    let hint = match closest(key, expected) {
        Some(best) => format!("did you mean \"{best}\"? known: {known}"),
        None => format!("known: {known}"),
    };
    Problem {
        path,
        message: format!("unknown key \"{key}\""),
        hint: Some(hint),
    }
}

/// Removes `key` from the object at `path` (`fields[3]`, `purposes[0].label`), or from the
/// object at `path` minus its last segment when the path already names the key.
fn remove_key(root: &mut serde_json::Value, path: &str, key: &str) -> bool {
    let mut segments = split_path(path);
    if segments.last().map(String::as_str) == Some(key) {
        segments.pop();
    }
    let mut node = root;
    for segment in &segments {
        let next = match segment.parse::<usize>() {
            Ok(i) if node.is_array() => node.get_mut(i),
            _ => node.get_mut(segment.as_str()),
        };
        match next {
            Some(next) => node = next,
            None => return false,
        }
    }
    node.as_object_mut()
        .is_some_and(|object| object.remove(key).is_some())
}

/// `fields[3].minimise.rule` → `["fields", "3", "minimise", "rule"]`; `$` or `.` → `[]`.
fn split_path(path: &str) -> Vec<String> {
    if path == "$" || path == "." || path.is_empty() {
        return Vec::new();
    }
    path.split(['.', '['])
        .filter(|s| !s.is_empty())
        .map(|s| s.trim_end_matches(']').to_owned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_parsing_handles_ports_users_and_ipv6() {
        assert_eq!(host_of("example.com:8443"), "example.com");
        assert_eq!(host_of("u:p@localhost:3000"), "localhost");
        assert_eq!(host_of("[::1]:8080"), "::1");
    }

    #[test]
    fn cookie_patterns_are_exact_names_or_prefixes() {
        let purpose: Purpose = serde_json::from_value(serde_json::json!({
            "id": "statistics",
            "label": {"en": "Statistics"},
            "description": {"en": "Counting visits."},
            "legal_basis": "consent",
            "cookies": ["_ga", "_ga_*"]
        }))
        .unwrap();
        assert!(purpose.claims_cookie("_ga"));
        assert!(purpose.claims_cookie("_ga_ABC123"));
        assert!(purpose.claims_cookie("_ga_"));
        assert!(!purpose.claims_cookie("_gat"));
        assert!(!purpose.claims_cookie("_g"));
    }

    #[test]
    fn unknown_key_message_is_taken_apart() {
        let (key, expected) =
            unknown_key("unknown field `requird`, expected one of `id`, `required`").unwrap();
        assert_eq!(
            (key.as_str(), expected),
            ("requird", vec!["id".to_string(), "required".to_string()])
        );
        assert_eq!(unknown_key("invalid type: string"), None);
    }

    #[test]
    fn paths_split_into_segments_and_keys_are_removed() {
        assert_eq!(
            split_path("fields[3].minimise"),
            ["fields", "3", "minimise"]
        );
        let mut doc = serde_json::json!({"fields": [{"id": "a", "requird": true}]});
        assert!(remove_key(&mut doc, "fields[0].requird", "requird"));
        assert_eq!(doc, serde_json::json!({"fields": [{"id": "a"}]}));
        assert!(!remove_key(&mut doc, "fields[5]", "x"));
    }

    #[test]
    fn a_form_is_open_through_its_closing_day_and_closed_from_the_next() {
        let day = |s| Date::parse(s).unwrap();
        let closing = Closing {
            closes_at: Some(day("2026-12-31")),
            max_responses: None,
        };
        assert!(!closing.is_closed(day("2026-01-01")));
        assert!(!closing.is_closed(day("2026-12-31")));
        assert!(closing.is_closed(day("2027-01-01")));
        assert!(closing.is_closed(day("2030-06-15")));
        assert!(!Closing::default().is_closed(day("9999-12-31")));
    }

    #[test]
    fn closest_suggests_typos_only() {
        let known = ["newsletter", "analytics"];
        assert_eq!(closest("analytcs", &known), Some("analytics"));
        assert_eq!(closest("billing", &known), None);
    }
}
