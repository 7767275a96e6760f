//! A private temporary SQLite database for the commands that need every record before they can
//! write the first row (an export's columns are every field found; the consent log is sorted by
//! subject and time), so that they hold none of them in memory. SQLite keeps a small spool in
//! memory and moves a large one to a file only this process can open, deleted when the spool is
//! dropped (also when the process dies: the file has no name left).

use anyhow::Context;
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Values kept in arrival order, each under a sort key and an id.
pub(crate) struct Spool {
    conn: Connection,
    next: i64,
}

impl Spool {
    /// An empty spool.
    pub(crate) fn new() -> anyhow::Result<Self> {
        // The empty name is SQLite's private temporary database.
        let conn = Connection::open("").context("cannot create a temporary database")?;
        conn.execute_batch(
            "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;
             CREATE TABLE spool (seq INTEGER PRIMARY KEY, sort TEXT NOT NULL, id TEXT NOT NULL,
                                 value TEXT NOT NULL);
             BEGIN;",
        )
        .context("cannot set up a temporary database")?;
        Ok(Self { conn, next: 0 })
    }

    /// Keeps `value` under `sort` (the order [`Spool::for_each_sorted`] hands values back in;
    /// equal keys keep the order they were pushed in) and `id` (what [`Spool::find`] looks for).
    pub(crate) fn push(
        &mut self,
        sort: &str,
        id: &str,
        value: &impl Serialize,
    ) -> anyhow::Result<()> {
        self.next += 1;
        let json = serde_json::to_string(value)?;
        self.conn
            .prepare_cached("INSERT INTO spool (seq, sort, id, value) VALUES (?1, ?2, ?3, ?4)")?
            .execute(params![self.next, sort, id, json])
            .context("cannot write to the temporary database")?;
        Ok(())
    }

    /// The first value pushed with `id`.
    pub(crate) fn find<T: DeserializeOwned>(&self, id: &str) -> anyhow::Result<Option<T>> {
        let json: Option<String> = self
            .conn
            .query_row(
                "SELECT value FROM spool WHERE id = ?1 ORDER BY seq LIMIT 1",
                params![id],
                |row| row.get(0),
            )
            .optional()?;
        json.map(|json| serde_json::from_str(&json).map_err(Into::into))
            .transpose()
    }

    /// Hands every value back in the order of its sort key, then of arrival.
    pub(crate) fn for_each_sorted<T: DeserializeOwned>(
        &self,
        each: &mut dyn FnMut(T) -> anyhow::Result<()>,
    ) -> anyhow::Result<()> {
        let mut statement = self
            .conn
            .prepare("SELECT value FROM spool ORDER BY sort, seq")?;
        let mut rows = statement.query([])?;
        while let Some(row) = rows.next().context("cannot read the temporary database")? {
            let json: String = row.get(0)?;
            each(serde_json::from_str(&json)?)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_come_back_by_key_then_in_arrival_order() {
        let mut spool = Spool::new().unwrap();
        for (sort, id, value) in [("b", "1", 1), ("a", "2", 2), ("b", "3", 3), ("a", "4", 4)] {
            spool.push(sort, id, &value).unwrap();
        }
        let mut seen = Vec::new();
        spool
            .for_each_sorted(&mut |v: i32| {
                seen.push(v);
                Ok(())
            })
            .unwrap();
        assert_eq!(seen, [2, 4, 1, 3]);
        assert_eq!(spool.find::<i32>("3").unwrap(), Some(3));
        assert_eq!(spool.find::<i32>("none").unwrap(), None);
    }
}
