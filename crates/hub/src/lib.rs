//! # outcry-hub
//!
//! Where organisations hit by the same delivery problem find each other.
//! Organisations register and share anonymised [`Fingerprint`]s of their
//! local incidents (and [`ManualReport`]s for problems no bounce shows);
//! the hub clusters them into joint incidents by cause and time, counts
//! organisations (one vote each, never messages), and publishes a joint
//! incident once at least k organisations are in it: a page with a
//! timeline, an Atom feed, a JSON API, and an escalation text with the
//! members' ticket numbers. `docs/hub.md` says exactly what is shared.
//!
//! [`router`] builds the axum app over an [`AppState`]; `outcry hub serve`
//! runs it.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod api;
pub mod db;
pub mod fingerprint;
mod limits;
pub mod model;
mod pages;

pub use api::{AppState, Config, router};
pub use fingerprint::{Fingerprint, ManualReport, SharedClaim, SharedTicket};

/// The hub's OpenAPI document (JSON), as served at `/openapi.json`.
pub fn api_document() -> &'static str {
    api::OPENAPI
}

/// A provider name as a URL path segment: `Microsoft 365 / Exchange Online
/// Protection` -> `microsoft-365-exchange-online-protection`.
pub fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_string()
}

pub(crate) use outcry_report::{esc, now, utc};

#[cfg(test)]
mod tests {
    #[test]
    fn slugs() {
        assert_eq!(
            super::slug("Microsoft 365 / Exchange Online Protection"),
            "microsoft-365-exchange-online-protection"
        );
        assert_eq!(super::slug("  Google--Workspace "), "google-workspace");
    }
}
