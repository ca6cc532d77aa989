//! The scenarios of the incident engine, each a set of failures with the
//! expected incidents and verdicts.

use outcry_bounce::{Blocklist, Reason};
use outcry_incident::{Context, Failure, State, Thresholds, Verdict, check_claim, detect};
use std::net::IpAddr;

const H: i64 = 3600;
const T0: i64 = 1_793_800_000; // a Wednesday in November 2026

fn f(at: i64, domain: &str, reason: Reason, ip: Option<&str>, list: Option<Blocklist>) -> Failure {
    Failure {
        at,
        recipient_domain: domain.to_string(),
        reason,
        status: String::new(),
        sending_ip: ip.map(|s| s.parse().unwrap()),
        blocklist: list,
        rejecting_org: outcry_incident::registrable(&format!("mx.{domain}")),
        template: format!("550 refused by {domain}"),
    }
}

fn provider_context() -> Context {
    let mut ctx = Context::default();
    for ip in ["40.107.22.93", "40.107.22.94"] {
        ctx.ip_owners.insert(
            ip.parse().unwrap(),
            outcry_incident::IpOwner {
                provider: "Microsoft 365".into(),
                shared_pool: true,
            },
        );
    }
    ctx.important_domains = vec!["fabrikam-foods.example".into(), "tailspin.example".into()];
    ctx
}

#[test]
fn provider_shared_ip_blocked_at_many_recipients() {
    let domains = [
        "fabrikam-foods.example",
        "northwind.example",
        "adventure.example",
        "wingtip.example",
    ];
    let mut fs = Vec::new();
    for i in 0..12 {
        let ip = if i % 2 == 0 {
            "40.107.22.93"
        } else {
            "40.107.22.94"
        };
        fs.push(f(
            T0 + i * H,
            domains[i as usize % 4],
            Reason::Blocked,
            Some(ip),
            Some(Blocklist::Spamhaus),
        ));
    }
    let incs = detect(
        &fs,
        &provider_context(),
        &Thresholds::default(),
        T0 + 12 * H,
    );
    assert_eq!(incs.len(), 1, "{incs:#?}");
    let inc = &incs[0];
    assert_eq!(inc.verdict, Verdict::Provider);
    assert!(inc.confidence >= 0.8, "{}", inc.confidence);
    assert_eq!(inc.state, State::Open);
    assert_eq!(inc.domains.len(), 4);
    assert_eq!(inc.important, vec!["fabrikam-foods.example".to_string()]);
    assert_eq!(inc.blocklists, vec![(Blocklist::Spamhaus, 12)]);
    assert!(
        inc.evidence
            .iter()
            .any(|e| e.supports && e.text.contains("shared outbound pool"))
    );
    assert_eq!(inc.first_seen, T0);
}

#[test]
fn own_spf_and_dmarc_failing() {
    let fs: Vec<Failure> = (0..8)
        .map(|i| {
            f(
                T0 + i * H,
                ["a.example", "b.example", "c.example"][i as usize % 3],
                Reason::AuthFailure,
                Some("203.0.113.7"),
                None,
            )
        })
        .collect();
    let incs = detect(&fs, &Context::default(), &Thresholds::default(), T0 + 9 * H);
    assert_eq!(incs.len(), 1);
    assert_eq!(incs[0].verdict, Verdict::Own);
    assert!(
        incs[0]
            .evidence
            .iter()
            .any(|e| e.text.contains("SPF, DKIM or DMARC"))
    );
}

#[test]
fn the_provider_restricts_the_tenant_itself() {
    // Microsoft refusing the organisation's own outbound mail (a compromised
    // mailbox tripped its threshold): the sender's side, however shared the
    // outbound IPs are.
    let fs: Vec<Failure> = (0..6)
        .map(|i| Failure {
            template: "550 5.7.705 Access denied, tenant has exceeded threshold.".into(),
            ..f(
                T0 + i * H,
                ["a.example", "b.example", "c.example"][i as usize % 3],
                Reason::Rejected,
                Some("40.107.22.93"),
                None,
            )
        })
        .collect();
    let incs = detect(&fs, &provider_context(), &Thresholds::default(), T0 + 7 * H);
    assert_eq!(incs.len(), 1, "{incs:#?}");
    assert_eq!(incs[0].verdict, Verdict::Own);
    assert!(incs[0].confidence >= 0.9, "{}", incs[0].confidence);
    assert!(
        incs[0]
            .evidence
            .iter()
            .any(|e| e.supports && e.text.contains("Restricted entities")),
        "{:#?}",
        incs[0].evidence
    );
}

#[test]
fn one_recipient_down_or_full() {
    let fs: Vec<Failure> = (0..6)
        .map(|i| {
            f(
                T0 + i * H,
                "wingtip.example",
                Reason::SystemFull,
                None,
                None,
            )
        })
        .collect();
    let incs = detect(&fs, &Context::default(), &Thresholds::default(), T0 + 6 * H);
    assert_eq!(incs.len(), 1);
    assert_eq!(incs[0].verdict, Verdict::Recipient);
    assert!(
        incs[0].evidence[0]
            .text
            .contains("only wingtip.example fails")
    );
}

#[test]
fn stale_list_is_own_hygiene_not_an_outage() {
    let fs: Vec<Failure> = (0..40)
        .map(|i| {
            f(
                T0 + i * 60,
                &format!("d{}.example", i % 25),
                Reason::UserUnknown,
                Some("203.0.113.7"),
                None,
            )
        })
        .collect();
    let incs = detect(&fs, &Context::default(), &Thresholds::default(), T0 + H);
    assert_eq!(incs.len(), 1);
    assert_eq!(incs[0].verdict, Verdict::Own);
    assert!(incs[0].evidence[0].text.contains("not an outage"));
}

#[test]
fn plain_noise_opens_nothing() {
    let fs = vec![
        f(T0, "a.example", Reason::UserUnknown, None, None),
        f(T0 + 5 * H, "b.example", Reason::UserUnknown, None, None),
        f(T0 + 9 * H, "c.example", Reason::MailboxFull, None, None),
        f(
            T0 + 30 * H,
            "d.example",
            Reason::Blocked,
            Some("198.51.100.9"),
            None,
        ),
        f(T0 + 50 * H, "e.example", Reason::SpamDetected, None, None),
    ];
    assert!(
        detect(
            &fs,
            &Context::default(),
            &Thresholds::default(),
            T0 + 60 * H
        )
        .is_empty()
    );
}

#[test]
fn vendor_fixed_claim_followed_by_more_failures() {
    let domains = ["a.example", "b.example", "c.example"];
    let fs: Vec<Failure> = (0..20)
        .map(|i| {
            f(
                T0 + i * H,
                domains[i as usize % 3],
                Reason::Blocked,
                Some("40.107.22.93"),
                Some(Blocklist::Microsoft),
            )
        })
        .collect();
    let incs = detect(
        &fs,
        &provider_context(),
        &Thresholds::default(),
        T0 + 20 * H,
    );
    assert_eq!(incs.len(), 1);
    let claimed = T0 + 10 * H; // "fixed at 10:00"
    let c = check_claim(&incs[0], &fs, claimed);
    assert_eq!(c.failures_after, 9);
    assert_eq!(c.first_after, Some(T0 + 11 * H));
    assert_eq!(c.domains_after.len(), 3);
    // A claim after the last failure holds.
    assert_eq!(check_claim(&incs[0], &fs, T0 + 30 * H).failures_after, 0);
}

#[test]
fn quiet_period_closes_and_a_relapse_is_a_new_incident() {
    let domains = ["a.example", "b.example"];
    let mut fs: Vec<Failure> = (0..6)
        .map(|i| {
            f(
                T0 + i * H,
                domains[i as usize % 2],
                Reason::Blocked,
                Some("40.107.22.93"),
                None,
            )
        })
        .collect();
    fs.extend((0..6).map(|i| {
        f(
            T0 + 72 * H + i * H,
            domains[i as usize % 2],
            Reason::Blocked,
            Some("40.107.22.93"),
            None,
        )
    }));
    let incs = detect(
        &fs,
        &provider_context(),
        &Thresholds::default(),
        T0 + 110 * H,
    );
    assert_eq!(incs.len(), 2);
    assert!(incs.iter().all(|i| i.state == State::Closed));
    assert!(incs[0].last_seen < incs[1].first_seen);
}

#[test]
fn own_ip_listed_is_own_fault() {
    let mut ctx = Context::default();
    ctx.own_networks.push("203.0.113.0/24".parse().unwrap());
    let fs: Vec<Failure> = (0..6)
        .map(|i| {
            f(
                T0 + i * H,
                ["a.example", "b.example"][i as usize % 2],
                Reason::Blocked,
                Some("203.0.113.77"),
                Some(Blocklist::Spamhaus),
            )
        })
        .collect();
    let incs = detect(&fs, &ctx, &Thresholds::default(), T0 + 6 * H);
    assert_eq!(incs[0].verdict, Verdict::Own);
    let ip: IpAddr = "203.0.113.77".parse().unwrap();
    assert_eq!(incs[0].sending_ips, vec![ip]);
}
