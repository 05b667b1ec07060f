//! The learned duplicate rules of `crate::crawl::dust` in the state, so that
//! a rerun skips a host's URL variants from its first page on, and never
//! relearns a rule a canonical once contradicted.
//!
//! One row per host and rule: the rule's key (`strip-slash`, `add-slash`,
//! `drop-param:NAME`), its confirming pages and its standing. A table of its
//! own, created when a state is opened: an older state gains it empty, an
//! older parkcrawl ignores it, and a row this build cannot read (a newer
//! rule kind or standing) is skipped rather than misread.

use rusqlite::params;

use super::{StateStore, StoreError};
use crate::crawl::dust::{Learned, Rewrite, Standing};

pub(super) const SCHEMA: &str = "
    CREATE TABLE IF NOT EXISTS dust_rules (
        host TEXT NOT NULL,
        rule TEXT NOT NULL,
        confirmations INTEGER NOT NULL,
        standing TEXT NOT NULL,
        PRIMARY KEY (host, rule)
    );";

impl StateStore {
    /// Every learned rule kept by earlier runs, by host and rule.
    pub fn load_dust(&self) -> Result<Vec<Learned>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT host, rule, confirmations, standing FROM dust_rules ORDER BY host, rule",
            )
            .map_err(self.sql())?;
        let rows: Vec<(String, String, i64, String)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .map_err(self.sql())?
            .collect::<Result<_, _>>()
            .map_err(self.sql())?;
        Ok(rows
            .into_iter()
            .filter_map(|(host, rule, n, standing)| {
                Some(Learned {
                    host,
                    rewrite: Rewrite::from_key(&rule)?,
                    confirmations: u32::try_from(n.max(0)).unwrap_or(u32::MAX),
                    standing: Standing::from_name(&standing)?,
                })
            })
            .collect())
    }

    /// Keeps these rules as they stand now, in one transaction.
    pub fn save_dust(&mut self, rules: &[Learned]) -> Result<(), StoreError> {
        let path = self.path.clone();
        let sql = super::sql_at(&path);
        let tx = self.conn.transaction().map_err(sql)?;
        {
            let mut stmt = tx
                .prepare(
                    "INSERT INTO dust_rules (host, rule, confirmations, standing)
                     VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT(host, rule) DO UPDATE SET confirmations = ?3, standing = ?4",
                )
                .map_err(sql)?;
            for r in rules {
                stmt.execute(params![
                    r.host,
                    r.rewrite.key(),
                    i64::from(r.confirmations),
                    r.standing.name()
                ])
                .map_err(sql)?;
            }
        }
        tx.commit().map_err(sql)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_survive_a_reopen_and_unknown_rows_are_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let slash = Learned {
            host: "a.cn".into(),
            rewrite: Rewrite::StripSlash,
            confirmations: 3,
            standing: Standing::Confirmed,
        };
        let mut param = Learned {
            host: "a.cn".into(),
            rewrite: Rewrite::DropParam("ref".into()),
            confirmations: 4,
            standing: Standing::Confirmed,
        };
        {
            let mut s = StateStore::open(&path).unwrap();
            assert!(s.load_dust().unwrap().is_empty());
            s.save_dust(&[slash.clone(), param.clone()]).unwrap();
            param.standing = Standing::Retracted;
            s.save_dust(std::slice::from_ref(&param)).unwrap();
            s.conn
                .execute(
                    "INSERT INTO dust_rules VALUES ('b.cn', 'lowercase', 9, 'confirmed'),
                     ('b.cn', 'add-slash', 9, 'doubtful')",
                    [],
                )
                .unwrap();
        }
        let s = StateStore::open(&path).unwrap();
        assert_eq!(s.load_dust().unwrap(), [param, slash]);
    }
}
