//! The consent loader (`src/loader.js`) applies a stored choice and its first layer
//! (`src/first-layer.js`) makes the first layer's choice without wasm, so they carry JS copies
//! of core rules: `Choice::is_current` (the loader), the choice `consent::record` keeps
//! (the first layer) (granted/refused, expiry from `expiry_days`, the Consent Mode
//! signals) and `Purpose::claims_cookie` (the first layer's cookie removal; `formseal scan`
//! uses the core's). This test runs both on the same inputs, many of them, and wants the same answers:
//! the core stays the one source of truth. It runs `tests/interop/loader.mjs` with node and
//! fails, never skips, when node is missing.

#![allow(
    clippy::unwrap_used,
    reason = "a test that cannot unwrap should fail loudly"
)]

use std::collections::BTreeSet;

use chacha20::ChaCha20Rng;
use formseal_core::config::FormConfig;
use formseal_core::consent::{self, Choice, ConsentMethod, Decision};
use formseal_core::time::Date;
use rand_core::SeedableRng;
use serde_json::{Value, json};

#[path = "interop/node.rs"]
mod node;

const BANNER: &str = include_str!("../../../examples/consent.json");

/// The example banner and variants of it that change what the rules read.
fn configs() -> Vec<Value> {
    let base: Value = serde_json::from_str(BANNER).unwrap();
    let edit = |f: &dyn Fn(&mut Value)| {
        let mut value = base.clone();
        f(&mut value);
        value
    };
    vec![
        base.clone(),
        // No `consent` object at all: the default expiry, no Consent Mode.
        edit(&|v| {
            v.as_object_mut().unwrap().remove("consent");
        }),
        edit(&|v| v["consent"]["expiry_days"] = json!(1)),
        edit(&|v| v["consent"]["expiry_days"] = json!(395)),
        edit(&|v| v["privacy_notice"]["version"] = json!("2027-01")),
        // A purpose asked about later, which older choices never answered.
        edit(&|v| {
            let mut video = v["purposes"][1].clone();
            video["id"] = json!("video");
            video["cookies"] = json!([]);
            v["purposes"].as_array_mut().unwrap().push(video);
            v["consent"]["consent_mode"]["functionality_storage"] = json!(["video", "analytics"]);
        }),
        // Analytics becomes a legitimate interest: no longer asked.
        edit(&|v| v["purposes"][1]["legal_basis"] = json!("legitimate-interests")),
    ]
}

/// Unix seconds worth testing: around midnight, a leap day, the turn of a year.
const TIMES: [i64; 6] = [
    1_795_516_199, // 2026-11-24T10:29:59Z
    1_795_564_799, // 2026-11-24T23:59:59Z
    1_795_564_800, // 2026-11-25T00:00:00Z
    1_709_164_800, // 2024-02-29T00:00:00Z
    1_798_761_599, // 2026-12-31T23:59:59Z
    0,
];

const GRANTS: [&[&str]; 4] = [
    &[],
    &["analytics"],
    &["marketing"],
    &["analytics", "marketing", "video"],
];

fn record(config: &FormConfig, granted: &[&str], now: i64, gpc: bool) -> Choice {
    let granted: BTreeSet<String> = granted.iter().map(|s| s.to_string()).collect();
    let decision = Decision {
        granted: &granted,
        method: ConsentMethod::Banner,
        gpc,
        previous: None,
        subject: "subject-1",
        now_unix: now,
    };
    let (_, choice) =
        consent::record(config, &decision, &mut ChaCha20Rng::seed_from_u64(1)).unwrap();
    choice
}

#[test]
fn the_loaders_rules_answer_as_the_core_does() {
    let values = configs();
    let parsed: Vec<FormConfig> = values
        .iter()
        .map(|v| FormConfig::from_json(&v.to_string()).unwrap())
        .collect();

    // First-layer decisions: every config, grant set, time and GPC setting.
    let mut decisions = Vec::new();
    let mut expected_choices = Vec::new();
    for (c, config) in parsed.iter().enumerate() {
        for granted in GRANTS {
            for now in TIMES {
                for gpc in [false, true] {
                    decisions.push(
                        json!({"config": c, "granted": granted, "now_ms": now * 1000, "gpc": gpc}),
                    );
                    let mut choice =
                        serde_json::to_value(record(config, granted, now, gpc)).unwrap();
                    choice["record"] = json!("");
                    expected_choices.push(choice);
                }
            }
        }
    }

    // "Is current": choices the core made under each config, and damaged ones, judged under
    // every config on days around their expiry.
    let mut choices: Vec<Value> = Vec::new();
    for config in &parsed {
        for granted in GRANTS {
            let choice = serde_json::to_value(record(config, granted, TIMES[0], false)).unwrap();
            let mut old = choice.clone();
            old["v"] = json!(2);
            let mut partial = choice.clone();
            partial["refused"] = json!([]);
            let mut garbled = choice.clone();
            garbled["expires"] = json!("someday");
            choices.extend([choice, old, partial, garbled]);
        }
    }
    let days: Vec<Date> = [-1, 0, 1, 181, 182, 183, 394, 395, 396]
        .iter()
        .map(|d| Date::from_unix(TIMES[0]).plus_days(*d))
        .collect();
    let mut current = Vec::new();
    let mut expected_current = Vec::new();
    for (c, config) in parsed.iter().enumerate() {
        for choice in &choices {
            for today in &days {
                current.push(json!({"config": c, "choice": choice, "today": today.to_string()}));
                let verdict = serde_json::from_value::<Choice>(choice.clone())
                    .is_ok_and(|choice| choice.is_current(config, *today));
                expected_current.push(json!(verdict));
            }
        }
    }

    // Cookie patterns: every example pattern and edge case against names around them.
    let patterns = [
        vec!["_ga", "_ga_*"],
        vec!["*"],
        vec!["basket"],
        vec!["_fbp*", "fr"],
        vec![],
    ];
    let names = [
        "_ga",
        "_ga_",
        "_ga_ABC123",
        "_gat",
        "_g",
        "",
        "basket",
        "basket2",
        "_fbp",
        "_fbpx",
        "fr",
        "f",
    ];
    let mut cookies = Vec::new();
    let mut expected_cookies = Vec::new();
    for list in &patterns {
        let purpose: formseal_core::config::Purpose = serde_json::from_value(json!({
            "id": "p", "label": {"en": "P"}, "description": {"en": "P."},
            "legal_basis": "consent", "cookies": list,
        }))
        .unwrap();
        for name in names {
            cookies.push(json!({"patterns": list, "name": name}));
            expected_cookies.push(json!(purpose.claims_cookie(name)));
        }
    }

    let answers = node::run(
        "loader.mjs",
        &[],
        &json!({"configs": values, "current": current, "decisions": decisions, "cookies": cookies}),
    );
    assert_eq!(
        answers["cookies"].as_array().unwrap(),
        &expected_cookies,
        "claimsCookie differs from Purpose::claims_cookie for {cookies:?}"
    );
    assert!(expected_cookies.contains(&json!(true)) && expected_cookies.contains(&json!(false)));
    let got_choices = answers["decisions"].as_array().unwrap();
    assert_eq!(got_choices.len(), expected_choices.len());
    for ((got, want), case) in got_choices.iter().zip(&expected_choices).zip(&decisions) {
        assert_eq!(
            got, want,
            "firstLayerChoice differs from consent::record for {case}"
        );
    }
    let got_current = answers["current"].as_array().unwrap();
    assert_eq!(got_current.len(), expected_current.len());
    let mut disagreements = 0;
    for ((got, want), case) in got_current.iter().zip(&expected_current).zip(&current) {
        assert_eq!(
            got, want,
            "isCurrent differs from Choice::is_current for {case}"
        );
        disagreements += usize::from(got != want);
    }
    assert_eq!(disagreements, 0);
    // The cases are worth something only if both answers occur.
    assert!(expected_current.contains(&json!(true)) && expected_current.contains(&json!(false)));
}
