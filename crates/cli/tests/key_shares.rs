//! Keys that survive a lost laptop: `keygen --shares N --threshold K` writes N recovery shares,
//! `key recover` rebuilds the exact private.pem from any K of them (owner-only, never over a
//! file) and refuses too few, a share of another key and a damaged share without writing
//! anything; `key check` says whether a key opens what a form seals.

#![allow(clippy::unwrap_used)]

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

mod common;
use common::{formseal, repo, run, test_key};

/// `keygen --bits 2048 --shares 5 --threshold 3` into `dir/name`; returns the directory.
fn keygen_with_shares(dir: &Path, name: &str) -> PathBuf {
    let keys = dir.join(name);
    run(
        formseal()
            .args([
                "keygen",
                "--bits",
                "2048",
                "--shares",
                "5",
                "--threshold",
                "3",
                "--out",
            ])
            .arg(&keys),
        0,
    );
    keys
}

fn share(keys: &Path, n: u8) -> PathBuf {
    keys.join(format!("share-{n}-of-5.txt"))
}

fn mode(path: &Path) -> u32 {
    fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn recover(out: &Path, shares: &[PathBuf], code: i32) -> (String, String) {
    run(
        formseal()
            .args(["key", "recover", "--out"])
            .arg(out)
            .args(shares),
        code,
    )
}

#[test]
fn any_three_of_five_shares_rebuild_the_exact_private_key() {
    let dir = tempfile::tempdir().unwrap();
    let keys = keygen_with_shares(dir.path(), "keys");
    for n in 1..=5 {
        let text = fs::read_to_string(share(&keys, n)).unwrap();
        assert_eq!(mode(&share(&keys, n)), 0o600, "share {n}");
        assert!(text.contains(&format!("share: {n} of 5")), "{text}");
        assert!(
            !text.contains("PRIVATE KEY"),
            "a share holds no key text:\n{text}"
        );
    }
    let original = fs::read_to_string(keys.join("private.pem")).unwrap();
    for (i, picked) in [[1, 2, 3], [5, 3, 1], [2, 4, 5]].iter().enumerate() {
        let out = dir.path().join(format!("recovered-{i}.pem"));
        let shares: Vec<PathBuf> = picked.iter().map(|&n| share(&keys, n)).collect();
        let (kid, _) = recover(&out, &shares, 0);
        assert_eq!(fs::read_to_string(&out).unwrap(), original);
        assert_eq!(mode(&out), 0o600);
        let jwk = fs::read_to_string(keys.join("public.jwk.json")).unwrap();
        assert!(jwk.contains(kid.trim()), "the kid printed is the key's");
    }
}

#[test]
fn too_few_shares_another_keys_share_or_a_damaged_one_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let keys = keygen_with_shares(dir.path(), "keys");
    let other = keygen_with_shares(dir.path(), "other");
    let out = dir.path().join("recovered.pem");

    let (_, stderr) = recover(&out, &[share(&keys, 1), share(&keys, 2)], 1);
    assert!(
        stderr.contains("needs 3 different shares; got 2"),
        "{stderr}"
    );
    assert!(stderr.contains("hint:"), "{stderr}");

    let (_, stderr) = recover(
        &out,
        &[share(&keys, 1), share(&keys, 2), share(&other, 3)],
        1,
    );
    assert!(stderr.contains("is a share of key"), "{stderr}");

    let damaged = dir.path().join("damaged.txt");
    let text = fs::read_to_string(share(&keys, 3)).unwrap();
    fs::write(&damaged, text.replacen("data: ", "data: x", 1)).unwrap();
    let (_, stderr) = recover(&out, &[share(&keys, 1), share(&keys, 2), damaged], 1);
    assert!(
        stderr.contains("damaged.txt is not an intact formseal key share"),
        "{stderr}"
    );

    assert!(!out.exists(), "nothing is written when recovery fails");
}

#[test]
fn recover_never_overwrites_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let keys = keygen_with_shares(dir.path(), "keys");
    let out = dir.path().join("private.pem");
    fs::write(&out, "keep me").unwrap();
    let (_, stderr) = recover(
        &out,
        &[share(&keys, 1), share(&keys, 2), share(&keys, 3)],
        1,
    );
    assert!(stderr.contains("refusing to overwrite"), "{stderr}");
    assert_eq!(fs::read_to_string(&out).unwrap(), "keep me");
}

#[test]
fn keygen_refuses_a_threshold_above_the_shares_before_generating() {
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("keys");
    let (_, stderr) = run(
        formseal()
            .args(["keygen", "--shares", "2", "--threshold", "3", "--out"])
            .arg(&keys),
        1,
    );
    assert!(stderr.contains("could never be recovered"), "{stderr}");
    assert!(!keys.exists(), "nothing was generated");
}

#[test]
fn key_check_says_whether_a_key_opens_what_a_form_seals() {
    let form = repo().join("examples/newsletter.json");
    let (stdout, _) = run(
        formseal()
            .args(["key", "check", "--key"])
            .arg(test_key("rsa2048.pem"))
            .arg("--form")
            .arg(&form),
        0,
    );
    assert!(stdout.starts_with("ok: the key "), "{stdout}");
    assert!(stdout.contains("form \"newsletter\" version 1"), "{stdout}");

    let (_, stderr) = run(
        formseal()
            .args(["key", "check", "--key"])
            .arg(test_key("rsa3072.pem"))
            .arg("--form")
            .arg(&form),
        1,
    );
    assert!(
        stderr.contains("does not open what form \"newsletter\""),
        "{stderr}"
    );
    assert!(stderr.contains("hint:"), "{stderr}");
}
