//! Records in commit order, and the export cursors that remember, per
//! name, how far an export has written them.

use super::{PgError, PgStore};

/// A record (or tombstone) as its JSON line (SCHEMA), the bytes `crawl`
/// writes, without the newline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRecord {
    pub id: String,
    pub deleted: bool,
    pub line: String,
}

/// How far an export cursor has got: every record up to `seq` was written,
/// the last batch to `output` (a file's path; `None`: stdout), which was
/// `offset` bytes long after it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cursor {
    pub seq: i64,
    pub output: Option<String>,
    pub offset: Option<i64>,
}

impl PgStore {
    /// Up to `limit` records after number `after`, in commit order.
    pub async fn records_after(
        &self,
        after: i64,
        limit: i64,
    ) -> Result<Vec<(i64, String)>, PgError> {
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT seq, line FROM records WHERE seq > $1 ORDER BY seq LIMIT $2",
                &[&after, &limit],
            )
            .await
            .map_err(self.sql())?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    /// The cursor `name` (all zero when it has exported nothing yet).
    pub async fn cursor(&self, name: &str) -> Result<Cursor, PgError> {
        let client = self.client().await?;
        let row = client
            .query_opt(
                "SELECT seq, output, offset_ FROM export_cursors WHERE name = $1",
                &[&name],
            )
            .await
            .map_err(self.sql())?;
        Ok(row.map_or_else(Cursor::default, |r| Cursor {
            seq: r.get(0),
            output: r.get(1),
            offset: r.get(2),
        }))
    }

    /// Stores the cursor after a flushed batch. Never moves it back: two
    /// exports racing on one name cannot undo each other's progress.
    pub async fn save_cursor(&self, name: &str, c: &Cursor) -> Result<(), PgError> {
        let client = self.client().await?;
        client
            .execute(
                "INSERT INTO export_cursors (name, seq, output, offset_) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (name) DO UPDATE
                     SET seq = excluded.seq, output = excluded.output,
                         offset_ = excluded.offset_, updated_at = now()
                     WHERE export_cursors.seq <= excluded.seq",
                &[&name, &c.seq, &c.output, &c.offset],
            )
            .await
            .map_err(self.sql())?;
        Ok(())
    }
}
