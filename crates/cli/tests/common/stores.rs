//! The stores the store-level and collector tests run against: a new SQLite file always, and a
//! new PostgreSQL database when `FORMSEAL_TEST_POSTGRES` names a server (`cargo xtask test`
//! starts one and sets it). Under `CI=true` a missing server fails the test instead of skipping
//! the PostgreSQL half silently.

use std::sync::atomic::{AtomicUsize, Ordering};

use formseal_cli::serve::Database;
use tempfile::TempDir;

/// The URL of a PostgreSQL server's admin database, e.g. `postgres://postgres@127.0.0.1:5432/postgres`.
pub(crate) const POSTGRES_ENV: &str = "FORMSEAL_TEST_POSTGRES";

/// A store that exists for one test: a SQLite file in a temporary directory, or a PostgreSQL
/// database that is dropped afterwards.
pub(crate) struct TestStore {
    /// `sqlite` or `postgres`, for assertion messages.
    pub(crate) kind: &'static str,
    /// Where it is, as `--db` takes it.
    pub(crate) db: Database,
    /// The directory of the SQLite file, or a scratch directory (backups) for PostgreSQL.
    pub(crate) dir: TempDir,
    /// For PostgreSQL: the admin URL and the database's name, to drop it.
    drop_from: Option<(String, String)>,
}

impl TestStore {
    /// A second, empty store of the same kind (to restore a backup into).
    pub(crate) fn sibling(&self) -> TestStore {
        match &self.drop_from {
            Some((admin, _)) => new_postgres(admin),
            None => sqlite(),
        }
    }

    /// The `--db` argument.
    pub(crate) fn arg(&self) -> String {
        match &self.db {
            Database::Sqlite(path) => path.display().to_string(),
            Database::Postgres(url) => url.clone(),
        }
    }
}

impl Drop for TestStore {
    fn drop(&mut self) {
        if let Some((admin, name)) = &self.drop_from {
            // Best effort: the server is thrown away after the run anyway.
            let _ = admin_sql(admin, &format!("DROP DATABASE {name} WITH (FORCE)"));
        }
    }
}

/// Every kind of store this run tests: SQLite, and PostgreSQL when a server is given.
pub(crate) fn test_stores() -> Vec<TestStore> {
    let mut stores = vec![sqlite()];
    stores.extend(postgres_store());
    stores
}

/// A new SQLite store.
pub(crate) fn sqlite() -> TestStore {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::Sqlite(dir.path().join("collector.sqlite"));
    TestStore {
        kind: "sqlite",
        db,
        dir,
        drop_from: None,
    }
}

/// A new PostgreSQL database on the test server; `None` when there is none (see
/// [`postgres_admin_url`]).
pub(crate) fn postgres_store() -> Option<TestStore> {
    postgres_admin_url().map(|admin| new_postgres(&admin))
}

/// The test server's admin URL; `None` (with a note) outside CI when no server is given, a panic
/// under `CI=true`.
pub(crate) fn postgres_admin_url() -> Option<String> {
    match std::env::var(POSTGRES_ENV) {
        Ok(admin) => Some(admin),
        Err(_) if std::env::var("CI").is_ok_and(|ci| ci == "true") => panic!(
            "{POSTGRES_ENV} is not set under CI=true, so the PostgreSQL tests would not run; \
             `cargo xtask test` starts a server and sets it"
        ),
        Err(_) => {
            eprintln!("note: {POSTGRES_ENV} is not set; this test runs on SQLite only");
            None
        }
    }
}

fn new_postgres(admin: &str) -> TestStore {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let name = format!(
        "formseal_test_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    admin_sql(admin, &format!("CREATE DATABASE {name}"))
        .unwrap_or_else(|e| panic!("{POSTGRES_ENV}={admin}: {e}"));
    // The admin URL with its database replaced: scheme://authority/name.
    let (scheme, rest) = admin.split_once("://").unwrap();
    let authority = rest.split(['/', '?']).next().unwrap();
    TestStore {
        kind: "postgres",
        db: Database::Postgres(format!("{scheme}://{authority}/{name}")),
        dir: tempfile::tempdir().unwrap(),
        drop_from: Some((admin.to_string(), name)),
    }
}

/// Runs `sql` on the admin database. On a thread of its own: the synchronous `postgres` client
/// must not run on an async test's thread.
fn admin_sql(admin: &str, sql: &str) -> Result<(), postgres::Error> {
    let (admin, sql) = (admin.to_string(), sql.to_string());
    std::thread::spawn(move || {
        postgres::Client::connect(&admin, postgres::NoTls)?.batch_execute(&sql)
    })
    .join()
    .unwrap()
}
