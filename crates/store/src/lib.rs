//! # outcry-store
//!
//! Where outcry keeps what it has learnt: the failures from ingested
//! bounces and the organisation's tickets with their history and the
//! vendors' claims. One API, two backends: SQLite (the default: one file,
//! WAL) and PostgreSQL (`postgres://...`). Ingest is idempotent: the same
//! bounce ingested twice is one failure. Times are Unix seconds, UTC.
//!
//! The store holds no local part of any address: a failure's key is a hash
//! of the record's identity, and the failure itself keeps only the
//! recipient's domain.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod pg;
mod sqlite;

use outcry_bounce::{Blocklist, Reason, Record};
use outcry_incident::{Failure, Standing};
use std::str::FromStr;

/// A store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite said no.
    #[error("SQLite store {path}: {source}")]
    Sqlite {
        /// The database file.
        path: String,
        /// What SQLite said.
        #[source]
        source: rusqlite::Error,
    },
    /// PostgreSQL said no.
    #[error("PostgreSQL store: {0}")]
    Postgres(#[from] postgres::Error),
    /// Something in the data is not what outcry wrote.
    #[error("corrupt row in the store: {0}")]
    Corrupt(String),
    /// No such ticket.
    #[error("no ticket #{0}; `outcry ticket list` shows them")]
    NoTicket(i64),
}

/// A result of a store operation.
pub type Result<T> = std::result::Result<T, StoreError>;

/// A failure with the key that makes ingest idempotent.
#[derive(Debug, Clone)]
pub struct Keyed {
    /// Hash of the record's identity (message, recipient, status, time).
    pub key: String,
    /// The failure.
    pub failure: Failure,
}

impl Keyed {
    /// The keyed failure of a record, if it is a failure with a time.
    pub fn from_record(r: &Record) -> Option<Keyed> {
        let failure = Failure::from_record(r)?;
        let identity = format!(
            "{}|{}|{}|{}|{}",
            r.message_id,
            r.recipient.to_ascii_lowercase(),
            r.status,
            r.timestamp.unwrap_or(0),
            r.reason
        );
        Some(Keyed {
            key: fnv64(&identity),
            failure,
        })
    }
}

/// FNV-1a, 64 bits, as hex: a stable, dependency-free hash for keys (not
/// for security; the identity it hashes is not secret, only personal).
fn fnv64(s: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

/// Who a ticket is with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Party {
    /// The mail provider.
    Provider,
    /// A blocklist operator.
    Blocklist,
    /// A recipient organisation.
    Recipient,
}

impl Party {
    /// The lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Party::Provider => "provider",
            Party::Blocklist => "blocklist",
            Party::Recipient => "recipient",
        }
    }
}

impl FromStr for Party {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "provider" => Ok(Party::Provider),
            "blocklist" => Ok(Party::Blocklist),
            "recipient" => Ok(Party::Recipient),
            other => Err(format!(
                "unknown party {other:?}: provider, blocklist or recipient"
            )),
        }
    }
}

/// A ticket with its history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ticket {
    /// Store id.
    pub id: i64,
    /// Who it is with.
    pub party: String,
    /// Their ticket number.
    pub number: String,
    /// The incident it is about, if known.
    pub incident: Option<String>,
    /// Status changes: (time, status, note), oldest first.
    pub history: Vec<(i64, String, String)>,
    /// Claims "fixed at": (when said, fixed at, text).
    pub claims: Vec<(i64, i64, String)>,
}

impl Ticket {
    /// The latest status.
    pub fn status(&self) -> &str {
        self.history.last().map(|h| h.1.as_str()).unwrap_or("open")
    }
}

/// What an ingest did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Ingested {
    /// New failures stored.
    pub new: usize,
    /// Failures already in the store.
    pub known: usize,
}

/// The operations both backends offer.
pub trait Store {
    /// Store failures; ones already stored (same key) are counted, not duplicated.
    fn ingest(&mut self, failures: &[Keyed]) -> Result<Ingested>;
    /// Every stored failure, oldest first.
    fn failures(&mut self) -> Result<Vec<Failure>>;
    /// Open a ticket; returns its id.
    fn add_ticket(
        &mut self,
        party: Party,
        number: &str,
        incident: Option<&str>,
        at: i64,
    ) -> Result<i64>;
    /// Record a status change.
    fn update_ticket(&mut self, id: i64, status: &str, note: &str, at: i64) -> Result<()>;
    /// Record a vendor's claim that the problem was fixed at `fixed_at`.
    fn add_claim(&mut self, id: i64, fixed_at: i64, text: &str, at: i64) -> Result<()>;
    /// Every ticket with its history, by id.
    fn tickets(&mut self) -> Result<Vec<Ticket>>;
    /// Keep the latest blocklist standing of each IP (replacing older ones).
    fn put_standings(&mut self, standings: &[Standing]) -> Result<()>;
    /// The latest standing of every checked IP, by address.
    fn standings(&mut self) -> Result<Vec<Standing>>;
}

/// A stored standing, decoded.
pub(crate) fn standing_from(data: &str) -> Result<Standing> {
    serde_json::from_str(data).map_err(|e| StoreError::Corrupt(format!("standing: {e}")))
}

/// A standing, encoded for storage.
pub(crate) fn standing_data(s: &Standing) -> String {
    serde_json::to_string(s).unwrap_or_default()
}

/// Open the store at `url`: `postgres://...` or a SQLite file path
/// (created with its folder if missing).
pub fn open(url: &str) -> Result<Box<dyn Store>> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Box::new(pg::PgStore::open(url)?))
    } else {
        Ok(Box::new(sqlite::SqliteStore::open(url)?))
    }
}

/// Rebuild a failure from its stored columns.
#[allow(clippy::too_many_arguments)]
pub(crate) fn failure_from_columns(
    at: i64,
    recipient_domain: String,
    reason: &str,
    status: String,
    sending_ip: Option<String>,
    blocklist: Option<String>,
    rejecting_org: String,
    template: String,
) -> Result<Failure> {
    let reason = Reason::from_str(reason).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let sending_ip = match sending_ip {
        Some(s) => Some(
            s.parse()
                .map_err(|_| StoreError::Corrupt(format!("sending IP {s:?}")))?,
        ),
        None => None,
    };
    let blocklist = blocklist.map(|b| blocklist_from(&b)).transpose()?;
    Ok(Failure {
        at,
        recipient_domain,
        reason,
        status,
        sending_ip,
        blocklist,
        rejecting_org,
        template,
    })
}

fn blocklist_from(s: &str) -> Result<Blocklist> {
    Blocklist::from_name(s).ok_or_else(|| StoreError::Corrupt(format!("blocklist {s:?}")))
}

/// The columns of a failure, as stored.
pub(crate) fn columns(f: &Failure) -> (String, Option<String>, Option<String>) {
    (
        f.reason.as_str().to_string(),
        f.sending_ip.map(|i| i.to_string()),
        f.blocklist.map(|b| b.as_str().to_string()),
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn keys_are_stable() {
        assert_eq!(super::fnv64(""), "cbf29ce484222325");
        assert_eq!(super::fnv64("a"), "af63dc4c8601ec8c");
    }
}
