//! Double opt-in in the core: which configs may ask for it, and which envelopes carry a fresh
//! confirmation token (and the language of the mail) for it.

use std::collections::BTreeMap;

use chacha20::ChaCha20Rng;
use formseal_core::answers::Answers;
use formseal_core::config::FormConfig;
use formseal_core::consent::ConsentState;
use formseal_core::envelope::{self, SubmissionInput, token_sha256};
use rand_core::SeedableRng;
use serde_json::{Value, json};

const FORM: &str = include_str!("../../../examples/newsletter.json");
const ANSWERS: &str = include_str!("../../../examples/answers.json");
/// 2026-11-24T10:29:59Z.
const NOW: i64 = 1_795_516_199;

/// The newsletter example with `change` applied to its JSON, parsed but not checked.
fn form(change: impl FnOnce(&mut Value)) -> FormConfig {
    let mut json: Value = serde_json::from_str(FORM).unwrap();
    change(&mut json);
    serde_json::from_value(json).unwrap()
}

/// The example whose `newsletter` purpose asks for a double opt-in.
fn double_opt_in() -> FormConfig {
    form(|f| {
        f["purposes"][0]["double_opt_in"] = json!(true);
        f["purposes"][0]["confirm_within_days"] = json!(7);
    })
}

fn problems_at(config: &FormConfig) -> Vec<(String, String)> {
    config
        .problems()
        .into_iter()
        .map(|p| (p.path, p.message))
        .collect()
}

/// The envelope of a sign-up shown in `lang`; each seed is another visitor's random stream.
fn prepare(
    config: &FormConfig,
    answers: &Answers,
    lang: Option<&str>,
    seed: u64,
) -> envelope::Envelope {
    let params = BTreeMap::new();
    let consent = ConsentState::default();
    let input = SubmissionInput {
        answers,
        consent: &consent,
        subject: "subject-1",
        now_unix: NOW,
        url_params: &params,
        lang,
    };
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    envelope::prepare(config, &input, &mut rng).unwrap().0
}

#[test]
fn a_consent_purpose_that_an_email_field_serves_may_ask_for_it() {
    assert_eq!(problems_at(&double_opt_in()), []);
}

#[test]
fn a_purpose_that_is_not_consent_or_has_no_address_may_not() {
    let contract = form(|f| {
        f["purposes"][2]["double_opt_in"] = json!(true);
    });
    let problems = problems_at(&contract);
    assert!(
        problems
            .iter()
            .any(|(path, m)| path == "purposes[2].double_opt_in" && m.contains("not consent-based")),
        "{problems:?}"
    );
    assert!(
        problems
            .iter()
            .any(|(path, m)| path == "purposes[2].double_opt_in"
                && m.contains("no e-mail field serves purpose \"campaign\"")),
        "{problems:?}"
    );
}

#[test]
fn confirm_within_days_needs_double_opt_in_and_fits_the_retention() {
    let stray = form(|f| f["purposes"][0]["confirm_within_days"] = json!(7));
    assert!(
        problems_at(&stray)
            .iter()
            .any(|(path, _)| path == "purposes[0].confirm_within_days"),
        "{:?}",
        problems_at(&stray)
    );
    let too_long = form(|f| {
        f["purposes"][0]["double_opt_in"] = json!(true);
        f["purposes"][0]["confirm_within_days"] = json!(1000);
    });
    assert_eq!(
        problems_at(&too_long),
        [(
            "purposes[0].confirm_within_days".to_string(),
            "confirm_within_days (1000) is longer than the retention (730 days)".to_string()
        )]
    );
    let zero = form(|f| {
        f["purposes"][0]["double_opt_in"] = json!(true);
        f["purposes"][0]["confirm_within_days"] = json!(0);
    });
    assert_eq!(problems_at(&zero).len(), 1, "{:?}", problems_at(&zero));
}

#[test]
fn a_sign_up_granting_the_purpose_carries_a_fresh_token_and_its_language() {
    let config = double_opt_in();
    let answers: Answers = serde_json::from_str(ANSWERS).unwrap();
    let first = prepare(&config, &answers, Some("nl"), 1);
    let confirm = first.confirm.clone().expect("a confirmation");
    assert_eq!(confirm.lang, "nl");
    assert_eq!(confirm.token.len(), 22, "128 bits in base64url");
    assert_ne!(confirm.token, first.id);
    assert_ne!(confirm.token, first.subject);
    // Another sign-up (another random stream) never gets the same token.
    let second = prepare(&config, &answers, None, 2);
    let second = second.confirm.expect("a confirmation");
    assert_ne!(second.token, confirm.token);
    assert_eq!(second.lang, "en", "the form's first language by default");
    // The collector stores the SHA-256 of a token, never the token.
    assert_eq!(token_sha256(&confirm.token).len(), 64);
    assert!(!token_sha256(&confirm.token).contains(&confirm.token));
}

#[test]
fn without_the_purpose_or_without_double_opt_in_there_is_no_token() {
    let answers: Answers = serde_json::from_str(ANSWERS).unwrap();
    assert_eq!(prepare(&form(|_| {}), &answers, None, 1).confirm, None);
    // Newsletter consent not given: nothing to confirm (and no address is kept for it either).
    let mut refused = answers.clone();
    refused.insert("newsletter_consent".into(), json!(false));
    let config = form(|f| {
        f["purposes"][0]["double_opt_in"] = json!(true);
        f["purposes"][0]["required"] = json!(false);
        f["fields"][6]["required"] = json!(false);
    });
    let envelope = prepare(&config, &refused, None, 1);
    assert!(!envelope.consent.granted.contains(&"newsletter".to_string()));
    assert_eq!(envelope.confirm, None);
}

#[test]
fn an_envelope_without_a_confirmation_reads_as_before() {
    let config = double_opt_in();
    let answers: Answers = serde_json::from_str(ANSWERS).unwrap();
    let envelope = prepare(&config, &answers, None, 1);
    let json = serde_json::to_value(&envelope).unwrap();
    assert!(json["confirm"]["token"].is_string());
    let mut old = json.clone();
    old.as_object_mut().unwrap().remove("confirm");
    let read: envelope::Envelope = serde_json::from_value(old).unwrap();
    assert_eq!(read.confirm, None);
}
