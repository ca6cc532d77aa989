//! The hub's storage: SQLite (one file, the default) or PostgreSQL (for
//! several stateless hub processes on one database). Every query is written
//! once, with `$n` parameters, over the small [`Tx`] interface both
//! backends implement; all SQL is parameterised.

use std::sync::Mutex;

/// A value bound to or read from a query.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    /// An integer.
    I(i64),
    /// Text.
    T(String),
    /// NULL.
    N,
}

impl Val {
    /// The integer, or 0.
    pub fn i(&self) -> i64 {
        match self {
            Val::I(i) => *i,
            _ => 0,
        }
    }
    /// The text, or "".
    pub fn t(&self) -> &str {
        match self {
            Val::T(s) => s,
            _ => "",
        }
    }
    /// The text, if not NULL.
    pub fn opt(&self) -> Option<String> {
        match self {
            Val::T(s) => Some(s.clone()),
            _ => None,
        }
    }
}

impl From<i64> for Val {
    fn from(i: i64) -> Val {
        Val::I(i)
    }
}
impl From<&str> for Val {
    fn from(s: &str) -> Val {
        Val::T(s.to_string())
    }
}
impl From<String> for Val {
    fn from(s: String) -> Val {
        Val::T(s)
    }
}
impl From<Option<String>> for Val {
    fn from(s: Option<String>) -> Val {
        s.map(Val::T).unwrap_or(Val::N)
    }
}

/// A storage failure.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// SQLite said no.
    #[error("SQLite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// PostgreSQL said no.
    #[error("PostgreSQL: {0}")]
    Postgres(#[from] postgres::Error),
    /// A unique constraint was violated.
    #[error("already taken")]
    Conflict,
}

/// One transaction: statements run inside it and commit together.
pub trait Tx {
    /// Run a statement; returns the rows changed.
    fn exec(&mut self, sql: &str, params: &[Val]) -> Result<u64, DbError>;
    /// Run a query; returns its rows.
    fn query(&mut self, sql: &str, params: &[Val]) -> Result<Vec<Vec<Val>>, DbError>;
    /// Serialise work on `key` across hub processes until the transaction
    /// ends (PostgreSQL advisory lock; SQLite transactions are serial).
    fn lock(&mut self, key: i64) -> Result<(), DbError>;
}

const SQLITE_SCHEMA: &str = "
PRAGMA journal_mode = WAL;
PRAGMA synchronous = NORMAL;
CREATE TABLE IF NOT EXISTS orgs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    token_hash TEXT UNIQUE,
    challenge_domain TEXT,
    challenge TEXT,
    verified_domain TEXT UNIQUE,
    created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS joint (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL,
    provider TEXT,
    family TEXT NOT NULL,
    scope TEXT NOT NULL,
    manual INTEGER NOT NULL,
    first_seen INTEGER NOT NULL,
    last_seen INTEGER NOT NULL,
    orgs INTEGER NOT NULL,
    verified INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    ack_reference TEXT,
    ack_text TEXT,
    ack_at INTEGER
);
CREATE INDEX IF NOT EXISTS joint_key ON joint (key, last_seen);
CREATE INDEX IF NOT EXISTS joint_public ON joint (orgs, last_seen);
CREATE TABLE IF NOT EXISTS joint_orgs (
    joint_id INTEGER NOT NULL,
    org_id INTEGER NOT NULL,
    first_seen INTEGER NOT NULL,
    PRIMARY KEY (joint_id, org_id)
);
CREATE INDEX IF NOT EXISTS joint_orgs_org ON joint_orgs (org_id);
CREATE TABLE IF NOT EXISTS submissions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id INTEGER NOT NULL,
    local_ref TEXT NOT NULL,
    joint_id INTEGER NOT NULL,
    kind TEXT NOT NULL,
    submitted_at INTEGER NOT NULL,
    first_seen INTEGER NOT NULL,
    last_seen INTEGER NOT NULL,
    data TEXT NOT NULL,
    UNIQUE (org_id, local_ref)
);
CREATE INDEX IF NOT EXISTS submissions_joint ON submissions (joint_id);
";

const PG_SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS orgs (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL,
    token_hash TEXT UNIQUE,
    challenge_domain TEXT,
    challenge TEXT,
    verified_domain TEXT UNIQUE,
    created_at BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS joint (
    id BIGSERIAL PRIMARY KEY,
    key TEXT NOT NULL,
    provider TEXT,
    family TEXT NOT NULL,
    scope TEXT NOT NULL,
    manual BIGINT NOT NULL,
    first_seen BIGINT NOT NULL,
    last_seen BIGINT NOT NULL,
    orgs BIGINT NOT NULL,
    verified BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    ack_reference TEXT,
    ack_text TEXT,
    ack_at BIGINT
);
CREATE INDEX IF NOT EXISTS joint_key ON joint (key, last_seen);
CREATE INDEX IF NOT EXISTS joint_public ON joint (orgs, last_seen);
CREATE TABLE IF NOT EXISTS joint_orgs (
    joint_id BIGINT NOT NULL,
    org_id BIGINT NOT NULL,
    first_seen BIGINT NOT NULL,
    PRIMARY KEY (joint_id, org_id)
);
CREATE INDEX IF NOT EXISTS joint_orgs_org ON joint_orgs (org_id);
CREATE TABLE IF NOT EXISTS submissions (
    id BIGSERIAL PRIMARY KEY,
    org_id BIGINT NOT NULL,
    local_ref TEXT NOT NULL,
    joint_id BIGINT NOT NULL,
    kind TEXT NOT NULL,
    submitted_at BIGINT NOT NULL,
    first_seen BIGINT NOT NULL,
    last_seen BIGINT NOT NULL,
    data TEXT NOT NULL,
    UNIQUE (org_id, local_ref)
);
CREATE INDEX IF NOT EXISTS submissions_joint ON submissions (joint_id);
";

/// The database: a SQLite connection or a small pool of PostgreSQL ones.
pub enum Db {
    /// One SQLite connection (SQLite serialises writers anyway).
    Sqlite(Mutex<rusqlite::Connection>),
    /// PostgreSQL connections, taken and returned per transaction.
    Postgres {
        /// Idle connections.
        pool: Mutex<Vec<postgres::Client>>,
        /// Where to open more.
        url: String,
    },
}

impl Db {
    /// Open `url` (`postgres://...` or a SQLite file path) and create the
    /// tables if needed.
    pub fn open(url: &str) -> Result<Db, DbError> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let mut c = postgres::Client::connect(url, postgres::NoTls)?;
            // Two hub processes starting together must not race on DDL.
            let mut tx = c.transaction()?;
            tx.execute("SELECT pg_advisory_xact_lock(7361)", &[])?;
            tx.batch_execute(PG_SCHEMA)?;
            tx.commit()?;
            Ok(Db::Postgres {
                pool: Mutex::new(vec![c]),
                url: url.to_string(),
            })
        } else {
            if let Some(dir) = std::path::Path::new(url).parent()
                && !dir.as_os_str().is_empty()
            {
                let _ = std::fs::create_dir_all(dir);
            }
            let c = rusqlite::Connection::open(url)?;
            c.busy_timeout(std::time::Duration::from_secs(5))?;
            c.execute_batch(SQLITE_SCHEMA)?;
            Ok(Db::Sqlite(Mutex::new(c)))
        }
    }

    /// Run `f` in one transaction; commit when it returns `Ok`.
    pub fn tx<T>(&self, f: impl FnOnce(&mut dyn Tx) -> Result<T, DbError>) -> Result<T, DbError> {
        match self {
            Db::Sqlite(m) => {
                let mut c = m.lock().unwrap_or_else(|p| p.into_inner());
                let tx = c.transaction()?;
                let mut w = SqliteTx(tx);
                let out = f(&mut w)?;
                w.0.commit()?;
                Ok(out)
            }
            Db::Postgres { pool, url } => {
                let taken = pool.lock().unwrap_or_else(|p| p.into_inner()).pop();
                let mut client = match taken {
                    Some(c) if !c.is_closed() => c,
                    _ => postgres::Client::connect(url, postgres::NoTls)?,
                };
                let result = (|| {
                    let tx = client.transaction()?;
                    let mut w = PgTx(tx);
                    let out = f(&mut w)?;
                    w.0.commit()?;
                    Ok(out)
                })();
                let mut idle = pool.lock().unwrap_or_else(|p| p.into_inner());
                if idle.len() < 16 {
                    idle.push(client);
                }
                result
            }
        }
    }
}

struct SqliteTx<'a>(rusqlite::Transaction<'a>);

fn to_sql(v: &Val) -> rusqlite::types::Value {
    match v {
        Val::I(i) => rusqlite::types::Value::Integer(*i),
        Val::T(s) => rusqlite::types::Value::Text(s.clone()),
        Val::N => rusqlite::types::Value::Null,
    }
}

fn sqlite_err(e: rusqlite::Error) -> DbError {
    match e {
        rusqlite::Error::SqliteFailure(f, _)
            if f.code == rusqlite::ErrorCode::ConstraintViolation =>
        {
            DbError::Conflict
        }
        e => DbError::Sqlite(e),
    }
}

impl Tx for SqliteTx<'_> {
    fn exec(&mut self, sql: &str, params: &[Val]) -> Result<u64, DbError> {
        let mut stmt = self.0.prepare_cached(sql).map_err(sqlite_err)?;
        let n = stmt
            .execute(rusqlite::params_from_iter(params.iter().map(to_sql)))
            .map_err(sqlite_err)?;
        Ok(n as u64)
    }

    fn query(&mut self, sql: &str, params: &[Val]) -> Result<Vec<Vec<Val>>, DbError> {
        let mut stmt = self.0.prepare_cached(sql).map_err(sqlite_err)?;
        let cols = stmt.column_count();
        let mut rows = stmt
            .query(rusqlite::params_from_iter(params.iter().map(to_sql)))
            .map_err(sqlite_err)?;
        let mut out = Vec::new();
        while let Some(r) = rows.next().map_err(sqlite_err)? {
            let mut row = Vec::with_capacity(cols);
            for i in 0..cols {
                row.push(match r.get_ref(i).map_err(sqlite_err)? {
                    rusqlite::types::ValueRef::Integer(i) => Val::I(i),
                    rusqlite::types::ValueRef::Real(f) => Val::I(f as i64),
                    rusqlite::types::ValueRef::Text(t) => {
                        Val::T(String::from_utf8_lossy(t).into_owned())
                    }
                    rusqlite::types::ValueRef::Blob(_) | rusqlite::types::ValueRef::Null => Val::N,
                });
            }
            out.push(row);
        }
        Ok(out)
    }

    fn lock(&mut self, _key: i64) -> Result<(), DbError> {
        Ok(())
    }
}

struct PgTx<'a>(postgres::Transaction<'a>);

fn pg_params(params: &[Val]) -> Vec<Box<dyn postgres::types::ToSql + Sync>> {
    params
        .iter()
        .map(|v| -> Box<dyn postgres::types::ToSql + Sync> {
            match v {
                Val::I(i) => Box::new(*i),
                Val::T(s) => Box::new(s.clone()),
                Val::N => Box::new(None::<String>),
            }
        })
        .collect()
}

fn pg_err(e: postgres::Error) -> DbError {
    if e.code() == Some(&postgres::error::SqlState::UNIQUE_VIOLATION) {
        DbError::Conflict
    } else {
        DbError::Postgres(e)
    }
}

impl Tx for PgTx<'_> {
    fn exec(&mut self, sql: &str, params: &[Val]) -> Result<u64, DbError> {
        let owned = pg_params(params);
        let refs: Vec<&(dyn postgres::types::ToSql + Sync)> =
            owned.iter().map(|b| b.as_ref()).collect();
        self.0.execute(sql, &refs).map_err(pg_err)
    }

    fn query(&mut self, sql: &str, params: &[Val]) -> Result<Vec<Vec<Val>>, DbError> {
        let owned = pg_params(params);
        let refs: Vec<&(dyn postgres::types::ToSql + Sync)> =
            owned.iter().map(|b| b.as_ref()).collect();
        let rows = self.0.query(sql, &refs).map_err(pg_err)?;
        Ok(rows
            .iter()
            .map(|r| {
                (0..r.len())
                    .map(|i| {
                        use postgres::types::Type;
                        let t = r.columns()[i].type_();
                        if *t == Type::INT8 {
                            r.get::<_, Option<i64>>(i).map(Val::I).unwrap_or(Val::N)
                        } else if *t == Type::INT4 {
                            r.get::<_, Option<i32>>(i)
                                .map(|v| Val::I(i64::from(v)))
                                .unwrap_or(Val::N)
                        } else {
                            r.get::<_, Option<String>>(i).map(Val::T).unwrap_or(Val::N)
                        }
                    })
                    .collect()
            })
            .collect())
    }

    fn lock(&mut self, key: i64) -> Result<(), DbError> {
        self.0
            .execute("SELECT pg_advisory_xact_lock($1)", &[&key])
            .map_err(pg_err)?;
        Ok(())
    }
}
