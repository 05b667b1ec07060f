//! What the workers learn and share: the learned duplicate rules of
//! `crate::crawl::dust` and the per-host block statistics of
//! `crate::repeated`, in the tables and formats of the SQLite state
//! (`store::dust`, `store::repeated`). Loaded when a worker starts, saved
//! when the SQLite state would save them. A host is leased to one worker at
//! a time, so the one saving a host's statistics is the one that counted
//! its pages last; a row this build cannot read is skipped, not misread.

use super::{PgError, PgStore};
use crate::crawl::dust::{Learned, Rewrite, Standing};
use crate::repeated::HostStats;

impl PgStore {
    /// Every learned rule, by host and rule.
    pub async fn load_dust(&self) -> Result<Vec<Learned>, PgError> {
        self.dust_of(None).await
    }

    /// The learned rules of one host name (a host just leased).
    pub async fn load_dust_of(&self, host: &str) -> Result<Vec<Learned>, PgError> {
        self.dust_of(Some(host)).await
    }

    async fn dust_of(&self, host: Option<&str>) -> Result<Vec<Learned>, PgError> {
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT host, rule, confirmations, standing FROM dust_rules
                 WHERE $1::text IS NULL OR host = $1 ORDER BY host, rule",
                &[&host],
            )
            .await
            .map_err(self.sql())?;
        Ok(rows
            .iter()
            .filter_map(|r| {
                Some(Learned {
                    host: r.get(0),
                    rewrite: Rewrite::from_key(r.get(1))?,
                    confirmations: u32::try_from(r.get::<_, i32>(2).max(0)).unwrap_or(0),
                    standing: Standing::from_name(r.get(3))?,
                })
            })
            .collect())
    }

    /// Keeps these rules as they stand now, in one transaction.
    pub async fn save_dust(&self, rules: &[Learned]) -> Result<(), PgError> {
        let mut client = self.client().await?;
        let sql = self.sql();
        let tx = client.transaction().await.map_err(&sql)?;
        for r in rules {
            let n = i32::try_from(r.confirmations).unwrap_or(i32::MAX);
            tx.execute(
                "INSERT INTO dust_rules (host, rule, confirmations, standing)
                 VALUES ($1, $2, $3, $4)
                 ON CONFLICT (host, rule) DO UPDATE
                     SET confirmations = excluded.confirmations, standing = excluded.standing",
                &[&r.host, &r.rewrite.key(), &n, &r.standing.name()],
            )
            .await
            .map_err(&sql)?;
        }
        tx.commit().await.map_err(&sql)
    }

    /// Every host's block statistics.
    pub async fn load_repeated(&self) -> Result<Vec<(String, HostStats)>, PgError> {
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT host, pages, keys FROM repeated_hosts ORDER BY host",
                &[],
            )
            .await
            .map_err(self.sql())?;
        Ok(rows
            .iter()
            .filter_map(|r| {
                let keys = crate::store::repeated::decode(r.get::<_, &[u8]>(2))?;
                let pages: i64 = r.get(1);
                Some((
                    r.get(0),
                    HostStats {
                        pages: pages.max(0) as u64,
                        keys,
                    },
                ))
            })
            .collect())
    }

    /// Saves these hosts' statistics, in one transaction.
    pub async fn save_repeated(&self, hosts: &[(&str, &HostStats)]) -> Result<(), PgError> {
        let mut client = self.client().await?;
        let sql = self.sql();
        let tx = client.transaction().await.map_err(&sql)?;
        for (host, stats) in hosts {
            let pages = i64::try_from(stats.pages).unwrap_or(i64::MAX);
            tx.execute(
                "INSERT INTO repeated_hosts (host, pages, keys) VALUES ($1, $2, $3)
                 ON CONFLICT (host) DO UPDATE SET pages = excluded.pages, keys = excluded.keys",
                &[host, &pages, &crate::store::repeated::encode(stats)],
            )
            .await
            .map_err(&sql)?;
        }
        tx.commit().await.map_err(&sql)
    }
}
