//! The CSV files HubSpot's and Mailchimp's contact imports take as they are: their column names
//! (from the form's `export` mapping or `--map FILE`), their consent columns and their date
//! formats. Which records go in and where the file is written is `export.rs`'s business.
//!
//! What the imports document (and the tests check):
//! - HubSpot, "Set up import files" and "Import contacts" (knowledge.hubspot.com): a header row
//!   whose names match contact properties; contacts are deduplicated by `Email`; `First Name`,
//!   `Last Name`; multiple values separated by `;`; date properties as day, month and year in any
//!   order (we write year-month-day, `2026-11-24`). The GDPR property "Legal basis for processing
//!   contact's data" takes one of "Freely given consent from contact", "Performance of a
//!   contract", "Legitimate interest - prospect/lead", "Legitimate interest - existing
//!   customer", "Not applicable" ("Track lawful basis of processing in HubSpot").
//! - Mailchimp, "Format guidelines for your import file" (mailchimp.com/help): `Email Address` is
//!   the one required column, one address per contact; `First Name`, `Last Name` are text;
//!   dates preferably ISO `YYYY-MM-DD`, birthdays `MM/DD`; `Tags` separated by commas in one
//!   quoted cell. The subscription status is chosen for the whole file in the import step, so the
//!   file says which purposes each contact granted in `Tags`.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::anyhow;
use formseal_core::config::{
    ExportColumns, FieldKind, FormConfig, LegalBasis, Problem, RECORD_FACTS,
};
use formseal_core::envelope::Envelope;
use serde_json::Value;

use crate::Hinted;

/// A CRM whose contact import formseal writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Crm {
    /// HubSpot's contact import.
    Hubspot,
    /// Mailchimp's contact import.
    Mailchimp,
}

/// HubSpot's GDPR property and the option a consent-based purpose gives.
pub(crate) const HUBSPOT_LEGAL_BASIS: &str = "Legal basis for processing contact's data";
const HUBSPOT_CONSENT: &str = "Freely given consent from contact";

impl Crm {
    /// The name on the command line and in the config's `export` mapping.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Hubspot => "hubspot",
            Self::Mailchimp => "mailchimp",
        }
    }

    /// The CRM's own name, for messages.
    fn shown(self) -> &'static str {
        match self {
            Self::Hubspot => "HubSpot",
            Self::Mailchimp => "Mailchimp",
        }
    }

    /// The column the CRM identifies a contact by.
    pub(crate) fn email_column(self) -> &'static str {
        match self {
            Self::Hubspot => "Email",
            Self::Mailchimp => "Email Address",
        }
    }

    /// The column formseal adds after the mapped ones: the consent each contact gave.
    fn consent_column(self) -> &'static str {
        match self {
            Self::Hubspot => HUBSPOT_LEGAL_BASIS,
            Self::Mailchimp => "Tags",
        }
    }

    /// The config's mapping for this CRM.
    pub(crate) fn mapping(self, export: &ExportColumns) -> &BTreeMap<String, String> {
        match self {
            Self::Hubspot => &export.hubspot,
            Self::Mailchimp => &export.mailchimp,
        }
    }
}

/// Where one column's values come from.
#[derive(Debug)]
enum From {
    /// A field of the form, by id.
    Field { id: String, date: bool },
    /// One of the record's own facts (`@at`...).
    Fact(String),
    /// The consent column.
    Consent,
}

/// The columns of one CRM's import file and how a record fills them.
#[derive(Debug)]
pub(crate) struct CrmTable<'f> {
    crm: Crm,
    form: Option<&'f FormConfig>,
    columns: Vec<(String, From)>,
    mapped: BTreeSet<String>,
    /// The field whose value goes in the email column.
    email_field: String,
}

impl<'f> CrmTable<'f> {
    /// The columns for `map` (field id → column): the form's fields in the form's order (other
    /// ids sorted when there is no form), then record facts, then the consent column. Refuses a
    /// mapping without the email column, or one that names the consent column itself.
    pub(crate) fn new(
        crm: Crm,
        map: &BTreeMap<String, String>,
        form: Option<&'f FormConfig>,
        map_path: &str,
    ) -> anyhow::Result<Self> {
        let problems = ExportColumns::problems_of(map, form, map_path);
        if !problems.is_empty() {
            return Err(mapping_error(crm, &problems));
        }
        let email_field = map
            .iter()
            .find(|(_, column)| column.as_str() == crm.email_column())
            .map(|(field, _)| field.clone())
            .ok_or_else(|| {
                Hinted::error(
                    format!(
                        "the {} mapping names no field for the column {:?}",
                        crm.name(),
                        crm.email_column()
                    ),
                    format!(
                        "{} identifies contacts by it: map the e-mail field to it, e.g. \
                         {{\"email\": {:?}}}",
                        crm.shown(),
                        crm.email_column()
                    ),
                )
            })?;
        if let Some((field, _)) = map.iter().find(|(_, c)| c.as_str() == crm.consent_column()) {
            return Err(anyhow!(
                "{map_path}.{field}: formseal writes the column {:?} itself, from each record's \
                 consent",
                crm.consent_column()
            ));
        }
        let kind = |id: &str| form.and_then(|f| f.fields.iter().find(|x| x.id == id));
        let mut ids: Vec<&String> = map
            .keys()
            .filter(|id| !RECORD_FACTS.contains(&id.as_str()))
            .collect();
        if let Some(form) = form {
            ids.sort_by_key(|id| form.fields.iter().position(|f| f.id == **id));
        }
        let mut columns: Vec<(String, From)> = ids
            .into_iter()
            .map(|id| {
                let date = kind(id).is_some_and(|f| f.kind == FieldKind::Date);
                (
                    map[id].clone(),
                    From::Field {
                        id: id.clone(),
                        date,
                    },
                )
            })
            .collect();
        for fact in RECORD_FACTS {
            if let Some(column) = map.get(fact) {
                columns.push((column.clone(), From::Fact(fact.to_string())));
            }
        }
        columns.push((crm.consent_column().to_string(), From::Consent));
        Ok(Self {
            crm,
            form,
            columns,
            mapped: map.keys().cloned().collect(),
            email_field,
        })
    }

    /// The header row.
    pub(crate) fn header(&self) -> Vec<String> {
        self.columns.iter().map(|(name, _)| name.clone()).collect()
    }

    /// Whether the mapping names the field `id`.
    pub(crate) fn maps(&self, id: &str) -> bool {
        self.mapped.contains(id)
    }

    /// The row of one record; `None` when it has no e-mail address (not given, or dropped
    /// because its purpose was not consented to), which the CRM would refuse or not deduplicate.
    pub(crate) fn row(&self, record: &Envelope) -> Option<Vec<Value>> {
        let email = record.values.get(&self.email_field)?;
        if email.as_str().is_none_or(|e| e.trim().is_empty()) {
            return None;
        }
        Some(
            self.columns
                .iter()
                .map(|(column, from)| match from {
                    From::Field { id, date } => {
                        let value = record.values.get(id).cloned().unwrap_or(Value::Null);
                        if *date && self.crm == Crm::Mailchimp && is_birthday(column) {
                            birthday(&value)
                        } else {
                            value
                        }
                    }
                    From::Fact(fact) => fact_value(record, fact),
                    From::Consent => self.consent(record),
                })
                .collect(),
        )
    }

    /// The consent column: HubSpot's lawful basis of the e-mail field, Mailchimp's tags.
    fn consent(&self, record: &Envelope) -> Value {
        match self.crm {
            Crm::Mailchimp => record.consent.granted.join(",").into(),
            Crm::Hubspot => self.legal_basis(record).into(),
        }
    }

    /// HubSpot's option for why the contact's e-mail address may be processed: consent when a
    /// consent-based purpose of the e-mail field was granted, else the basis of its first
    /// purpose. Without the form, only what the record says: consent when it granted anything.
    fn legal_basis(&self, record: &Envelope) -> &'static str {
        let granted = |id: &str| record.consent.granted.iter().any(|g| g == id);
        let Some(form) = self.form else {
            return if record.consent.granted.is_empty() {
                "Not applicable"
            } else {
                HUBSPOT_CONSENT
            };
        };
        let purposes: Vec<_> = form
            .fields
            .iter()
            .find(|f| f.id == self.email_field)
            .map(|f| f.purposes.as_slice())
            .unwrap_or_default()
            .iter()
            .filter_map(|id| form.purposes.iter().find(|p| p.id == *id))
            .collect();
        if purposes
            .iter()
            .any(|p| p.legal_basis == LegalBasis::Consent && granted(&p.id))
        {
            return HUBSPOT_CONSENT;
        }
        match purposes.first().map(|p| p.legal_basis) {
            Some(LegalBasis::Contract) => "Performance of a contract",
            Some(LegalBasis::LegitimateInterests) => "Legitimate interest - prospect/lead",
            _ => "Not applicable",
        }
    }
}

/// One CRM mapping's problems as one error.
fn mapping_error(crm: Crm, problems: &[Problem]) -> anyhow::Error {
    let list: Vec<String> = problems.iter().map(ToString::to_string).collect();
    Hinted::error(
        format!(
            "the {} mapping is wrong:\n  {}",
            crm.name(),
            list.join("\n  ")
        ),
        format!(
            "map each field id of the form (or {}) to a column once",
            RECORD_FACTS.join(", ")
        ),
    )
}

/// A record fact as a cell: `@at` as the date CRMs import (`YYYY-MM-DD`, both document it).
fn fact_value(record: &Envelope, fact: &str) -> Value {
    match fact {
        "@id" => record.id.clone().into(),
        "@at" => record.at.get(..10).unwrap_or(&record.at).to_string().into(),
        "@form" => record.form.clone().into(),
        "@subject" => record.subject.clone().into(),
        "@granted" => record.consent.granted.clone().into(),
        "@refused" => record.consent.refused.clone().into(),
        _ => Value::Null,
    }
}

fn is_birthday(column: &str) -> bool {
    column.eq_ignore_ascii_case("birthday")
}

/// Mailchimp's birthday fields take `MM/DD`; a generalised date (a year only) has no birthday.
fn birthday(value: &Value) -> Value {
    match value.as_str().map(|s| s.split('-').collect::<Vec<_>>()) {
        Some(parts) if parts.len() == 3 => format!("{}/{}", parts[1], parts[2]).into(),
        _ => Value::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn birthdays_are_month_and_day_and_a_year_is_none() {
        assert_eq!(birthday(&json!("1987-04-09")), json!("04/09"));
        assert_eq!(birthday(&json!("1987")), Value::Null);
    }
}
