//! Surveys: pages, the condition language and its config checks, visibility in both directions,
//! per-page validation, the survey question types and minimisation of hidden answers, on
//! `examples/survey.json`.

use std::collections::BTreeMap;

use formseal_core::Error;
use formseal_core::answers::{AnswerProblem, Answers, validate, validate_page};
use formseal_core::config::{FormConfig, Problem};
use formseal_core::consent::ConsentState;
use formseal_core::logic::{Visibility, visible_fields};
use formseal_core::minimise::{MinimiseContext, Step, minimise};
use formseal_core::time::Date;
use serde_json::{Value, json};

const SURVEY: &str = include_str!("../../../examples/survey.json");
const TODAY: Date = Date {
    year: 2026,
    month: 11,
    day: 24,
};

fn config() -> FormConfig {
    FormConfig::from_json(SURVEY).unwrap()
}

fn example() -> Value {
    serde_json::from_str(SURVEY).unwrap()
}

fn problems(config: &Value) -> Vec<Problem> {
    match FormConfig::from_json(&config.to_string()) {
        Err(Error::ConfigInvalid(problems)) => problems,
        other => panic!("expected problems, got {other:?}"),
    }
}

fn one_problem(config: &Value) -> String {
    let problems = problems(config);
    assert_eq!(problems.len(), 1, "{problems:#?}");
    problems[0].to_string()
}

/// The id of a field in the example, by position, so the tests read as the config does.
fn field_index(config: &Value, id: &str) -> usize {
    config["fields"]
        .as_array()
        .unwrap()
        .iter()
        .position(|f| f["id"] == id)
        .unwrap()
}

fn answers(value: Value) -> Answers {
    serde_json::from_value(value).unwrap()
}

fn no_consent() -> ConsentState {
    ConsentState {
        notice_version: "2026-11".into(),
        ..ConsentState::default()
    }
}

/// A happy visitor who shopped online.
fn happy() -> Answers {
    answers(json!({
        "channel": "online",
        "satisfaction": 5,
        "recommend": "9",
        "easy_to_find": "4",
        "priorities": ["quality", "price", "speed", "service"],
    }))
}

#[test]
fn the_survey_example_is_valid_and_paged() {
    let config = config();
    let pages = config.pages();
    let ids: Vec<&str> = pages.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "experience",
            "problems",
            "store",
            "priorities",
            "prize-draw"
        ]
    );
    let order: Vec<&str> = config
        .fields_in_order()
        .iter()
        .map(|(_, f)| f.id.as_str())
        .collect();
    assert_eq!(
        order[..4],
        ["channel", "satisfaction", "recommend", "easy_to_find"]
    );
}

#[test]
fn a_form_without_pages_has_one_page_with_every_field() {
    let config = FormConfig::from_json(include_str!("../../../examples/newsletter.json")).unwrap();
    let pages = config.pages();
    assert_eq!(pages.len(), 1);
    assert_eq!(pages[0].id, "main");
    assert_eq!(pages[0].fields.len(), config.fields.len());
}

#[test]
fn an_unknown_field_in_a_condition_names_its_path_and_the_likely_typo() {
    let mut config = example();
    let i = field_index(&config, "details");
    config["fields"][i]["show_if"] = json!({"field": "problms", "answered": true});
    assert_eq!(
        one_problem(&config),
        format!("fields[{i}].show_if: unknown field \"problms\" (did you mean \"problems\"?)")
    );
}

#[test]
fn a_condition_on_a_later_field_or_page_is_refused() {
    let mut config = example();
    let i = field_index(&config, "details");
    config["fields"][i]["show_if"] = json!({"all": [{"field": "problems", "answered": true}, {"field": "priorities", "answered": true}]});
    let problem = one_problem(&config);
    assert!(
        problem.starts_with(&format!(
            "fields[{i}].show_if.all[1]: field \"details\" depends on \"priorities\", which comes later"
        )),
        "{problem}"
    );

    let mut config = example();
    config["pages"][1]["show_if"] = json!({"field": "details", "answered": true});
    let problem = one_problem(&config);
    assert!(
        problem.starts_with(
            "pages[1].show_if: page \"problems\" depends on \"details\", which is not on an earlier page"
        ),
        "{problem}"
    );
}

#[test]
fn cycles_and_self_references_are_refused() {
    let mut config = example();
    let details = field_index(&config, "details");
    let photo = field_index(&config, "photo");
    config["fields"][details]["show_if"] = json!({"field": "photo", "answered": true});
    config["fields"][photo]["show_if"] = json!({"field": "details", "answered": true});
    let problem = one_problem(&config);
    assert_eq!(
        problem,
        format!(
            "fields[{details}].show_if: conditions form a cycle: details → photo → details (a condition can only depend on answers given before it)"
        )
    );

    config["fields"][photo]["show_if"] = json!({"field": "photo", "answered": true});
    let paths: Vec<String> = problems(&config).into_iter().map(|p| p.message).collect();
    assert!(
        paths.contains(&"field \"photo\" depends on itself".to_string()),
        "{paths:?}"
    );
}

#[test]
fn tests_must_fit_the_field_they_test() {
    let mut config = example();
    config["pages"][2]["show_if"] = json!({"field": "channel", "equals": "shop"});
    assert_eq!(
        one_problem(&config),
        "pages[2].show_if: \"shop\" is not an option of \"channel\" (options of \"channel\": online, store)"
    );
    config["pages"][2]["show_if"] = json!({"field": "channel", "gt": 3});
    assert!(one_problem(&config).contains("\"gt\" needs a number or rating field"));
    config["pages"][2]["show_if"] = json!({"field": "satisfaction", "equals": 6});
    assert!(one_problem(&config).contains("6 is not on the scale of \"satisfaction\" (1 to 5)"));
    config["pages"][2]["show_if"] = json!({"field": "channel", "equals": "store", "gt": 1});
    let problem = one_problem(&config);
    assert!(
        problem.starts_with("pages[2].show_if: a condition is"),
        "{problem}"
    );
}

#[test]
fn every_field_is_on_exactly_one_page() {
    let mut config = example();
    config["pages"][3]["fields"] = json!(["priorities", "channel", "nope"]);
    config["pages"][4]["fields"] = json!(["draw_consent"]);
    let found: Vec<String> = problems(&config).iter().map(ToString::to_string).collect();
    let draw_email = field_index(&config, "draw_email");
    for expected in [
        "pages[3].fields[1]: field \"channel\" is already on page \"experience\"; a field is on one page".to_string(),
        "pages[3].fields[2]: unknown field \"nope\"".to_string(),
        format!("fields[{draw_email}]: field \"draw_email\" is on no page"),
    ] {
        assert!(
            found.iter().any(|p| p.starts_with(&expected)),
            "{expected} not in {found:#?}"
        );
    }
}

#[test]
fn consent_is_never_conditional_and_the_answers_never_depend_on_the_reward() {
    let mut config = example();
    let consent = field_index(&config, "draw_consent");
    config["fields"][consent]["show_if"] = json!({"field": "channel", "answered": true});
    assert!(one_problem(&config).contains("a consent checkbox cannot be conditional"));

    let mut config = example();
    config["pages"][4]["fields"] = json!(["draw_email", "draw_consent"]);
    config["pages"][3]["fields"] = json!(["priorities"]);
    let priorities = field_index(&config, "priorities");
    config["fields"][priorities]["show_if"] = json!({"field": "channel", "answered": true});
    let details = field_index(&config, "details");
    config["fields"][details]["show_if"] = json!({"field": "draw_consent", "equals": true});
    let found: Vec<String> = problems(&config).iter().map(ToString::to_string).collect();
    assert!(
        found
            .iter()
            .any(|p| p.contains("\"draw_consent\" belongs to the reward")),
        "{found:#?}"
    );
}

#[test]
fn the_new_question_types_check_their_attributes() {
    let mut config = example();
    let photo = field_index(&config, "photo");
    config["fields"][photo]["accept"] = json!(["PDF"]);
    config["fields"][photo]["max_bytes"] = json!(100_000_000u64);
    let matrix = field_index(&config, "store_visit");
    config["fields"][matrix]["statements"] = json!([]);
    let channel = field_index(&config, "channel");
    config["fields"][channel]["end_labels"] =
        json!({"low": {"en": "a", "nl": "b"}, "high": {"en": "c", "nl": "d"}});
    let found: Vec<String> = problems(&config).iter().map(|p| p.path.clone()).collect();
    for path in [
        format!("fields[{photo}].accept[0]"),
        format!("fields[{photo}].max_bytes"),
        format!("fields[{matrix}].statements"),
        format!("fields[{channel}].end_labels"),
    ] {
        assert!(found.contains(&path), "{path} not in {found:?}");
    }
}

#[test]
fn branching_shows_pages_both_ways() {
    let config = config();
    let consent = no_consent();
    let visible = Visibility::of(&config, &happy(), &consent, TODAY);
    assert_eq!(
        visible.pages(&config),
        ["experience", "priorities", "prize-draw"]
    );
    assert!(!visible.field("problems") && !visible.field("draw_email"));

    let mut unhappy = happy();
    unhappy.insert("satisfaction".into(), json!("2"));
    unhappy.insert("channel".into(), json!("store"));
    unhappy.insert("problems".into(), json!(["quality"]));
    let visible = Visibility::of(&config, &unhappy, &consent, TODAY);
    assert_eq!(
        visible.pages(&config),
        [
            "experience",
            "problems",
            "store",
            "priorities",
            "prize-draw"
        ]
    );
    let ids: Vec<&str> = visible_fields(&config, &unhappy, &consent, TODAY)
        .iter()
        .map(|f| f.id.as_str())
        .collect();
    assert!(
        ids.contains(&"details") && ids.contains(&"photo"),
        "{ids:?}"
    );

    // An invalid answer does not open a branch: "2.5" is not on the scale.
    unhappy.insert("satisfaction".into(), json!("2.5"));
    assert!(!Visibility::of(&config, &unhappy, &consent, TODAY).page("problems"));
}

#[test]
fn required_questions_count_only_where_they_are_shown() {
    let config = config();
    let consent = no_consent();
    assert_eq!(validate(&config, &happy(), &consent, TODAY), []);

    let mut unhappy = happy();
    unhappy.insert("satisfaction".into(), json!(1));
    let problems = validate_page(&config, "problems", &unhappy, &consent, TODAY);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(
        (problems[0].field.as_str(), &problems[0].problem),
        ("problems", &AnswerProblem::Required)
    );
    assert_eq!(
        validate_page(&config, "experience", &unhappy, &consent, TODAY),
        []
    );

    // The draw's e-mail address is required only once the visitor enters the draw.
    let mut entered = happy();
    entered.insert("draw_consent".into(), json!(true));
    let consent = no_consent().with_form_answers(&config, &entered);
    let problems = validate_page(&config, "prize-draw", &entered, &consent, TODAY);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].field, "draw_email");
}

fn problem_of(answers: &Answers, field: &str) -> AnswerProblem {
    let config = config();
    let consent = no_consent();
    let problems = validate(&config, answers, &consent, TODAY);
    problems
        .into_iter()
        .find(|p| p.field == field)
        .unwrap_or_else(|| panic!("no problem for {field}"))
        .problem
}

#[test]
fn matrix_ranking_and_other_answers_have_their_own_problem_codes() {
    let mut a = happy();
    a.insert("channel".into(), json!("store"));
    a.insert("store_visit".into(), json!({"staff": "4", "parking": "2"}));
    assert_eq!(
        problem_of(&a, "store_visit"),
        AnswerProblem::UnknownStatement
    );
    a.insert("store_visit".into(), json!({"staff": "9"}));
    assert_eq!(problem_of(&a, "store_visit"), AnswerProblem::NotAnOption);

    a.insert(
        "priorities".into(),
        json!(["price", "price", "speed", "service"]),
    );
    assert_eq!(
        problem_of(&a, "priorities"),
        AnswerProblem::RankingDuplicate
    );
    a.insert("priorities".into(), json!(["price", "speed"]));
    assert_eq!(
        problem_of(&a, "priorities"),
        AnswerProblem::RankingIncomplete
    );

    a.insert("satisfaction".into(), json!(2));
    a.insert(
        "problems".into(),
        json!(["price", {"other": "x".repeat(101)}]),
    );
    assert_eq!(
        problem_of(&a, "problems"),
        AnswerProblem::OtherTooLong { max: 100 }
    );
    a.insert("problems".into(), json!([{"other": "a"}, {"other": "b"}]));
    assert_eq!(problem_of(&a, "problems"), AnswerProblem::OtherInvalid);
    a.insert("channel".into(), json!({"other": "market"}));
    assert_eq!(problem_of(&a, "channel"), AnswerProblem::NotAnOption);
}

#[test]
fn a_required_matrix_names_the_statements_left_open() {
    let mut config = example();
    let i = field_index(&config, "store_visit");
    config["fields"][i]["required"] = json!(true);
    let config = FormConfig::from_json(&config.to_string()).unwrap();
    let mut a = happy();
    a.insert("channel".into(), json!("store"));
    a.insert("store_visit".into(), json!({"clean": "5"}));
    let problems = validate(&config, &a, &no_consent(), TODAY);
    assert_eq!(
        problems[0].problem,
        AnswerProblem::MatrixIncomplete {
            missing: vec!["staff".into(), "queue".into()]
        }
    );
}

#[test]
fn hidden_answers_are_dropped_and_reported() {
    let config = config();
    let consent = no_consent();
    let mut a = happy();
    // Typed before the visitor went back and changed their mind about satisfaction and channel.
    a.insert(
        "problems".into(),
        json!(["delivery", {"other": "Late again"}]),
    );
    a.insert("details".into(), json!("The courier left it in the rain"));
    a.insert("store_visit".into(), json!({"staff": "1"}));
    let params = BTreeMap::new();
    let ctx = MinimiseContext {
        today: TODAY,
        url_params: &params,
    };
    let out = minimise(&config, &a, &consent, &ctx);
    for id in ["problems", "details", "store_visit"] {
        assert!(!out.values.contains_key(id), "{id} kept");
        assert!(
            out.report
                .iter()
                .any(|r| r.field == id && r.step == Step::DroppedHiddenByLogic),
            "{id} not reported"
        );
    }
    assert_eq!(out.values["recommend"], json!(9));
    assert_eq!(out.values["priorities"], a["priorities"]);
}

#[test]
fn other_text_is_normalised_and_goes_last() {
    let config = config();
    let consent = no_consent();
    let mut a = happy();
    a.insert("satisfaction".into(), json!(2));
    a.insert(
        "problems".into(),
        json!([{"other": "  Cafe\u{301} was closed "}, "service", "delivery"]),
    );
    let params = BTreeMap::new();
    let ctx = MinimiseContext {
        today: TODAY,
        url_params: &params,
    };
    let out = minimise(&config, &a, &consent, &ctx);
    assert_eq!(
        out.values["problems"],
        json!(["delivery", "service", {"other": "Caf\u{e9} was closed"}])
    );
}

/// A visitor who enters the prize draw, with their subject id from an earlier sign-up.
const SUBJECT: &str = "subject-from-the-newsletter";

fn entered() -> Answers {
    let mut a = happy();
    a.insert("draw_consent".into(), json!(true));
    a.insert("draw_email".into(), json!(" Winner.Person@Example.org "));
    a
}

#[test]
fn a_reward_entry_is_sealed_apart_and_shares_nothing_with_the_answers() {
    use chacha20::ChaCha20Rng;
    use formseal_core::envelope::{self, Envelope, EnvelopeKind, SubmissionInput};
    use formseal_core::keys::PrivateKey;
    use rand_core::SeedableRng;

    let mut config = config();
    let key = PrivateKey::from_pkcs8_pem(include_str!("examples/rsa2048.pem")).unwrap();
    config.recipients = vec![key.public().to_jwk()];
    let answers = entered();
    let consent = no_consent();
    let params = BTreeMap::new();
    let input = SubmissionInput {
        answers: &answers,
        consent: &consent,
        subject: SUBJECT,
        now_unix: 1_795_516_199,
        url_params: &params,
        lang: None,
    };
    let sealed =
        envelope::seal_envelopes(&config, &input, &mut ChaCha20Rng::seed_from_u64(11)).unwrap();
    assert_eq!(sealed.envelopes.len(), 2);
    let open = |i: usize| {
        let jwe = sealed.envelopes[i].1.as_str();
        let plaintext = formseal_core::jwe::open(jwe, &key).unwrap().plaintext;
        (
            Envelope::open(jwe, &key).unwrap(),
            String::from_utf8(plaintext).unwrap(),
        )
    };
    let (answers_envelope, answers_plaintext) = open(0);
    let (reward, _) = open(1);

    assert_eq!(answers_envelope.kind, EnvelopeKind::Submission);
    assert_eq!(reward.kind, EnvelopeKind::RewardEntry);
    assert_eq!(
        reward.values["draw_email"],
        json!("winner.person@example.org")
    );
    assert_eq!(reward.subject, SUBJECT);
    assert_eq!(reward.consent.granted, ["prize_draw"]);
    // Nothing of the entry in the answers: no contact value, no id, no subject, no consent trace.
    for needle in [
        "winner",
        "example.org",
        "draw_",
        "prize_draw",
        SUBJECT,
        reward.id.as_str(),
    ] {
        assert!(
            !answers_plaintext
                .to_lowercase()
                .contains(&needle.to_lowercase()),
            "{needle} in {answers_plaintext}"
        );
    }
    assert_ne!(answers_envelope.subject, reward.subject);
    assert_ne!(answers_envelope.id, reward.id);
    assert_eq!(answers_envelope.values["recommend"], json!(9));
    // The entry carries the reward's fields only.
    let keys: Vec<&str> = reward.values.keys().map(String::as_str).collect();
    assert_eq!(keys, ["draw_consent", "draw_email"]);
}

#[test]
fn without_an_entry_there_is_one_envelope_and_prepare_refuses_to_lose_an_entry() {
    use chacha20::ChaCha20Rng;
    use formseal_core::envelope::{self, SubmissionInput};
    use rand_core::SeedableRng;

    let config = config();
    let consent = no_consent();
    let params = BTreeMap::new();
    let answers = happy();
    let input = SubmissionInput {
        answers: &answers,
        consent: &consent,
        subject: SUBJECT,
        now_unix: 1_795_516_199,
        url_params: &params,
        lang: None,
    };
    let mut rng = ChaCha20Rng::seed_from_u64(12);
    let prepared = envelope::prepare_envelopes(&config, &input, &mut rng).unwrap();
    assert!(prepared.reward.is_none());
    // Still anonymous: a survey with a reward never carries the visitor's subject id.
    assert_ne!(prepared.answers.subject, SUBJECT);
    let err = envelope::prepare(&config, &input, &mut rng).unwrap_err();
    assert!(err.to_string().contains("prepare_envelopes"), "{err}");
}
