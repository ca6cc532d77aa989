//! The blocklist catalog: which lists exist, how to query them, and what
//! every answer means. Data, not code: `data/dnsbl.json` is bundled, and a
//! user file in the same format extends or overrides it.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::net::Ipv4Addr;

const BUNDLED: &str = include_str!("../data/dnsbl.json");

/// What a list holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ListKind {
    /// IPv4 addresses only.
    Ip4,
    /// IPv6 addresses only (nibble form).
    Ip6,
    /// IPv4 and IPv6 addresses.
    Ip,
    /// Domain names.
    Domain,
}

/// The meaning of one answer code.
#[derive(Debug, Clone, Deserialize)]
pub struct CodeSpec {
    /// Human-readable meaning.
    pub meaning: String,
    /// The answer is an error signal (misuse, refused, rate limited), not a listing.
    #[serde(default)]
    pub error: bool,
    /// A listing that is good news (reputation lists that also rate good senders).
    #[serde(default)]
    pub good: bool,
}

/// One blocklist (or allowlist).
#[derive(Debug, Clone, Deserialize)]
pub struct ListSpec {
    /// Stable identifier (`spamhaus-zen`).
    pub id: String,
    /// Display name.
    pub name: String,
    /// DNS zone queried (`zen.spamhaus.org`).
    pub zone: String,
    /// What the list holds.
    pub kind: ListKind,
    /// An allowlist: being listed is good.
    #[serde(default)]
    pub good: bool,
    /// Why the list is never queried (a dead list), if it is dead.
    #[serde(default)]
    pub dead: Option<String>,
    /// Answer code -> meaning.
    #[serde(default)]
    pub codes: BTreeMap<String, CodeSpec>,
    /// Meaning by the answer's last octet when `codes` has no entry.
    #[serde(default)]
    pub by_last_octet: BTreeMap<String, String>,
    /// Meaning of an undocumented 127.0.0.0/8 answer.
    #[serde(default)]
    pub default_listed: Option<String>,
    /// Queries per second to this list at most.
    #[serde(default)]
    pub max_qps: Option<u32>,
    /// The operator refuses queries through public resolvers.
    #[serde(default)]
    pub public_resolvers_refused: bool,
    /// Where a person looks the listing up.
    #[serde(default)]
    pub url: Option<String>,
}

/// How one answer is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reading {
    /// A listing, with its meaning; `good` for allowlist or good-reputation answers.
    Listed {
        /// What the code means.
        meaning: String,
        /// Good news (allowlist).
        good: bool,
    },
    /// An error signal from the operator, or an answer that cannot be a listing.
    Error(String),
}

impl ListSpec {
    /// What an A answer from this list means.
    pub fn read(&self, answer: Ipv4Addr) -> Reading {
        let key = answer.to_string();
        if let Some(c) = self.codes.get(&key) {
            return if c.error {
                Reading::Error(c.meaning.clone())
            } else {
                Reading::Listed {
                    meaning: c.meaning.clone(),
                    good: self.good || c.good,
                }
            };
        }
        if answer.octets()[0] != 127 {
            // RFC 5782: answers are in 127.0.0.0/8. Anything else is a
            // wildcarded or hijacked zone (e.g. an expired list domain).
            return Reading::Error(format!(
                "answer {answer} is outside 127.0.0.0/8: the zone is wildcarded or no longer a blocklist"
            ));
        }
        if answer.octets()[1] == 255 && answer.octets()[2] == 255 {
            return Reading::Error(format!(
                "answer {answer}: the operator signals an error (127.255.255.x)"
            ));
        }
        if let Some(m) = self.by_last_octet.get(&answer.octets()[3].to_string()) {
            return Reading::Listed {
                meaning: m.clone(),
                good: self.good,
            };
        }
        let meaning = self
            .default_listed
            .clone()
            .unwrap_or_else(|| format!("listed (code {answer} is not documented in the catalog)"));
        Reading::Listed {
            meaning,
            good: self.good,
        }
    }

    /// Can this list be asked about an IPv4 / IPv6 address / a domain?
    pub fn takes_ip4(&self) -> bool {
        matches!(self.kind, ListKind::Ip4 | ListKind::Ip)
    }
    /// See [`ListSpec::takes_ip4`].
    pub fn takes_ip6(&self) -> bool {
        matches!(self.kind, ListKind::Ip6 | ListKind::Ip)
    }
    /// See [`ListSpec::takes_ip4`].
    pub fn takes_domain(&self) -> bool {
        self.kind == ListKind::Domain
    }
}

/// The set of lists to check.
#[derive(Debug, Clone, Deserialize)]
pub struct Catalog {
    /// The lists, in display order.
    pub lists: Vec<ListSpec>,
}

/// A catalog file that could not be read.
#[derive(Debug, thiserror::Error)]
#[error(
    "catalog {source_name}: {message} (the format is that of data/dnsbl.json: {{\"lists\": [{{\"id\", \"name\", \"zone\", \"kind\", \"codes\"}}]}})"
)]
pub struct CatalogError {
    /// Which file.
    pub source_name: String,
    /// What is wrong, with the line and column.
    pub message: String,
}

impl Catalog {
    /// The bundled catalog.
    pub fn bundled() -> Catalog {
        serde_json::from_str(BUNDLED).expect("the bundled data/dnsbl.json is valid")
    }

    /// Parse a catalog from JSON text; `name` is used in error messages.
    pub fn parse(json: &str, name: &str) -> Result<Catalog, CatalogError> {
        let c: Catalog = serde_json::from_str(json).map_err(|e| CatalogError {
            source_name: name.to_string(),
            message: format!("line {} column {}: {e}", e.line(), e.column()),
        })?;
        for l in &c.lists {
            if l.zone.trim().is_empty() || l.id.trim().is_empty() {
                return Err(CatalogError {
                    source_name: name.to_string(),
                    message: format!("list {:?} needs a non-empty id and zone", l.name),
                });
            }
        }
        Ok(c)
    }

    /// Add or replace lists (by id) from another catalog.
    pub fn merge(&mut self, other: Catalog) {
        for l in other.lists {
            match self.lists.iter_mut().find(|x| x.id == l.id) {
                Some(x) => *x = l,
                None => self.lists.push(l),
            }
        }
    }

    /// Keep only the lists whose id or zone is in `wanted`.
    pub fn select(&mut self, wanted: &[String]) {
        self.lists
            .retain(|l| wanted.iter().any(|w| w == &l.id || w == &l.zone));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_catalog_reads_codes() {
        let c = Catalog::bundled();
        let zen = c.lists.iter().find(|l| l.id == "spamhaus-zen").unwrap();
        assert!(matches!(
            zen.read(Ipv4Addr::new(127, 0, 0, 2)),
            Reading::Listed { .. }
        ));
        assert!(
            matches!(zen.read(Ipv4Addr::new(127, 255, 255, 254)), Reading::Error(m) if m.contains("public"))
        );
        assert!(matches!(
            zen.read(Ipv4Addr::new(192, 0, 2, 1)),
            Reading::Error(_)
        ));
        let dnswl = c.lists.iter().find(|l| l.id == "dnswl").unwrap();
        assert_eq!(
            dnswl.read(Ipv4Addr::new(127, 0, 15, 3)),
            Reading::Listed {
                meaning: "allowlisted, trust: high".into(),
                good: true
            }
        );
        assert!(
            c.lists
                .iter()
                .find(|l| l.id == "sorbs")
                .unwrap()
                .dead
                .is_some()
        );
    }

    #[test]
    fn user_catalog_overrides_by_id() {
        let mut c = Catalog::bundled();
        let n = c.lists.len();
        let user = Catalog::parse(
            r#"{"lists":[{"id":"spamcop","name":"SpamCop (mirror)","zone":"bl.example.test","kind":"ip4"},
                         {"id":"local","name":"Local","zone":"dnsbl.example.test","kind":"ip4"}]}"#,
            "user.json",
        )
        .unwrap();
        c.merge(user);
        assert_eq!(c.lists.len(), n + 1);
        assert_eq!(
            c.lists.iter().find(|l| l.id == "spamcop").unwrap().zone,
            "bl.example.test"
        );
        let err = Catalog::parse("{\"lists\": [}", "bad.json")
            .unwrap_err()
            .to_string();
        assert!(err.contains("bad.json") && err.contains("line 1"), "{err}");
    }
}
