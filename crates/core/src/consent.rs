//! The visitor's consent: which purposes they granted, under which notice version.
//!
//! Only purposes with the legal basis `consent` need a grant; the others (contract, legitimate
//! interests...) are covered by the form itself. Storing and showing consent is the widget's job.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::answers::Answers;
use crate::config::{FieldKind, FormConfig, LegalBasis, Purpose};

/// What the visitor agreed to, as recorded in every envelope.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsentState {
    /// Version of the privacy notice the visitor saw.
    pub notice_version: String,
    /// Ids of the purposes the visitor granted.
    pub granted: BTreeSet<String>,
}

impl ConsentState {
    /// Whether data may be processed for this purpose.
    pub fn allows(&self, purpose: &Purpose) -> bool {
        purpose.legal_basis != LegalBasis::Consent || self.granted.contains(&purpose.id)
    }

    /// Whether a field's value may be kept: at least one of its purposes is allowed.
    pub fn allows_any(&self, config: &FormConfig, purposes: &[String]) -> bool {
        purposes
            .iter()
            .filter_map(|id| config.purpose(id))
            .any(|p| self.allows(p))
    }

    /// The consent a form submission was given under: `self` plus the purposes of every ticked
    /// consent checkbox in `answers`, under the form's notice version.
    pub fn with_form_answers(&self, config: &FormConfig, answers: &Answers) -> Self {
        let mut granted = self.granted.clone();
        for field in config
            .fields
            .iter()
            .filter(|f| f.kind == FieldKind::Consent)
        {
            if answers.get(&field.id).and_then(serde_json::Value::as_bool) == Some(true) {
                granted.extend(field.purposes.iter().cloned());
            }
        }
        // A grant only counts for purposes the form knows and that need consent at all.
        granted.retain(|id| {
            config
                .purpose(id)
                .is_some_and(|p| p.legal_basis == LegalBasis::Consent)
        });
        Self {
            notice_version: config.privacy_notice.version.clone(),
            granted,
        }
    }

    /// Purposes of the form that need consent and were not granted.
    pub fn refused<'c>(&self, config: &'c FormConfig) -> Vec<&'c str> {
        config
            .purposes
            .iter()
            .filter(|p| !self.allows(p))
            .map(|p| p.id.as_str())
            .collect()
    }
}
