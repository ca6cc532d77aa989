//! Whose fault is an incident? Rules in plain words live in
//! `docs/attribution.md`; this is their code.

use crate::detect::{Context, Incident, Scope};
use outcry_bounce::{Blocklist, Family, Reason};
use serde::{Deserialize, Serialize};

/// Who is at fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// The organisation's own setup: authentication, content, addresses, its own IPs.
    Own,
    /// The mail provider: its shared outbound IPs are refused for reputation.
    Provider,
    /// The recipient: its server is down or full, or it refuses by its own policy.
    Recipient,
    /// A blocklist operator's listing policy.
    Blocklist,
    /// Not enough evidence.
    Unknown,
}

/// One piece of evidence, for or against the verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    /// What it says, in plain words.
    pub text: String,
    /// It supports the verdict (`false`: it speaks against it).
    pub supports: bool,
}

fn yes(text: impl Into<String>) -> Evidence {
    Evidence {
        text: text.into(),
        supports: true,
    }
}
fn no(text: impl Into<String>) -> Evidence {
    Evidence {
        text: text.into(),
        supports: false,
    }
}

/// Microsoft's refusals of a sending tenant's own outbound mail.
const TENANT_RESTRICTIONS: &[&str] = &[
    "tenant has exceeded threshold",
    "traffic not accepted from this ip",
    "client blocked from sending from unregistered domains",
    "access denied, bad outbound sender",
];

/// Decide the verdict of an incident.
pub(crate) fn attribute(inc: &Incident, ctx: &Context) -> (Verdict, f32, Vec<Evidence>) {
    let orgs = inc.rejecting_orgs.len();
    let domains = inc.domains.len();
    match &inc.signature.scope {
        Scope::Pool(_) => pool(inc, ctx, orgs),
        Scope::Sender => {
            let auth = inc.reasons.iter().any(|(r, _)| *r == Reason::AuthFailure);
            let mut ev = vec![yes(format!(
                "{domains} recipient domain(s) refuse the sender itself ({})",
                reasons_text(inc)
            ))];
            if auth {
                ev.push(yes("SPF, DKIM or DMARC checks fail: the sending domain's DNS records do not cover this mail"));
            }
            let tenant = inc.samples.iter().any(|s| {
                let l = s.to_ascii_lowercase();
                TENANT_RESTRICTIONS.iter().any(|p| l.contains(p))
            });
            if tenant {
                ev.push(yes("the provider restricts the organisation's own tenant (Microsoft 5.7.705, 5.7.708, 5.7.750 or 5.1.8): a compromised or unverified sender, or a domain not accepted in the tenant; see \"Restricted entities\" in Microsoft Defender"));
            }
            (Verdict::Own, if auth || tenant { 0.9 } else { 0.75 }, ev)
        }
        Scope::Content => (
            Verdict::Own,
            if domains >= 2 { 0.7 } else { 0.55 },
            vec![yes(format!(
                "{domains} recipient domain(s) refuse the content of the messages ({})",
                reasons_text(inc)
            ))],
        ),
        Scope::Addresses => (
            Verdict::Own,
            0.9,
            vec![
                yes(format!(
                    "{} failures name addresses that do not exist at {domains} domains: stale addresses (list hygiene), not an outage",
                    inc.failures
                )),
                no("no refusal of the sending IP or domain: mail to valid addresses is delivered"),
            ],
        ),
        Scope::Org(org) => {
            let mut ev = vec![yes(format!("only {org} fails ({})", reasons_text(inc)))];
            if inc
                .reasons
                .iter()
                .any(|(r, _)| r.family() == Family::Reputation)
            {
                ev.push(no("the refusal cites the sending IP's reputation, which may affect other recipients later"));
                return (Verdict::Recipient, 0.55, ev);
            }
            (Verdict::Recipient, 0.8, ev)
        }
    }
}

fn reasons_text(inc: &Incident) -> String {
    inc.reasons
        .iter()
        .map(|(r, n)| format!("{r} x{n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn pool(inc: &Incident, ctx: &Context, orgs: usize) -> (Verdict, f32, Vec<Evidence>) {
    let ips = &inc.sending_ips;
    let own = ips
        .iter()
        .any(|ip| ctx.own_networks.iter().any(|n| n.contains(ip)));
    let provider = ips
        .iter()
        .find_map(|ip| ctx.ip_owners.get(ip))
        .filter(|o| o.shared_pool);
    let named: Vec<Blocklist> = inc.blocklists.iter().map(|(b, _)| *b).collect();
    let mut ev = Vec::new();
    if !named.is_empty() {
        let list: Vec<&str> = named.iter().map(|b| b.as_str()).collect();
        ev.push(yes(format!("the refusals name {}", list.join(", "))));
    }
    let listed = standing_evidence(inc, ctx, &mut ev);
    if own {
        ev.push(yes(
            "the refused sending IPs are in the organisation's own networks",
        ));
        return (Verdict::Own, 0.85, ev);
    }
    if named.contains(&Blocklist::Sorbs) && orgs <= 2 {
        ev.push(yes(
            "SORBS has been dead since June 2024: the recipient's filter uses a stale list",
        ));
        return (Verdict::Recipient, 0.8, ev);
    }
    if let Some(owner) = provider {
        ev.insert(0, yes(format!("the refused IPs belong to {}'s shared outbound pool, used by many unrelated senders", owner.provider)));
        let mut confidence: f32 = 0.6;
        if orgs >= 3 {
            confidence += 0.2;
            ev.push(yes(format!(
                "{orgs} unrelated recipient organisations refuse the same IPs"
            )));
        } else {
            ev.push(no(format!("only {orgs} recipient organisation(s) refuse so far: one recipient's policy is possible")));
        }
        if !named.is_empty() {
            confidence += 0.1;
        }
        if listed {
            confidence += 0.05;
        }
        return (Verdict::Provider, confidence.min(0.95), ev);
    }
    if named.contains(&Blocklist::Uceprotect) {
        ev.push(yes("UCEPROTECT lists whole allocations and ASNs (levels 2 and 3): neighbours' behaviour, not this sender's"));
        return (Verdict::Blocklist, 0.6, ev);
    }
    ev.push(no(
        "who owns the sending IPs is not known: run `outcry check` on them",
    ));
    if orgs >= 3 {
        ev.push(yes(format!("{orgs} unrelated recipient organisations refuse the same IPs: the IPs' reputation is bad")));
    }
    (Verdict::Unknown, 0.3, ev)
}

/// Add what the DNS blocklists said about the incident's sending IPs to
/// `ev`; true when at least one list lists one of them.
fn standing_evidence(inc: &Incident, ctx: &Context, ev: &mut Vec<Evidence>) -> bool {
    let checked: Vec<&crate::Standing> = inc
        .sending_ips
        .iter()
        .filter_map(|ip| ctx.standings.get(ip))
        .collect();
    let mut listed = false;
    for s in &checked {
        let bad: Vec<&str> = s.bad().map(|l| l.list.as_str()).collect();
        if !bad.is_empty() {
            listed = true;
            ev.push(yes(format!("{} is listed on {}", s.ip, bad.join(", "))));
        }
    }
    if !checked.is_empty() && !listed && checked.iter().all(|s| s.errors.is_empty()) {
        ev.push(no(format!(
            "no public DNS blocklist lists the {} checked sending IP(s): the refusals rest on the recipients' own or a private reputation service",
            checked.len()
        )));
    }
    listed
}
