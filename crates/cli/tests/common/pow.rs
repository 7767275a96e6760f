//! Proof of work in the collector's tests: a test key, challenges solved by brute force as a
//! visitor's browser solves them (at a low difficulty, so tests stay fast), and payloads no
//! honest client sends (expired, another key), signed here with a key the test names.

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use formseal_cli::serve::ProofOfWork;
use formseal_cli::serve::pow::{self, Challenge, Solution};
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

use super::collector::send;

/// The collector's key in tests (the text `altcha-lib` takes); never a real one.
pub(crate) const POW_KEY: &str = "TEST proof-of-work key, for tests only";

/// A difficulty that solves in a millisecond or so.
pub(crate) const DIFFICULTY: u64 = 1000;

/// Proof of work with [`POW_KEY`] at [`DIFFICULTY`].
pub(crate) fn test_pow() -> ProofOfWork {
    ProofOfWork::new(POW_KEY, DIFFICULTY).unwrap()
}

/// `GET /v1/challenge`, parsed.
pub(crate) async fn fetch_challenge(app: &Router) -> Challenge {
    let request = Request::get(pow::CHALLENGE_PATH)
        .body(Body::empty())
        .unwrap();
    let answer = send(app, request).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    serde_json::from_str(&answer.body).unwrap()
}

/// A fresh challenge from `app`, solved: the `Altcha` header's value.
pub(crate) async fn solution(app: &Router) -> String {
    solve(&fetch_challenge(app).await).to_header()
}

/// Finds the number by trying each from 0, as `altcha-lib`'s `solveChallenge` does.
pub(crate) fn solve(challenge: &Challenge) -> Solution {
    let number = (0..=challenge.maxnumber)
        .find(|n| hash_hex(&challenge.salt, *n) == challenge.challenge)
        .unwrap_or_else(|| panic!("no number up to {} solves it", challenge.maxnumber));
    Solution {
        algorithm: challenge.algorithm.clone(),
        challenge: challenge.challenge.clone(),
        number,
        salt: challenge.salt.clone(),
        signature: challenge.signature.clone(),
    }
}

/// A solved challenge signed with `key` whose salt (`salt` then `?expires=...&`) expires at
/// `expires` (Unix seconds): what `altcha-lib`'s `createChallenge` would make with that key.
pub(crate) fn forge(key: &str, salt: &str, expires: i64) -> Solution {
    let salt = format!("{salt}?expires={expires}&");
    let number = 7;
    let challenge = hash_hex(&salt, number);
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key.as_bytes()).unwrap();
    mac.update(challenge.as_bytes());
    Solution {
        algorithm: "SHA-256".into(),
        signature: base16ct::lower::encode_string(&mac.finalize().into_bytes()),
        challenge,
        number,
        salt,
    }
}

/// `request` with the `Altcha` header set to `header`.
pub(crate) fn with_pow(mut request: Request<Body>, header: &str) -> Request<Body> {
    request
        .headers_mut()
        .insert(pow::HEADER, header.parse().unwrap());
    request
}

/// Unix seconds now.
pub(crate) fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        .try_into()
        .unwrap()
}

fn hash_hex(salt: &str, number: u64) -> String {
    base16ct::lower::encode_string(&Sha256::digest(format!("{salt}{number}").as_bytes()))
}
