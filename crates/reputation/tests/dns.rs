//! Blocklist checks against real DNS servers on loopback: Debian's rbldnsd
//! serving zones named like the real lists, an in-process hickory-server for
//! PTR and forward records, and a UDP socket that never answers.
//!
//! rbldnsd must be installed (`apt-get install rbldnsd`; `.ci/run` does it).
//! Its absence fails the tests; they never skip.

use hickory_server::Server;
use hickory_server::proto::rr::rdata::{A, PTR, SOA};
use hickory_server::proto::rr::{LowerName, Name, RData, Record};
use hickory_server::store::in_memory::InMemoryZoneHandler;
use hickory_server::zone_handler::{AxfrPolicy, Catalog as ZoneCatalog, ZoneType};
use outcry_reputation::{Catalog, Checker, CheckerConfig, Status};
use outcry_testsupport::rbldnsd;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

const ZEN: &str = ":127.0.0.2:Listed in SBL, see https://check.spamhaus.org/query/ip/$\n\
40.107.22.93\n\
203.0.113.0/24 :127.0.0.11:PBL listing $\n\
192.0.2.99 :127.0.0.4:XBL listing\n\
198.51.100.254 :127.255.255.254:Public resolver refused\n";

const SPAMCOP: &str = ":127.0.0.2:Blocked - see https://www.spamcop.net/bl.shtml?$\n198.51.100.7\n";

/// A zone that answers for everything, like an expired list domain.
const WILDCARD: &str = ":127.0.0.2:everything is listed\n0.0.0.0/1\n128.0.0.0/1\n";

const IPV6: &str = ":127.0.0.2:IPv6 listing\n2001:db8::25\n";

fn catalog_for_tests() -> Catalog {
    let mut c = Catalog::bundled();
    c.merge(
        Catalog::parse(
            r#"{"lists": [
              {"id": "expired", "name": "Expired list", "zone": "bl.expired.test", "kind": "ip4"},
              {"id": "v6", "name": "IPv6 list", "zone": "v6.dnsbl.test", "kind": "ip6",
               "codes": {"127.0.0.2": {"meaning": "listed for IPv6 abuse"}}}
            ]}"#,
            "test",
        )
        .unwrap(),
    );
    c.select(&[
        "spamhaus-zen".into(),
        "spamcop".into(),
        "expired".into(),
        "v6".into(),
        "sorbs".into(),
    ]);
    c
}

fn config(port: u16, timeout_ms: u64) -> CheckerConfig {
    CheckerConfig {
        resolver: Some(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port)),
        timeout: Duration::from_millis(timeout_ms),
        attempts: 1,
        concurrency: 16,
        ptr: true,
    }
}

fn zones() -> Vec<(&'static str, &'static str, &'static str)> {
    vec![
        ("zen.spamhaus.org", "ip4set", ZEN),
        ("bl.spamcop.net", "ip4set", SPAMCOP),
        ("bl.expired.test", "ip4trie", WILDCARD),
        ("v6.dnsbl.test", "ip6trie", IPV6),
    ]
}

#[tokio::test]
async fn listed_clear_ranges_codes_and_txt() {
    let server = rbldnsd(&zones());
    let checker = Checker::new(catalog_for_tests(), &config(server.port, 2000)).unwrap();

    // Listed on ZEN (SBL) with a TXT reason; clear on SpamCop.
    let r = checker.check_ip("40.107.22.93".parse().unwrap()).await;
    let zen = r.lists.iter().find(|l| l.id == "spamhaus-zen").unwrap();
    assert_eq!(zen.status, Status::Listed, "{zen:?}");
    assert_eq!(zen.codes, vec!["127.0.0.2"]);
    assert!(zen.meanings[0].starts_with("SBL"), "{:?}", zen.meanings);
    assert!(
        zen.txt.iter().any(|t| t.contains("40.107.22.93")),
        "{:?}",
        zen.txt
    );
    let spamcop = r.lists.iter().find(|l| l.id == "spamcop").unwrap();
    assert_eq!(spamcop.status, Status::Clear);
    // Provider IP recognised by its prefix (no PTR served here).
    assert_eq!(r.owner.provider.as_deref(), Some("microsoft365"));
    assert!(r.shared_pool);

    // A range listing with its own code.
    let r = checker.check_ip("203.0.113.77".parse().unwrap()).await;
    let zen = r.lists.iter().find(|l| l.id == "spamhaus-zen").unwrap();
    assert_eq!(zen.status, Status::Listed);
    assert_eq!(zen.codes, vec!["127.0.0.11"]);
    assert!(zen.meanings[0].contains("PBL"));

    // XBL code.
    let r = checker.check_ip("192.0.2.99".parse().unwrap()).await;
    let zen = r.lists.iter().find(|l| l.id == "spamhaus-zen").unwrap();
    assert!(zen.meanings[0].starts_with("XBL"), "{zen:?}");

    // Not listed anywhere real.
    let r = checker.check_ip("198.51.100.1".parse().unwrap()).await;
    assert!(
        r.lists
            .iter()
            .filter(|l| l.id != "expired" && l.id != "sorbs")
            .all(|l| l.status == Status::Clear),
        "{:?}",
        r.lists
    );
}

#[tokio::test]
async fn operator_error_codes_and_wildcards_are_errors_not_listings() {
    let server = rbldnsd(&zones());
    let checker = Checker::new(catalog_for_tests(), &config(server.port, 2000)).unwrap();
    let r = checker.check_ip("198.51.100.254".parse().unwrap()).await;
    let zen = r.lists.iter().find(|l| l.id == "spamhaus-zen").unwrap();
    assert_eq!(zen.status, Status::Error);
    assert!(
        zen.error
            .as_deref()
            .unwrap()
            .contains("public/open resolver"),
        "{zen:?}"
    );

    // The expired list answers for 127.0.0.1 too: its answers are errors.
    let expired = r.lists.iter().find(|l| l.id == "expired").unwrap();
    assert_eq!(expired.status, Status::Error);
    assert!(
        expired
            .error
            .as_deref()
            .unwrap()
            .contains("lists everything"),
        "{expired:?}"
    );

    // A dead list is never queried.
    let sorbs = r.lists.iter().find(|l| l.id == "sorbs").unwrap();
    assert_eq!(sorbs.status, Status::Error);
    assert!(sorbs.error.as_deref().unwrap().contains("decommissioned"));
}

#[tokio::test]
async fn ipv6_nibble_queries() {
    let server = rbldnsd(&zones());
    let checker = Checker::new(catalog_for_tests(), &config(server.port, 2000)).unwrap();
    let r = checker.check_ip("2001:db8::25".parse().unwrap()).await;
    let v6 = r.lists.iter().find(|l| l.id == "v6").unwrap();
    assert_eq!(v6.status, Status::Listed, "{v6:?}");
    assert_eq!(v6.meanings, vec!["listed for IPv6 abuse"]);
    let r = checker.check_ip("2001:db8::26".parse().unwrap()).await;
    assert_eq!(
        r.lists.iter().find(|l| l.id == "v6").unwrap().status,
        Status::Clear
    );
    // An IPv4-only list is not asked about an IPv6 address.
    assert!(r.lists.iter().all(|l| l.id != "spamcop"));
}

#[tokio::test]
async fn a_server_that_never_answers_is_an_error() {
    // A bound UDP socket that reads nothing: every query times out.
    let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let checker = Checker::new(catalog_for_tests(), &config(port, 300)).unwrap();
    let r = checker.check_ip("40.107.22.93".parse().unwrap()).await;
    for l in &r.lists {
        assert_eq!(l.status, Status::Error, "{l:?}");
        if l.id != "sorbs" {
            let e = l.error.as_deref().unwrap();
            assert!(
                e.contains("timeout") || e.contains("timed out") || e.contains("no connections"),
                "{e}"
            );
        }
    }
    drop(silent);
}

/// An authoritative server for reverse and forward records, in-process.
async fn ptr_server(records: &[(&str, RData)], origins: &[&str]) -> (u16, Server<ZoneCatalog>) {
    let mut catalog = ZoneCatalog::new();
    for origin in origins {
        let origin = Name::from_str(origin).unwrap();
        let zone = InMemoryZoneHandler::<hickory_server::net::runtime::TokioRuntimeProvider>::empty(
            origin.clone(),
            ZoneType::Primary,
            AxfrPolicy::Deny,
        );
        let soa = SOA::new(
            Name::from_str("ns.test.").unwrap(),
            Name::from_str("hostmaster.test.").unwrap(),
            1,
            3600,
            600,
            86400,
            60,
        );
        zone.upsert(Record::from_rdata(origin.clone(), 60, RData::SOA(soa)), 1)
            .await;
        for (name, data) in records {
            let n = Name::from_str(name).unwrap();
            if origin.zone_of(&n) {
                zone.upsert(Record::from_rdata(n, 60, data.clone()), 1)
                    .await;
            }
        }
        catalog.upsert(LowerName::new(&origin), vec![Arc::new(zone)]);
    }
    let mut server = Server::new(catalog);
    let udp = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let port = udp.local_addr().unwrap().port();
    server.register_socket(udp);
    (port, server)
}

#[tokio::test]
async fn ptr_with_forward_confirmation_and_owner() {
    let records = vec![
        (
            "93.22.107.40.in-addr.arpa.",
            RData::PTR(PTR(Name::from_str(
                "mail-am6eur05on2093.outbound.protection.outlook.com.",
            )
            .unwrap())),
        ),
        (
            "mail-am6eur05on2093.outbound.protection.outlook.com.",
            RData::A(A(Ipv4Addr::new(40, 107, 22, 93))),
        ),
        // A PTR that lies: the name does not resolve back.
        (
            "7.100.51.198.in-addr.arpa.",
            RData::PTR(PTR(Name::from_str("mail-sor-f41.google.com.").unwrap())),
        ),
        (
            "mail-sor-f41.google.com.",
            RData::A(A(Ipv4Addr::new(209, 85, 220, 41))),
        ),
    ];
    let (port, mut server) = ptr_server(
        &records,
        &[
            "in-addr.arpa.",
            "outbound.protection.outlook.com.",
            "google.com.",
        ],
    )
    .await;
    let mut catalog = Catalog::bundled();
    catalog.select(&[]);
    let checker = Checker::new(catalog, &config(port, 2000)).unwrap();

    let r = checker.check_ip("40.107.22.93".parse().unwrap()).await;
    assert_eq!(
        r.ptr.as_deref(),
        Some("mail-am6eur05on2093.outbound.protection.outlook.com")
    );
    assert!(r.ptr_confirmed);
    assert_eq!(r.owner.provider.as_deref(), Some("microsoft365"));
    assert_eq!(r.owner.evidence, vec!["prefix", "ptr"]);

    // Unconfirmed PTR: not trusted for ownership.
    let r = checker.check_ip("198.51.100.7".parse().unwrap()).await;
    assert_eq!(r.ptr.as_deref(), Some("mail-sor-f41.google.com"));
    assert!(!r.ptr_confirmed);
    assert_eq!(r.owner.provider, None);

    // No PTR at all.
    let r = checker.check_ip("192.0.2.1".parse().unwrap()).await;
    assert_eq!(r.ptr, None);
    server.shutdown_gracefully().await.unwrap();
}

#[tokio::test]
async fn domains_against_domain_lists() {
    let server = rbldnsd(&[(
        "dbl.spamhaus.org",
        "dnset",
        ":127.0.1.2:spam domain $\nspammy.example\n.badlinks.example :127.0.1.4:phish\n",
    )]);
    let mut catalog = Catalog::bundled();
    catalog.select(&["spamhaus-dbl".into()]);
    let checker = Checker::new(catalog, &config(server.port, 2000)).unwrap();
    let r = checker.check_domain("spammy.example").await;
    assert_eq!(r.lists[0].status, Status::Listed);
    assert_eq!(r.lists[0].meanings, vec!["spam domain"]);
    let r = checker.check_domain("www.badlinks.example").await;
    assert_eq!(r.lists[0].meanings, vec!["phishing domain"]);
    let r = checker.check_domain("clean.example").await;
    assert_eq!(r.lists[0].status, Status::Clear);
}
