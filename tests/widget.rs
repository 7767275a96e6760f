//! The `<formseal-form>` element in a real browser: labels bound to inputs, a label holding
//! markup shown as text, and failing closed when the pinned key id does not match or is missing.
//! Also that the browser's text services the widget hands to the core (case mapping, numbers
//! written as text) give exactly what Rust's standard library gives natively.
//!
//! Run with `CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=target/tools/bin/wasm-bindgen-test-runner
//! CHROMEDRIVER=/usr/bin/chromedriver cargo test -p formseal --target wasm32-unknown-unknown
//! --test widget`. Delivery and sealing are covered by the Playwright tests in `tests/e2e/`.

#![cfg(target_arch = "wasm32")]
#![allow(missing_docs, clippy::unwrap_used)]

use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};
use web_sys::Element;

wasm_bindgen_test_configure!(run_in_browser);

const KID: &str = "ngvrVofnf2JpLPgWGwI74NxIhaoOFlnMy8Ce7X7qSaQ";
const XSS: &str = "<img src=x onerror=\"window.pwned=1\"> E-mail";

/// The example form with a label that holds markup, as a `data:` URL the element can fetch.
fn config_url(form_id: &str) -> String {
    let mut config: serde_json::Value =
        serde_json::from_str(include_str!("../examples/newsletter.json")).unwrap();
    config["id"] = form_id.into();
    config["fields"][0]["label"]["en"] = XSS.into();
    let json = config.to_string();
    format!(
        "data:application/json,{}",
        String::from(js_sys::encode_uri_component(&json))
    )
}

async fn sleep(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        web_sys::window()
            .unwrap()
            .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms)
            .unwrap();
    });
    JsFuture::from(promise).await.unwrap();
}

/// Adds a `<formseal-form>` to the page (the widget's observer mounts it) and waits until it
/// has left the `loading` state.
async fn mount(src: &str, key_id: Option<&str>) -> Element {
    formseal::start();
    let document = web_sys::window().unwrap().document().unwrap();
    let host = document.create_element("formseal-form").unwrap();
    host.set_attribute("src", src).unwrap();
    host.set_attribute("lang", "en").unwrap();
    if let Some(kid) = key_id {
        host.set_attribute("key-id", kid).unwrap();
    }
    document.body().unwrap().append_child(&host).unwrap();
    for _ in 0..100 {
        let state = host.get_attribute("data-state");
        if state.is_some() && state.as_deref() != Some("loading") {
            break;
        }
        sleep(20).await;
    }
    host
}

#[wasm_bindgen_test]
async fn every_input_has_a_bound_label_and_markup_stays_text() {
    let host = mount(&config_url("labels"), Some(KID)).await;
    assert_eq!(host.get_attribute("data-state").as_deref(), Some("idle"));
    let root = host.shadow_root().unwrap();
    let inputs = root.query_selector_all("input, select, textarea").unwrap();
    assert!(inputs.length() > 5);
    for i in 0..inputs.length() {
        let input: Element = inputs.item(i).unwrap().dyn_into().unwrap();
        let id = input.id();
        assert!(
            root.query_selector(&format!("label[for=\"{id}\"]"))
                .unwrap()
                .is_some(),
            "no label for {id}"
        );
    }
    let label = root
        .query_selector("label[for=\"fs-labels-email\"]")
        .unwrap()
        .unwrap();
    assert!(label.text_content().unwrap().starts_with(XSS));
    assert!(root.query_selector("img").unwrap().is_none());
    let hidden = root.query_selector("[name=\"fs-labels-source\"]").unwrap();
    assert!(hidden.is_none(), "a hidden field is never an input");
}

#[wasm_bindgen_test]
async fn a_key_id_mismatch_fails_closed() {
    let host = mount(&config_url("mismatch"), Some("not-the-kid")).await;
    assert_eq!(host.get_attribute("data-state").as_deref(), Some("error"));
    let root = host.shadow_root().unwrap();
    assert!(root.query_selector("form").unwrap().is_none());
    assert_eq!(
        root.text_content().unwrap(),
        "This form is not available right now."
    );
}

#[wasm_bindgen_test]
async fn a_missing_key_id_fails_closed() {
    let host = mount(&config_url("unpinned"), None).await;
    assert_eq!(host.get_attribute("data-state").as_deref(), Some("error"));
    assert!(
        host.shadow_root()
            .unwrap()
            .query_selector("form")
            .unwrap()
            .is_none()
    );
}

/// The core reads numbers and maps case through the browser in the widget; the values must be
/// bit for bit the ones `str::parse::<f64>`, `to_lowercase` and `to_uppercase` give natively,
/// including the hard rounding cases, the special values and what is not a number.
#[wasm_bindgen_test]
fn browser_text_services_agree_with_rust() {
    formseal::start();
    let numbers = [
        "0",
        "-0",
        "+7",
        "42",
        "007",
        "1.5",
        "-.5",
        "5.",
        "1e5",
        "1E-5",
        "+1e+5",
        "0.1",
        "0.3",
        "1e23",
        "8.41e21",
        "9007199254740993",
        "2.2250738585072011e-308",
        "4.9e-324",
        "2e-324",
        "1.7976931348623157e308",
        "1.7976931348623159e308",
        "1e400",
        "123456789012345678901234567890",
        "0.000000000000000000000000000000000000000000001",
        "3.14159265358979323846264338327950288",
        "inf",
        "-Infinity",
        "NaN",
        "",
        ".",
        "1e",
        "1_000",
        "0x10",
        " 1",
        "1,5",
        "١",
        "e5",
        "--1",
    ];
    for text in numbers {
        let browser = formseal_core::text::number(text);
        let native = text.parse::<f64>().ok();
        assert_eq!(browser.is_some(), native.is_some(), "{text:?}");
        if let (Some(b), Some(n)) = (browser, native) {
            assert!(
                b.to_bits() == n.to_bits() || (b.is_nan() && n.is_nan()),
                "{text:?}: {b} vs {n}"
            );
        }
    }
    for text in [
        "Ada@Example.ORG",
        "ΣΑΣ ΟΔΟΣ",
        "İstanbul",
        "STRASSE straße",
        "ǅungla",
        "1234 ab",
        "ﬃ",
    ] {
        assert_eq!(
            formseal_core::text::lowercase(text),
            text.to_lowercase(),
            "{text:?}"
        );
        assert_eq!(
            formseal_core::text::uppercase(text),
            text.to_uppercase(),
            "{text:?}"
        );
    }
}
