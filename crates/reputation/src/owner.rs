//! Who owns a sending IP: the big mail providers' outbound infrastructure,
//! recognised from the PTR name and a bundled prefix table. Pure: the DNS
//! lookups that feed it live in [`crate::Checker`].

use ipnet::IpNet;
use serde::{Deserialize, Serialize};
use std::net::IpAddr;
use std::sync::LazyLock;

const BUNDLED: &str = include_str!("../data/providers.json");

#[derive(Deserialize)]
struct ProviderFile {
    providers: Vec<ProviderSpec>,
}

/// One provider's outbound mail infrastructure.
#[derive(Debug, Clone, Deserialize)]
pub struct ProviderSpec {
    /// Identifier (`microsoft365`).
    pub id: String,
    /// Display name.
    pub name: String,
    /// Origin AS number of its prefixes.
    pub asn: u32,
    /// Name of that AS.
    pub as_name: String,
    /// Its IPs send for many unrelated customers.
    pub shared_pool: bool,
    /// PTR names of its outbound hosts end with one of these.
    pub ptr_suffixes: Vec<String>,
    /// Its outbound prefixes.
    pub prefixes: Vec<IpNet>,
}

static PROVIDERS: LazyLock<Vec<ProviderSpec>> = LazyLock::new(|| {
    let f: ProviderFile =
        serde_json::from_str(BUNDLED).expect("the bundled data/providers.json is valid");
    f.providers
});

/// Who owns an IP, as far as outcry can tell.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Owner {
    /// Provider identifier, when recognised.
    pub provider: Option<String>,
    /// Provider display name.
    pub name: Option<String>,
    /// The IP sends for many unrelated customers (a provider's shared pool).
    pub shared_pool: bool,
    /// Origin AS number, from the bundled table.
    pub asn: Option<u32>,
    /// Name of that AS.
    pub as_name: Option<String>,
    /// What the recognition rests on: `prefix`, `ptr`, or both.
    pub evidence: Vec<String>,
}

/// Recognise the owner of `ip` from its prefix and (forward-confirmed) PTR name.
pub fn recognise(ip: IpAddr, confirmed_ptr: Option<&str>) -> Owner {
    let by_prefix = PROVIDERS
        .iter()
        .find(|p| p.prefixes.iter().any(|n| n.contains(&ip)));
    let ptr = confirmed_ptr.map(|p| p.trim_end_matches('.').to_ascii_lowercase());
    let by_ptr = ptr.as_deref().and_then(|name| {
        PROVIDERS
            .iter()
            .find(|p| p.ptr_suffixes.iter().any(|s| name.ends_with(s.as_str())))
    });
    let chosen = by_prefix.or(by_ptr);
    let mut evidence = Vec::new();
    if by_prefix.is_some() {
        evidence.push("prefix".to_string());
    }
    if by_ptr.is_some() && by_ptr.map(|p| &p.id) == chosen.map(|p| &p.id) {
        evidence.push("ptr".to_string());
    }
    match chosen {
        Some(p) => Owner {
            provider: Some(p.id.clone()),
            name: Some(p.name.clone()),
            shared_pool: p.shared_pool,
            asn: by_prefix.map(|p| p.asn),
            as_name: by_prefix.map(|p| p.as_name.clone()),
            evidence,
        },
        None => Owner {
            provider: None,
            name: None,
            shared_pool: false,
            asn: None,
            as_name: None,
            evidence,
        },
    }
}

/// The reverse-DNS name of an IP (`4.3.2.1.in-addr.arpa.` or IPv6 nibbles).
pub fn reverse_name(ip: IpAddr, zone: &str) -> String {
    let zone = zone.trim_end_matches('.');
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            format!("{}.{}.{}.{}.{zone}.", o[3], o[2], o[1], o[0])
        }
        IpAddr::V6(v6) => {
            let mut s = String::with_capacity(72 + zone.len());
            for byte in v6.octets().iter().rev() {
                s.push(char::from_digit(u32::from(byte & 0x0f), 16).unwrap_or('0'));
                s.push('.');
                s.push(char::from_digit(u32::from(byte >> 4), 16).unwrap_or('0'));
                s.push('.');
            }
            s.push_str(zone);
            s.push('.');
            s
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn microsoft_by_prefix_and_ptr() {
        let o = recognise(
            "40.107.22.93".parse().unwrap(),
            Some("mail-am6eur05on2093.outbound.protection.outlook.com."),
        );
        assert_eq!(o.provider.as_deref(), Some("microsoft365"));
        assert!(o.shared_pool);
        assert_eq!(o.asn, Some(8075));
        assert_eq!(o.evidence, vec!["prefix", "ptr"]);
    }

    #[test]
    fn google_by_ptr_only_and_unknown() {
        let o = recognise(
            "198.51.100.7".parse().unwrap(),
            Some("mail-sor-f41.google.com"),
        );
        assert_eq!(o.provider.as_deref(), Some("google"));
        assert_eq!(o.asn, None);
        let o = recognise(
            "203.0.113.77".parse().unwrap(),
            Some("mail.contoso.example"),
        );
        assert_eq!(o.provider, None);
        assert!(!o.shared_pool);
    }

    #[test]
    fn reverse_names() {
        assert_eq!(
            reverse_name("192.0.2.99".parse().unwrap(), "zen.spamhaus.org"),
            "99.2.0.192.zen.spamhaus.org."
        );
        let v6 = reverse_name("2001:db8::1".parse().unwrap(), "ip6.arpa");
        assert!(
            v6.starts_with(
                "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa"
            ),
            "{v6}"
        );
    }
}
