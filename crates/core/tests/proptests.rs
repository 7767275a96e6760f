//! Property tests for the invariants of DESIGN.md: seal/open round-trips, an unconsented value
//! never reaches a sealed plaintext, minimising twice changes nothing, bad configs never panic.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use chacha20::ChaCha20Rng;
use formseal_core::answers::Answers;
use formseal_core::config::FormConfig;
use formseal_core::consent::ConsentState;
use formseal_core::envelope::{self, ConsentRecord, ENVELOPE_VERSION, Envelope, EnvelopeKind};
use formseal_core::jwe;
use formseal_core::keys::PrivateKey;
use formseal_core::logic::Visibility;
use formseal_core::minimise::{MinimiseContext, minimise};
use formseal_core::time::Date;
use proptest::prelude::*;
use rand_core::SeedableRng;
use serde_json::{Value, json};

const FORM: &str = include_str!("../../../examples/newsletter.json");
static CONFIG: LazyLock<FormConfig> = LazyLock::new(|| FormConfig::from_json(FORM).unwrap());
static KEY: LazyLock<PrivateKey> =
    LazyLock::new(|| PrivateKey::from_pkcs8_pem(include_str!("examples/rsa2048.pem")).unwrap());
const TODAY: Date = Date {
    year: 2026,
    month: 11,
    day: 24,
};

/// A JSON value of the kinds a form produces, including messy text.
fn answer_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        "[ \t]{0,2}[a-zA-Z0-9@.+éÉ\u{301}\u{300} -]{0,24}[ \t]{0,2}".prop_map(Value::from),
        "(19|20)[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])".prop_map(Value::from),
        "(\\+31|0031|0)6[ -]?[0-9]{8}".prop_map(Value::from),
        any::<bool>().prop_map(Value::from),
        (-1000i64..1000).prop_map(Value::from),
        prop::collection::vec(prop_oneof!["product", "events", "tips", "other"], 0..4)
            .prop_map(|v| json!(v)),
    ]
}

/// Answers for the example form's fields (and a stray key now and then).
fn answers() -> impl Strategy<Value = Answers> {
    let mut ids: Vec<String> = CONFIG.fields.iter().map(|f| f.id.clone()).collect();
    ids.push("not_a_field".into());
    prop::collection::btree_map(prop::sample::select(ids), answer_value(), 0..12)
}

fn consent() -> impl Strategy<Value = ConsentState> {
    prop::collection::btree_set(prop_oneof!["newsletter", "personalisation"], 0..3).prop_map(
        |granted| ConsentState {
            notice_version: "2026-11".into(),
            granted: granted.into_iter().collect(),
        },
    )
}

fn url_params() -> impl Strategy<Value = BTreeMap<String, String>> {
    prop::option::of("[ a-zA-Z0-9_-]{0,120}").prop_map(|v| {
        v.map(|v| BTreeMap::from([("utm_source".to_string(), v)]))
            .unwrap_or_default()
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn minimising_twice_changes_nothing(answers in answers(), consent in consent(), params in url_params()) {
        let consent = consent.with_form_answers(&CONFIG, &answers);
        let ctx = MinimiseContext { today: TODAY, url_params: &params };
        let once = minimise(&CONFIG, &answers, &consent, &ctx);
        let twice = minimise(&CONFIG, &once.values, &consent, &ctx);
        prop_assert_eq!(&once.values, &twice.values);
        prop_assert!(twice.report.iter().all(|a| !a.step.is_drop()), "{:?}", twice.report);
    }

    #[test]
    fn unconsented_values_are_dropped(answers in answers(), consent in consent(), params in url_params()) {
        let consent = consent.with_form_answers(&CONFIG, &answers);
        let ctx = MinimiseContext { today: TODAY, url_params: &params };
        let out = minimise(&CONFIG, &answers, &consent, &ctx);
        for field in &CONFIG.fields {
            if !consent.allows_any(&CONFIG, &field.purposes) {
                prop_assert!(!out.values.contains_key(&field.id), "{} kept", field.id);
            }
        }
        prop_assert!(!out.values.contains_key("not_a_field"));
        prop_assert!(out.values.values().all(|v| v != &json!("") && v != &Value::Null));
    }
}

proptest! {
    // Each case does an RSA private-key operation: fewer cases, still a real search.
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// A marker typed into a field whose purpose was refused appears nowhere in the plaintext
    /// that is sealed, in any letter case.
    #[test]
    fn an_unconsented_value_never_reaches_the_sealed_plaintext(
        marker in "[a-z]{12}",
        target in 0usize..9,
        granted in prop::collection::btree_set(prop_oneof!["personalisation"], 0..2),
        seed in any::<u64>(),
    ) {
        let field = &CONFIG.fields[target];
        let mut answers: Answers = serde_json::from_str(include_str!("../../../examples/answers.json")).unwrap();
        answers.insert("newsletter_consent".into(), json!(true));
        answers.remove("personalisation_consent");
        // Put the marker where a value of this field goes (hidden fields read the URL).
        let mut params = BTreeMap::new();
        match field.kind {
            formseal_core::config::FieldKind::Hidden => {
                params.insert("utm_source".to_string(), marker.clone());
            }
            _ => { answers.insert(field.id.clone(), json!(format!("Zz{marker}"))); }
        }
        let consent = ConsentState { notice_version: "2026-11".into(), granted: granted.into_iter().collect() };
        let full = consent.with_form_answers(&CONFIG, &answers);
        let input = envelope::SubmissionInput { answers: &answers, consent: &consent, subject: "s", now_unix: 1_795_516_199, url_params: &params, lang: None };
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        // Only answers that pass validation get sealed; invalid ones are refused before sealing.
        let Ok((envelope, _)) = envelope::prepare(&CONFIG, &input, &mut rng) else { return Ok(()) };
        let sealed = envelope.seal(&CONFIG, &[KEY.public()], &mut rng).unwrap();
        let plaintext = String::from_utf8(jwe::open(sealed.as_str(), &KEY).unwrap().plaintext).unwrap().to_lowercase();
        if !full.allows_any(&CONFIG, &field.purposes) {
            prop_assert!(!plaintext.contains(&marker), "{} leaked: {}", field.id, plaintext);
        }
    }

    #[test]
    fn any_envelope_round_trips(
        values in prop::collection::btree_map("[a-z_]{1,12}", answer_value(), 0..8),
        subject in "[A-Za-z0-9_-]{1,22}",
        two_recipients in any::<bool>(),
        seed in any::<u64>(),
    ) {
        let envelope = Envelope {
            v: ENVELOPE_VERSION,
            id: "id-1".into(),
            form: "newsletter".into(),
            form_version: 3,
            kind: EnvelopeKind::Submission,
            at: "2026-11-24T10:00:00Z".into(),
            subject,
            consent: ConsentRecord { notice_version: "1".into(), granted: vec!["newsletter".into()], refused: vec![], method: None },
            values,
            confirm: None,
        };
        let other = PrivateKey::from_pkcs8_pem(include_str!("examples/rsa3072.pem")).unwrap();
        let recipients = if two_recipients { vec![other.public(), KEY.public()] } else { vec![KEY.public()] };
        let sealed = envelope.seal(&CONFIG, &recipients, &mut ChaCha20Rng::seed_from_u64(seed)).unwrap();
        prop_assert_eq!(Envelope::open(sealed.as_str(), &KEY).unwrap(), envelope);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// Replacing any value of the example config with arbitrary JSON gives a clean error or a
    /// config, never a panic; the same for arbitrary text.
    #[test]
    fn config_parsing_never_panics(path_choice in any::<prop::sample::Index>(), replacement in arbitrary_json(), text in ".{0,64}") {
        let mut config: Value = serde_json::from_str(FORM).unwrap();
        let mut paths = Vec::new();
        collect_paths(&config, String::new(), &mut paths);
        let pointer = path_choice.get(&paths).clone();
        if let Some(slot) = config.pointer_mut(&pointer) {
            *slot = replacement;
        }
        if let Ok(config) = FormConfig::parse(&config.to_string()) {
            let _ = config.problems();
        }
        let _ = FormConfig::from_json(&text);
    }
}

fn arbitrary_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        ".{0,20}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{1,8}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn collect_paths(value: &Value, at: String, out: &mut Vec<String>) {
    out.push(at.clone());
    match value {
        Value::Object(map) => map
            .iter()
            .for_each(|(k, v)| collect_paths(v, format!("{at}/{k}"), out)),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .for_each(|(i, v)| collect_paths(v, format!("{at}/{i}"), out)),
        _ => {}
    }
}

const SURVEY: &str = include_str!("../../../examples/survey.json");
static SURVEY_CONFIG: LazyLock<FormConfig> =
    LazyLock::new(|| FormConfig::from_json(SURVEY).unwrap());

/// Answers a visitor of `examples/survey.json` could give, mostly valid, each field present or
/// not; `marker` (plus a letter per field) is typed into every free-text place, in lower case so
/// e-mail lower-casing keeps it findable. Branches open and close with the choices.
fn survey_answers(marker: String) -> impl Strategy<Value = Answers> {
    let problem_choice =
        prop::collection::vec(prop_oneof!["delivery", "quality", "price", "service"], 1..3);
    (
        prop::option::weighted(0.95, prop_oneof!["online", "store"]),
        prop::option::weighted(0.95, prop_oneof![(1i64..=5).prop_map(Value::from), "[1-5]".prop_map(Value::from)]),
        prop::option::of(0i64..=10),
        (prop::option::weighted(0.8, problem_choice), any::<bool>(), any::<bool>(), any::<bool>()),
        prop::option::of("[1-5]"),
        (any::<bool>(), any::<bool>()),
    )
        .prop_map(move |(channel, satisfaction, recommend, (problems, other, details, photo), staff, (draw, email))| {
            let mut a = Answers::new();
            let mut put = |k: &str, v: Value| {
                a.insert(k.to_string(), v);
            };
            if let Some(v) = channel { put("channel", json!(v)); }
            if let Some(v) = satisfaction { put("satisfaction", v); }
            if let Some(v) = recommend { put("recommend", json!(v)); }
            if let Some(mut chosen) = problems {
                chosen.sort();
                chosen.dedup();
                let mut items: Vec<Value> = chosen.into_iter().map(Value::from).collect();
                if other { items.push(json!({"other": format!("other {marker}o")})); }
                put("problems", Value::Array(items));
            }
            if details { put("details", json!(format!("details {marker}d"))); }
            if photo {
                let bytes = format!("%PDF-1.4 {marker}b");
                let data = <base64ct::Base64UrlUnpadded as base64ct::Encoding>::encode_string(bytes.as_bytes());
                put("photo", json!({"name": format!("{marker}p.pdf"), "type": "application/pdf", "size": bytes.len(), "data": data}));
            }
            if let Some(v) = staff { put("store_visit", json!({"staff": v})); }
            put("priorities", json!(["service", "speed", "price", "quality"]));
            put("draw_consent", json!(draw));
            if email { put("draw_email", json!(format!("{marker}e@example.com"))); }
            a
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn minimising_a_survey_twice_changes_nothing(answers in "[a-z]{10}".prop_flat_map(survey_answers), draw in any::<bool>()) {
        let params = BTreeMap::new();
        let mut consent = ConsentState { notice_version: "2026-11".into(), ..ConsentState::default() };
        if draw { consent.granted.insert("prize_draw".into()); }
        let ctx = MinimiseContext { today: TODAY, url_params: &params };
        let once = minimise(&SURVEY_CONFIG, &answers, &consent, &ctx);
        let twice = minimise(&SURVEY_CONFIG, &once.values, &consent, &ctx);
        prop_assert_eq!(&once.values, &twice.values);
        prop_assert!(twice.report.iter().all(|a| !a.step.is_drop()), "{:?}", twice.report);
    }
}

proptest! {
    // Each case does an RSA private-key operation: fewer cases, still a real search.
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Whatever the visitor typed into a field that logic hides in the end (after going back and
    /// changing an earlier answer), neither the field nor its text reaches the sealed plaintext.
    #[test]
    fn a_field_hidden_by_logic_never_reaches_the_sealed_plaintext(
        answers in "[a-z]{12}".prop_flat_map(survey_answers),
        seed in any::<u64>(),
    ) {
        let consent = ConsentState { notice_version: "2026-11".into(), ..ConsentState::default() };
        let params = BTreeMap::new();
        let input = envelope::SubmissionInput { answers: &answers, consent: &consent, subject: "s", now_unix: 1_795_516_199, url_params: &params, lang: None };
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let prepared = envelope::prepare_envelopes(&SURVEY_CONFIG, &input, &mut rng);
        // Only answers that pass validation get sealed; most generated ones do.
        prop_assume!(prepared.is_ok());
        let Ok(prepared) = prepared else { return Ok(()) };
        // Everything sealed for this submission: the answers and the reward entry, if any.
        let mut plaintext = String::new();
        let mut kept = Vec::new();
        for envelope in prepared.envelopes() {
            let sealed = envelope.seal(&SURVEY_CONFIG, &[KEY.public()], &mut rng).unwrap();
            let opened = Envelope::open(sealed.as_str(), &KEY).unwrap();
            kept.extend(opened.values.into_keys());
            plaintext.push_str(&String::from_utf8(jwe::open(sealed.as_str(), &KEY).unwrap().plaintext).unwrap().to_lowercase());
        }
        let full = consent.with_form_answers(&SURVEY_CONFIG, &answers);
        let visible = Visibility::of(&SURVEY_CONFIG, &answers, &full, TODAY);
        for field in &SURVEY_CONFIG.fields {
            if !visible.field(&field.id) {
                prop_assert!(!kept.contains(&field.id), "{} kept", field.id);
            }
        }
        for (id, value) in &answers {
            if visible.field(id) { continue; }
            // Every run of 12 lower-case letters the visitor typed into a hidden field.
            for word in serde_json::to_string(value).unwrap().split(|c: char| !c.is_ascii_lowercase()) {
                if word.len() >= 12 {
                    prop_assert!(!plaintext.contains(word), "{id}: {word} leaked: {plaintext}");
                }
            }
        }
    }
}
