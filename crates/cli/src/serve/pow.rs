//! Proof of work instead of a captcha: the collector hands out ALTCHA v1 challenges (the format
//! of npm `altcha-lib/v1`) at `GET /v1/challenge` and checks the solution a submission carries in
//! its `Altcha` header, before the body is read. Challenges are stateless: an HMAC of this
//! collector's key signs each, and the salt carries its expiry. Which solutions were spent is
//! the store's (`Store::spend_solution`); this file never touches it.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, anyhow};
use axum::http::HeaderValue;
use base64ct::{Base64, Encoding};
use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::store::Spend;

/// Where challenges are handed out.
pub const CHALLENGE_PATH: &str = "/v1/challenge";

/// The request header that carries a solution: base64 of the JSON payload, as ALTCHA's widget
/// sends it.
pub const HEADER: &str = "altcha";

/// The difficulty when none is given: the largest number a challenge may hide. A visitor's
/// browser tries half of them on average.
pub const DEFAULT_DIFFICULTY: u64 = 50_000;

/// The largest accepted difficulty: beyond it a visitor would wait for minutes.
pub const MAX_DIFFICULTY: u64 = 100_000_000;

/// How long a challenge may be solved and spent after it was issued.
pub const CHALLENGE_LIFETIME: Duration = Duration::from_secs(20 * 60);

/// The one algorithm this collector issues and accepts.
const ALGORITHM: &str = "SHA-256";

/// A key shorter than this is refused: it could be guessed, and with it any challenge forged.
const MIN_KEY_LEN: usize = 16;

/// Random bytes of a salt (hex-encoded: 24 characters, as `altcha-lib` makes them).
const SALT_BYTES: usize = 12;

/// A header longer than this is refused unread: a payload is some 300 bytes of base64.
const MAX_HEADER_LEN: usize = 1024;

/// Hands out and checks challenges with one key at one difficulty.
#[derive(Clone)]
pub struct ProofOfWork {
    /// Keyed once; each signature clones it.
    mac: Hmac<Sha256>,
    difficulty: u64,
}

/// Never shows the key.
impl fmt::Debug for ProofOfWork {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "ProofOfWork {{ difficulty: {}, key: *** }}",
            self.difficulty
        )
    }
}

/// An ALTCHA v1 challenge, as `altcha-lib`'s `createChallenge` makes it (fields in its order).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Challenge {
    /// Always `SHA-256`.
    pub algorithm: String,
    /// Lowercase hex SHA-256 of `salt` followed by the secret number in decimal.
    pub challenge: String,
    /// The largest number it may be.
    pub maxnumber: u64,
    /// 24 hex characters, then `?expires=<Unix seconds>&`.
    pub salt: String,
    /// Lowercase hex HMAC-SHA-256 of `challenge` under the collector's key.
    pub signature: String,
}

/// What a client sends back in the `Altcha` header (base64 of this JSON): the challenge with the
/// number found. Other members (ALTCHA's widget adds `took`) are ignored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Solution {
    /// Must be `SHA-256`.
    pub algorithm: String,
    /// The challenge's hash.
    pub challenge: String,
    /// The number found.
    pub number: u64,
    /// The challenge's salt.
    pub salt: String,
    /// The challenge's signature.
    pub signature: String,
}

/// A solution that passed every check but the replay check, which needs the envelope's id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Solved {
    challenge: String,
    expires: i64,
}

/// Why a submission's proof of work is refused (a 403); the messages name no input.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Refusal {
    /// No `Altcha` header.
    #[error("no proof of work (header Altcha); fetch one from /v1/challenge")]
    Missing,
    /// The header is not base64 of a JSON payload with the five members.
    #[error("the proof of work (header Altcha) is not base64 of an ALTCHA payload")]
    Malformed,
    /// Another algorithm than SHA-256.
    #[error("the proof of work's algorithm is not SHA-256")]
    Algorithm,
    /// The signature is not this collector's HMAC of the challenge.
    #[error("the proof of work's signature is not this collector's")]
    Signature,
    /// The number does not hash to the challenge.
    #[error("the proof of work does not solve its challenge")]
    Unsolved,
    /// The salt carries no expiry (this collector's challenges always do).
    #[error("the proof of work has no expiry; fetch one from /v1/challenge")]
    NoExpiry,
    /// Past its expiry.
    #[error("the proof of work expired")]
    Expired,
    /// Spent on another envelope before.
    #[error("this proof of work was already used")]
    Used,
}

impl ProofOfWork {
    /// Challenges signed with `key` (the text `altcha-lib`'s `verifySolution` takes) hiding a
    /// number up to `difficulty`.
    pub fn new(key: &str, difficulty: u64) -> anyhow::Result<Self> {
        if key.len() < MIN_KEY_LEN {
            return Err(anyhow!(
                "the proof-of-work key is shorter than {MIN_KEY_LEN} bytes; \
                 make one with `openssl rand -hex 32`"
            ));
        }
        if !(1..=MAX_DIFFICULTY).contains(&difficulty) {
            return Err(anyhow!(
                "the proof-of-work difficulty must be from 1 to {MAX_DIFFICULTY}"
            ));
        }
        let mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key.as_bytes())
            .map_err(|_| anyhow!("the proof-of-work key cannot key an HMAC"))?;
        Ok(Self { mac, difficulty })
    }

    /// The largest number a challenge hides.
    pub fn difficulty(&self) -> u64 {
        self.difficulty
    }

    /// A new challenge that expires [`CHALLENGE_LIFETIME`] after `now` (Unix seconds).
    pub fn challenge(&self, now: i64) -> anyhow::Result<Challenge> {
        let mut salt = [0u8; SALT_BYTES];
        getrandom::fill(&mut salt).map_err(|e| anyhow!("no random numbers for a salt: {e}"))?;
        let number = getrandom::u64().map_err(|e| anyhow!("no random number: {e}"))?;
        // The modulo's bias is below 2^-36 at the largest difficulty: no number is noticeably
        // more likely than another, so no search order pays off.
        let number = number % (self.difficulty + 1);
        let expires = now.saturating_add(i64::try_from(CHALLENGE_LIFETIME.as_secs()).unwrap_or(0));
        let salt = format!(
            "{}?expires={expires}&",
            base16ct::lower::encode_string(&salt)
        );
        let challenge = hash_hex(&salt, number);
        Ok(Challenge {
            algorithm: ALGORITHM.into(),
            signature: self.sign(&challenge),
            challenge,
            maxnumber: self.difficulty,
            salt,
        })
    }

    /// Checks the `Altcha` header at `now` (Unix seconds): signature (in constant time), then
    /// solution, then expiry. Whether it was spent before is for the store to say.
    pub fn verify(&self, header: Option<&HeaderValue>, now: i64) -> Result<Solved, Refusal> {
        let header = header.ok_or(Refusal::Missing)?.as_bytes();
        if header.len() > MAX_HEADER_LEN {
            return Err(Refusal::Malformed);
        }
        let json = Base64::decode_vec(std::str::from_utf8(header).map_err(|_| Refusal::Malformed)?)
            .map_err(|_| Refusal::Malformed)?;
        let solution: Solution = serde_json::from_slice(&json).map_err(|_| Refusal::Malformed)?;
        if solution.algorithm != ALGORITHM {
            return Err(Refusal::Algorithm);
        }
        // `altcha-lib` compares lowercase hex as text; so uppercase is no signature here either.
        let mut signature = [0u8; 32];
        let signature = base16ct::lower::decode(&solution.signature, &mut signature)
            .map_err(|_| Refusal::Signature)?;
        let mut mac = self.mac.clone();
        mac.update(solution.challenge.as_bytes());
        mac.verify_slice(signature)
            .map_err(|_| Refusal::Signature)?;
        // The salt is bound to the signed challenge by the hash, so its expiry is trusted only
        // from here on: a salt with a later expiry does not solve the challenge.
        if hash_hex(&solution.salt, solution.number) != solution.challenge {
            return Err(Refusal::Unsolved);
        }
        let expires = expiry(&solution.salt).ok_or(Refusal::NoExpiry)?;
        if expires < now {
            return Err(Refusal::Expired);
        }
        Ok(Solved {
            challenge: solution.challenge,
            expires,
        })
    }

    fn sign(&self, challenge: &str) -> String {
        let mut mac = self.mac.clone();
        mac.update(challenge.as_bytes());
        base16ct::lower::encode_string(&mac.finalize().into_bytes())
    }
}

impl Solved {
    /// What the store records when this solution is spent on the envelope with `envelope_id`.
    /// Neither the challenge nor the envelope's id is stored: the row's key is a hash of the
    /// challenge, and its envelope a hash of both, so a retry of the same envelope is told from
    /// another without the row pointing at a stored envelope (and at the minute it arrived).
    pub fn spend(&self, envelope_id: &str) -> Spend {
        let mut on = Sha256::new();
        on.update(self.challenge.as_bytes());
        on.update(b".");
        on.update(envelope_id.as_bytes());
        Spend {
            challenge: base16ct::lower::encode_string(&Sha256::digest(self.challenge.as_bytes())),
            envelope: base16ct::lower::encode_string(&on.finalize()),
            expires: self.expires,
        }
    }
}

impl Solution {
    /// The header value a client sends: base64 (standard, padded: as `btoa`) of the JSON.
    pub fn to_header(&self) -> String {
        let json = serde_json::to_string(self).unwrap_or_default();
        Base64::encode_string(json.as_bytes())
    }
}

/// Lowercase hex SHA-256 of `salt` followed by `number` in decimal, as JavaScript's
/// `salt + number` writes it.
fn hash_hex(salt: &str, number: u64) -> String {
    let mut hash = Sha256::new();
    hash.update(salt.as_bytes());
    hash.update(number.to_string().as_bytes());
    base16ct::lower::encode_string(&hash.finalize())
}

/// The `expires` parameter of the salt's query (`<salt>?expires=<Unix seconds>&`).
fn expiry(salt: &str) -> Option<i64> {
    let (_, query) = salt.split_once('?')?;
    query
        .split('&')
        .find_map(|pair| pair.strip_prefix("expires="))
        .and_then(|seconds| seconds.parse().ok())
}

/// A proof-of-work key read from its file.
#[derive(Clone, PartialEq, Eq)]
pub struct KeyFile {
    /// The key: the file's text without its trailing line break.
    text: String,
    /// Whether this run created the file.
    pub created: bool,
}

impl KeyFile {
    /// The key, as `altcha-lib` takes it.
    pub fn text(&self) -> &str {
        &self.text
    }
}

/// Never shows the key.
impl fmt::Debug for KeyFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyFile {{ created: {}, text: *** }}", self.created)
    }
}

/// Reads the key in `path`; when there is no such file, creates it first with 32 random bytes
/// in hex, readable by its owner only (mode 0600). An existing file that others may read or
/// write is refused: whoever reads the key can forge solutions.
pub fn read_or_create_key(path: &Path) -> anyhow::Result<KeyFile> {
    let created = !path.exists() && create_key(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)
            .with_context(|| format!("cannot read the proof-of-work key {}", path.display()))?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            return Err(anyhow!(
                "the proof-of-work key {} is open to other users (mode {:04o}); \
                 make it its owner's only: chmod 600 {}",
                path.display(),
                mode & 0o7777,
                path.display()
            ));
        }
    }
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the proof-of-work key {}", path.display()))?;
    Ok(KeyFile {
        text: text.trim_end_matches(['\r', '\n']).to_string(),
        created,
    })
}

/// Writes a new key to `path`, whole or not at all: through a temporary file (mode 0600) beside
/// it that takes the name only while the name is free. `false` when another collector sharing
/// the file created it first.
fn create_key(path: &Path) -> anyhow::Result<bool> {
    let mut key = [0u8; 32];
    getrandom::fill(&mut key).map_err(|e| anyhow!("no random numbers for a key: {e}"))?;
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".formseal-pow-key-")
        .tempfile_in(&dir)
        .with_context(|| format!("cannot create a file in {}", dir.display()))?;
    std::io::Write::write_all(
        &mut tmp,
        format!("{}\n", base16ct::lower::encode_string(&key)).as_bytes(),
    )
    .and_then(|()| tmp.as_file().sync_all())
    .with_context(|| format!("cannot write the proof-of-work key {}", path.display()))?;
    match tmp.persist_noclobber(path) {
        Ok(_) => Ok(true),
        Err(e) if e.error.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(anyhow::Error::new(e.error).context(format!(
            "cannot create the proof-of-work key {}",
            path.display()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "a test key of thirty-two bytes!!";
    const NOW: i64 = 1_795_516_199;

    fn solve(challenge: &Challenge) -> Solution {
        let number = (0..=challenge.maxnumber)
            .find(|n| hash_hex(&challenge.salt, *n) == challenge.challenge)
            .unwrap();
        Solution {
            algorithm: challenge.algorithm.clone(),
            challenge: challenge.challenge.clone(),
            number,
            salt: challenge.salt.clone(),
            signature: challenge.signature.clone(),
        }
    }

    fn header(solution: &Solution) -> HeaderValue {
        HeaderValue::from_str(&solution.to_header()).unwrap()
    }

    #[test]
    fn a_challenge_has_altcha_v1_s_shape_and_its_solution_verifies() {
        let pow = ProofOfWork::new(KEY, 100).unwrap();
        let challenge = pow.challenge(NOW).unwrap();
        let json = serde_json::to_string(&challenge).unwrap();
        let members: Vec<&str> = ["algorithm", "challenge", "maxnumber", "salt", "signature"]
            .into_iter()
            .filter(|name| json.contains(&format!("\"{name}\":")))
            .collect();
        assert_eq!(members.len(), 5, "{json}");
        assert!(
            json.starts_with("{\"algorithm\":\"SHA-256\",\"challenge\":"),
            "{json}"
        );
        let (random, query) = challenge.salt.split_once('?').unwrap();
        assert_eq!(random.len(), 24);
        assert!(random.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(query, format!("expires={}&", NOW + 1200));
        assert_eq!(challenge.maxnumber, 100);

        let solved = pow.verify(Some(&header(&solve(&challenge))), NOW).unwrap();
        assert_eq!(solved.expires, NOW + 1200);
        assert_eq!(
            pow.verify(Some(&header(&solve(&challenge))), NOW + 1201),
            Err(Refusal::Expired)
        );
        assert!(
            pow.verify(Some(&header(&solve(&challenge))), NOW + 1200)
                .is_ok()
        );
    }

    #[test]
    fn every_kind_of_bad_solution_is_refused_for_its_own_reason() {
        let pow = ProofOfWork::new(KEY, 50).unwrap();
        let good = solve(&pow.challenge(NOW).unwrap());
        let refused = |change: &dyn Fn(&mut Solution)| {
            let mut solution = good.clone();
            change(&mut solution);
            pow.verify(Some(&header(&solution)), NOW).unwrap_err()
        };
        assert_eq!(pow.verify(None, NOW), Err(Refusal::Missing));
        assert_eq!(refused(&|s| s.number += 51), Refusal::Unsolved);
        assert_eq!(
            refused(&|s| s.algorithm = "SHA-1".into()),
            Refusal::Algorithm
        );
        assert_eq!(
            refused(&|s| s.signature = s.signature.to_uppercase()),
            Refusal::Signature
        );
        assert_eq!(refused(&|s| s.signature.truncate(10)), Refusal::Signature);
        // A later expiry written into the salt no longer hashes to the signed challenge.
        assert_eq!(
            refused(&|s| s.salt = s.salt.replace("expires=1", "expires=2")),
            Refusal::Unsolved
        );
        let other = ProofOfWork::new("another key, as long as the first", 50).unwrap();
        let theirs = solve(&other.challenge(NOW).unwrap());
        assert_eq!(
            pow.verify(Some(&header(&theirs)), NOW),
            Err(Refusal::Signature)
        );
        for junk in ["", "not base64!", "e30=", "bnVsbA==", &"A".repeat(2000)] {
            let value = HeaderValue::from_str(junk).unwrap();
            assert_eq!(
                pow.verify(Some(&value), NOW),
                Err(Refusal::Malformed),
                "{junk}"
            );
        }
    }

    #[test]
    fn a_signed_salt_without_expiry_is_refused() {
        let pow = ProofOfWork::new(KEY, 10).unwrap();
        let salt = "00112233445566778899aabb&".to_string();
        let challenge = hash_hex(&salt, 3);
        let solution = Solution {
            algorithm: ALGORITHM.into(),
            signature: pow.sign(&challenge),
            challenge,
            number: 3,
            salt,
        };
        assert_eq!(
            pow.verify(Some(&header(&solution)), NOW),
            Err(Refusal::NoExpiry)
        );
    }

    #[test]
    fn a_spend_names_neither_the_challenge_nor_the_envelope() {
        let pow = ProofOfWork::new(KEY, 10).unwrap();
        let solved = pow
            .verify(Some(&header(&solve(&pow.challenge(NOW).unwrap()))), NOW)
            .unwrap();
        let spend = solved.spend("record-id");
        assert_eq!(spend.challenge.len(), 64);
        assert_ne!(spend.challenge, solved.challenge);
        assert_ne!(spend.envelope, solved.spend("another-id").envelope);
        assert_eq!(spend.challenge, solved.spend("another-id").challenge);
        assert_eq!(spend.expires, NOW + 1200);
    }

    #[test]
    fn keys_and_difficulties_out_of_range_are_refused_and_never_shown() {
        assert!(ProofOfWork::new("short", 10).is_err());
        assert!(ProofOfWork::new(KEY, 0).is_err());
        assert!(ProofOfWork::new(KEY, MAX_DIFFICULTY + 1).is_err());
        let shown = format!("{:?}", ProofOfWork::new(KEY, 10).unwrap());
        assert!(!shown.contains("thirty"), "{shown}");
    }
}
