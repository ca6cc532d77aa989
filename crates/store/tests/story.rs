//! One story, both backends: SQLite always; PostgreSQL when
//! `OUTCRY_TEST_PG_URL` names a server (`.ci/run` starts one and sets it;
//! under CI a missing server is a failure, not a skip).

use outcry_bounce::{Blocklist, Reason};
use outcry_incident::{Failure, Listing, Standing};
use outcry_store::{Keyed, Party, Store, StoreError, open};

fn keyed(i: i64) -> Keyed {
    Keyed {
        key: format!("k{i:04}"),
        failure: Failure {
            at: 1_793_800_000 + i * 3600,
            recipient_domain: format!("d{}.example", i % 3),
            reason: if i % 2 == 0 {
                Reason::Blocked
            } else {
                Reason::UserUnknown
            },
            status: "5.7.1".into(),
            sending_ip: (i % 2 == 0).then(|| "40.107.22.93".parse().unwrap()),
            blocklist: (i % 2 == 0).then_some(Blocklist::Spamhaus),
            rejecting_org: format!("d{}.example", i % 3),
            template: "550 5.7.1 <address@d0.example> blocked".into(),
        },
    }
}

fn story(store: &mut dyn Store) {
    let batch: Vec<Keyed> = (0..10).map(keyed).collect();
    let first = store.ingest(&batch).unwrap();
    assert_eq!((first.new, first.known), (10, 0));
    // The same bounces again, plus two new ones: idempotent.
    let mut again = batch.clone();
    again.extend((10..12).map(keyed));
    let second = store.ingest(&again).unwrap();
    assert_eq!((second.new, second.known), (2, 10));

    let all = store.failures().unwrap();
    assert_eq!(all.len(), 12);
    assert!(all.windows(2).all(|w| w[0].at <= w[1].at), "oldest first");
    assert_eq!(all[0], keyed(0).failure, "a failure round-trips unchanged");
    assert_eq!(all[1].sending_ip, None);

    let t = store
        .add_ticket(
            Party::Provider,
            "31415926",
            Some("reputation-pool-40.107.22.0_24-1"),
            1_793_801_000,
        )
        .unwrap();
    store
        .update_ticket(
            t,
            "escalated",
            "joint escalation with 4 other tenants",
            1_793_802_000,
        )
        .unwrap();
    store
        .add_claim(t, 1_793_872_800, "Microsoft: fixed", 1_793_873_000)
        .unwrap();
    let u = store
        .add_ticket(Party::Blocklist, "SBL-1", None, 1_793_801_500)
        .unwrap();
    assert_ne!(t, u);
    let tickets = store.tickets().unwrap();
    assert_eq!(tickets.len(), 2);
    assert_eq!(tickets[0].number, "31415926");
    assert_eq!(tickets[0].status(), "escalated");
    assert_eq!(tickets[0].history.len(), 2);
    assert_eq!(
        tickets[0].claims,
        vec![(1_793_873_000, 1_793_872_800, "Microsoft: fixed".to_string())]
    );
    assert_eq!(tickets[1].party, "blocklist");
    assert_eq!(tickets[1].incident, None);
    assert!(matches!(
        store.update_ticket(999_999, "x", "", 0),
        Err(StoreError::NoTicket(999_999))
    ));

    // Standings: the latest check of an IP wins; an older one does not
    // overwrite it.
    let mut listed = standing("40.107.22.93", 1_793_810_000);
    listed.listed.push(Listing {
        list: "Spamhaus ZEN".into(),
        zone: "zen.spamhaus.org".into(),
        codes: vec!["127.0.0.3".into()],
        meanings: vec!["CSS: low-reputation sender".into()],
        good: false,
    });
    let older = standing("40.107.22.93", 1_793_800_000);
    let other = standing("2001:db8::25", 1_793_810_000);
    store
        .put_standings(&[listed.clone(), other.clone()])
        .unwrap();
    store.put_standings(&[older]).unwrap();
    let got = store.standings().unwrap();
    assert_eq!(got.len(), 2);
    assert!(got.contains(&listed), "{got:?}");
    assert!(got.contains(&other));
}

fn standing(ip: &str, at: i64) -> Standing {
    Standing {
        ip: ip.parse().unwrap(),
        checked_at: at,
        ptr: Some("mail-eopbgr.outbound.protection.outlook.com".into()),
        ptr_confirmed: true,
        owner: Some("Microsoft 365".into()),
        shared_pool: true,
        listed: Vec::new(),
        clear: vec!["SpamCop".into()],
        errors: Vec::new(),
    }
}

#[test]
fn sqlite_story() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sub/outcry.db");
    let mut store = open(path.to_str().unwrap()).unwrap();
    story(store.as_mut());
    drop(store);
    // Reopening keeps everything (and does not re-run the schema).
    let mut store = open(path.to_str().unwrap()).unwrap();
    assert_eq!(store.failures().unwrap().len(), 12);
}

#[test]
fn postgres_story() {
    let Some(db) = outcry_testsupport::pg_database("store") else {
        return;
    };
    let mut store = open(&db.url).unwrap();
    story(store.as_mut());
    drop(store);
    // Reopening keeps everything (and does not re-run the schema).
    let mut store = open(&db.url).unwrap();
    assert_eq!(store.failures().unwrap().len(), 12);
}
