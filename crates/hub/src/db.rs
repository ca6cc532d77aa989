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
    /// The SQLite worker is gone (the hub is shutting down).
    #[error("the database worker stopped")]
    Stopped,
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

/// The tables, for both backends: `{id}` and `{int}` are the backend's
/// auto-increment key and 64-bit integer types.
const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS orgs (
    id {id},
    name TEXT NOT NULL,
    token_hash TEXT UNIQUE,
    challenge_domain TEXT,
    challenge TEXT,
    verified_domain TEXT UNIQUE,
    created_at {int} NOT NULL
);
CREATE TABLE IF NOT EXISTS joint (
    id {id},
    key TEXT NOT NULL,
    provider TEXT,
    family TEXT NOT NULL,
    scope TEXT NOT NULL,
    manual {int} NOT NULL,
    first_seen {int} NOT NULL,
    last_seen {int} NOT NULL,
    orgs {int} NOT NULL,
    verified {int} NOT NULL,
    updated_at {int} NOT NULL,
    ack_reference TEXT,
    ack_text TEXT,
    ack_at {int}
);
CREATE INDEX IF NOT EXISTS joint_key ON joint (key, last_seen);
CREATE INDEX IF NOT EXISTS joint_recent ON joint (last_seen);
CREATE TABLE IF NOT EXISTS joint_orgs (
    joint_id {int} NOT NULL,
    org_id {int} NOT NULL,
    first_seen {int} NOT NULL,
    PRIMARY KEY (joint_id, org_id)
);
CREATE TABLE IF NOT EXISTS submissions (
    id {id},
    org_id {int} NOT NULL,
    local_ref TEXT NOT NULL,
    joint_id {int} NOT NULL,
    kind TEXT NOT NULL,
    submitted_at {int} NOT NULL,
    first_seen {int} NOT NULL,
    last_seen {int} NOT NULL,
    data TEXT NOT NULL,
    UNIQUE (org_id, local_ref)
);
CREATE INDEX IF NOT EXISTS submissions_joint ON submissions (joint_id);
";

/// SQLite's settings: WAL, commits not waiting for the disk (a crash
/// loses at most the last batch, never consistency), a 16 MiB page cache
/// (bigger is slower: every commit walks the cache's hash table; the OS
/// caches the rest of the file).
const SQLITE_PRAGMAS: &str = "
PRAGMA journal_mode = WAL;
PRAGMA synchronous = NORMAL;
PRAGMA cache_size = -16384;
";

fn schema(id: &str, int: &str) -> String {
    SCHEMA.replace("{id}", id).replace("{int}", int)
}

/// A unit of work for the SQLite worker: runs inside the batch's
/// transaction and returns whether it failed (its savepoint is then rolled
/// back) and what to do once the batch committed or not.
type Job = Box<dyn FnOnce(&mut dyn Tx) -> (bool, Finish) + Send>;
/// Delivers a job's result after the commit.
type Finish = Box<dyn FnOnce(Result<(), String>) + Send>;

/// The database: a SQLite worker or a small pool of PostgreSQL connections.
pub enum Db {
    /// One thread owns the SQLite connection and runs the jobs queued for
    /// it, committing each batch once (group commit): one writer is all
    /// SQLite allows, and one commit per batch instead of per request is
    /// what makes it fast.
    Sqlite(std::sync::mpsc::Sender<Job>),
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
            tx.batch_execute(&schema("BIGSERIAL PRIMARY KEY", "BIGINT"))?;
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
            c.execute_batch(SQLITE_PRAGMAS)?;
            c.execute_batch(&schema("INTEGER PRIMARY KEY AUTOINCREMENT", "INTEGER"))?;
            let (tx, rx) = std::sync::mpsc::channel::<Job>();
            std::thread::Builder::new()
                .name("outcry-hub-sqlite".into())
                .spawn(move || sqlite_worker(c, rx))
                .map_err(|e| {
                    DbError::Sqlite(rusqlite::Error::ToSqlConversionFailure(Box::new(e)))
                })?;
            Ok(Db::Sqlite(tx))
        }
    }

    /// Run `f` in one transaction (SQLite: a savepoint of the worker's
    /// batch); its changes are committed when it returns `Ok`, rolled back
    /// when it returns `Err`. Blocks until committed.
    pub fn tx<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut dyn Tx) -> Result<T, DbError> + Send + 'static,
    ) -> Result<T, DbError> {
        match self {
            Db::Sqlite(m) => {
                let (done, result) = std::sync::mpsc::sync_channel(1);
                queue(m, f, move |r| {
                    let _ = done.send(r);
                })?;
                result.recv().map_err(|_| DbError::Stopped)?
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

impl Db {
    /// [`Db::tx`] for async callers: SQLite jobs are queued to the worker
    /// and awaited without holding a thread; PostgreSQL runs on the
    /// blocking pool.
    pub async fn run<T: Send + 'static>(
        self: &std::sync::Arc<Self>,
        f: impl FnOnce(&mut dyn Tx) -> Result<T, DbError> + Send + 'static,
    ) -> Result<T, DbError> {
        match &**self {
            Db::Sqlite(m) => {
                let (done, result) = tokio::sync::oneshot::channel();
                queue(m, f, move |r| {
                    let _ = done.send(r);
                })?;
                result.await.map_err(|_| DbError::Stopped)?
            }
            Db::Postgres { .. } => {
                let db = self.clone();
                tokio::task::spawn_blocking(move || db.tx(f))
                    .await
                    .map_err(|_| DbError::Stopped)?
            }
        }
    }
}

/// Queue `f` for the SQLite worker; its result goes, once the batch is
/// committed (or not), to `deliver`.
fn queue<T: Send + 'static>(
    worker: &std::sync::mpsc::Sender<Job>,
    f: impl FnOnce(&mut dyn Tx) -> Result<T, DbError> + Send + 'static,
    deliver: impl FnOnce(Result<T, DbError>) + Send + 'static,
) -> Result<(), DbError> {
    let job: Job = Box::new(move |tx: &mut dyn Tx| {
        let out = f(tx);
        let failed = out.is_err();
        let finish: Finish = Box::new(move |commit| {
            deliver(match (out, commit) {
                (Err(e), _) => Err(e),
                (Ok(v), Ok(())) => Ok(v),
                (Ok(_), Err(e)) => Err(DbError::Sqlite(rusqlite::Error::ToSqlConversionFailure(
                    e.into(),
                ))),
            });
        });
        (failed, finish)
    });
    worker.send(job).map_err(|_| DbError::Stopped)
}

/// The SQLite worker: take the jobs waiting, run each in a savepoint of one
/// transaction, commit once, then hand each its result.
fn sqlite_worker(conn: rusqlite::Connection, jobs: std::sync::mpsc::Receiver<Job>) {
    while let Ok(first) = jobs.recv() {
        let mut batch = vec![first];
        while batch.len() < 256 {
            match jobs.try_recv() {
                Ok(j) => batch.push(j),
                Err(_) => break,
            }
        }
        let begun = conn
            .execute_batch("BEGIN IMMEDIATE")
            .map_err(|e| e.to_string());
        let mut finishes = Vec::with_capacity(batch.len());
        for job in batch {
            if let Err(e) = &begun {
                // No transaction: fail the job without running it.
                let e = e.clone();
                let (_, finish) = job(&mut Refuse(e.clone()));
                finishes.push(finish);
                continue;
            }
            let saved = conn.execute_batch("SAVEPOINT job");
            let (failed, finish) = job(&mut SqliteTx(&conn));
            if saved.is_ok() {
                let undo = if failed {
                    "ROLLBACK TO job; RELEASE job"
                } else {
                    "RELEASE job"
                };
                let _ = conn.execute_batch(undo);
            }
            finishes.push(finish);
        }
        let committed = match begun {
            Ok(()) => conn.execute_batch("COMMIT").map_err(|e| {
                let _ = conn.execute_batch("ROLLBACK");
                e.to_string()
            }),
            Err(e) => Err(e),
        };
        for finish in finishes {
            finish(committed.clone());
        }
    }
}

/// A transaction that could not begin: every statement fails.
struct Refuse(String);

impl Tx for Refuse {
    fn exec(&mut self, _: &str, _: &[Val]) -> Result<u64, DbError> {
        Err(DbError::Sqlite(rusqlite::Error::ToSqlConversionFailure(
            self.0.clone().into(),
        )))
    }
    fn query(&mut self, _: &str, _: &[Val]) -> Result<Vec<Vec<Val>>, DbError> {
        self.exec("", &[]).map(|_| Vec::new())
    }
    fn lock(&mut self, _: i64) -> Result<(), DbError> {
        Ok(())
    }
}

struct SqliteTx<'a>(&'a rusqlite::Connection);

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
