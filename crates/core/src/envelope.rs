//! What is sealed: the envelope plaintext of DESIGN.md, its padding, and the one path from a
//! visitor's answers to a sealed JWE that the widget and `formseal seal` share.
//!
//! How the bytes are encrypted is `jwe.rs`; this file decides which bytes.

use std::collections::BTreeMap;
use std::fmt;

use base64ct::{Base64UrlUnpadded, Encoding};
use rand_core::TryCryptoRng;
use serde::{Deserialize, Serialize};

use crate::answers::{self, Answers};
use crate::config::{FieldKind, FormConfig, FormKind};
use crate::consent::{ConsentMethod, ConsentState};
use crate::minimise::{self, Applied, MinimiseContext};
use crate::retention;
use crate::time::{self, Date};
use crate::{Error, Result};

/// Version of the envelope plaintext format (the `v` key).
pub const ENVELOPE_VERSION: u32 = 1;

/// Smallest padded plaintext; every envelope is at least this long.
pub const MIN_BUCKET: usize = 512;

/// Above this size buckets grow linearly instead of doubling.
pub const LARGE_BUCKET: usize = 64 * 1024;

/// The plaintext inside every JWE formseal produces.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Envelope {
    /// Envelope format version, [`ENVELOPE_VERSION`].
    pub v: u32,
    /// Random submission id; also the idempotency key of the delivery.
    pub id: String,
    /// Id of the form it was made with.
    pub form: String,
    /// Version of that form.
    pub form_version: u32,
    /// What this record is.
    pub kind: EnvelopeKind,
    /// When, to the hour (UTC, RFC 3339).
    pub at: String,
    /// Pseudonymous subject id: random, kept in the visitor's browser, links later requests.
    pub subject: String,
    /// The consent the values were given under.
    pub consent: ConsentRecord,
    /// The minimised values, by field id.
    pub values: Answers,
    /// Double opt-in: present when the consent grants a purpose that needs it and the values
    /// hold the address to confirm it with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confirm: Option<Confirmation>,
}

/// What `formseal confirm` needs to ask the owner of a sign-up's address to confirm it. Sealed
/// with the sign-up, so the collector never learns it: it stores only the SHA-256 of a token
/// whose link was clicked ([`token_sha256`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Confirmation {
    /// 128 random bits, base64url: the secret of the confirmation link.
    pub token: String,
    /// The language the form was shown in, for the mail.
    pub lang: String,
}

/// The SHA-256 of a confirmation token, lowercase hex: all the collector keeps of it.
pub fn token_sha256(token: &str) -> String {
    sealed_sha256(token)
}

/// The kinds of record a visitor's browser sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EnvelopeKind {
    /// Answers to a sign-up form or survey.
    Submission,
    /// A grant or change of consent.
    Consent,
    /// A withdrawal of consent.
    Withdrawal,
    /// A request to see one's data.
    AccessRequest,
    /// A request to have one's data deleted.
    ErasureRequest,
    /// Contact details for a survey's reward, sealed apart from the answers (see
    /// [`crate::config::Reward`]).
    RewardEntry,
}

impl EnvelopeKind {
    /// Whether this record is a privacy request the data team must answer.
    pub fn is_request(self) -> bool {
        matches!(self, Self::AccessRequest | Self::ErasureRequest)
    }
}

impl From<FormKind> for EnvelopeKind {
    fn from(kind: FormKind) -> Self {
        match kind {
            FormKind::Signup | FormKind::Survey => Self::Submission,
            FormKind::Consent => Self::Consent,
            FormKind::AccessRequest => Self::AccessRequest,
            FormKind::ErasureRequest => Self::ErasureRequest,
        }
    }
}

/// The consent part of an envelope.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsentRecord {
    /// Version of the privacy notice shown.
    pub notice_version: String,
    /// Purposes granted (only consent-based purposes are listed).
    pub granted: Vec<String>,
    /// Consent-based purposes of the form that were not granted.
    pub refused: Vec<String>,
    /// How the choice was made (consent and withdrawal records only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<ConsentMethod>,
}

/// A sealed envelope: JWE compact serialization, or general JSON serialization on one line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SealedEnvelope(pub String);

impl SealedEnvelope {
    /// The JWE text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The SHA-256 of this envelope as the collector stores it, in lowercase hex (see
    /// [`sealed_sha256`]).
    pub fn sha256(&self) -> String {
        sealed_sha256(&self.0)
    }
}

/// The SHA-256 of a sealed envelope's text as the collector stores it (without the whitespace
/// around it, which the collector trims), in lowercase hex: what `sha256sum` prints for the
/// stored text. The collector's record id is the same digest in base64url.
pub fn sealed_sha256(jwe: &str) -> String {
    use sha2::{Digest, Sha256};
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut hex = String::with_capacity(64);
    for byte in Sha256::digest(jwe.trim().as_bytes()) {
        hex.push(char::from(HEX[usize::from(byte >> 4)]));
        hex.push(char::from(HEX[usize::from(byte & 15)]));
    }
    hex
}

impl fmt::Display for SealedEnvelope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Everything besides the config that turns answers into an envelope.
#[derive(Clone, Debug)]
pub struct SubmissionInput<'a> {
    /// The visitor's raw answers.
    pub answers: &'a Answers,
    /// Consent given outside the form (banner, earlier visits); the form's own consent
    /// checkboxes are added to it.
    pub consent: &'a ConsentState,
    /// The visitor's pseudonymous subject id.
    pub subject: &'a str,
    /// Current time, Unix seconds; only the hour is kept.
    pub now_unix: i64,
    /// Query parameters of the page, the only source of hidden values.
    pub url_params: &'a BTreeMap<String, String>,
    /// The language the form was shown in (the form's first when `None`): the language of a
    /// double opt-in mail.
    pub lang: Option<&'a str>,
}

/// A sealed submission and what minimisation did on the way.
#[derive(Clone, Debug)]
pub struct Sealed {
    /// The JWE to deliver.
    pub jwe: SealedEnvelope,
    /// The submission id inside it (the idempotency key).
    pub id: String,
    /// Which rule ran on which field.
    pub report: Vec<Applied>,
}

/// The envelopes one submission turns into, not sealed yet.
#[derive(Clone, Debug)]
pub struct Prepared {
    /// The answers. For a form with a reward it carries a fresh random subject id, no contact
    /// details and no trace of the reward's consent.
    pub answers: Envelope,
    /// The reward's contact details, when the visitor entered: their own random id, the
    /// visitor's subject id, and only the reward's purpose in the consent record.
    pub reward: Option<Envelope>,
    /// Which rule ran on which field (of both).
    pub report: Vec<Applied>,
}

impl Prepared {
    /// The envelopes to seal and deliver, the answers first.
    pub fn envelopes(&self) -> impl Iterator<Item = &Envelope> {
        std::iter::once(&self.answers).chain(self.reward.as_ref())
    }
}

/// Validates, minimises and builds the envelopes of a form submission, without sealing them.
///
/// Fails with [`Error::InvalidAnswers`] listing every problem when the answers break the form's
/// rules, and for a privacy request without a subject id.
pub fn prepare_envelopes<R: TryCryptoRng + ?Sized>(
    config: &FormConfig,
    input: &SubmissionInput<'_>,
    rng: &mut R,
) -> Result<Prepared> {
    let consent = input.consent.with_form_answers(config, input.answers);
    let today = Date::from_unix(input.now_unix);
    let problems = answers::validate(config, input.answers, &consent, today);
    if !problems.is_empty() {
        return Err(Error::InvalidAnswers(problems));
    }
    let kind = EnvelopeKind::from(config.kind);
    if kind.is_request() && input.subject.trim().is_empty() {
        return Err(Error::Envelope(
            "a privacy request needs the visitor's subject id".into(),
        ));
    }
    let ctx = MinimiseContext {
        today,
        url_params: input.url_params,
    };
    let minimised = minimise::minimise(config, input.answers, &consent, &ctx);
    let (mut values, mut reward_values) = (minimised.values, Answers::new());
    values.retain(|id, value| {
        if config.is_reward_field(id) {
            reward_values.insert(id.clone(), value.clone());
            false
        } else {
            true
        }
    });
    let reward_purpose = config.reward.as_ref().map(|r| r.purpose.as_str());
    let not_reward = |id: &str| Some(id) != reward_purpose;
    let lang = input
        .lang
        .or_else(|| config.languages.first().map(String::as_str))
        .unwrap_or_default();
    let envelope = |kind, subject: String, consent: ConsentRecord, values: Answers, rng: &mut R| {
        let confirm = if needs_confirmation(config, &consent, &values) {
            Some(Confirmation {
                token: random_id(rng)?,
                lang: lang.to_owned(),
            })
        } else {
            None
        };
        Ok::<_, Error>(Envelope {
            v: ENVELOPE_VERSION,
            id: random_id(rng)?,
            form: config.id.clone(),
            form_version: config.version,
            kind,
            at: time::coarse_timestamp(input.now_unix),
            subject,
            consent,
            values,
            confirm,
        })
    };
    // With a reward the answers are anonymous: a fresh subject id, so that only the reward
    // entry carries the visitor's.
    let answers_subject = match reward_purpose {
        Some(_) => random_id(rng)?,
        None => input.subject.to_owned(),
    };
    let answers = envelope(
        kind,
        answers_subject,
        ConsentRecord {
            notice_version: consent.notice_version.clone(),
            refused: consent
                .refused(config)
                .into_iter()
                .filter(|id| not_reward(id))
                .map(String::from)
                .collect(),
            granted: consent
                .granted
                .iter()
                .filter(|id| not_reward(id))
                .cloned()
                .collect(),
            method: None,
        },
        values,
        rng,
    )?;
    let entered = reward_purpose.is_some_and(|p| consent.granted.contains(p))
        && reward_values.keys().any(|id| {
            config
                .field(id)
                .is_some_and(|f| f.kind != FieldKind::Consent)
        });
    let reward = match reward_purpose {
        Some(purpose) if entered => Some(envelope(
            EnvelopeKind::RewardEntry,
            input.subject.to_owned(),
            ConsentRecord {
                notice_version: consent.notice_version.clone(),
                granted: vec![purpose.to_owned()],
                refused: Vec::new(),
                method: None,
            },
            reward_values,
            rng,
        )?),
        _ => None,
    };
    Ok(Prepared {
        answers,
        reward,
        report: minimised.report,
    })
}

/// Whether an envelope with this consent and these values asks for a double opt-in: it grants
/// a purpose that needs one and carries the address of that purpose's e-mail field.
fn needs_confirmation(config: &FormConfig, consent: &ConsentRecord, values: &Answers) -> bool {
    consent.granted.iter().any(|id| {
        config.purpose(id).is_some_and(|p| p.double_opt_in)
            && config
                .confirmation_field(id)
                .is_some_and(|field| values.contains_key(&field.id))
    })
}

/// Validates, minimises and builds the one envelope of a form without a reward.
///
/// A form with a reward seals two envelopes: use [`prepare_envelopes`]; this fails for it
/// rather than drop the visitor's entry.
pub fn prepare<R: TryCryptoRng + ?Sized>(
    config: &FormConfig,
    input: &SubmissionInput<'_>,
    rng: &mut R,
) -> Result<(Envelope, Vec<Applied>)> {
    if config.reward.is_some() {
        return Err(Error::Envelope(
            "a form with a reward seals two envelopes (use prepare_envelopes)".into(),
        ));
    }
    let prepared = prepare_envelopes(config, input, rng)?;
    Ok((prepared.answers, prepared.report))
}

/// A sealed submission: one envelope, or two for a survey whose visitor entered its reward.
#[derive(Clone, Debug)]
pub struct SealedSubmission {
    /// Each envelope to deliver with its id (the idempotency key), the answers first.
    pub envelopes: Vec<(String, SealedEnvelope)>,
    /// Which rule ran on which field.
    pub report: Vec<Applied>,
}

/// The whole path of a submission: validate, minimise, seal every envelope (the answers, and the
/// reward entry when there is one) to every recipient of the config.
///
/// Fails closed: a bad or missing key is an error, never a plaintext fallback.
#[cfg(feature = "rust-crypto")]
pub fn seal_envelopes<R: TryCryptoRng + ?Sized>(
    config: &FormConfig,
    input: &SubmissionInput<'_>,
    rng: &mut R,
) -> Result<SealedSubmission> {
    let recipients = config.recipient_keys()?;
    let prepared = prepare_envelopes(config, input, rng)?;
    let mut envelopes = Vec::new();
    for envelope in prepared.envelopes() {
        envelopes.push((
            envelope.id.clone(),
            envelope.seal(config, &recipients, rng)?,
        ));
    }
    Ok(SealedSubmission {
        envelopes,
        report: prepared.report,
    })
}

/// [`seal_envelopes`] for a form without a reward: its one envelope.
#[cfg(feature = "rust-crypto")]
pub fn seal_submission<R: TryCryptoRng + ?Sized>(
    config: &FormConfig,
    input: &SubmissionInput<'_>,
    rng: &mut R,
) -> Result<Sealed> {
    let recipients = config.recipient_keys()?;
    let (envelope, report) = prepare(config, input, rng)?;
    Ok(Sealed {
        jwe: envelope.seal(config, &recipients, rng)?,
        id: envelope.id,
        report,
    })
}

impl Envelope {
    /// The JSON plaintext padded with trailing spaces to its length bucket, so the ciphertext
    /// length says little about the answers. Never compressed (compression leaks content).
    pub fn to_padded_json(&self) -> Result<Vec<u8>> {
        let mut json =
            serde_json::to_vec(self).map_err(|e| Error::Envelope(format!("serialise: {e}")))?;
        json.resize(bucket(json.len()), b' ');
        Ok(json)
    }

    /// The protected-header parameters of this envelope besides `alg`/`enc`/`kid`: the form id
    /// and version and the retention date ([`retention::HEADER_PARAM`], from `config`'s
    /// purposes), nothing about the visitor.
    pub fn header_params(
        &self,
        config: &FormConfig,
    ) -> Result<serde_json::Map<String, serde_json::Value>> {
        let mut params = serde_json::Map::new();
        params.insert("form".into(), self.form.clone().into());
        params.insert("form_version".into(), self.form_version.into());
        params.insert(
            retention::HEADER_PARAM.into(),
            retention::expiry(config, self)?.to_string().into(),
        );
        Ok(params)
    }

    /// Seals this envelope (made with `config`) to every recipient with RustCrypto.
    #[cfg(feature = "rust-crypto")]
    pub fn seal<R: TryCryptoRng + ?Sized>(
        &self,
        config: &FormConfig,
        recipients: &[crate::keys::RecipientKey],
        rng: &mut R,
    ) -> Result<SealedEnvelope> {
        let plaintext = self.to_padded_json()?;
        crate::jwe::seal(&plaintext, &self.header_params(config)?, recipients, rng)
            .map(SealedEnvelope)
    }

    /// Parses a decrypted plaintext (padding included).
    pub fn from_plaintext(plaintext: &[u8]) -> Result<Self> {
        // serde's message can quote the plaintext (a visitor's values): say only where.
        let envelope: Self = serde_json::from_slice(plaintext).map_err(|e| {
            Error::Envelope(format!(
                "not a formseal envelope ({:?} error at line {}, column {})",
                e.classify(),
                e.line(),
                e.column()
            ))
        })?;
        if envelope.v != ENVELOPE_VERSION {
            return Err(Error::Envelope(format!(
                "unsupported envelope version {}",
                envelope.v
            )));
        }
        Ok(envelope)
    }

    /// Decrypts and parses a sealed envelope, and checks that the header's form id matches the
    /// sealed one (a header swapped onto another ciphertext fails the AEAD check anyway).
    #[cfg(feature = "open")]
    pub fn open(jwe_text: &str, key: &crate::keys::PrivateKey) -> Result<Self> {
        let opened = crate::jwe::open(jwe_text, key)?;
        let envelope = Self::from_plaintext(&opened.plaintext)?;
        match opened
            .header
            .get("form")
            .and_then(serde_json::Value::as_str)
        {
            Some(form) if form == envelope.form => Ok(envelope),
            _ => Err(Error::Envelope(
                "header form id does not match the sealed form id".into(),
            )),
        }
    }
}

/// The padded length for a plaintext of `len` bytes: 512, 1024, 2048... up to 64 KiB, then
/// whole multiples of 64 KiB.
pub fn bucket(len: usize) -> usize {
    if len <= LARGE_BUCKET {
        len.max(MIN_BUCKET).next_power_of_two()
    } else {
        len.div_ceil(LARGE_BUCKET) * LARGE_BUCKET
    }
}

/// 128 random bits, base64url: submission ids and subject ids.
pub fn random_id<R: TryCryptoRng + ?Sized>(rng: &mut R) -> Result<String> {
    let mut bytes = [0u8; 16];
    rng.try_fill_bytes(&mut bytes).map_err(|_| Error::Rng)?;
    Ok(Base64UrlUnpadded::encode_string(&bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sealed_sha256_is_that_of_the_trimmed_text_in_lowercase_hex() {
        // FIPS 180-2's "abc" example; the collector stores the body without surrounding space.
        let abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        assert_eq!(sealed_sha256("abc"), abc);
        assert_eq!(SealedEnvelope(" abc\r\n".into()).sha256(), abc);
    }

    #[test]
    fn a_plaintext_that_is_not_an_envelope_is_not_quoted_in_the_error() {
        for plaintext in [
            r#"{"v":1,"jan.de.vries@example.nl":true}"#,
            r#"{"v":"jan.de.vries@example.nl"}"#,
            "jan.de.vries@example.nl",
        ] {
            let message = Envelope::from_plaintext(plaintext.as_bytes())
                .unwrap_err()
                .to_string();
            assert!(
                message.starts_with("envelope content: not a formseal envelope"),
                "{message}"
            );
            assert!(!message.contains("jan"), "{message}");
        }
    }

    #[test]
    fn buckets_double_then_grow_linearly() {
        assert_eq!(bucket(0), 512);
        assert_eq!(bucket(512), 512);
        assert_eq!(bucket(513), 1024);
        assert_eq!(bucket(40_000), 65_536);
        assert_eq!(bucket(65_537), 131_072);
        assert_eq!(bucket(200_000), 262_144);
    }
}
