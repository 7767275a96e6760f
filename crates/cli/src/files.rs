//! Files carried inside opened envelopes, written to a directory by `formseal decrypt --out`.
//!
//! Everything in a plaintext is untrusted (anyone with the public key can seal one): record ids,
//! field ids and file names are reduced to one safe path component each, files are created new
//! (never overwriting, never following a link), and a file whose bytes do not match its declared
//! size stays in the record untouched.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Component, Path};

use anyhow::{Context, anyhow};
use formseal_core::envelope::Envelope;
use formseal_core::upload::{FileAnswer, safe_file_name};

/// Writes every file answer of `envelope` into `dir` and replaces its `data` with `saved_as`,
/// the file's name in `dir`. Returns how many files were written.
pub(crate) fn extract(envelope: &mut Envelope, dir: &Path) -> anyhow::Result<usize> {
    let record = component(&envelope.id);
    let mut written = 0;
    for (field, value) in envelope.values.iter_mut() {
        let Some(file) = FileAnswer::from_value(value) else {
            continue;
        };
        let Some(bytes) = file.bytes().filter(|b| b.len() as u64 == file.size) else {
            eprintln!(
                "record {record}: field {}: the file's data does not match its size; left in the record",
                component(field)
            );
            continue;
        };
        let base = format!(
            "{record}-{}-{}",
            component(field),
            safe_file_name(&file.name)
        );
        let name = create_new(dir, &base, &bytes)?;
        *value = serde_json::json!({
            "name": file.name,
            "type": file.media_type,
            "size": file.size,
            "saved_as": name,
        });
        written += 1;
    }
    Ok(written)
}

/// Letters, digits, `-` and `_` of `text`, others as `_`, at most 64 characters; `x` if empty.
fn component(text: &str) -> String {
    let safe: String = text
        .chars()
        .take(64)
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if safe.is_empty() { "x".into() } else { safe }
}

/// Creates `dir/name` (or `dir/name-2.ext`, ... when taken) without following links or
/// overwriting, writes `bytes`, and returns the name used.
fn create_new(dir: &Path, base: &str, bytes: &[u8]) -> anyhow::Result<String> {
    let (stem, ext) = match base.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => (stem, format!(".{ext}")),
        _ => (base, String::new()),
    };
    for n in 1..1000 {
        let name = if n == 1 {
            base.to_owned()
        } else {
            format!("{stem}-{n}{ext}")
        };
        // One normal component: no separator, no `..`, no root; anything else is a bug above.
        let mut components = Path::new(&name).components();
        if !matches!(
            (components.next(), components.next()),
            (Some(Component::Normal(_)), None)
        ) {
            return Err(anyhow!("refusing the unsafe file name {name:?}"));
        }
        let path = dir.join(&name);
        match OpenOptions::new().write(true).create_new(true).open(&path) {
            Ok(mut file) => {
                write_all(&mut file, bytes, &path)?;
                return Ok(name);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => {
                return Err(
                    anyhow::Error::new(e).context(format!("cannot create {}", crate::shown(&path)))
                );
            }
        }
    }
    Err(anyhow!(
        "too many files named {base} in {}",
        crate::shown(dir)
    ))
}

fn write_all(file: &mut File, bytes: &[u8], path: &Path) -> anyhow::Result<()> {
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .with_context(|| format!("cannot write {}", crate::shown(path)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn components_are_single_and_tame() {
        assert_eq!(component("../../etc"), "______etc");
        assert_eq!(component(""), "x");
        assert_eq!(component("abc-DEF_1"), "abc-DEF_1");
    }

    #[test]
    fn names_are_never_reused() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(create_new(dir.path(), "a.pdf", b"1").unwrap(), "a.pdf");
        assert_eq!(create_new(dir.path(), "a.pdf", b"2").unwrap(), "a-2.pdf");
        assert_eq!(std::fs::read(dir.path().join("a.pdf")).unwrap(), b"1");
        assert!(create_new(dir.path(), "..", b"x").is_err());
    }
}
