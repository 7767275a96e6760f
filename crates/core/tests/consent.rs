//! The consent banner's model: settings checks, the choice the browser keeps, and the sealed
//! consent and withdrawal records.

use std::collections::BTreeSet;

use chacha20::ChaCha20Rng;
use formseal_core::config::FormConfig;
use formseal_core::consent::{self, Choice, ConsentMethod, Decision};
use formseal_core::envelope::{Envelope, EnvelopeKind};
use formseal_core::keys::PrivateKey;
use formseal_core::time::Date;
use rand_core::SeedableRng;
use serde_json::{Value, json};

const BANNER: &str = include_str!("../../../examples/consent.json");
const FORM: &str = include_str!("../../../examples/newsletter.json");
const KEY: &str = include_str!("examples/rsa2048.pem");
/// 2026-11-24T10:29:59Z.
const NOW: i64 = 1_795_516_199;

fn banner() -> FormConfig {
    FormConfig::from_json(BANNER).unwrap()
}

fn set(ids: &[&str]) -> BTreeSet<String> {
    ids.iter().map(|s| s.to_string()).collect()
}

fn decide(
    granted: &[&str],
    method: ConsentMethod,
    gpc: bool,
    previous: Option<&Choice>,
) -> (Envelope, Choice) {
    let granted = set(granted);
    let decision = Decision {
        granted: &granted,
        method,
        gpc,
        previous,
        subject: "subject-1",
        now_unix: NOW,
    };
    consent::record(&banner(), &decision, &mut ChaCha20Rng::seed_from_u64(1)).unwrap()
}

/// The problems `check` finds after `edit` changes the example banner.
fn problems_after(edit: impl FnOnce(&mut Value)) -> Vec<String> {
    let mut value: Value = serde_json::from_str(BANNER).unwrap();
    edit(&mut value);
    let (_, problems) = FormConfig::check(&value.to_string());
    problems
        .iter()
        .map(|p| format!("{}: {}", p.path, p.message))
        .collect()
}

#[test]
fn accept_all_grants_every_consent_purpose_and_maps_consent_mode() {
    let (envelope, choice) = decide(
        &["analytics", "marketing"],
        ConsentMethod::Banner,
        false,
        None,
    );
    assert_eq!(envelope.kind, EnvelopeKind::Consent);
    assert_eq!(envelope.consent.granted, ["analytics", "marketing"]);
    assert!(envelope.consent.refused.is_empty());
    assert_eq!(envelope.consent.method, Some(ConsentMethod::Banner));
    assert_eq!(envelope.at, "2026-11-24T10:00:00Z");
    assert!(
        envelope.values.is_empty(),
        "a consent record carries no answers"
    );
    assert_eq!(choice.decided, "2026-11-24");
    assert_eq!(choice.expires, "2027-05-25", "182 days later");
    assert_eq!(choice.record, envelope.id);
    assert_eq!(choice.signals["ad_storage"], "granted");
    assert_eq!(choice.signals["analytics_storage"], "granted");
}

#[test]
fn reject_all_refuses_every_consent_purpose_and_never_lists_necessary_ones() {
    let (envelope, choice) = decide(&[], ConsentMethod::Banner, false, None);
    assert!(envelope.consent.granted.is_empty());
    assert_eq!(envelope.consent.refused, ["analytics", "marketing"]);
    assert!(choice.signals.values().all(|s| s == "denied"));
    // A purpose that does not need consent cannot be "granted" or "refused".
    let (envelope, _) = decide(&["necessary", "bogus"], ConsentMethod::Api, false, None);
    assert!(envelope.consent.granted.is_empty());
}

#[test]
fn gpc_refuses_sale_or_sharing_purposes_whatever_was_asked() {
    let (envelope, choice) = decide(
        &["analytics", "marketing"],
        ConsentMethod::Banner,
        true,
        None,
    );
    assert_eq!(envelope.consent.granted, ["analytics"]);
    assert_eq!(envelope.consent.refused, ["marketing"]);
    assert_eq!(envelope.consent.method, Some(ConsentMethod::Banner));
    assert_eq!(choice.signals["ad_personalization"], "denied");
    assert_eq!(choice.signals["analytics_storage"], "granted");
}

#[test]
fn a_first_visit_gpc_record_answers_only_for_sale_or_sharing() {
    let (envelope, choice) = decide(&[], ConsentMethod::Gpc, true, None);
    assert!(envelope.consent.granted.is_empty());
    assert_eq!(envelope.consent.refused, ["marketing"]);
    let today = Date::parse("2026-11-24").unwrap();
    assert!(
        !choice.is_current(&banner(), today),
        "the banner still asks about analytics"
    );
    // Later, with the signal still on, the visitor's own answer covers every purpose.
    let (later, after) = decide(
        &["analytics", "marketing"],
        ConsentMethod::Banner,
        true,
        Some(&choice),
    );
    assert_eq!(later.consent.granted, ["analytics"]);
    assert_eq!(later.consent.refused, ["marketing"]);
    assert!(after.is_current(&banner(), today));
}

#[test]
fn refusing_a_purpose_granted_before_is_a_withdrawal() {
    let (_, first) = decide(
        &["analytics", "marketing"],
        ConsentMethod::Banner,
        false,
        None,
    );
    let (more, _) = decide(
        &["analytics", "marketing"],
        ConsentMethod::Settings,
        false,
        Some(&first),
    );
    assert_eq!(more.kind, EnvelopeKind::Consent, "nothing withdrawn");
    let (less, after) = decide(&["analytics"], ConsentMethod::Settings, false, Some(&first));
    assert_eq!(less.kind, EnvelopeKind::Withdrawal);
    assert_eq!(after.refused, ["marketing"]);
    let (none, _) = decide(&[], ConsentMethod::Api, false, Some(&after));
    assert_eq!(none.kind, EnvelopeKind::Withdrawal);
}

#[test]
fn a_choice_lapses_on_a_new_notice_version_expiry_or_a_new_purpose() {
    let (_, choice) = decide(&["analytics"], ConsentMethod::Banner, false, None);
    let config = banner();
    let today = Date::parse("2026-11-24").unwrap();
    assert!(choice.is_current(&config, today));
    assert!(choice.is_current(&config, Date::parse("2027-05-25").unwrap()));
    assert!(!choice.is_current(&config, Date::parse("2027-05-26").unwrap()));

    let mut newer = config.clone();
    newer.privacy_notice.version = "2027-01".into();
    assert!(!choice.is_current(&newer, today));

    let mut wider = config.clone();
    let mut extra = wider.purposes[1].clone();
    extra.id = "video".into();
    wider.purposes.push(extra);
    assert!(!choice.is_current(&wider, today), "never asked about video");
    assert_eq!(choice.state().granted, set(&["analytics"]));
}

#[test]
fn the_stored_choice_has_the_documented_shape() {
    let (_, choice) = decide(&["analytics"], ConsentMethod::Banner, false, None);
    let stored = serde_json::to_value(&choice).unwrap();
    assert_eq!(stored["v"], 1);
    assert_eq!(stored["notice"], "2026-11");
    assert_eq!(stored["granted"], json!(["analytics"]));
    assert_eq!(stored["refused"], json!(["marketing"]));
    assert_eq!(stored["method"], "banner");
    assert_eq!(stored["signals"]["ad_storage"], "denied");
    let back: Choice = serde_json::from_value(stored).unwrap();
    assert_eq!(back, choice);
}

#[test]
fn a_consent_record_seals_and_opens_with_its_method() {
    let (envelope, _) = decide(&["analytics"], ConsentMethod::Settings, false, None);
    let keys = banner().recipient_keys().unwrap();
    let jwe = envelope
        .seal(&banner(), &keys, &mut ChaCha20Rng::seed_from_u64(2))
        .unwrap();
    let opened = Envelope::open(jwe.as_str(), &PrivateKey::from_pkcs8_pem(KEY).unwrap()).unwrap();
    assert_eq!(opened, envelope);
    let header = formseal_core::jwe::peek(jwe.as_str()).unwrap();
    assert!(
        !format!("{header:?}").contains("subject-1"),
        "the protected header carries nothing personal"
    );
    // Consent evidence is kept as long as the longest purpose of the banner (analytics, 395
    // days), even for a record that granted only a shorter one (marketing, 182) or nothing.
    let longest = formseal_core::retention::longest(&banner());
    assert_eq!(longest, 395);
    for granted in [&["analytics"][..], &["marketing"], &[]] {
        let (envelope, _) = decide(granted, ConsentMethod::Settings, false, None);
        let jwe = envelope
            .seal(&banner(), &keys, &mut ChaCha20Rng::seed_from_u64(3))
            .unwrap();
        let header = formseal_core::jwe::peek(jwe.as_str()).unwrap();
        let made = formseal_core::time::Date::parse(&envelope.at[..10]).unwrap();
        assert_eq!(
            header.header["fs.exp"],
            made.plus_days(i64::from(longest)).to_string(),
            "granted {granted:?}"
        );
    }
}

#[test]
fn banner_settings_are_checked_with_paths() {
    let found = problems_after(|v| {
        v["consent"]["expiry_days"] = json!(400);
        v["consent"]["consent_mode"]["ad_tracking"] = json!(["marketing"]);
        v["consent"]["consent_mode"]["ad_storage"] = json!(["ads"]);
        v["consent"]["texts"]["accept_all"] = json!({"nl": "Alles goed", "en": "Fine"});
        v["consent"]["texts"]["yes_please"] = json!({"nl": "a", "en": "b", "de": "c", "fr": "d"});
        v["purposes"][1]["cookies"] = json!(["_ga", "bad;name", "*"]);
        v["purposes"][0]["sale_or_sharing"] = json!(true);
    });
    let expected = [
        "consent.expiry_days: expiry of 400 days is outside 1 to 395",
        "consent.consent_mode.ad_storage[0]: unknown purpose \"ads\"",
        "consent.consent_mode.ad_tracking: \"ad_tracking\" is not a Consent Mode signal",
        "consent.texts.accept_all.de: missing translation for \"de\"",
        "consent.texts.accept_all.fr: missing translation for \"fr\"",
        "consent.texts.yes_please: unknown banner text \"yes_please\"",
        "purposes[0].sale_or_sharing: selling, sharing or targeted advertising needs the legal basis \"consent\"",
        "purposes[1].cookies[1]: \"bad;name\" is not a cookie name",
        "purposes[1].cookies[2]: \"*\" is not a cookie name",
    ];
    for line in expected {
        assert!(
            found.contains(&line.to_string()),
            "missing {line:?} in {found:#?}"
        );
    }
    assert_eq!(found.len(), expected.len(), "{found:#?}");
}

#[test]
fn a_banner_needs_a_consent_purpose_and_only_banners_take_consent_settings() {
    let found = problems_after(|v| {
        for p in v["purposes"].as_array_mut().unwrap() {
            p["legal_basis"] = json!("legitimate-interests");
            p.as_object_mut().unwrap().remove("sale_or_sharing");
        }
    });
    assert!(
        found
            .iter()
            .any(|p| p.starts_with("purposes: a consent banner needs")),
        "{found:#?}"
    );

    let mut form: Value = serde_json::from_str(FORM).unwrap();
    form["consent"] = json!({"expiry_days": 30});
    let (_, problems) = FormConfig::check(&form.to_string());
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert_eq!(problems[0].path, "consent");
}

#[test]
fn a_banner_has_no_fields_pages_or_reward() {
    // The widget's consent build refuses these unread (without the `form-fields` feature), so
    // `formseal check` must refuse them too.
    let survey: Value =
        serde_json::from_str(include_str!("../../../examples/survey.json")).unwrap();
    let found = problems_after(|v| {
        for key in ["fields", "pages", "reward"] {
            v[key] = survey[key].clone();
        }
    });
    for key in ["fields", "pages", "reward"] {
        let expected = format!("{key}: a consent banner has no {key} (\"kind\": \"consent\")");
        assert!(found.contains(&expected), "{expected} in {found:#?}");
    }
    // Present but empty is no problem: nothing to read.
    let found = problems_after(|v| {
        v["fields"] = json!([]);
        v["pages"] = json!([]);
        v["reward"] = Value::Null;
    });
    assert_eq!(found, Vec::<String>::new());
}

#[test]
fn uet_needs_the_ad_storage_signal() {
    let found = problems_after(|v| {
        v["consent"]["uet"] = json!(true);
        v["consent"]["consent_mode"]
            .as_object_mut()
            .unwrap()
            .remove("ad_storage");
    });
    assert_eq!(
        found,
        [
            "consent.uet: UET consent follows the Consent Mode signal ad_storage, which consent_mode does not map"
        ]
    );
    assert!(problems_after(|v| v["consent"]["uet"] = json!(true)).is_empty());
}
