//! Conditional logic: the small declarative condition language of `show_if`, which fields and
//! pages a visitor's answers make visible, and the config checks of conditions (unknown fields,
//! later fields, cycles, tests that do not fit the field).
//!
//! A condition only ever sees answers that will be sealed: earlier fields that are visible, whose
//! purposes are allowed and whose values survive minimisation. So the widget, validation and
//! minimisation agree on what is shown, and a hidden field's answer is never kept.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::answers::{Answers, is_empty};
use crate::config::{Field, FieldKind, FormConfig, Problem, closest};
use crate::consent::ConsentState;
use crate::time::Date;

/// A condition on earlier answers, written in JSON as one test or a combination:
///
/// ```json
/// {"field": "satisfied", "equals": "no"}
/// {"field": "visits", "gt": 3}
/// {"any": [{"field": "role", "one_of": ["owner", "manager"]}, {"field": "email", "answered": true}]}
/// ```
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "ConditionJson", into = "ConditionJson")]
pub enum Condition {
    /// Every condition holds (true when empty, which `formseal check` refuses).
    All(Vec<Condition>),
    /// At least one condition holds.
    Any(Vec<Condition>),
    /// A test on one field's answer.
    Test {
        /// The field id.
        field: String,
        /// What is tested.
        test: Test,
    },
}

/// A test on one answer.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Test {
    /// The answer is this value (for a multiple select: this value is among the answers).
    Equals(Value),
    /// The negation of [`Test::Equals`]; also holds when the field is unanswered.
    NotEquals(Value),
    /// The answer equals one of these values.
    OneOf(Vec<Value>),
    /// The answer is a number greater than this.
    Gt(f64),
    /// The answer is a number less than this.
    Lt(f64),
    /// The field has an answer.
    Answered,
    /// The field has no answer.
    NotAnswered,
}

impl Test {
    /// The JSON key of this test.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Equals(_) => "equals",
            Self::NotEquals(_) => "not_equals",
            Self::OneOf(_) => "one_of",
            Self::Gt(_) => "gt",
            Self::Lt(_) => "lt",
            Self::Answered => "answered",
            Self::NotAnswered => "not_answered",
        }
    }

    /// Whether the test holds for `answer` (`None` or an empty value: unanswered).
    pub fn holds(&self, answer: Option<&Value>) -> bool {
        let answer = answer.filter(|v| !is_empty(v));
        match self {
            Self::Answered => answer.is_some(),
            Self::NotAnswered => answer.is_none(),
            Self::Equals(expected) => answer.is_some_and(|a| matches(a, expected)),
            Self::NotEquals(expected) => !answer.is_some_and(|a| matches(a, expected)),
            Self::OneOf(values) => answer.is_some_and(|a| values.iter().any(|v| matches(a, v))),
            Self::Gt(n) => answer.and_then(as_number).is_some_and(|a| a > *n),
            Self::Lt(n) => answer.and_then(as_number).is_some_and(|a| a < *n),
        }
    }
}

impl Condition {
    /// Whether the condition holds on `answers`. Pass answers that will be sealed (see
    /// [`Visibility`]): then a field hidden by logic counts as unanswered.
    pub fn holds(&self, answers: &Answers) -> bool {
        match self {
            Self::All(all) => all.iter().all(|c| c.holds(answers)),
            Self::Any(any) => any.iter().any(|c| c.holds(answers)),
            Self::Test { field, test } => test.holds(answers.get(field)),
        }
    }

    /// Every field id the condition refers to, with the JSON path of its test below `path`.
    pub fn tests(&self, path: &str) -> Vec<(String, &str, &Test)> {
        let mut out = Vec::new();
        self.collect_tests(path.to_owned(), &mut out);
        out
    }

    fn collect_tests<'c>(&'c self, path: String, out: &mut Vec<(String, &'c str, &'c Test)>) {
        match self {
            Self::All(list) | Self::Any(list) => {
                let key = if matches!(self, Self::All(_)) {
                    "all"
                } else {
                    "any"
                };
                for (i, c) in list.iter().enumerate() {
                    c.collect_tests(format!("{path}.{key}[{i}]"), out);
                }
            }
            Self::Test { field, test } => out.push((path, field, test)),
        }
    }
}

/// An answer equals an expected value: numbers numerically (`"7"` is 7), strings after
/// trimming, an array when any item does.
fn matches(answer: &Value, expected: &Value) -> bool {
    match (answer, expected) {
        (Value::Array(items), _) => items.iter().any(|item| matches(item, expected)),
        (_, Value::Number(n)) => as_number(answer) == n.as_f64(),
        (Value::String(a), Value::String(e)) => a.trim() == e.trim(),
        (a, e) => a == e,
    }
}

fn as_number(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => crate::text::number(s.trim()).filter(|n| n.is_finite()),
        _ => None,
    }
}

/// The JSON form of a condition: exactly one of `all`, `any`, or `field` with one test.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConditionJson {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    all: Option<Vec<Condition>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    any: Option<Vec<Condition>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    field: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    equals: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    not_equals: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    one_of: Option<Vec<Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    gt: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    lt: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    answered: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    not_answered: Option<bool>,
}

const CONDITION_SHAPE: &str = "a condition is {\"all\": [...]}, {\"any\": [...]}, or {\"field\": \"id\"} with one of equals, not_equals, one_of, gt, lt, answered, not_answered";

impl TryFrom<ConditionJson> for Condition {
    type Error = String;

    fn try_from(json: ConditionJson) -> Result<Self, String> {
        let mut tests = Vec::new();
        if let Some(v) = json.equals {
            tests.push(Test::Equals(v));
        }
        if let Some(v) = json.not_equals {
            tests.push(Test::NotEquals(v));
        }
        if let Some(v) = json.one_of {
            tests.push(Test::OneOf(v));
        }
        if let Some(n) = json.gt {
            tests.push(Test::Gt(n));
        }
        if let Some(n) = json.lt {
            tests.push(Test::Lt(n));
        }
        match json.answered {
            Some(true) => tests.push(Test::Answered),
            Some(false) => tests.push(Test::NotAnswered),
            None => {}
        }
        match json.not_answered {
            Some(true) => tests.push(Test::NotAnswered),
            Some(false) => tests.push(Test::Answered),
            None => {}
        }
        match (json.all, json.any, json.field) {
            (Some(all), None, None) if tests.is_empty() => Ok(Self::All(all)),
            (None, Some(any), None) if tests.is_empty() => Ok(Self::Any(any)),
            (None, None, Some(field)) if tests.len() == 1 => Ok(Self::Test {
                field,
                test: tests.remove(0),
            }),
            _ => Err(CONDITION_SHAPE.into()),
        }
    }
}

impl From<Condition> for ConditionJson {
    fn from(condition: Condition) -> Self {
        match condition {
            Condition::All(all) => Self {
                all: Some(all),
                ..Self::default()
            },
            Condition::Any(any) => Self {
                any: Some(any),
                ..Self::default()
            },
            Condition::Test { field, test } => {
                let mut json = Self {
                    field: Some(field),
                    ..Self::default()
                };
                match test {
                    Test::Equals(v) => json.equals = Some(v),
                    Test::NotEquals(v) => json.not_equals = Some(v),
                    Test::OneOf(v) => json.one_of = Some(v),
                    Test::Gt(n) => json.gt = Some(n),
                    Test::Lt(n) => json.lt = Some(n),
                    Test::Answered => json.answered = Some(true),
                    Test::NotAnswered => json.not_answered = Some(true),
                }
                json
            }
        }
    }
}

/// Which pages and fields a visitor's answers make visible, and the answers conditions see.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Visibility {
    pages: BTreeSet<String>,
    fields: BTreeSet<String>,
    /// The minimised answers of visible, allowed fields: what conditions were evaluated on.
    given: Answers,
}

impl Visibility {
    /// Evaluates every condition in display order. A field is visible when its page is and its
    /// own `show_if` holds; its answer then counts for later conditions if the consent allows
    /// one of its purposes and the value survives minimisation (`today` matters for age bands).
    pub fn of(config: &FormConfig, answers: &Answers, consent: &ConsentState, today: Date) -> Self {
        let mut out = Self::default();
        let pages = config.pages();
        let mut page_shown: Vec<bool> = Vec::with_capacity(pages.len());
        for (page_index, field) in config.fields_in_order() {
            let page_visible = match page_index {
                None => true,
                Some(index) => {
                    // Pages are visited in order: evaluate each page's condition when its first
                    // field comes up, on the answers of the pages before it.
                    while page_shown.len() <= index {
                        let page = &pages[page_shown.len()];
                        let shown = page.show_if.as_ref().is_none_or(|c| c.holds(&out.given));
                        if shown {
                            out.pages.insert(page.id.clone());
                        }
                        page_shown.push(shown);
                    }
                    page_shown[index]
                }
            };
            let visible =
                page_visible && field.show_if.as_ref().is_none_or(|c| c.holds(&out.given));
            if !visible {
                continue;
            }
            out.fields.insert(field.id.clone());
            if field.kind == FieldKind::Hidden || !consent.allows_any(config, &field.purposes) {
                continue;
            }
            if let Some(value) = answers.get(&field.id)
                && let Some(kept) = crate::minimise::kept_value(field, value.clone(), today)
            {
                out.given.insert(field.id.clone(), kept);
            }
        }
        // Pages without any field never come up above (only possible in a broken config).
        for page in pages.iter().skip(page_shown.len()) {
            if page.show_if.as_ref().is_none_or(|c| c.holds(&out.given)) {
                out.pages.insert(page.id.clone());
            }
        }
        out
    }

    /// Whether the field with this id is shown.
    pub fn field(&self, id: &str) -> bool {
        self.fields.contains(id)
    }

    /// Whether the page with this id is shown.
    pub fn page(&self, id: &str) -> bool {
        self.pages.contains(id)
    }

    /// Ids of the visible pages, in display order.
    pub fn pages<'c>(&self, config: &'c FormConfig) -> Vec<&'c str> {
        let mut ids: Vec<&'c str> = Vec::new();
        if config.pages.is_empty() {
            ids.push(crate::config::SINGLE_PAGE_ID);
        } else {
            ids.extend(config.pages.iter().map(|p| p.id.as_str()));
        }
        ids.retain(|id| self.page(id));
        ids
    }
}

/// The fields the visitor sees, in display order.
pub fn visible_fields<'c>(
    config: &'c FormConfig,
    answers: &Answers,
    consent: &ConsentState,
    today: Date,
) -> Vec<&'c Field> {
    let visibility = Visibility::of(config, answers, consent, today);
    config
        .fields_in_order()
        .into_iter()
        .map(|(_, field)| field)
        .filter(|field| visibility.field(&field.id))
        .collect()
}

/// Every problem with the conditions of a config: unknown fields, a field referring to itself,
/// to a later field or page, cycles, and tests that do not fit the field they test.
pub(crate) fn problems(config: &FormConfig) -> Vec<Problem> {
    let mut problems = Vec::new();
    // Display position of every field: (page, place on the page).
    let mut position: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for (page, place) in config.pages().iter().enumerate().flat_map(|(p, page)| {
        page.fields
            .iter()
            .enumerate()
            .map(move |(i, id)| (p, (i, id.clone())))
    }) {
        if let Some(field) = config.field(&place.1) {
            position.entry(field.id.as_str()).or_insert((page, place.0));
        }
    }
    let graph = dependencies(config);
    let field_ids: Vec<&str> = config.fields.iter().map(|f| f.id.as_str()).collect();

    for (i, page) in config.pages.iter().enumerate() {
        let Some(condition) = &page.show_if else {
            continue;
        };
        for (path, id, test) in condition.tests(&format!("pages[{i}].show_if")) {
            let Some(target) = config.field(id) else {
                problems.push(unknown(&path, id, &field_ids));
                continue;
            };
            match position.get(id) {
                Some((p, _)) if *p < i => {}
                _ => problems.push(hinted(
                    &path,
                    format!(
                        "page \"{}\" depends on \"{id}\", which is not on an earlier page",
                        page.id
                    ),
                    "a page can only depend on answers given on the pages before it",
                )),
            }
            problems.extend(test_fits(&path, target, test));
            problems.extend(reward_leak(config, &path, None, id));
        }
    }

    let mut reported_cycles = BTreeSet::new();
    for (i, field) in config.fields.iter().enumerate() {
        let Some(condition) = &field.show_if else {
            continue;
        };
        let own = position.get(field.id.as_str()).copied();
        for (path, id, test) in condition.tests(&format!("fields[{i}].show_if")) {
            let Some(target) = config.field(id) else {
                problems.push(unknown(&path, id, &field_ids));
                continue;
            };
            if id == field.id {
                problems.push(Problem::new(
                    &path,
                    format!("field \"{id}\" depends on itself"),
                ));
                continue;
            }
            let earlier = match (position.get(id), own) {
                (Some(theirs), Some(own)) => *theirs < own,
                (Some(_), None) => true,
                (None, _) => false,
            };
            if !earlier {
                match cycle(&graph, id, &field.id) {
                    Some(mut cycle) => {
                        let mut key: Vec<String> = cycle.clone();
                        key.sort();
                        if reported_cycles.insert(key) {
                            cycle.insert(0, field.id.clone());
                            problems.push(hinted(
                                &path,
                                format!("conditions form a cycle: {}", cycle.join(" → ")),
                                "a condition can only depend on answers given before it",
                            ));
                        }
                    }
                    None => problems.push(hinted(
                        &path,
                        format!(
                            "field \"{}\" depends on \"{id}\", which comes later",
                            field.id
                        ),
                        "a condition can only depend on answers given before it",
                    )),
                }
            }
            problems.extend(test_fits(&path, target, test));
            problems.extend(reward_leak(config, &path, Some(field), id));
        }
    }
    problems
}

/// Field id → the field ids its visibility depends on (its own condition and its page's).
fn dependencies(config: &FormConfig) -> BTreeMap<String, Vec<String>> {
    let mut graph: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for page in config.pages().iter() {
        let page_refs: Vec<String> = page
            .show_if
            .iter()
            .flat_map(|c| c.tests(""))
            .map(|(_, id, _)| id.to_owned())
            .collect();
        for id in &page.fields {
            graph
                .entry(id.clone())
                .or_default()
                .extend(page_refs.iter().cloned());
        }
    }
    for field in &config.fields {
        let refs = field
            .show_if
            .iter()
            .flat_map(|c| c.tests(""))
            .map(|(_, id, _)| id.to_owned());
        graph.entry(field.id.clone()).or_default().extend(refs);
    }
    graph
}

/// A path of dependencies from `from` back to `to`, if there is one (`from`, ..., `to`).
fn cycle(graph: &BTreeMap<String, Vec<String>>, from: &str, to: &str) -> Option<Vec<String>> {
    let mut seen = BTreeSet::new();
    let mut stack = vec![vec![from.to_owned()]];
    while let Some(path) = stack.pop() {
        let last = path.last()?.clone();
        if last == to {
            return Some(path);
        }
        if !seen.insert(last.clone()) {
            continue;
        }
        for next in graph.get(&last).into_iter().flatten() {
            let mut longer = path.clone();
            longer.push(next.clone());
            stack.push(longer);
        }
    }
    None
}

/// Whether `test` makes sense on `target`'s answers.
fn test_fits(path: &str, target: &Field, test: &Test) -> Option<Problem> {
    use FieldKind as K;
    let id = &target.id;
    let kind = target.kind;
    if kind == K::Hidden {
        return Some(hinted(
            path,
            format!("\"{id}\" is a hidden field; conditions cannot use it"),
            "hidden fields come from the page's URL, not from the visitor",
        ));
    }
    let values: Vec<&Value> = match test {
        Test::Answered | Test::NotAnswered => return None,
        Test::Gt(_) | Test::Lt(_) => {
            return (!matches!(kind, K::Number | K::Rating)).then(|| {
                hinted(
                    path,
                    format!(
                        "\"{}\" needs a number or rating field; \"{id}\" is a {kind:?} field",
                        test.name()
                    ),
                    "use equals, one_of, answered or not_answered",
                )
            });
        }
        Test::Equals(v) | Test::NotEquals(v) => vec![v],
        Test::OneOf(vs) => {
            if vs.is_empty() {
                return Some(Problem::new(path, "one_of needs at least one value"));
            }
            vs.iter().collect()
        }
    };
    for value in values {
        let problem = match kind {
            K::Select | K::Radio | K::Likert => {
                let known = value
                    .as_str()
                    .is_some_and(|s| target.options.iter().any(|o| o.value == s));
                (!known).then(|| {
                    let options: Vec<&str> =
                        target.options.iter().map(|o| o.value.as_str()).collect();
                    let mut hint = format!("options of \"{id}\": {}", options.join(", "));
                    if let Some(best) = value.as_str().and_then(|s| closest(s, &options)) {
                        hint = format!("did you mean \"{best}\"? {hint}");
                    }
                    hinted(path, format!("{value} is not an option of \"{id}\""), &hint)
                })
            }
            K::Checkbox | K::Consent => (!value.is_boolean()).then(|| {
                Problem::new(
                    path,
                    format!("\"{id}\" is a checkbox: compare it with true or false"),
                )
            }),
            K::Number => (!value.is_number()).then(|| {
                Problem::new(
                    path,
                    format!("\"{id}\" is a number field: compare it with a number"),
                )
            }),
            K::Rating => {
                let (lo, hi) = target.scale.map_or((0, 10), |s| s.range());
                let on_scale = value
                    .as_f64()
                    .is_some_and(|n| n.fract() == 0.0 && n >= f64::from(lo) && n <= f64::from(hi));
                (!on_scale).then(|| {
                    Problem::new(
                        path,
                        format!("{value} is not on the scale of \"{id}\" ({lo} to {hi})"),
                    )
                })
            }
            _ => Some(hinted(
                path,
                format!("a {kind:?} field cannot be compared with a value"),
                "test it with answered or not_answered",
            )),
        };
        if problem.is_some() {
            return problem;
        }
    }
    None
}

/// A reward field's answer must not steer what the (anonymous) answers contain.
fn reward_leak(
    config: &FormConfig,
    path: &str,
    field: Option<&Field>,
    id: &str,
) -> Option<Problem> {
    let from_answers = field.is_none_or(|f| !config.is_reward_field(&f.id));
    (from_answers && config.is_reward_field(id)).then(|| {
        hinted(
            path,
            format!("\"{id}\" belongs to the reward; the survey's questions cannot depend on it"),
            "the answers are sealed apart from the reward so they cannot be linked",
        )
    })
}

fn unknown(path: &str, id: &str, known: &[&str]) -> Problem {
    let hint = match closest(id, known) {
        Some(best) => format!("did you mean \"{best}\"?"),
        None => format!("known: {}", known.join(", ")),
    };
    hinted(path, format!("unknown field \"{id}\""), &hint)
}

fn hinted(path: &str, message: String, hint: &str) -> Problem {
    Problem {
        path: path.to_owned(),
        message,
        hint: Some(hint.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn condition(json: Value) -> Condition {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn tests_hold_on_answers() {
        let answers: Answers = [
            ("colour".to_string(), json!("red")),
            ("visits".to_string(), json!("7")),
            ("topics".to_string(), json!(["a", "b"])),
            ("blank".to_string(), json!("  ")),
        ]
        .into();
        let holds = |c: Value| condition(c).holds(&answers);
        assert!(holds(json!({"field": "colour", "equals": "red"})));
        assert!(holds(json!({"field": "colour", "not_equals": "blue"})));
        assert!(holds(json!({"field": "missing", "not_equals": "blue"})));
        assert!(holds(json!({"field": "colour", "one_of": ["blue", "red"]})));
        assert!(holds(json!({"field": "visits", "gt": 6})));
        assert!(!holds(json!({"field": "visits", "lt": 7})));
        assert!(holds(json!({"field": "visits", "equals": 7})));
        assert!(holds(json!({"field": "topics", "equals": "b"})));
        assert!(holds(json!({"field": "blank", "not_answered": true})));
        assert!(!holds(json!({"field": "blank", "answered": true})));
        assert!(!holds(json!({"field": "missing", "gt": 0})));
        assert!(holds(json!({"all": [
            {"field": "colour", "equals": "red"},
            {"any": [{"field": "visits", "lt": 2}, {"field": "topics", "answered": true}]}
        ]})));
    }

    #[test]
    fn a_condition_has_exactly_one_shape() {
        for bad in [
            json!({"field": "a"}),
            json!({"field": "a", "equals": 1, "gt": 0}),
            json!({"all": [], "field": "a"}),
            json!({}),
        ] {
            let err = serde_json::from_value::<Condition>(bad.clone()).unwrap_err();
            assert!(err.to_string().contains("a condition is"), "{bad}: {err}");
        }
        let err = serde_json::from_value::<Condition>(json!({"field": "a", "equal": 1}))
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown field `equal`"), "{err}");
    }

    #[test]
    fn conditions_round_trip_through_json() {
        let text =
            json!({"any": [{"field": "a", "one_of": ["x"]}, {"field": "b", "not_answered": true}]});
        let parsed = condition(text.clone());
        assert_eq!(serde_json::to_value(&parsed).unwrap(), text);
    }
}
