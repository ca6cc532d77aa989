//! What DNS blocklists and reverse DNS say about a sending IP.

use serde::{Deserialize, Serialize};
use std::net::IpAddr;

/// The standing of one sending IP, as checked at one time: its owner, and
/// which DNS blocklists list it. Built from an `outcry check` report and
/// kept in the store, so packets can show it offline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Standing {
    /// The address.
    pub ip: IpAddr,
    /// When it was checked (Unix seconds, UTC).
    pub checked_at: i64,
    /// Its PTR name.
    pub ptr: Option<String>,
    /// The PTR name resolves back to the address.
    pub ptr_confirmed: bool,
    /// The owner's display name, when recognised.
    pub owner: Option<String>,
    /// The owner's pool is shared by many unrelated customers.
    pub shared_pool: bool,
    /// The lists that list it (allowlists included, marked `good`).
    pub listed: Vec<Listing>,
    /// Lists that answered "not listed".
    pub clear: Vec<String>,
    /// Lists that could not be asked (timeout, refused, operator error).
    pub errors: Vec<String>,
}

/// One list that lists an IP.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Listing {
    /// The list's display name.
    pub list: String,
    /// Its DNS zone.
    pub zone: String,
    /// The return codes (`127.0.0.2`).
    pub codes: Vec<String>,
    /// What the codes mean, per the catalog.
    pub meanings: Vec<String>,
    /// An allowlist or good-reputation listing: good news.
    pub good: bool,
}

impl Standing {
    /// The listings that are bad news.
    pub fn bad(&self) -> impl Iterator<Item = &Listing> {
        self.listed.iter().filter(|l| !l.good)
    }

    /// One line in plain words: "listed on Spamhaus ZEN (127.0.0.3: ...);
    /// clear on 9 lists; 1 could not be asked".
    pub fn summary(&self) -> String {
        let mut parts: Vec<String> = self
            .bad()
            .map(|l| {
                let why = if l.meanings.is_empty() {
                    l.codes.join(", ")
                } else {
                    l.meanings.join("; ")
                };
                format!("listed on {} ({why})", l.list)
            })
            .collect();
        if parts.is_empty() {
            parts.push("on no checked blocklist".into());
        }
        let good: Vec<&str> = self
            .listed
            .iter()
            .filter(|l| l.good)
            .map(|l| l.list.as_str())
            .collect();
        if !good.is_empty() {
            parts.push(format!("allowlisted on {}", good.join(", ")));
        }
        parts.push(format!("clear on {} list(s)", self.clear.len()));
        if !self.errors.is_empty() {
            parts.push(format!(
                "{} list(s) could not be asked ({})",
                self.errors.len(),
                self.errors.join(", ")
            ));
        }
        parts.join("; ")
    }
}
