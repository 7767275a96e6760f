//! The whole path of a submission through the core: validate, minimise, seal, open.

use std::collections::BTreeMap;

use chacha20::ChaCha20Rng;
use formseal_core::Error;
use formseal_core::answers::{AnswerProblem, Answers};
use formseal_core::config::FormConfig;
use formseal_core::consent::ConsentState;
use formseal_core::envelope::{self, Envelope, EnvelopeKind, SubmissionInput};
use formseal_core::keys::PrivateKey;
use formseal_core::minimise::Step;
use formseal_core::retention;
use rand_core::SeedableRng;
use serde_json::json;

const FORM: &str = include_str!("../../../examples/newsletter.json");
const ANSWERS: &str = include_str!("../../../examples/answers.json");
const KEY: &str = include_str!("examples/rsa2048.pem");
/// 2026-11-24T10:29:59Z.
const NOW: i64 = 1_795_516_199;

fn seal(
    answers: &Answers,
    params: &BTreeMap<String, String>,
) -> formseal_core::Result<envelope::Sealed> {
    let config = FormConfig::from_json(FORM)?;
    let consent = ConsentState::default();
    let input = SubmissionInput {
        answers,
        consent: &consent,
        subject: "subject-1",
        now_unix: NOW,
        url_params: params,
        lang: None,
    };
    envelope::seal_submission(&config, &input, &mut ChaCha20Rng::seed_from_u64(7))
}

#[test]
fn example_answers_are_minimised_sealed_and_opened() {
    let answers: Answers = serde_json::from_str(ANSWERS).unwrap();
    let params = BTreeMap::from([("utm_source".to_string(), "spring-mail".to_string())]);
    let sealed = seal(&answers, &params).unwrap();
    assert_eq!(
        sealed.jwe.as_str().split('.').count(),
        5,
        "one recipient: compact"
    );

    let key = PrivateKey::from_pkcs8_pem(KEY).unwrap();
    let opened = Envelope::open(sealed.jwe.as_str(), &key).unwrap();
    assert_eq!(opened.id, sealed.id);
    assert_eq!(opened.kind, EnvelopeKind::Submission);
    assert_eq!(
        (opened.form.as_str(), opened.form_version),
        ("newsletter", 1)
    );
    assert_eq!(opened.at, "2026-11-24T10:00:00Z");
    assert_eq!(opened.subject, "subject-1");
    assert_eq!(opened.consent.notice_version, "2026-11");
    assert_eq!(opened.consent.granted, ["newsletter"]);
    assert_eq!(opened.consent.refused, ["personalisation"]);
    // Personalisation was not granted: birth date and postcode are dropped, not sent empty.
    assert_eq!(
        serde_json::to_value(&opened.values).unwrap(),
        json!({
            "email": "jan.de.vries@example.nl",
            "name": "Jan",
            "phone": "+31612345678",
            "topics": ["product", "events"],
            "newsletter_consent": true,
            "source": "spring-mail",
        })
    );
    let dropped: Vec<(&str, Step)> = sealed
        .report
        .iter()
        .filter(|a| a.step.is_drop())
        .map(|a| (a.field.as_str(), a.step))
        .collect();
    assert_eq!(
        dropped,
        [
            ("birth_date", Step::DroppedNoConsent),
            ("postcode", Step::DroppedNoConsent),
            ("personalisation_consent", Step::DroppedNoConsent),
        ]
    );
}

#[test]
fn generalisations_run_when_their_purpose_is_granted() {
    let mut answers: Answers = serde_json::from_str(ANSWERS).unwrap();
    answers.insert("personalisation_consent".into(), json!(true));
    // A hidden value typed into the answers is ignored: only the URL parameter counts.
    answers.insert("source".into(), json!("typed-by-a-script"));
    let sealed = seal(&answers, &BTreeMap::new()).unwrap();
    let key = PrivateKey::from_pkcs8_pem(KEY).unwrap();
    let opened = Envelope::open(sealed.jwe.as_str(), &key).unwrap();
    assert_eq!(opened.values["birth_date"], json!("30-39"));
    assert_eq!(opened.values["postcode"], json!("1234"));
    assert!(!opened.values.contains_key("source"));
    assert_eq!(opened.consent.granted, ["newsletter", "personalisation"]);
    assert!(
        sealed
            .report
            .iter()
            .any(|a| a.field == "source" && a.step == Step::DroppedNotFromUrl)
    );
}

#[test]
fn invalid_answers_are_refused_with_every_problem() {
    let answers: Answers = serde_json::from_value(json!({
        "email": "not-an-address",
        "phone": "12",
        "topics": ["product", "gossip"],
        "name": "x".repeat(61),
    }))
    .unwrap();
    let Err(Error::InvalidAnswers(problems)) = seal(&answers, &BTreeMap::new()) else {
        panic!("expected invalid answers");
    };
    let found: Vec<(&str, &AnswerProblem)> = problems
        .iter()
        .map(|p| (p.field.as_str(), &p.problem))
        .collect();
    assert_eq!(
        found,
        [(
            "newsletter_consent",
            &AnswerProblem::ConsentRequired {
                purpose: "newsletter".into()
            }
        ),],
        "without the required consent nothing else is checked for that purpose"
    );

    let mut answers = answers;
    answers.insert("newsletter_consent".into(), json!(true));
    let Err(Error::InvalidAnswers(problems)) = seal(&answers, &BTreeMap::new()) else {
        panic!("expected invalid answers");
    };
    let fields: Vec<String> = problems.iter().map(ToString::to_string).collect();
    assert_eq!(
        fields,
        [
            "email: not an e-mail address",
            "name: allows at most 60 characters",
            "phone: not a phone number with a country code",
            "topics: not one of the options",
        ]
    );
}

#[test]
fn sealing_fails_closed_without_a_usable_key() {
    let mut config: serde_json::Value = serde_json::from_str(FORM).unwrap();
    config["recipients"] = json!([]);
    let config = FormConfig::parse(&config.to_string()).unwrap();
    let answers: Answers = serde_json::from_str(ANSWERS).unwrap();
    let consent = ConsentState::default();
    let params = BTreeMap::new();
    let input = SubmissionInput {
        answers: &answers,
        consent: &consent,
        subject: "s",
        now_unix: NOW,
        url_params: &params,
        lang: None,
    };
    let err =
        envelope::seal_submission(&config, &input, &mut ChaCha20Rng::seed_from_u64(1)).unwrap_err();
    assert!(matches!(err, Error::Key(_)), "{err}");
}

#[test]
fn padded_plaintexts_share_a_length_bucket() {
    let answers: Answers = serde_json::from_str(ANSWERS).unwrap();
    let mut longer = answers.clone();
    longer.insert("name".into(), json!("Johannes-Maximiliaan"));
    let a = seal(&answers, &BTreeMap::new()).unwrap();
    let b = seal(&longer, &BTreeMap::new()).unwrap();
    assert_eq!(a.jwe.as_str().len(), b.jwe.as_str().len());
}

#[test]
fn the_protected_header_carries_the_retention_date_of_the_purposes_sent() {
    let answers: Answers = serde_json::from_str(ANSWERS).unwrap();
    let sealed = seal(&answers, &BTreeMap::new()).unwrap();
    // Readable without the key: the store purges on it without decrypting.
    let header = formseal_core::jwe::peek(sealed.jwe.as_str())
        .unwrap()
        .header;
    // E-mail, name, phone and topics serve "newsletter" (730 days) from 2026-11-24.
    assert_eq!(header["fs.exp"], "2028-11-23");
    assert_eq!(
        retention::from_header(&header).unwrap().to_string(),
        "2028-11-23"
    );

    // The date follows the purposes of the fields actually sent.
    let config = FormConfig::from_json(FORM).unwrap();
    let key = PrivateKey::from_pkcs8_pem(KEY).unwrap();
    let mut envelope = Envelope::open(sealed.jwe.as_str(), &key).unwrap();
    envelope.values = BTreeMap::from([("source".to_string(), json!("spring-mail"))]);
    let expiry = |e: &Envelope| retention::expiry(&config, e).unwrap().to_string();
    assert_eq!(expiry(&envelope), "2027-02-22", "campaign: 90 days");
    // A record without values (consent evidence) lasts as long as the purposes granted in it,
    envelope.values.clear();
    envelope.consent.granted = vec!["personalisation".into()];
    assert_eq!(expiry(&envelope), "2027-11-24", "personalisation: 365 days");
    // or the form's longest when none was granted.
    envelope.consent.granted.clear();
    assert_eq!(expiry(&envelope), "2028-11-23");
    assert_eq!(retention::longest(&config), 730);
}
