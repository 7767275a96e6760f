//! `formseal schema`: prints the JSON Schema of config v1, generated from the core's own config
//! types (schemars), so that editors complete and check a form config as it is typed. It is a
//! help for people; `formseal check` stays the judge (it also checks rules a schema cannot say,
//! such as a field's purpose being declared).

use std::io::Write;

use formseal_core::config::{self, SCHEMA_VERSION};

/// Where the schema is published, for configs' `"$schema"`: the id the schema names itself by.
pub(crate) const SCHEMA_ID: &str = "https://formseal.example/schema/config-v1.json";

/// Print the JSON Schema of form config v1 (for editors; see README "The form config").
///
/// A config may name it with "$schema" (a URL or a path to the printed file); formseal ignores
/// that key.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Example:
  formseal schema > formseal-config.schema.json")]
pub(crate) struct Args {}

pub(crate) fn run(_args: &Args) -> anyhow::Result<()> {
    let mut schema = config::json_schema();
    if let Some(object) = schema.as_object_mut() {
        object.insert("$id".into(), SCHEMA_ID.into());
        object.insert(
            "description".into(),
            format!("A formseal form or consent banner config, version {SCHEMA_VERSION}.").into(),
        );
    }
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, &schema)?;
    writeln!(out)?;
    Ok(())
}
