//! File answers: the shape a file takes inside the sealed plaintext, and the checks on it
//! (declared size equals the bytes, the field's size limit, accepted types, content that matches
//! the declared type for the formats we can recognise, a safe file name).
//!
//! A file is carried inside the one envelope of its submission as
//! `{"name": "cv.pdf", "type": "application/pdf", "size": 1234, "data": "<base64url, no padding>"}`,
//! so it is sealed, padded and delivered like every other answer; nothing here reads a disk.

use base64ct::{Base64UrlUnpadded, Encoding};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::config::{Field, FieldKind, FormConfig};
use crate::envelope::LARGE_BUCKET;

/// The most characters of a file name that are kept.
pub const MAX_FILE_NAME_CHARS: usize = 120;

/// A file answer as it is sealed.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileAnswer {
    /// The file's name as the visitor's device gave it (base name only once minimised).
    pub name: String,
    /// Its MIME type as the browser reported it.
    #[serde(rename = "type")]
    pub media_type: String,
    /// Its size in bytes.
    pub size: u64,
    /// Its bytes, base64url without padding.
    pub data: String,
}

/// Why a file answer is refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FileProblem {
    /// Not a file object, bad base64url, or a size that does not match the bytes.
    Malformed,
    /// More bytes than the field allows.
    TooLarge {
        /// The field's limit in bytes.
        max_bytes: u64,
    },
    /// A type (or extension) the field does not accept.
    TypeNotAccepted,
    /// The bytes are not what the declared type says (a renamed file).
    ContentMismatch,
}

impl FileAnswer {
    /// Reads a file answer, without checking it against a field.
    pub fn from_value(value: &Value) -> Option<Self> {
        serde_json::from_value(value.clone()).ok()
    }

    /// The decoded bytes; `None` when `data` is not base64url.
    pub fn bytes(&self) -> Option<Vec<u8>> {
        Base64UrlUnpadded::decode_vec(&self.data).ok()
    }

    /// Checks the answer against the field: size first (before decoding anything large), then
    /// the bytes, the accepted types and the content.
    pub fn check(&self, field: &Field) -> Result<(), FileProblem> {
        let max_bytes = field.max_file_bytes();
        // base64 of n bytes is ceil(4n/3) characters: refuse an oversized file by its length.
        if self.size > max_bytes || self.data.len() as u64 > max_bytes.div_ceil(3) * 4 {
            return Err(FileProblem::TooLarge { max_bytes });
        }
        let bytes = self.bytes().ok_or(FileProblem::Malformed)?;
        if bytes.len() as u64 != self.size {
            return Err(FileProblem::Malformed);
        }
        if !field
            .accept
            .iter()
            .any(|a| accepts(a, &self.media_type, &self.name))
        {
            return Err(FileProblem::TypeNotAccepted);
        }
        match sniff(&bytes) {
            Some(found) if !self.media_type.eq_ignore_ascii_case(found) => {
                Err(FileProblem::ContentMismatch)
            }
            None if is_sniffable(&self.media_type) => Err(FileProblem::ContentMismatch),
            _ => Ok(()),
        }
    }

    /// The answer with a safe base name and a lower-case type; the bytes are unchanged.
    pub fn minimised(&self) -> Self {
        Self {
            name: safe_file_name(&self.name),
            media_type: self.media_type.trim().to_ascii_lowercase(),
            size: self.size,
            data: self.data.clone(),
        }
    }
}

/// How many bytes a sealed envelope of this form may have beyond an ordinary one because of its
/// file fields: each file grows by 4/3 as base64url in the JSON plaintext, the plaintext is padded
/// to a multiple of 64 KiB, and the JWE's base64url grows it by 4/3 again. Zero for a form without
/// file fields. A collector adds this to its body limit for the form.
pub fn sealed_file_allowance(config: &FormConfig) -> u64 {
    let base64 = |n: u64| n.div_ceil(3) * 4;
    // The keys and the name, type and size of a file answer take well under 1 KiB.
    let files: u64 = config
        .fields
        .iter()
        .filter(|f| f.kind == FieldKind::File)
        .map(|f| base64(f.max_file_bytes()) + 1024)
        .sum();
    if files == 0 {
        return 0;
    }
    base64(files + LARGE_BUCKET as u64)
}

/// Whether `entry` of a field's `accept` list is well formed: `.ext` or `type/subtype` or
/// `type/*`, lowercase.
pub fn is_accept_entry(entry: &str) -> bool {
    let token = |s: &str| {
        !s.is_empty()
            && s.bytes().all(|b| {
                b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.')
            })
    };
    if let Some(ext) = entry.strip_prefix('.') {
        return token(ext) && !ext.contains('.');
    }
    match entry.split_once('/') {
        Some((kind, "*")) => token(kind),
        Some((kind, sub)) => token(kind) && token(sub),
        None => false,
    }
}

/// Whether one `accept` entry admits a file with this type and name.
fn accepts(entry: &str, media_type: &str, name: &str) -> bool {
    let media_type = media_type.trim().to_ascii_lowercase();
    if entry.starts_with('.') {
        return name.to_ascii_lowercase().ends_with(entry);
    }
    match entry.strip_suffix("/*") {
        Some(kind) => media_type
            .split_once('/')
            .is_some_and(|(k, sub)| k == kind && !sub.is_empty()),
        None => media_type == entry,
    }
}

/// Formats recognised by their first bytes, with the MIME type they must be declared as.
const SIGNATURES: &[(&[u8], &str)] = &[
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"%PDF-", "application/pdf"),
];

fn sniff(bytes: &[u8]) -> Option<&'static str> {
    if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        return Some("image/webp");
    }
    SIGNATURES
        .iter()
        .find(|(magic, _)| bytes.starts_with(magic))
        .map(|(_, media_type)| *media_type)
}

fn is_sniffable(media_type: &str) -> bool {
    let media_type = media_type.trim().to_ascii_lowercase();
    media_type == "image/webp" || SIGNATURES.iter().any(|(_, t)| *t == media_type)
}

/// A file name that is safe to show and to write anywhere: its base name (after the last `/` or
/// `\`), without control characters, leading dots or white space, at most
/// [`MAX_FILE_NAME_CHARS`] characters; `file` when nothing is left.
pub fn safe_file_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = base
        .chars()
        .filter(|c| !c.is_control())
        .map(|c| {
            if matches!(c, ':' | '*' | '?' | '"' | '<' | '>' | '|') {
                '_'
            } else {
                c
            }
        })
        .collect();
    let trimmed = cleaned.trim().trim_start_matches('.').trim();
    let mut out: String = trimmed.chars().take(MAX_FILE_NAME_CHARS).collect();
    out = out.trim_end().to_owned();
    if out.is_empty() { "file".into() } else { out }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_entries_are_types_or_extensions() {
        for good in [
            "image/*",
            "application/pdf",
            ".pdf",
            "application/vnd.ms-excel",
        ] {
            assert!(is_accept_entry(good), "{good}");
        }
        for bad in ["pdf", "Image/PNG", "*/*x", ".", "/png", "image/", ".tar.gz"] {
            assert!(!is_accept_entry(bad), "{bad}");
        }
        assert!(accepts("image/*", "image/png", "a.png"));
        assert!(!accepts("image/*", "application/pdf", "a.pdf"));
        assert!(accepts(".pdf", "", "CV.PDF"));
    }

    #[test]
    fn file_names_lose_their_paths_and_tricks() {
        assert_eq!(safe_file_name("../../etc/passwd"), "passwd");
        assert_eq!(safe_file_name("C:\\Users\\jan\\cv.pdf"), "cv.pdf");
        assert_eq!(safe_file_name(".."), "file");
        assert_eq!(safe_file_name(".bashrc"), "bashrc");
        assert_eq!(safe_file_name("a\u{0}b\nc.txt"), "abc.txt");
        assert_eq!(
            safe_file_name("x".repeat(500).as_str()).len(),
            MAX_FILE_NAME_CHARS
        );
    }

    #[test]
    fn content_is_recognised() {
        assert_eq!(sniff(b"%PDF-1.7 ..."), Some("application/pdf"));
        assert_eq!(sniff(b"hello"), None);
        assert!(is_sniffable("IMAGE/PNG"));
    }
}
