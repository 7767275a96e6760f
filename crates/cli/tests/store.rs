//! The store behind the collector, the same suite on SQLite and on PostgreSQL (see
//! `common/stores.rs`): idempotent inserts, order and `--since`, reopening, refusing a database
//! formseal did not make, two collectors on one store, purge, erasure and the append-only audit
//! log, the webhook queue, a form's response limit, proof-of-work solutions spent once, and
//! `formseal backup` while envelopes keep arriving, then `formseal restore` into a new store with
//! every record back.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use formseal_cli::serve::Database;
use formseal_cli::serve::store::{
    AuditEntry, ConfirmMail, Cursor, CursorMoved, Expired, Inserted, MailState, NewEnvelope,
    Selection, Spend, Spent, Store, StoredEnvelope,
};
use formseal_core::time::Date;

mod common;
use common::stores::{TestStore, postgres_store, test_stores};

fn date(s: &str) -> Date {
    Date::parse(s).unwrap()
}

fn all(store: &dyn Store, since: Option<Date>) -> Vec<StoredEnvelope> {
    let mut rows = Vec::new();
    store
        .for_each(since, &mut |row| {
            rows.push(row);
            Ok(())
        })
        .unwrap();
    rows
}

/// A stand-in for a JWE: the store never looks inside.
fn envelope<'a>(id: &'a str, jwe: &'a str, kids: &'a [String], day: &str) -> NewEnvelope<'a> {
    NewEnvelope {
        id,
        form: "f",
        kids,
        received: date(day),
        expires: date("2028-01-01"),
        jwe,
        deliver: false,
    }
}

#[test]
fn insert_at_most_counts_the_form_and_answers_a_duplicate_first() {
    for t in test_stores() {
        let store = t.db.open().unwrap();
        let kids = Vec::new();
        let of_form = |id, form| NewEnvelope {
            form,
            deliver: true,
            ..envelope(id, "x.y", &kids, "2026-01-02")
        };
        assert_eq!(store.insert(&of_form("other", "g")).unwrap(), Inserted::New);
        for id in ["a", "b"] {
            let inserted = store.insert_at_most(&of_form(id, "f"), 2).unwrap();
            assert_eq!(inserted, Inserted::New, "{}", t.kind);
        }
        // Full for a new envelope, while a stored one is still a duplicate: also for a closed
        // form (a limit of 0).
        let third = store.insert_at_most(&of_form("c", "f"), 2).unwrap();
        assert_eq!(third, Inserted::Full, "{}", t.kind);
        assert_eq!(
            store.insert_at_most(&of_form("b", "f"), 2).unwrap(),
            Inserted::Duplicate
        );
        assert_eq!(
            store.insert_at_most(&of_form("a", "f"), 0).unwrap(),
            Inserted::Duplicate
        );
        assert_eq!(
            store.insert_at_most(&of_form("d", "g"), 0).unwrap(),
            Inserted::Full
        );
        // Only envelopes of the form count, and what is stored is queued as `insert` queues it.
        assert_eq!(
            store.insert_at_most(&of_form("e", "g"), 2).unwrap(),
            Inserted::New
        );
        assert_eq!(store.count().unwrap(), 4, "{}", t.kind);
        assert_eq!(store.queued_deliveries().unwrap(), 4, "{}", t.kind);
    }
}

#[test]
fn insert_is_idempotent_and_reads_back_in_order_from_a_day() {
    for t in test_stores() {
        let store = t.db.open().unwrap();
        let kids = vec!["k1".to_string(), "k2".to_string()];
        let first = envelope("a", "x.y", &kids, "2026-01-02");
        assert_eq!(store.insert(&first).unwrap(), Inserted::New, "{}", t.kind);
        assert_eq!(store.insert(&first).unwrap(), Inserted::Duplicate);
        // Arrival order, not id order.
        for (id, day) in [("c", "2026-01-03"), ("b", "2026-01-03")] {
            assert_eq!(
                store.insert(&envelope(id, "x.z", &kids, day)).unwrap(),
                Inserted::New
            );
        }
        assert_eq!(store.count().unwrap(), 3);
        drop(store);

        // Reopening keeps the data and does not migrate twice; a reader sees the same.
        let store = t.db.open().unwrap();
        let reader = t.db.open_existing().unwrap();
        let ids = |since| -> Vec<String> {
            all(reader.as_ref(), since)
                .into_iter()
                .map(|row| row.id)
                .collect()
        };
        assert_eq!(ids(None), ["a", "c", "b"], "{}", t.kind);
        assert_eq!(ids(Some(date("2026-01-03"))), ["c", "b"], "{}", t.kind);
        assert_eq!(ids(Some(date("2026-02-01"))), Vec::<String>::new());
        let row = all(reader.as_ref(), None).remove(0);
        assert_eq!(
            (row.form.as_str(), row.received.as_str(), row.jwe.as_str()),
            ("f", "2026-01-02", "x.y"),
            "{}",
            t.kind
        );
        assert_eq!(store.count().unwrap(), 3);
    }
}

#[test]
fn reading_refuses_a_store_formseal_did_not_make() {
    for t in test_stores() {
        // A new SQLite path does not exist; a new PostgreSQL database has no formseal tables.
        let err = t.db.open_existing().map(drop).unwrap_err();
        let shown = format!("{err:#}");
        match t.kind {
            "postgres" => assert!(
                shown.contains("not a formseal collector database"),
                "{shown}"
            ),
            _ => assert!(shown.contains("does not exist"), "{shown}"),
        }
    }
}

/// Two collector processes behind a load balancer: each has its own store handle on the same
/// database, both receive the same envelopes at once (a client retrying through the other
/// one), and every envelope is stored exactly once.
#[test]
fn two_collectors_share_one_store_and_each_envelope_is_stored_once() {
    for t in test_stores() {
        let one = t.db.open().unwrap();
        let two = t.db.open().unwrap();
        let ids: Vec<String> = (0..200).map(|i| format!("id-{i}")).collect();
        let ids = Arc::new(ids);
        let workers: Vec<_> = [one.clone(), two.clone(), one.clone(), two.clone()]
            .into_iter()
            .map(|store| {
                let ids = Arc::clone(&ids);
                std::thread::spawn(move || {
                    let kids = vec!["k".to_string()];
                    let mut new = Vec::new();
                    for id in ids.iter() {
                        let e = envelope(id, id, &kids, "2026-11-24");
                        if store.insert(&e).unwrap() == Inserted::New {
                            new.push(id.clone());
                        }
                    }
                    new
                })
            })
            .collect();
        let mut created: Vec<String> = workers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect();
        created.sort();
        let mut expected = ids.to_vec();
        expected.sort();
        assert_eq!(created, expected, "{}: each id New exactly once", t.kind);
        assert_eq!(one.count().unwrap(), 200);
        assert_eq!(two.count().unwrap(), 200);
    }
}

/// A solution's spend as `pow::Solved::spend` makes it (here with readable stand-ins).
fn spend(challenge: &str, envelope: &str, expires: i64) -> Spend {
    Spend {
        challenge: challenge.into(),
        envelope: envelope.into(),
        expires,
    }
}

#[test]
fn a_solution_is_spent_once_but_again_on_the_same_envelope() {
    for t in test_stores() {
        let store = t.db.open().unwrap();
        let now = 1_000;
        let first = store.spend_solution(&spend("c1", "a", 2_000), now).unwrap();
        assert_eq!(first, Spent::OnThisEnvelope, "{}", t.kind);
        // The widget's retry of the same bytes after a lost answer.
        let retry = store.spend_solution(&spend("c1", "a", 2_000), now).unwrap();
        assert_eq!(retry, Spent::OnThisEnvelope, "{}", t.kind);
        let replay = store.spend_solution(&spend("c1", "b", 2_000), now).unwrap();
        assert_eq!(replay, Spent::OnAnother, "{}", t.kind);
        let other = store.spend_solution(&spend("c2", "b", 2_000), now).unwrap();
        assert_eq!(other, Spent::OnThisEnvelope, "{}", t.kind);
        // A replay changed nothing: the first envelope still owns it after reopening.
        drop(store);
        let store = t.db.open().unwrap();
        assert_eq!(
            store.spend_solution(&spend("c1", "a", 2_000), now).unwrap(),
            Spent::OnThisEnvelope
        );
        assert_eq!(
            store.spend_solution(&spend("c1", "c", 2_000), now).unwrap(),
            Spent::OnAnother
        );
    }
}

#[test]
fn spent_solutions_are_forgotten_once_their_challenge_expired() {
    for t in test_stores() {
        let store = t.db.open().unwrap();
        store.spend_solution(&spend("old", "a", 100), 50).unwrap();
        store.spend_solution(&spend("young", "a", 300), 50).unwrap();
        // A spend at 200 clears what expired before it: "old", not "young".
        store.spend_solution(&spend("new", "a", 400), 200).unwrap();
        // Seen from before the clean-up (no collector would ask: the challenge expired), "old"
        // is free again and "young" still spent.
        let old = store.spend_solution(&spend("old", "b", 100), 50).unwrap();
        assert_eq!(old, Spent::OnThisEnvelope, "{}: its row is gone", t.kind);
        let young = store.spend_solution(&spend("young", "b", 300), 50).unwrap();
        assert_eq!(young, Spent::OnAnother, "{}", t.kind);
    }
}

/// Collectors sharing a store receive one solution with different envelopes at once (an
/// attacker fanning it out): exactly one envelope gets it, whichever collector it reached.
#[test]
fn of_collectors_spending_one_solution_at_once_exactly_one_wins() {
    for t in test_stores() {
        let one = t.db.open().unwrap();
        let two = t.db.open().unwrap();
        let workers: Vec<_> = [one.clone(), two.clone(), one, two]
            .into_iter()
            .enumerate()
            .map(|(worker, store)| {
                std::thread::spawn(move || {
                    (0..100)
                        .filter(|i| {
                            let mine = spend(&format!("c{i}"), &format!("e{worker}"), 2_000);
                            store.spend_solution(&mine, 1_000).unwrap() == Spent::OnThisEnvelope
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let mut won: Vec<i32> = workers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect();
        won.sort();
        assert_eq!(
            won,
            (0..100).collect::<Vec<_>>(),
            "{}: one winner each",
            t.kind
        );
    }
}

fn formseal() -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_formseal"));
    cmd.env("NO_COLOR", "1");
    cmd
}

fn by_id(store: &dyn Store) -> BTreeMap<String, StoredEnvelope> {
    all(store, None)
        .into_iter()
        .map(|row| (row.id.clone(), row))
        .collect()
}

/// `formseal backup` runs while a writer keeps inserting; `formseal restore` into a new store
/// gives back exactly the records of the snapshot: everything written before the backup
/// started, each with the same id, day and bytes, and nothing that was not in the source.
#[test]
fn backup_while_inserting_then_restore_gives_every_record_back() {
    for t in test_stores() {
        let store = t.db.open().unwrap();
        let kids = vec!["k".to_string()];
        for i in 0..300 {
            let (id, jwe) = (format!("before-{i}"), format!("a.b.{i}.\u{e9}"));
            store
                .insert(&envelope(&id, &jwe, &kids, "2026-11-23"))
                .unwrap();
        }
        let stop = Arc::new(AtomicBool::new(false));
        let writer = std::thread::spawn({
            let (store, stop) = (Arc::clone(&store), Arc::clone(&stop));
            move || {
                let kids = vec!["k".to_string()];
                let mut i = 0;
                while !stop.load(Ordering::Relaxed) {
                    let (id, jwe) = (format!("during-{i}"), format!("c.d.{i}"));
                    store
                        .insert(&envelope(&id, &jwe, &kids, "2026-11-24"))
                        .unwrap();
                    i += 1;
                }
                i
            }
        });
        let file = t.dir.path().join("backup.file");
        let backup = formseal()
            .args(["backup", "--db", &t.arg(), "--out"])
            .arg(&file)
            .output()
            .unwrap();
        stop.store(true, Ordering::Relaxed);
        let written_during = writer.join().unwrap();
        let stderr = String::from_utf8_lossy(&backup.stderr);
        assert!(backup.status.success(), "{}: {stderr}", t.kind);
        assert!(stderr.contains("backed up "), "{stderr}");

        let again = formseal()
            .args(["backup", "--db", &t.arg(), "--out"])
            .arg(&file)
            .output()
            .unwrap();
        assert!(!again.status.success(), "a backup never overwrites");
        assert!(String::from_utf8_lossy(&again.stderr).contains("exists"));

        let fresh: TestStore = t.sibling();
        let restore = formseal()
            .arg("restore")
            .arg(&file)
            .args(["--db", &fresh.arg()])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&restore.stderr);
        assert!(restore.status.success(), "{}: {stderr}", t.kind);

        let source = by_id(store.as_ref());
        let restored = by_id(fresh.db.open_existing().unwrap().as_ref());
        assert!(stderr.contains(&format!("restored {} records", restored.len())));
        for i in 0..300 {
            assert!(restored.contains_key(&format!("before-{i}")), "{}", t.kind);
        }
        for (id, row) in &restored {
            assert_eq!(Some(row), source.get(id), "{}: {id} identical", t.kind);
        }
        eprintln!(
            "{}: {} written during the backup, {} of them in it",
            t.kind,
            written_during,
            restored.len() - 300
        );

        // A restore never goes into a store that has data.
        let over = formseal()
            .arg("restore")
            .arg(&file)
            .args(["--db", &t.arg()])
            .output()
            .unwrap();
        assert!(!over.status.success(), "{}", t.kind);
        let stderr = String::from_utf8_lossy(&over.stderr);
        assert!(
            stderr.contains("hint: restore into a new store"),
            "{stderr}"
        );
    }
}

#[test]
fn a_backup_of_one_kind_does_not_restore_into_the_other() {
    let stores = test_stores();
    for t in &stores {
        t.db.open().unwrap();
        let file = t.dir.path().join("backup.file");
        let backup = formseal()
            .args(["backup", "--db", &t.arg(), "--out"])
            .arg(&file)
            .output()
            .unwrap();
        assert!(backup.status.success());
        for other in stores.iter().filter(|o| o.kind != t.kind) {
            let target = other.sibling();
            let out = formseal()
                .arg("restore")
                .arg(&file)
                .args(["--db", &target.arg()])
                .output()
                .unwrap();
            assert!(!out.status.success());
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(stderr.contains("is not a backup of a"), "{stderr}");
        }
    }
}

fn audit(action: &str) -> AuditEntry {
    AuditEntry {
        at: "2026-11-24T10:11:12Z".into(),
        actor: "anna".into(),
        action: action.into(),
        records: 0,
        detail: String::new(),
    }
}

/// Runs one SQL statement straight on the store's database, past formseal.
fn raw_sql(db: &Database, sql: &str) -> Result<(), String> {
    match db {
        Database::Sqlite(path) => rusqlite::Connection::open(path)
            .and_then(|conn| conn.execute_batch(sql))
            .map_err(|e| e.to_string()),
        Database::Postgres(url) => {
            let (url, sql) = (url.clone(), sql.to_string());
            // The synchronous client on a thread of its own, as in `common/stores.rs`.
            std::thread::spawn(move || {
                postgres::Client::connect(&url, postgres::NoTls)
                    .and_then(|mut client| client.batch_execute(&sql))
                    .map_err(|e| format!("{e:?}"))
            })
            .join()
            .unwrap()
        }
    }
}

#[test]
fn purge_deletes_what_expired_and_the_audit_log_is_append_only() {
    for t in test_stores() {
        let store = t.db.open().unwrap();
        let kids = vec!["k1".to_string()];
        for (id, expires) in [
            ("old", "2026-11-23"),
            ("today", "2026-11-24"),
            ("later", "2026-11-25"),
        ] {
            let e = NewEnvelope {
                expires: date(expires),
                ..envelope(id, "x.y", &kids, "2026-01-01")
            };
            store.insert(&e).unwrap();
        }
        // A row from before retention dates were recorded.
        raw_sql(
            &t.db,
            "INSERT INTO envelopes (id, form, kids, received, jwe)
             VALUES ('undated', 'f', 'k1', '2025-01-01', 'x.y')",
        )
        .unwrap();

        let today = date("2026-11-24");
        let found = store.expired(today).unwrap();
        let expected = Expired {
            expired: 2,
            undated: 1,
            unconfirmed: 0,
        };
        assert_eq!(found, expected, "{}", t.kind);
        assert_eq!(store.count().unwrap(), 4, "counting deletes nothing");
        assert_eq!(store.purge(today, &audit("purge")).unwrap(), 2);
        let left: Vec<String> = all(store.as_ref(), None)
            .into_iter()
            .map(|e| e.id)
            .collect();
        assert_eq!(left, ["later", "undated"], "{}", t.kind);
        assert_eq!(store.purge(today, &audit("purge")).unwrap(), 0);
        store.append_audit(&audit("export")).unwrap();

        let mut log = Vec::new();
        store
            .for_each_audit(&mut |line| {
                log.push((line.seq, line.entry.action, line.entry.records));
                Ok(())
            })
            .unwrap();
        let expected = [
            (1, "purge".to_string(), 2),
            (2, "purge".to_string(), 0),
            (3, "export".to_string(), 0),
        ];
        assert_eq!(log, expected, "{}", t.kind);

        for sql in [
            "UPDATE audit_log SET actor = 'nobody'",
            "DELETE FROM audit_log WHERE seq = 1",
            "DELETE FROM audit_log",
        ] {
            let err = raw_sql(&t.db, sql).unwrap_err();
            assert!(
                err.contains("the audit log is append-only"),
                "{}: {sql}: {err}",
                t.kind
            );
        }
    }
}

fn mail(record: &str, token: &str, due: Option<&str>) -> ConfirmMail {
    ConfirmMail {
        record: record.into(),
        token: token.into(),
        due: due.map(date),
        at: "2026-11-24T10:11:12Z".into(),
    }
}

#[test]
fn a_mail_is_claimed_once_and_a_failed_one_can_be_claimed_again() {
    for t in test_stores() {
        let store = t.db.open().unwrap();
        assert!(
            store.claim_mail(&mail("r1", "t1", None)).unwrap(),
            "{}",
            t.kind
        );
        assert!(
            !store.claim_mail(&mail("r1", "t1", None)).unwrap(),
            "{}",
            t.kind
        );
        assert_eq!(store.mails().unwrap()["r1"], MailState::Sending);
        // The server certainly did not take it: the claim goes, a later run sends it.
        store.mail_done("r1", false).unwrap();
        assert!(store.mails().unwrap().is_empty(), "{}", t.kind);
        assert!(
            store.claim_mail(&mail("r1", "t1", None)).unwrap(),
            "{}",
            t.kind
        );
        store.mail_done("r1", true).unwrap();
        assert_eq!(store.mails().unwrap()["r1"], MailState::Sent);
        // A sent mail is never unclaimed, whatever a confused caller says.
        store.mail_done("r1", false).unwrap();
        assert_eq!(store.mails().unwrap()["r1"], MailState::Sent, "{}", t.kind);
    }
}

#[test]
fn a_confirmation_keeps_its_first_hour() {
    for t in test_stores() {
        let store = t.db.open().unwrap();
        assert!(store.confirm("h1", "2026-11-24T10:00:00Z").unwrap());
        assert!(!store.confirm("h1", "2026-11-25T11:00:00Z").unwrap());
        let confirmations = store.confirmations().unwrap();
        assert_eq!(confirmations.len(), 1, "{}", t.kind);
        assert_eq!(confirmations["h1"], "2026-11-24T10:00:00Z", "{}", t.kind);
    }
}

#[test]
fn purge_deletes_sign_ups_mailed_and_not_confirmed_in_time_and_nothing_else() {
    for t in test_stores() {
        let store = t.db.open().unwrap();
        let kids = vec!["k1".to_string()];
        for id in [
            "confirmed",
            "late",
            "waiting",
            "no-deadline",
            "unmailed",
            "unsure",
        ] {
            store
                .insert(&envelope(id, id, &kids, "2026-11-01"))
                .unwrap();
        }
        let claims = [
            mail("confirmed", "t-confirmed", Some("2026-11-08")),
            mail("late", "t-late", Some("2026-11-08")),
            mail("waiting", "t-waiting", Some("2026-11-30")),
            mail("no-deadline", "t-none", None),
            mail("unsure", "t-unsure", Some("2026-11-08")),
        ];
        for claim in &claims {
            assert!(store.claim_mail(claim).unwrap());
        }
        for record in ["confirmed", "late", "waiting", "no-deadline"] {
            store.mail_done(record, true).unwrap();
        }
        store
            .confirm("t-confirmed", "2026-11-02T09:00:00Z")
            .unwrap();

        let today = date("2026-11-24");
        let found = store.expired(today).unwrap();
        let expected = Expired {
            expired: 0,
            undated: 0,
            unconfirmed: 1,
        };
        assert_eq!(found, expected, "{}", t.kind);
        assert_eq!(
            store.purge(today, &audit("purge")).unwrap(),
            1,
            "{}",
            t.kind
        );
        let left: Vec<String> = all(store.as_ref(), None)
            .into_iter()
            .map(|e| e.id)
            .collect();
        // A mail that may never have gone out ("unsure") does not count against its record.
        assert_eq!(
            left,
            ["confirmed", "waiting", "no-deadline", "unmailed", "unsure"],
            "{}",
            t.kind
        );
        assert!(!store.mails().unwrap().contains_key("late"), "{}", t.kind);

        // Erasing a confirmed record takes its confirmation with it.
        store
            .delete(&["confirmed".to_string()], &audit("erase"))
            .unwrap();
        assert!(store.confirmations().unwrap().is_empty(), "{}", t.kind);
        assert!(
            !store.mails().unwrap().contains_key("confirmed"),
            "{}",
            t.kind
        );
    }
}

#[test]
fn delete_removes_the_given_records_and_their_queued_deliveries_and_logs_it() {
    for t in test_stores() {
        let store = t.db.open().unwrap();
        let kids = vec!["k1".to_string()];
        for id in ["a", "b", "c"] {
            let e = NewEnvelope {
                deliver: true,
                ..envelope(id, "x.y", &kids, "2026-01-01")
            };
            store.insert(&e).unwrap();
        }
        let ids = vec!["a".to_string(), "c".to_string(), "missing".to_string()];
        assert_eq!(
            store.delete(&ids, &audit("erase")).unwrap(),
            2,
            "{}",
            t.kind
        );
        let left: Vec<String> = all(store.as_ref(), None)
            .into_iter()
            .map(|e| e.id)
            .collect();
        assert_eq!(left, ["b"], "{}", t.kind);
        assert_eq!(store.queued_deliveries().unwrap(), 1, "{}", t.kind);
        let mut log = Vec::new();
        store
            .for_each_audit(&mut |line| {
                log.push((line.entry.action, line.entry.records));
                Ok(())
            })
            .unwrap();
        assert_eq!(log, [("erase".to_string(), 2)], "{}", t.kind);
    }
}

#[test]
fn the_outbox_leases_retries_gives_up_and_requeues() {
    for t in test_stores() {
        let store = t.db.open().unwrap();
        let kids = vec!["k1".to_string()];
        for (id, deliver) in [("a", true), ("b", true), ("quiet", false)] {
            let jwe = format!("jwe-{id}");
            let e = NewEnvelope {
                deliver,
                ..envelope(id, &jwe, &kids, "2026-01-01")
            };
            store.insert(&e).unwrap();
            // A duplicate post queues nothing more.
            store.insert(&e).unwrap();
        }
        let claim = |now| -> Vec<(String, String, u32)> {
            let mut claimed: Vec<_> = store
                .claim_deliveries(now, 100, 10)
                .unwrap()
                .into_iter()
                .map(|d| (d.id, d.jwe, d.attempts))
                .collect();
            claimed.sort();
            claimed
        };
        let both = [
            ("a".to_string(), "jwe-a".to_string(), 1),
            ("b".to_string(), "jwe-b".to_string(), 1),
        ];
        assert_eq!(claim(1_000), both, "{}", t.kind);
        assert!(claim(1_050).is_empty(), "{}: leased until 1100", t.kind);
        store.delivered("a").unwrap();
        assert_eq!(store.queued_deliveries().unwrap(), 1);
        store.delivery_failed("b", Some(2_000), "HTTP 500").unwrap();
        assert!(claim(1_999).is_empty());
        assert_eq!(claim(2_000), [("b".into(), "jwe-b".into(), 2)]);
        store.delivery_failed("b", None, "timed out").unwrap();
        assert!(claim(i64::MAX).is_empty(), "a dead letter is not retried");
        let dead = store.dead_letters().unwrap();
        assert_eq!(dead.len(), 1, "{}", t.kind);
        let shown = (
            dead[0].id.as_str(),
            dead[0].attempts,
            dead[0].last_error.as_str(),
        );
        assert_eq!(shown, ("b", 2, "timed out"), "{}", t.kind);
        assert_eq!(store.requeue(Some("a")).unwrap(), 0, "a was delivered");
        assert_eq!(store.requeue(None).unwrap(), 1);
        assert!(store.dead_letters().unwrap().is_empty());
        assert_eq!(claim(3_000), [("b".into(), "jwe-b".into(), 1)]);
    }
}

fn ids_in(store: &dyn Store, cursor: &Cursor) -> Vec<String> {
    let mut ids = Vec::new();
    store
        .for_each_selected(
            Selection {
                since: None,
                span: Some(cursor.span),
            },
            &mut |row| {
                ids.push(row.id);
                Ok(())
            },
        )
        .unwrap();
    ids
}

fn audit_actions(store: &dyn Store) -> Vec<(String, String)> {
    let mut log = Vec::new();
    store
        .for_each_audit(&mut |line| {
            log.push((line.entry.action, line.entry.detail));
            Ok(())
        })
        .unwrap();
    log
}

/// `export --new`'s cursor: it starts before everything, hands a span once, moves only with its
/// audit line, refuses a stale move, and a position is never given twice, not even after the
/// newest envelope was erased (SQLite would give its rowid again).
#[test]
fn an_export_cursor_hands_every_envelope_once() {
    for t in test_stores() {
        let store = t.db.open().unwrap();
        let kids = vec!["k".to_string()];
        let empty = store.cursor("hubspot:newsletter").unwrap();
        assert_eq!((empty.span.after, empty.span.up_to), (0, 0), "{}", t.kind);
        assert!(ids_in(&*store, &empty).is_empty());

        for id in ["a", "b", "c"] {
            store
                .insert(&envelope(id, id, &kids, "2026-11-24"))
                .unwrap();
        }
        let first = store.cursor("hubspot:newsletter").unwrap();
        assert_eq!(ids_in(&*store, &first), ["a", "b", "c"], "{}", t.kind);
        assert_eq!(
            store
                .count_selected(Selection {
                    since: None,
                    span: Some(first.span)
                })
                .unwrap(),
            3
        );
        // Another cursor is another destination: it starts at 0 too.
        assert_eq!(store.cursor("mailchimp").unwrap().span.after, 0);
        store
            .advance_cursor(
                &first,
                &AuditEntry {
                    detail: "cursor hubspot:newsletter".into(),
                    ..audit("export")
                },
            )
            .unwrap();
        let second = store.cursor("hubspot:newsletter").unwrap();
        assert_eq!(second.span.after, first.span.up_to);
        assert!(
            ids_in(&*store, &second).is_empty(),
            "{}: nothing new",
            t.kind
        );

        // A stale cursor (another export moved it meanwhile) moves nothing and logs nothing.
        let err = store.advance_cursor(&first, &audit("export")).unwrap_err();
        assert!(err.downcast_ref::<CursorMoved>().is_some(), "{err:#}");
        assert_eq!(audit_actions(&*store).len(), 1, "{}", t.kind);

        // The newest envelope is erased, a new one arrives: it is new to the cursor.
        store.delete(&["c".to_string()], &audit("erase")).unwrap();
        store
            .insert(&envelope("d", "d", &kids, "2026-11-25"))
            .unwrap();
        let third = store.cursor("hubspot:newsletter").unwrap();
        assert_eq!(ids_in(&*store, &third), ["d"], "{}", t.kind);
        assert!(third.span.after < third.span.up_to);
    }
}

/// Two exports at once read the same cursor: exactly one of them may move it.
#[test]
fn of_two_exports_at_once_only_one_moves_the_cursor() {
    for t in test_stores() {
        let kids = vec!["k".to_string()];
        let store = t.db.open().unwrap();
        store
            .insert(&envelope("a", "a", &kids, "2026-11-24"))
            .unwrap();
        let seen: Vec<_> = (0..2)
            .map(|_| t.db.open().unwrap().cursor("csv").unwrap())
            .collect();
        let outcomes: Vec<bool> = seen
            .into_iter()
            .map(|cursor| {
                let db = t.db.clone();
                std::thread::spawn(move || {
                    let store = db.open().unwrap();
                    store.advance_cursor(&cursor, &audit("export")).is_ok()
                })
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|h| h.join().unwrap())
            .collect();
        assert_eq!(
            outcomes.iter().filter(|ok| **ok).count(),
            1,
            "{}: {outcomes:?}",
            t.kind
        );
        assert_eq!(audit_actions(&*store).len(), 1);
    }
}

/// On PostgreSQL, collectors' inserts commit in any order: a cursor read while an insert is
/// still under way waits for it, so the envelope with the smaller number is not skipped.
#[test]
fn a_postgres_cursor_waits_for_inserts_under_way() {
    let Some(t) = postgres_store() else { return };
    let store = t.db.open().unwrap();
    let kids = vec!["k".to_string()];
    let Database::Postgres(url) = t.db.clone() else {
        unreachable!()
    };
    // A collector's insert that has taken its number and not committed yet.
    let (started, wait_started) = std::sync::mpsc::channel();
    let (commit, wait_commit) = std::sync::mpsc::channel::<()>();
    let slow = std::thread::spawn(move || {
        let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        let mut tx = client.transaction().unwrap();
        tx.batch_execute(
            "INSERT INTO envelopes (id, form, kids, received, jwe) \
             VALUES ('slow', 'f', 'k', '2026-11-24', 'x.y')",
        )
        .unwrap();
        started.send(()).unwrap();
        wait_commit.recv().unwrap();
        tx.commit().unwrap();
    });
    wait_started.recv().unwrap();
    // A later insert commits first.
    store
        .insert(&envelope("fast", "fast", &kids, "2026-11-24"))
        .unwrap();
    let reader = {
        let db = t.db.clone();
        std::thread::spawn(move || db.open().unwrap().cursor("csv").unwrap())
    };
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(
        !reader.is_finished(),
        "the cursor waits for the insert under way"
    );
    commit.send(()).unwrap();
    slow.join().unwrap();
    let cursor = reader.join().unwrap();
    assert_eq!(ids_in(&*store, &cursor), ["slow", "fast"]);
}
