//! The forms a collector accepts: their ids, the key ids their envelopes may be sealed to, when
//! they close, and the config text it serves at `/forms/<id>.json`. Read from the marketer's
//! form configs and checked by the core; nothing here decides what a valid form is.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use anyhow::{Context, anyhow};
use axum::body::Bytes;
use formseal_core::config::{Closing, FormConfig};
use formseal_core::retention;
use formseal_core::upload;

/// Accepted forms by id.
#[derive(Clone, Debug, Default)]
pub struct AcceptedForms {
    forms: BTreeMap<String, AcceptedForm>,
}

/// One accepted form id.
#[derive(Clone, Debug)]
pub struct AcceptedForm {
    /// Key ids of every recipient of every accepted version of this form (a key rotation keeps
    /// the old config next to the new one for a while).
    pub kids: BTreeSet<String>,
    /// The longest retention of any purpose of any accepted version, in days: no envelope of
    /// this form is kept longer, whatever its header says.
    pub longest_retention_days: u32,
    /// The config of the highest version, served to the widget: compact, and compressed once
    /// when accepted (brotli and gzip at their best, as static files are).
    pub config: ConfigText,
    /// Bytes an envelope of this form may have beyond the collector's body limit, for its file
    /// fields (the largest of any accepted version).
    pub upload_allowance: usize,
    /// When the form stops taking submissions: the closing date and response limit of the
    /// highest version, the config the widget is served.
    pub closing: Closing,
    version: u32,
}

/// A config's text as served: compact JSON, plain, brotli (quality 11) and gzip (level 9).
#[derive(Clone, Debug)]
pub struct ConfigText {
    /// The config as compact JSON text (the marketer's values, without the whitespace).
    pub json: String,
    /// `json` compressed with brotli.
    pub brotli: Bytes,
    /// `json` compressed with gzip.
    pub gzip: Bytes,
}

impl ConfigText {
    /// `json` as served: compact (whitespace out, the same values), then compressed both ways;
    /// a config is small, so this is done once when it is accepted.
    fn new(json: &str) -> Self {
        use std::io::Write as _;
        // Accepted configs are valid JSON; should one not be, it is served as written.
        let json = serde_json::from_str::<serde_json::Value>(json)
            .map(|value| value.to_string())
            .unwrap_or_else(|_| json.to_owned());
        let json = json.as_str();
        let mut brotli = Vec::new();
        {
            let mut writer = brotli::CompressorWriter::new(&mut brotli, 4096, 11, 22);
            // Writing into a Vec cannot fail.
            let _ = writer.write_all(json.as_bytes());
        }
        let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        let _ = gzip.write_all(json.as_bytes());
        Self {
            json: json.to_owned(),
            brotli: brotli.into(),
            gzip: gzip.finish().unwrap_or_default().into(),
        }
    }
}

impl AcceptedForms {
    /// Reads and checks each form config file.
    pub fn load(paths: &[impl AsRef<Path>]) -> anyhow::Result<Self> {
        let mut forms = Self::default();
        for path in paths {
            let path = path.as_ref();
            let json = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the form config {}", path.display()))?;
            forms
                .add(json)
                .with_context(|| format!("form config {}", path.display()))?;
        }
        Ok(forms)
    }

    /// Adds one form config (JSON text); it must pass the core's checks and name its keys.
    pub fn add(&mut self, json: String) -> anyhow::Result<()> {
        let config = FormConfig::from_json(&json)
            .map_err(|e| anyhow!("{e}").context("is not valid (run `formseal check` on it)"))?;
        let kids: Vec<String> = config
            .recipient_keys()
            .map_err(|e| anyhow!("{e}").context("has no usable recipient key"))?
            .iter()
            .map(|key| key.kid().to_string())
            .collect();
        let allowance =
            usize::try_from(upload::sealed_file_allowance(&config)).unwrap_or(usize::MAX);
        let entry = self
            .forms
            .entry(config.id.clone())
            .or_insert_with(|| AcceptedForm {
                kids: BTreeSet::new(),
                longest_retention_days: 0,
                config: ConfigText::new(&json),
                upload_allowance: 0,
                closing: config.closing(),
                version: config.version,
            });
        entry.kids.extend(kids);
        entry.longest_retention_days = entry
            .longest_retention_days
            .max(retention::longest(&config));
        entry.upload_allowance = entry.upload_allowance.max(allowance);
        if config.version >= entry.version {
            entry.version = config.version;
            entry.config = ConfigText::new(&json);
            entry.closing = config.closing();
        }
        Ok(())
    }

    /// The form with this id, if accepted.
    pub fn get(&self, id: &str) -> Option<&AcceptedForm> {
        self.forms.get(id)
    }

    /// The largest upload allowance of any accepted form: what the body limit must leave room
    /// for before the form of a request is known.
    pub fn max_upload_allowance(&self) -> usize {
        self.forms
            .values()
            .map(|f| f.upload_allowance)
            .max()
            .unwrap_or(0)
    }

    /// Whether no form is accepted.
    pub fn is_empty(&self) -> bool {
        self.forms.is_empty()
    }

    /// The accepted form ids, sorted.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.forms.keys().map(String::as_str)
    }
}
