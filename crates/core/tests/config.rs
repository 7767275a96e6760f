//! Form config parsing and validation: the example is clean, and each broken rule is reported
//! with its JSON path, all at once.

use formseal_core::Error;
use formseal_core::config::{Closing, FormConfig, Problem};
use formseal_core::time::Date;
use serde_json::{Value, json};

const EXAMPLE: &str = include_str!("../../../examples/newsletter.json");

fn example() -> Value {
    serde_json::from_str(EXAMPLE).unwrap()
}

fn problems(config: &Value) -> Vec<Problem> {
    match FormConfig::from_json(&config.to_string()) {
        Err(Error::ConfigInvalid(problems)) => problems,
        other => panic!("expected validation problems, got {other:?}"),
    }
}

/// The one problem of a config that has exactly one (here: a syntax problem).
fn syntax_error(config: &Value) -> (String, String) {
    let problems = problems(config);
    assert_eq!(problems.len(), 1, "{problems:?}");
    (problems[0].path.clone(), problems[0].to_string())
}

#[test]
fn the_example_config_is_valid() {
    let config = FormConfig::from_json(EXAMPLE).unwrap();
    assert_eq!(config.id, "newsletter");
    assert_eq!(config.fields.len(), 9);
    assert_eq!(config.recipient_keys().unwrap().len(), 1);
}

#[test]
fn unknown_purpose_names_path_known_purposes_and_likely_typo() {
    let mut config = example();
    config["fields"][3]["purposes"] = json!(["personalisaton"]);
    let problems = problems(&config);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(
        problems[0].to_string(),
        "fields[3].purposes[0]: unknown purpose \"personalisaton\" (did you mean \"personalisation\"? known: newsletter, personalisation, campaign)"
    );
}

#[test]
fn every_problem_is_reported_at_once() {
    let mut config = example();
    config["fields"][1]["purposes"] = json!([]);
    config["purposes"][1]
        .as_object_mut()
        .unwrap()
        .remove("retention_days");
    config["endpoint"] = json!("http://collect.example.com/v1");
    config["recipients"][0] =
        serde_json::from_str(include_str!("examples/rsa1024.pub.jwk.json")).unwrap();
    config["texts"]["title"]
        .as_object_mut()
        .unwrap()
        .remove("nl");
    let paths: Vec<String> = problems(&config).into_iter().map(|p| p.path).collect();
    for expected in [
        "fields[1].purposes",
        "purposes[1].retention_days",
        "endpoint",
        "recipients[0]",
        "texts.title.nl",
    ] {
        assert!(
            paths.iter().any(|p| p == expected),
            "{expected} missing in {paths:?}"
        );
    }
}

#[test]
fn small_keys_and_plain_http_are_refused_with_reasons() {
    let mut config = example();
    config["endpoint"] = json!("http://collect.example.com/v1");
    config["recipients"][0] =
        serde_json::from_str(include_str!("examples/rsa1024.pub.jwk.json")).unwrap();
    let text: Vec<String> = problems(&config).iter().map(ToString::to_string).collect();
    assert!(
        text.iter()
            .any(|p| p.contains("1024") && p.contains("2048")),
        "{text:?}"
    );
    assert!(
        text.iter()
            .any(|p| p.contains("http") && p.contains("localhost")),
        "{text:?}"
    );
}

#[test]
fn localhost_and_same_origin_endpoints_are_allowed() {
    for endpoint in [
        "http://localhost:8080/v1",
        "http://127.0.0.1/v1",
        "http://[::1]:9000/",
        "/v1/submissions",
        "https://collect.example.com/v1",
    ] {
        let mut config = example();
        config["endpoint"] = json!(endpoint);
        FormConfig::from_json(&config.to_string()).unwrap_or_else(|e| panic!("{endpoint}: {e}"));
    }
    for endpoint in [
        "ftp://example.com",
        "//evil.example",
        "collect.example.com",
        "https://",
    ] {
        let mut config = example();
        config["endpoint"] = json!(endpoint);
        assert_eq!(problems(&config)[0].path, "endpoint", "{endpoint}");
    }
}

#[test]
fn unknown_keys_are_errors_with_their_path() {
    let mut config = example();
    config["fields"][0]["requird"] = json!(true);
    let (path, message) = syntax_error(&config);
    assert_eq!(path, "fields[0].requird");
    assert!(
        message.contains("unknown key \"requird\" (did you mean \"required\"?"),
        "{message}"
    );

    let mut config = example();
    config["fields"][2]["minimise"] = json!({"rule": "age-band", "widht": 5});
    let (path, message) = syntax_error(&config);
    assert!(path.starts_with("fields[2].minimise"), "{path}");
    assert!(message.contains("widht"), "{message}");
}

#[test]
fn unknown_keys_do_not_hide_other_problems() {
    let mut config = example();
    config["fields"][0]["requird"] = json!(true);
    config["purposes"][0]["retension_days"] = json!(30);
    config["fields"][1]["purposes"] = json!([]);
    let problems = problems(&config);
    let paths: Vec<&str> = problems.iter().map(|p| p.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "fields[0].requird",
            "purposes[0].retension_days",
            "fields[1].purposes"
        ]
    );
    assert!(
        problems[1]
            .to_string()
            .contains("did you mean \"retention_days\""),
        "{}",
        problems[1]
    );
}

#[test]
fn wrong_types_and_unknown_enum_values_name_the_path() {
    let mut config = example();
    config["fields"][4]["type"] = json!("phone");
    let (path, message) = syntax_error(&config);
    assert_eq!(path, "fields[4].type");
    assert!(message.contains("unknown variant `phone`"), "{message}");
}

#[test]
fn unsupported_or_missing_schema_version_fails_first() {
    let mut config = example();
    config["formseal"] = json!(2);
    config["brand_new_v2_key"] = json!(true);
    let (path, message) = syntax_error(&config);
    assert_eq!(path, "formseal");
    assert!(
        message.contains("unsupported config version 2"),
        "{message}"
    );

    config.as_object_mut().unwrap().remove("formseal");
    assert_eq!(syntax_error(&config).0, "formseal");
    assert_eq!(
        FormConfig::parse("{not json").unwrap_err().to_string(),
        "$: not valid JSON: key must be a string at line 1 column 2"
    );
}

#[test]
fn field_attributes_must_fit_the_field_type() {
    let mut config = example();
    config["fields"][0]["options"] = json!([{"value": "x", "label": {"en": "X", "nl": "X"}}]);
    config["fields"][1]["minimise"] = json!({"rule": "birth-year"});
    config["fields"][5]["options"] = json!([]);
    config["fields"][8]["param"] = json!("email");
    config["fields"][0]["pattern"] = json!("([a-z");
    let paths: Vec<String> = problems(&config).into_iter().map(|p| p.path).collect();
    assert_eq!(
        paths,
        [
            "fields[0].pattern",
            "fields[0].options",
            "fields[1].minimise",
            "fields[5].options",
            "fields[8].param"
        ]
    );
}

#[test]
fn consent_checkbox_cannot_grant_a_non_consent_purpose() {
    let mut config = example();
    config["fields"][6]["purposes"] = json!(["campaign"]);
    let problems = problems(&config);
    assert_eq!(problems[0].path, "fields[6].purposes[0]");
}

#[test]
fn duplicate_ids_are_reported() {
    let mut config = example();
    config["fields"][1]["id"] = json!("email");
    config["purposes"][2]["id"] = json!("newsletter");
    let paths: Vec<String> = problems(&config).into_iter().map(|p| p.path).collect();
    assert!(paths.contains(&"fields[1].id".to_string()), "{paths:?}");
    assert!(paths.contains(&"purposes[2].id".to_string()), "{paths:?}");
}

/// The widget's entry point (over serde-wasm-bindgen there; any deserializer here) trusts exactly
/// what `from_json` trusts: it fails on a wrong version, a broken structure and a broken rule.
#[test]
fn from_deserializer_fails_closed_like_from_json() {
    let good = example();
    let parsed = FormConfig::from_deserializer(good.clone()).unwrap();
    assert_eq!(parsed, FormConfig::from_json(&good.to_string()).unwrap());

    let mut newer = good.clone();
    newer["formseal"] = json!(2);
    let mut unknown_key = good.clone();
    unknown_key["fields"][0]["requird"] = json!(true);
    let mut wrong_type = good.clone();
    wrong_type["fields"] = json!("none");
    let mut broken_rule = good.clone();
    broken_rule["fields"][0]["purposes"] = json!(["no-such-purpose"]);
    let mut no_key = good;
    no_key["recipients"] = json!([]);
    for bad in [newer, unknown_key, wrong_type, broken_rule, no_key] {
        assert!(FormConfig::from_json(&bad.to_string()).is_err(), "{bad}");
        assert!(
            FormConfig::from_deserializer(bad.clone()).is_err(),
            "from_deserializer trusted {bad}"
        );
    }
    let err = FormConfig::from_deserializer(json!({"formseal": 2})).unwrap_err();
    assert!(matches!(err, Error::ConfigSyntax { .. }), "{err}");
}

#[test]
fn closing_date_and_response_limit_are_read_and_written_back() {
    let mut config = example();
    config["closes_at"] = json!("2026-12-31");
    config["max_responses"] = json!(500);
    let parsed = FormConfig::from_json(&config.to_string()).unwrap();
    let last_day = Date::parse("2026-12-31").unwrap();
    assert_eq!(parsed.closes_at, Some(last_day));
    assert_eq!(parsed.max_responses, Some(500));
    assert!(!parsed.is_closed(last_day));
    assert!(parsed.is_closed(last_day.plus_days(1)));
    let written = serde_json::to_value(&parsed).unwrap();
    assert_eq!(written["closes_at"], "2026-12-31");
    assert_eq!(written["max_responses"], 500);

    let open = FormConfig::from_json(EXAMPLE).unwrap();
    assert_eq!(open.closing(), Closing::default());
    let written = serde_json::to_value(&open).unwrap();
    assert!(written.get("closes_at").is_none() && written.get("max_responses").is_none());
}

#[test]
fn a_closing_date_that_is_no_date_is_named_by_its_path() {
    for bad in [json!("2026-02-30"), json!("31-12-2026"), json!(20261231)] {
        let mut config = example();
        config["closes_at"] = bad.clone();
        let (path, message) = syntax_error(&config);
        assert_eq!(path, "closes_at", "{bad}: {message}");
        assert!(message.starts_with("closes_at: "), "{message}");
    }
    let mut config = example();
    config["closes_at"] = json!("2026-02-30");
    assert_eq!(
        syntax_error(&config).1,
        "closes_at: \"2026-02-30\" is not a date (write it YYYY-MM-DD)"
    );
}

#[test]
fn a_response_limit_must_be_one_or_more() {
    let mut config = example();
    config["max_responses"] = json!(0);
    let problems = problems(&config);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(
        problems[0].to_string(),
        "max_responses: max_responses must be 1 or more (leave it out for no limit)"
    );
    config["max_responses"] = json!(-3);
    assert_eq!(syntax_error(&config).0, "max_responses");
}

#[test]
fn banners_and_privacy_requests_never_close() {
    for (example, reason) in [
        (
            include_str!("../../../examples/consent.json"),
            "a consent banner never closes",
        ),
        (
            include_str!("../../../examples/privacy-request.json"),
            "a privacy request form never closes: visitors may ask at any time",
        ),
    ] {
        let mut config: Value = serde_json::from_str(example).unwrap();
        config["closes_at"] = json!("2026-12-31");
        config["max_responses"] = json!(10);
        let text: Vec<String> = problems(&config).iter().map(ToString::to_string).collect();
        assert_eq!(
            text,
            [
                format!("closes_at: {reason} (remove \"closes_at\")"),
                format!("max_responses: {reason} (remove \"max_responses\")"),
            ]
        );
    }
}

#[test]
fn a_survey_with_a_reward_may_close_but_has_no_response_limit() {
    let mut config: Value =
        serde_json::from_str(include_str!("../../../examples/survey.json")).unwrap();
    config["closes_at"] = json!("2026-12-31");
    FormConfig::from_json(&config.to_string()).unwrap();
    config["max_responses"] = json!(100);
    let problems = problems(&config);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].path, "max_responses");
    assert!(problems[0].message.contains("reward"), "{}", problems[0]);
}
