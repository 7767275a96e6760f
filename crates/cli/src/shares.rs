//! Recovery shares of a private key (Shamir's secret sharing over GF(256), the `blahaj` crate):
//! `keygen --shares N --threshold K` splits the private.pem into N share files, any K of which
//! `key recover` turns back into that exact file. Fewer shares reveal nothing of the key.
//!
//! A share file is text a person can print or copy:
//!
//! ```text
//! formseal key share v1
//! kid: ngvrVofnf2JpLPgWGwI74NxIhaoOFlnMy8Ce7X7qSaQ
//! share: 2 of 5
//! threshold: 3
//! key-sha256: <hex SHA-256 of the private.pem the shares rebuild>
//! data: <base64url share bytes>
//! checksum: <hex SHA-256 of every line above, first 16 characters>
//! ```
//!
//! The checksum catches a damaged or mistyped share before combining; `key-sha256` checks the
//! rebuilt file; `kid` and `key-sha256` keep shares of different keys apart. This module does no
//! I/O beyond the share files and the recovered key that its callers name.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use base64ct::{Base64UrlUnpadded, Encoding};
use blahaj::{Share, Sharks};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::{Hinted, read_text, shown};

/// The first line of every share file.
const MAGIC: &str = "formseal key share v1";

/// The most shares GF(256) allows (x = 1..=255).
pub(crate) const MAX_SHARES: u8 = 255;

/// How a key is split: `shares` files, any `threshold` of which rebuild it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Split {
    pub(crate) shares: u8,
    pub(crate) threshold: u8,
}

impl Split {
    /// Checks `2 <= threshold <= shares <= 255`.
    pub(crate) fn new(shares: u8, threshold: u8) -> anyhow::Result<Self> {
        if threshold < 2 {
            bail!("--threshold must be at least 2 (with 1, every share alone is the whole key)");
        }
        if threshold > shares {
            bail!(
                "--threshold {threshold} is more than --shares {shares}: the key could never be recovered"
            );
        }
        Ok(Self { shares, threshold })
    }

    /// The share files' names inside the key directory, `share-1-of-5.txt`...
    pub(crate) fn file_names(self) -> Vec<String> {
        (1..=self.shares)
            .map(|n| format!("share-{n}-of-{}.txt", self.shares))
            .collect()
    }

    /// The text of every share file of `pem` (the private key file exactly as written), in
    /// order of [`Split::file_names`].
    pub(crate) fn share_texts(self, pem: &str, kid: &str) -> Vec<Zeroizing<String>> {
        let key_sha256 = hex(&Sha256::digest(pem.as_bytes()));
        Sharks(self.threshold)
            .dealer(pem.as_bytes())
            .take(usize::from(self.shares))
            .map(|share| {
                let bytes = Zeroizing::new(Vec::from(&share));
                let index = bytes.first().copied().unwrap_or_default();
                let mut text = Zeroizing::new(String::new());
                let _ = writeln!(text, "{MAGIC}");
                let _ = writeln!(text, "kid: {kid}");
                let _ = writeln!(text, "share: {index} of {}", self.shares);
                let _ = writeln!(text, "threshold: {}", self.threshold);
                let _ = writeln!(text, "key-sha256: {key_sha256}");
                let _ = writeln!(text, "data: {}", Base64UrlUnpadded::encode_string(&bytes));
                let checksum = checksum(&text);
                let _ = writeln!(text, "checksum: {checksum}");
                text
            })
            .collect()
    }
}

/// One share file, read and checked on its own.
struct ShareFile {
    path: PathBuf,
    kid: String,
    index: u8,
    threshold: u8,
    key_sha256: String,
    share: Share,
}

/// Rebuilds the private key file from share files: every share must be intact and of the same
/// key, and there must be at least the threshold of distinct ones. Returns the key's kid and the
/// file's text.
pub(crate) fn recover(paths: &[PathBuf]) -> anyhow::Result<(String, Zeroizing<String>)> {
    let mut shares = Vec::new();
    for path in paths {
        shares.push(read_share(path)?);
    }
    let Some(first) = shares.first() else {
        bail!("no share files given");
    };
    for other in &shares[1..] {
        if other.kid != first.kid || other.key_sha256 != first.key_sha256 {
            return Err(Hinted::error(
                format!(
                    "{} is a share of key {}, but {} is a share of key {}",
                    shown(&other.path),
                    other.kid,
                    shown(&first.path),
                    first.kid
                ),
                "give shares of one key only (each file names its kid)",
            ));
        }
        if other.threshold != first.threshold {
            bail!(
                "{} says {} shares are needed, {} says {}: the shares do not belong together",
                shown(&other.path),
                other.threshold,
                shown(&first.path),
                first.threshold
            );
        }
    }
    let mut distinct: BTreeMap<u8, &ShareFile> = BTreeMap::new();
    for share in &shares {
        distinct.entry(share.index).or_insert(share);
    }
    let needed = usize::from(first.threshold);
    if distinct.len() < needed {
        let have: Vec<String> = distinct.keys().map(u8::to_string).collect();
        return Err(Hinted::error(
            format!(
                "key {} needs {needed} different shares; got {} (share {})",
                first.kid,
                distinct.len(),
                have.join(", ")
            ),
            format!(
                "collect {} more share file(s) of this key from their holders",
                needed - distinct.len()
            ),
        ));
    }
    let chosen: Vec<Share> = distinct.values().map(|s| s.share.clone()).collect();
    let bytes = Zeroizing::new(
        Sharks(first.threshold)
            .recover(&chosen)
            .map_err(|e| anyhow::anyhow!("cannot combine the shares: {e}"))?,
    );
    if hex(&Sha256::digest(&*bytes)) != first.key_sha256 {
        bail!(
            "the shares of key {} do not rebuild the key they were made from (a share was \
             altered but kept its checksum?); nothing was written",
            first.kid
        );
    }
    let text = String::from_utf8(bytes.to_vec())
        .context("the rebuilt key is not text; nothing was written")?;
    Ok((first.kid.clone(), Zeroizing::new(text)))
}

/// Reads one share file and checks its form and checksum.
fn read_share(path: &Path) -> anyhow::Result<ShareFile> {
    let text = Zeroizing::new(read_text(path, "share file")?);
    let damaged = |what: &str| {
        Hinted::error(
            format!(
                "{} is not an intact formseal key share: {what}",
                shown(path)
            ),
            "use the share file exactly as `formseal keygen --shares` wrote it; a share that was \
             retyped must match it character for character",
        )
    };
    let mut lines = text.lines();
    if lines.next().map(str::trim) != Some(MAGIC) {
        return Err(damaged(&format!("its first line is not \"{MAGIC}\"")));
    }
    let mut fields = BTreeMap::new();
    for line in lines {
        if let Some((name, value)) = line.split_once(": ") {
            fields.insert(name.trim(), value.trim());
        }
    }
    let field = |name: &str| {
        fields
            .get(name)
            .copied()
            .ok_or_else(|| damaged(&format!("no \"{name}:\" line")))
    };
    let body: String = text
        .lines()
        .take_while(|line| !line.starts_with("checksum:"))
        .map(|line| format!("{}\n", line.trim_end()))
        .collect();
    if checksum(&body) != field("checksum")? {
        return Err(damaged("its checksum does not match its content"));
    }
    let (index, of) = field("share")?
        .split_once(" of ")
        .ok_or_else(|| damaged("the \"share:\" line is not \"N of M\""))?;
    let index: u8 = index.parse().map_err(|_| damaged("bad share number"))?;
    let _: u8 = of.parse().map_err(|_| damaged("bad share count"))?;
    let threshold: u8 = field("threshold")?
        .parse()
        .map_err(|_| damaged("bad threshold"))?;
    let bytes = Zeroizing::new(
        Base64UrlUnpadded::decode_vec(field("data")?).map_err(|_| damaged("bad data"))?,
    );
    let share = Share::try_from(bytes.as_slice()).map_err(&damaged)?;
    if share.x.0 != index {
        return Err(damaged("its data belongs to another share number"));
    }
    Ok(ShareFile {
        path: path.to_path_buf(),
        kid: field("kid")?.to_owned(),
        index,
        threshold,
        key_sha256: field("key-sha256")?.to_owned(),
        share,
    })
}

/// The first 16 hex characters of the SHA-256 of `text`.
fn checksum(text: &str) -> String {
    hex(&Sha256::digest(text.as_bytes()))[..16].to_owned()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const PEM: &str =
        "-----BEGIN PRIVATE KEY-----\nnot a real key, only its shape\n-----END PRIVATE KEY-----\n";

    fn write_shares(dir: &Path, split: Split) -> Vec<PathBuf> {
        split
            .file_names()
            .iter()
            .zip(split.share_texts(PEM, "KID"))
            .map(|(name, text)| {
                let path = dir.join(name);
                std::fs::write(&path, text.as_bytes()).unwrap();
                path
            })
            .collect()
    }

    #[test]
    fn any_threshold_of_the_shares_rebuilds_the_file_exactly() {
        let dir = tempfile::tempdir().unwrap();
        let paths = write_shares(dir.path(), Split::new(5, 3).unwrap());
        for chosen in [[0, 1, 2], [4, 2, 0], [1, 3, 4]] {
            let picked: Vec<PathBuf> = chosen.iter().map(|&i| paths[i].clone()).collect();
            let (kid, text) = recover(&picked).unwrap();
            assert_eq!((kid.as_str(), text.as_str()), ("KID", PEM));
        }
    }

    #[test]
    fn fewer_than_the_threshold_is_refused_even_with_a_share_given_twice() {
        let dir = tempfile::tempdir().unwrap();
        let paths = write_shares(dir.path(), Split::new(5, 3).unwrap());
        let err = recover(&[paths[0].clone(), paths[1].clone(), paths[1].clone()]).unwrap_err();
        assert!(
            format!("{err:#}").contains("needs 3 different shares; got 2"),
            "{err:#}"
        );
    }

    #[test]
    fn a_damaged_share_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let paths = write_shares(dir.path(), Split::new(3, 2).unwrap());
        let text = std::fs::read_to_string(&paths[1]).unwrap();
        let data_at = text.find("data: ").unwrap() + 8;
        let mut bytes = text.into_bytes();
        bytes[data_at] = if bytes[data_at] == b'A' { b'B' } else { b'A' };
        std::fs::write(&paths[1], bytes).unwrap();
        let err = recover(&paths[..2]).unwrap_err();
        let message = format!("{err:#}");
        assert!(message.contains("share-2-of-3.txt"), "{message}");
        assert!(message.contains("checksum does not match"), "{message}");
    }

    #[test]
    fn a_split_that_could_never_be_recovered_is_refused() {
        assert!(Split::new(3, 4).is_err());
        assert!(Split::new(3, 1).is_err());
        assert!(Split::new(255, 255).is_ok());
    }
}
