//! # outcry-reputation
//!
//! Is a sending IP (or a domain) on a blocklist, what does each listing mean,
//! and who owns the IP?
//!
//! - [`Catalog`]: the blocklists as data (`data/dnsbl.json`, extensible),
//!   with the meaning of every return code, including the codes that are
//!   errors rather than listings, and dead lists that are never queried.
//! - [`Checker`]: asks the lists through a resolver of your choice (never a
//!   public one for Spamhaus), paces queries per list, caches by TTL, and
//!   reports each (address, list) pair as [`Status::Listed`],
//!   [`Status::Clear`] or [`Status::Error`]; an error is never reported as
//!   clear or listed.
//! - [`recognise`]: whose infrastructure an IP belongs to (Microsoft 365,
//!   Google, Amazon SES, ...), from a forward-confirmed PTR name and a
//!   bundled prefix table (`data/providers.json`), marking shared pools.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod catalog;
mod check;
mod owner;
mod udp;
mod wire;

pub use catalog::{Catalog, CatalogError, CodeSpec, ListKind, ListSpec, Reading};
pub use check::{Checker, CheckerConfig, DomainReport, IpReport, ListResult, SetupError, Status};
pub use owner::{Owner, ProviderSpec, recognise, reverse_name};
