//! The per-host block statistics of `crate::repeated` in the state, so that
//! a rerun filters `repeated-block`s from its first record on instead of
//! holding each host's first pages back again.
//!
//! One row per host: its page count and its key table as one blob. A new
//! table, created when a state is opened: a state written before it simply
//! starts without statistics, and an older parkcrawl ignores the table. The
//! blob starts with a format byte; a row in a format this build does not
//! know is skipped (that host starts afresh) rather than misread.
//!
//! The writer thread saves a host's row only when every page its statistics
//! count is written and committed (`Gate::take_settled`), so a kill never
//! leaves a page counted that the next run fetches and counts again. It may
//! lose the count of pages committed since the last save: statistics a few
//! pages short, never a record written twice.

use std::collections::HashMap;

use rusqlite::params;

use super::{StateStore, StoreError};
use crate::repeated::{HostStats, Tally};

pub(super) const SCHEMA: &str = "
    CREATE TABLE IF NOT EXISTS repeated_hosts (
        host TEXT PRIMARY KEY,
        pages INTEGER NOT NULL,
        keys BLOB NOT NULL
    );";

/// The blob's format: entries of (u64 key, u32 pages, u32 slack),
/// little-endian, after this byte.
const FORMAT: u8 = 1;
const ENTRY: usize = 16;

impl StateStore {
    /// Every host's statistics saved by earlier runs.
    pub fn load_repeated(&self) -> Result<Vec<(String, HostStats)>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT host, pages, keys FROM repeated_hosts ORDER BY host")
            .map_err(self.sql())?;
        let rows: Vec<(String, i64, Vec<u8>)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .map_err(self.sql())?
            .collect::<Result<_, _>>()
            .map_err(self.sql())?;
        Ok(rows
            .into_iter()
            .filter_map(|(host, pages, blob)| {
                let keys = decode(&blob)?;
                Some((
                    host,
                    HostStats {
                        pages: pages.max(0) as u64,
                        keys,
                    },
                ))
            })
            .collect())
    }

    /// Saves these hosts' statistics, in one transaction.
    pub fn save_repeated(&mut self, hosts: &[(&str, &HostStats)]) -> Result<(), StoreError> {
        let path = self.path.clone();
        let sql = super::sql_at(&path);
        let tx = self.conn.transaction().map_err(sql)?;
        {
            let mut stmt = tx
                .prepare(
                    "INSERT INTO repeated_hosts (host, pages, keys) VALUES (?1, ?2, ?3)
                     ON CONFLICT(host) DO UPDATE SET pages = ?2, keys = ?3",
                )
                .map_err(sql)?;
            for (host, stats) in hosts {
                stmt.execute(params![host, stats.pages as i64, encode(stats)])
                    .map_err(sql)?;
            }
        }
        tx.commit().map_err(sql)
    }
}

pub(super) fn encode(stats: &HostStats) -> Vec<u8> {
    let mut entries: Vec<(&u64, &Tally)> = stats.keys.iter().collect();
    // Sorted: the same statistics give the same bytes.
    entries.sort_unstable_by_key(|(k, _)| **k);
    let mut b = Vec::with_capacity(1 + entries.len() * ENTRY);
    b.push(FORMAT);
    for (k, t) in entries {
        b.extend_from_slice(&k.to_le_bytes());
        b.extend_from_slice(&t.pages.to_le_bytes());
        b.extend_from_slice(&t.slack.to_le_bytes());
    }
    b
}

pub(super) fn decode(b: &[u8]) -> Option<HashMap<u64, Tally>> {
    let (&format, rest) = b.split_first()?;
    if format != FORMAT || rest.len() % ENTRY != 0 {
        return None;
    }
    Some(
        rest.chunks_exact(ENTRY)
            .map(|e| {
                let u32_at = |i: usize| u32::from_le_bytes(e[i..i + 4].try_into().expect("4"));
                (
                    u64::from_le_bytes(e[..8].try_into().expect("8")),
                    Tally {
                        pages: u32_at(8),
                        slack: u32_at(12),
                    },
                )
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statistics_survive_a_reopen_and_unknown_formats_are_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let mut a = HostStats::default();
        a.observe(&[1, 2, u64::MAX]);
        a.observe(&[1]);
        let mut b = HostStats::default();
        for i in 0..150 {
            b.observe(&[7, 1000 + i]);
        }
        {
            let mut s = StateStore::open(&path).unwrap();
            assert!(s.load_repeated().unwrap().is_empty());
            s.save_repeated(&[("a.cn", &a), ("b.cn", &b)]).unwrap();
            a.observe(&[2]);
            s.save_repeated(&[("a.cn", &a)]).unwrap();
        }
        let s = StateStore::open(&path).unwrap();
        assert_eq!(
            s.load_repeated().unwrap(),
            [("a.cn".to_string(), a.clone()), ("b.cn".to_string(), b)]
        );
        s.conn
            .execute(
                "UPDATE repeated_hosts SET keys = X'02' WHERE host = 'b.cn'",
                [],
            )
            .unwrap();
        assert_eq!(s.load_repeated().unwrap(), [("a.cn".to_string(), a)]);
    }

    #[test]
    fn a_state_from_before_the_table_opens_and_gains_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.db");
        {
            let c = rusqlite::Connection::open(&path).unwrap();
            c.execute_batch(
                "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
                 INSERT INTO meta VALUES ('cycle', '3');",
            )
            .unwrap();
        }
        let mut s = StateStore::open(&path).unwrap();
        assert!(s.load_repeated().unwrap().is_empty());
        s.save_repeated(&[("a.cn", &HostStats::default())]).unwrap();
        assert_eq!(s.meta("cycle").unwrap().as_deref(), Some("3"));
    }
}
