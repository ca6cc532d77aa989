//! Grouping failures by cause and deciding when a group is an incident.

use crate::Failure;
use crate::attribute::{self, Evidence, Verdict};
use ipnet::IpNet;
use outcry_bounce::{Blocklist, Family, Reason};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::IpAddr;

/// What a group of failures has in common.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase", tag = "kind", content = "value")]
pub enum Scope {
    /// The sending IPs (a /24 or /48) are refused for their reputation.
    Pool(String),
    /// The sender itself is refused (authentication, sender address, relaying).
    Sender,
    /// The content is refused (spam, virus, policy, size).
    Content,
    /// Addresses that do not exist, across recipient domains.
    Addresses,
    /// One recipient organisation fails on its own.
    Org(String),
}

/// A cause signature: failures with the same one have the same cause.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Signature {
    /// The reason family.
    pub family: Family,
    /// Where the cause sits.
    pub scope: Scope,
}

impl Signature {
    /// The signature of one failure.
    pub fn of(f: &Failure) -> Signature {
        let family = f.family();
        let scope = match family {
            Family::Reputation => Scope::Pool(
                f.sending_ip
                    .map(pool_of)
                    .unwrap_or_else(|| "unknown".into()),
            ),
            Family::Sender => Scope::Sender,
            Family::Content => Scope::Content,
            Family::Recipient if matches!(f.reason, Reason::UserUnknown | Reason::HasMoved) => {
                Scope::Addresses
            }
            _ => Scope::Org(f.rejecting_org.clone()),
        };
        Signature { family, scope }
    }
}

/// The /24 (IPv4) or /48 (IPv6) an address is in.
fn pool_of(ip: IpAddr) -> String {
    let prefix = if ip.is_ipv4() { 24 } else { 48 };
    IpNet::new(ip, prefix)
        .map(|n| n.trunc().to_string())
        .unwrap_or_else(|_| ip.to_string())
}

/// When a group of failures becomes an incident. The defaults are documented
/// in `docs/attribution.md`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Thresholds {
    /// Failures within `window` needed to open an incident.
    pub min_failures: usize,
    /// Distinct recipient domains needed, except for one-organisation scopes.
    pub min_domains: usize,
    /// Failures needed for an `Addresses` incident (stale list): higher,
    /// since a few unknown users are ordinary.
    pub min_address_failures: usize,
    /// The window in seconds.
    pub window: i64,
    /// Seconds without a failure after which an incident is closed.
    pub quiet: i64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            min_failures: 5,
            min_domains: 2,
            min_address_failures: 20,
            window: 24 * 3600,
            quiet: 24 * 3600,
        }
    }
}

/// What is known beyond the bounces.
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// The organisation's own sending networks.
    pub own_networks: Vec<IpNet>,
    /// Owners of sending IPs (from `outcry check`).
    pub ip_owners: HashMap<IpAddr, IpOwner>,
    /// The organisation's most important correspondents (recipient domains),
    /// by message volume where logs give it, else by bounce history.
    pub important_domains: Vec<String>,
    /// What the blocklists said about sending IPs (from `outcry check` or
    /// `outcry ingest`).
    pub standings: HashMap<IpAddr, crate::Standing>,
}

/// Who owns a sending IP.
#[derive(Debug, Clone)]
pub struct IpOwner {
    /// Provider name.
    pub provider: String,
    /// A pool shared by many customers.
    pub shared_pool: bool,
}

/// Open or closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    /// Failures of this signature are still arriving (within the quiet period).
    Open,
    /// No failure for the quiet period.
    Closed,
}

/// An incident: a group of failures with one cause.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Incident {
    /// Stable identifier: the signature and the first failure's time.
    pub id: String,
    /// The cause.
    pub signature: Signature,
    /// Open or closed at the time of detection.
    pub state: State,
    /// First failure (Unix seconds).
    pub first_seen: i64,
    /// Last failure.
    pub last_seen: i64,
    /// Number of failures.
    pub failures: usize,
    /// Recipient domains with their failure counts, most first.
    #[serde(rename = "recipient_domains")]
    pub domains: Vec<(String, usize)>,
    /// Organisations that refused.
    pub rejecting_orgs: Vec<String>,
    /// Sending IPs seen.
    pub sending_ips: Vec<IpAddr>,
    /// Blocklists named, with counts.
    pub blocklists: Vec<(Blocklist, usize)>,
    /// Reasons, with counts.
    pub reasons: Vec<(Reason, usize)>,
    /// Up to three masked diagnostic texts.
    pub samples: Vec<String>,
    /// Affected domains among the organisation's most important correspondents.
    pub important: Vec<String>,
    /// Whose fault.
    pub verdict: Verdict,
    /// How sure, 0 to 1.
    pub confidence: f32,
    /// Evidence for and against the verdict.
    pub evidence: Vec<Evidence>,
}

/// Find the incidents among `failures` as of `now`.
pub fn detect(failures: &[Failure], ctx: &Context, th: &Thresholds, now: i64) -> Vec<Incident> {
    let mut groups: BTreeMap<Signature, Vec<&Failure>> = BTreeMap::new();
    for f in failures {
        groups.entry(Signature::of(f)).or_default().push(f);
    }
    let mut out = Vec::new();
    for (sig, mut group) in groups {
        group.sort_by_key(|f| f.at);
        let (min_failures, min_domains) = match sig.scope {
            Scope::Addresses => (th.min_address_failures, th.min_domains),
            Scope::Org(_) => (th.min_failures, 1),
            _ => (th.min_failures, th.min_domains),
        };
        for episode in episodes(&group, th.quiet) {
            if let Some(start) = first_crossing(episode, th.window, min_failures, min_domains) {
                let members = &episode[start..];
                out.push(build(&sig, members, ctx, th, now));
            }
        }
    }
    out.sort_by_key(|i| (i.first_seen, i.id.clone()));
    out
}

/// Split a time-sorted group where the gap exceeds the quiet period.
fn episodes<'a, 'f>(group: &'a [&'f Failure], quiet: i64) -> Vec<&'a [&'f Failure]> {
    let mut out = Vec::new();
    let mut start = 0;
    for i in 1..group.len() {
        if group[i].at - group[i - 1].at > quiet {
            out.push(&group[start..i]);
            start = i;
        }
    }
    if start < group.len() {
        out.push(&group[start..]);
    }
    out
}

/// The index where a window first holds enough failures and domains; the
/// incident starts at the window's first failure.
fn first_crossing(
    ep: &[&Failure],
    window: i64,
    min_failures: usize,
    min_domains: usize,
) -> Option<usize> {
    let mut lo = 0;
    for hi in 0..ep.len() {
        while ep[hi].at - ep[lo].at > window {
            lo += 1;
        }
        let slice = &ep[lo..=hi];
        let domains: BTreeSet<&str> = slice.iter().map(|f| f.recipient_domain.as_str()).collect();
        if slice.len() >= min_failures && domains.len() >= min_domains {
            return Some(lo);
        }
    }
    None
}

fn counts<K: Ord + Clone>(items: impl Iterator<Item = K>) -> Vec<(K, usize)> {
    let mut m: BTreeMap<K, usize> = BTreeMap::new();
    for k in items {
        *m.entry(k).or_default() += 1;
    }
    let mut v: Vec<(K, usize)> = m.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    v
}

fn build(
    sig: &Signature,
    members: &[&Failure],
    ctx: &Context,
    th: &Thresholds,
    now: i64,
) -> Incident {
    let first_seen = members.first().map(|f| f.at).unwrap_or(now);
    let last_seen = members.last().map(|f| f.at).unwrap_or(now);
    let domains = counts(members.iter().map(|f| f.recipient_domain.clone()));
    let important = ctx
        .important_domains
        .iter()
        .filter(|d| domains.iter().any(|(x, _)| x == *d))
        .cloned()
        .collect();
    let mut samples: Vec<String> = Vec::new();
    for f in members {
        if samples.len() < 3 && !f.template.is_empty() && !samples.contains(&f.template) {
            samples.push(f.template.clone());
        }
    }
    let scope = match &sig.scope {
        Scope::Pool(p) => format!("pool-{p}"),
        Scope::Org(o) => format!("org-{o}"),
        other => format!("{other:?}").to_ascii_lowercase(),
    };
    let mut inc = Incident {
        id: format!(
            "{}-{}-{first_seen}",
            format!("{:?}", sig.family).to_ascii_lowercase(),
            scope.replace(['/', ':'], "_")
        ),
        signature: sig.clone(),
        state: if now - last_seen > th.quiet {
            State::Closed
        } else {
            State::Open
        },
        first_seen,
        last_seen,
        failures: members.len(),
        domains,
        rejecting_orgs: members
            .iter()
            .map(|f| f.rejecting_org.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect(),
        sending_ips: members
            .iter()
            .filter_map(|f| f.sending_ip)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect(),
        blocklists: counts(members.iter().filter_map(|f| f.blocklist)),
        reasons: counts(members.iter().map(|f| f.reason)),
        samples,
        important,
        verdict: Verdict::Unknown,
        confidence: 0.0,
        evidence: Vec::new(),
    };
    let (verdict, confidence, evidence) = attribute::attribute(&inc, ctx);
    inc.verdict = verdict;
    inc.confidence = confidence;
    inc.evidence = evidence;
    inc
}

/// What happened after a vendor said an incident was fixed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimCheck {
    /// Failures of the same signature after the claimed time.
    pub failures_after: usize,
    /// The first of them.
    pub first_after: Option<i64>,
    /// Recipient domains still failing after the claim.
    pub domains_after: Vec<String>,
}

/// Check a "fixed at `claimed`" against the failures of the incident's signature.
pub fn check_claim(incident: &Incident, failures: &[Failure], claimed: i64) -> ClaimCheck {
    let after: Vec<&Failure> = failures
        .iter()
        .filter(|f| f.at > claimed && Signature::of(f) == incident.signature)
        .collect();
    ClaimCheck {
        failures_after: after.len(),
        first_after: after.iter().map(|f| f.at).min(),
        domains_after: after
            .iter()
            .map(|f| f.recipient_domain.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect(),
    }
}
