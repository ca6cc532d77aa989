//! The SQLite backend: one file, WAL journal, schema version in `PRAGMA user_version`.

use crate::{
    Ingested, Keyed, Party, Result, Store, StoreError, Ticket, columns, failure_from_columns,
    standing_data, standing_from,
};
use outcry_incident::{Failure, Standing};
use rusqlite::{Connection, OptionalExtension, params};

const SCHEMA_V1: &str = "
CREATE TABLE IF NOT EXISTS failures (
    key TEXT PRIMARY KEY,
    at INTEGER NOT NULL,
    recipient_domain TEXT NOT NULL,
    reason TEXT NOT NULL,
    status TEXT NOT NULL,
    sending_ip TEXT,
    blocklist TEXT,
    rejecting_org TEXT NOT NULL,
    template TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS failures_at ON failures (at);
CREATE TABLE IF NOT EXISTS tickets (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    party TEXT NOT NULL,
    number TEXT NOT NULL,
    incident TEXT
);
CREATE TABLE IF NOT EXISTS ticket_events (
    ticket_id INTEGER NOT NULL REFERENCES tickets (id),
    at INTEGER NOT NULL,
    status TEXT NOT NULL,
    note TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS claims (
    ticket_id INTEGER NOT NULL REFERENCES tickets (id),
    at INTEGER NOT NULL,
    fixed_at INTEGER NOT NULL,
    text TEXT NOT NULL
);
";

/// Version 2: blocklist standings of sending IPs.
const SCHEMA_V2: &str = "
CREATE TABLE IF NOT EXISTS standings (
    ip TEXT PRIMARY KEY,
    checked_at INTEGER NOT NULL,
    data TEXT NOT NULL
);
";

pub(crate) struct SqliteStore {
    conn: Connection,
    path: String,
}

impl SqliteStore {
    pub(crate) fn open(path: &str) -> Result<SqliteStore> {
        if let Some(dir) = std::path::Path::new(path).parent()
            && !dir.as_os_str().is_empty()
        {
            let _ = std::fs::create_dir_all(dir);
        }
        let err = |source| StoreError::Sqlite {
            path: path.to_string(),
            source,
        };
        let conn = Connection::open(path).map_err(err)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(err)?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(err)?;
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(err)?;
        if version < 1 {
            conn.execute_batch(SCHEMA_V1).map_err(err)?;
            conn.pragma_update(None, "user_version", 1).map_err(err)?;
        }
        if version < 2 {
            conn.execute_batch(SCHEMA_V2).map_err(err)?;
            conn.pragma_update(None, "user_version", 2).map_err(err)?;
        }
        Ok(SqliteStore {
            conn,
            path: path.to_string(),
        })
    }

    fn err(&self, source: rusqlite::Error) -> StoreError {
        StoreError::Sqlite {
            path: self.path.clone(),
            source,
        }
    }

    fn exists(&self, id: i64) -> Result<()> {
        let found: Option<i64> = self
            .conn
            .query_row("SELECT id FROM tickets WHERE id = $1", params![id], |r| {
                r.get(0)
            })
            .optional()
            .map_err(|e| self.err(e))?;
        found.map(|_| ()).ok_or(StoreError::NoTicket(id))
    }
}

impl Store for SqliteStore {
    fn ingest(&mut self, failures: &[Keyed]) -> Result<Ingested> {
        let path = self.path.clone();
        let err = |source| StoreError::Sqlite {
            path: path.clone(),
            source,
        };
        let tx = self.conn.transaction().map_err(err)?;
        let mut done = Ingested::default();
        {
            let mut stmt = tx
                .prepare_cached(
                    "INSERT INTO failures (key, at, recipient_domain, reason, status, sending_ip, blocklist, rejecting_org, template)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (key) DO NOTHING",
                )
                .map_err(err)?;
            for k in failures {
                let f = &k.failure;
                let (reason, ip, list) = columns(f);
                let n = stmt
                    .execute(params![
                        k.key,
                        f.at,
                        f.recipient_domain,
                        reason,
                        f.status,
                        ip,
                        list,
                        f.rejecting_org,
                        f.template
                    ])
                    .map_err(err)?;
                if n == 1 {
                    done.new += 1;
                } else {
                    done.known += 1;
                }
            }
        }
        tx.commit().map_err(err)?;
        Ok(done)
    }

    fn failures(&mut self) -> Result<Vec<Failure>> {
        let mut stmt = self
            .conn
            .prepare("SELECT at, recipient_domain, reason, status, sending_ip, blocklist, rejecting_org, template FROM failures ORDER BY at, key")
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, Option<String>>(4)?,
                    r.get::<_, Option<String>>(5)?,
                    r.get::<_, String>(6)?,
                    r.get::<_, String>(7)?,
                ))
            })
            .map_err(|e| StoreError::Sqlite {
                path: self.path.clone(),
                source: e,
            })?;
        let mut out = Vec::new();
        for row in rows {
            let (at, d, reason, status, ip, list, org, template) =
                row.map_err(|e| StoreError::Sqlite {
                    path: self.path.clone(),
                    source: e,
                })?;
            out.push(failure_from_columns(
                at, d, &reason, status, ip, list, org, template,
            )?);
        }
        Ok(out)
    }

    fn add_ticket(
        &mut self,
        party: Party,
        number: &str,
        incident: Option<&str>,
        at: i64,
    ) -> Result<i64> {
        self.conn
            .execute(
                "INSERT INTO tickets (party, number, incident) VALUES ($1, $2, $3)",
                params![party.as_str(), number, incident],
            )
            .map_err(|e| self.err(e))?;
        let id = self.conn.last_insert_rowid();
        self.update_ticket(id, "open", "opened", at)?;
        Ok(id)
    }

    fn update_ticket(&mut self, id: i64, status: &str, note: &str, at: i64) -> Result<()> {
        self.exists(id)?;
        self.conn
            .execute(
                "INSERT INTO ticket_events (ticket_id, at, status, note) VALUES ($1, $2, $3, $4)",
                params![id, at, status, note],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    fn add_claim(&mut self, id: i64, fixed_at: i64, text: &str, at: i64) -> Result<()> {
        self.exists(id)?;
        self.conn
            .execute(
                "INSERT INTO claims (ticket_id, at, fixed_at, text) VALUES ($1, $2, $3, $4)",
                params![id, at, fixed_at, text],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    fn tickets(&mut self) -> Result<Vec<Ticket>> {
        let map = |e| StoreError::Sqlite {
            path: self.path.clone(),
            source: e,
        };
        let mut tickets: Vec<Ticket> = {
            let mut stmt = self
                .conn
                .prepare("SELECT id, party, number, incident FROM tickets ORDER BY id")
                .map_err(map)?;
            let rows = stmt
                .query_map([], |r| {
                    Ok(Ticket {
                        id: r.get(0)?,
                        party: r.get(1)?,
                        number: r.get(2)?,
                        incident: r.get(3)?,
                        history: Vec::new(),
                        claims: Vec::new(),
                    })
                })
                .map_err(map)?;
            rows.collect::<std::result::Result<_, _>>().map_err(map)?
        };
        for t in &mut tickets {
            let mut stmt = self
                .conn
                .prepare_cached("SELECT at, status, note FROM ticket_events WHERE ticket_id = $1 ORDER BY at, rowid")
                .map_err(map)?;
            t.history = stmt
                .query_map(params![t.id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .map_err(map)?
                .collect::<std::result::Result<_, _>>()
                .map_err(map)?;
            let mut stmt = self
                .conn
                .prepare_cached(
                    "SELECT at, fixed_at, text FROM claims WHERE ticket_id = $1 ORDER BY at, rowid",
                )
                .map_err(map)?;
            t.claims = stmt
                .query_map(params![t.id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .map_err(map)?
                .collect::<std::result::Result<_, _>>()
                .map_err(map)?;
        }
        Ok(tickets)
    }

    fn put_standings(&mut self, standings: &[Standing]) -> Result<()> {
        let path = self.path.clone();
        let err = |source| StoreError::Sqlite {
            path: path.clone(),
            source,
        };
        let tx = self.conn.transaction().map_err(err)?;
        for st in standings {
            tx.execute(
                "INSERT INTO standings (ip, checked_at, data) VALUES ($1, $2, $3)
                 ON CONFLICT (ip) DO UPDATE SET checked_at = excluded.checked_at, data = excluded.data
                 WHERE excluded.checked_at >= standings.checked_at",
                params![st.ip.to_string(), st.checked_at, standing_data(st)],
            )
            .map_err(err)?;
        }
        tx.commit().map_err(err)
    }

    fn standings(&mut self) -> Result<Vec<Standing>> {
        let map = |e| StoreError::Sqlite {
            path: self.path.clone(),
            source: e,
        };
        let mut stmt = self
            .conn
            .prepare("SELECT data FROM standings ORDER BY ip")
            .map_err(map)?;
        let rows: Vec<String> = stmt
            .query_map([], |r| r.get(0))
            .map_err(map)?
            .collect::<std::result::Result<_, _>>()
            .map_err(map)?;
        rows.iter().map(|d| standing_from(d)).collect()
    }
}
