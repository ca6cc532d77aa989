//! Querying blocklists and reverse DNS through a configurable resolver.

use crate::catalog::{Catalog, ListSpec, Reading};
use crate::owner::{self, Owner};
use crate::udp::{Outcome, UdpClient};
use crate::wire::{self, Answer};
use hickory_resolver::TokioResolver;
use hickory_resolver::config::{ConnectionConfig, NameServerConfig, ResolverConfig, ResolverOpts};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::{DnsError, NetError};
use hickory_resolver::proto::op::ResponseCode;
use hickory_resolver::proto::rr::RData;
use serde::Serialize;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

/// The outcome for one (address, list) pair. An error is never reported as
/// listed or as clear.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// The list answered with a listing.
    Listed,
    /// The list answered that the address is not listed.
    Clear,
    /// No usable answer: timeout, refused, an operator error code, a dead list.
    Error,
}

/// One list's verdict on one address or domain.
#[derive(Debug, Clone, Serialize)]
pub struct ListResult {
    /// Catalog id.
    pub id: String,
    /// DNS zone.
    pub zone: String,
    /// Display name.
    pub name: String,
    /// Listed, clear or error.
    pub status: Status,
    /// The A answers (`127.0.0.2`).
    pub codes: Vec<String>,
    /// What each code means, per the catalog.
    pub meanings: Vec<String>,
    /// The TXT reason the list gives, when listed.
    pub txt: Vec<String>,
    /// An allowlist (or good-reputation) listing: good news.
    pub good: bool,
    /// Why the status is `error`.
    pub error: Option<String>,
}

/// Everything known about one IP.
#[derive(Debug, Clone, Serialize)]
pub struct IpReport {
    /// The address.
    pub ip: IpAddr,
    /// Its PTR name, if any.
    pub ptr: Option<String>,
    /// The PTR name resolves back to the address.
    pub ptr_confirmed: bool,
    /// Who owns it.
    pub owner: Owner,
    /// Shortcut for `owner.shared_pool`.
    pub shared_pool: bool,
    /// Per-list verdicts.
    pub lists: Vec<ListResult>,
}

/// Everything known about one domain.
#[derive(Debug, Clone, Serialize)]
pub struct DomainReport {
    /// The domain.
    pub domain: String,
    /// Per-list verdicts (domain lists only).
    pub lists: Vec<ListResult>,
}

/// How to reach DNS.
#[derive(Debug, Clone)]
pub struct CheckerConfig {
    /// The nameserver to ask; `None` uses the system's resolver configuration.
    pub resolver: Option<SocketAddr>,
    /// How long one query may take.
    pub timeout: Duration,
    /// Attempts per query.
    pub attempts: usize,
    /// Queries in flight at once.
    pub concurrency: usize,
    /// Look up PTR names (and confirm them forward).
    pub ptr: bool,
}

impl Default for CheckerConfig {
    fn default() -> Self {
        CheckerConfig {
            resolver: None,
            timeout: Duration::from_secs(3),
            attempts: 2,
            concurrency: 64,
            ptr: true,
        }
    }
}

/// Public resolvers that blocklist operators refuse (Spamhaus answers them
/// with 127.255.255.254).
const PUBLIC_RESOLVERS: &[&str] = &[
    "8.8.8.8",
    "8.8.4.4",
    "1.1.1.1",
    "1.0.0.1",
    "9.9.9.9",
    "149.112.112.112",
    "208.67.222.222",
    "208.67.220.220",
    "2001:4860:4860::8888",
    "2001:4860:4860::8844",
    "2606:4700:4700::1111",
];

/// A resolver could not be set up.
#[derive(Debug, thiserror::Error)]
#[error("cannot set up the DNS resolver: {0} (pass --resolver ADDR[:PORT] to name one)")]
pub struct SetupError(String);

/// Per-list query pacing: each query reserves the next free slot of the
/// list's rate. Hand-written (a dozen lines) rather than a rate-limiting
/// crate: one shared `next free instant` per list is all that is needed.
#[derive(Default)]
struct Pace {
    next: Mutex<HashMap<String, Instant>>,
}

impl Pace {
    async fn wait(&self, zone: &str, qps: Option<u32>) {
        let Some(qps) = qps.filter(|q| *q > 0) else {
            return;
        };
        let gap = Duration::from_secs(1) / qps;
        let slot = {
            let mut next = self.next.lock().unwrap_or_else(|e| e.into_inner());
            let now = Instant::now();
            let slot = next.get(zone).copied().filter(|t| *t > now).unwrap_or(now);
            next.insert(zone.to_string(), slot + gap);
            slot
        };
        tokio::time::sleep_until(slot.into()).await;
    }
}

/// Asks blocklists and reverse DNS about addresses and domains.
pub struct Checker {
    resolver: TokioResolver,
    catalog: Arc<Catalog>,
    permits: Arc<Semaphore>,
    pace: Pace,
    timeout: Duration,
    ptr: bool,
    public_resolver: Option<String>,
    /// Zones found to answer for everything (checked once per zone).
    health: tokio::sync::Mutex<HashMap<String, Option<String>>>,
    /// The nameserver blocklist queries go to.
    server: Option<SocketAddr>,
    /// The fast path for blocklist queries (see `udp`), made on first use.
    udp: tokio::sync::OnceCell<Option<UdpClient>>,
    attempts: usize,
}

impl Checker {
    /// Build a checker over `catalog`.
    pub fn new(catalog: Catalog, config: &CheckerConfig) -> Result<Checker, SetupError> {
        let mut opts = ResolverOpts::default();
        opts.timeout = config.timeout;
        opts.attempts = config.attempts.max(1);
        opts.cache_size = 4096;
        opts.ndots = 0;
        let builder = match config.resolver {
            Some(addr) => {
                let mut udp = ConnectionConfig::udp();
                udp.port = addr.port();
                let mut tcp = ConnectionConfig::tcp();
                tcp.port = addr.port();
                let ns = NameServerConfig::new(addr.ip(), true, vec![udp, tcp]);
                TokioResolver::builder_with_config(
                    ResolverConfig::from_name_servers(vec![ns]),
                    TokioRuntimeProvider::default(),
                )
            }
            None => TokioResolver::builder_tokio().map_err(|e| SetupError(e.to_string()))?,
        };
        let resolver = builder
            .with_options(opts)
            .build()
            .map_err(|e| SetupError(e.to_string()))?;
        let server = config.resolver.or_else(|| {
            hickory_resolver::system_conf::read_system_conf()
                .ok()
                .and_then(|(c, _)| {
                    c.name_servers().first().map(|ns| {
                        let port = ns.connections.first().map(|c| c.port).unwrap_or(53);
                        SocketAddr::new(ns.ip, port)
                    })
                })
        });
        let public_resolver = config
            .resolver
            .map(|a| a.ip().to_string())
            .filter(|ip| PUBLIC_RESOLVERS.contains(&ip.as_str()));
        Ok(Checker {
            resolver,
            catalog: Arc::new(catalog),
            permits: Arc::new(Semaphore::new(config.concurrency.max(1))),
            pace: Pace::default(),
            timeout: config.timeout,
            ptr: config.ptr,
            public_resolver,
            health: tokio::sync::Mutex::new(HashMap::new()),
            server,
            udp: tokio::sync::OnceCell::new(),
            attempts: config.attempts.max(1),
        })
    }

    /// The TXT strings at `name` (each record's strings joined), for domain
    /// ownership proofs. An error says why there is no answer.
    pub async fn txt(&self, name: &str) -> Result<Vec<String>, String> {
        let found = self
            .resolver
            .txt_lookup(name)
            .await
            .map_err(|e| format!("TXT {name}: {e}"))?;
        Ok(found
            .answers()
            .iter()
            .filter_map(|r| match &r.data {
                hickory_resolver::proto::rr::RData::TXT(t) => Some(
                    t.txt_data
                        .iter()
                        .map(|b| String::from_utf8_lossy(b).into_owned())
                        .collect::<String>(),
                ),
                _ => None,
            })
            .collect())
    }

    /// The public resolver in use, if the configured one is a known public resolver.
    pub fn public_resolver(&self) -> Option<&str> {
        self.public_resolver.as_deref()
    }

    /// The lists this checker asks.
    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// Check one IP: PTR with forward confirmation, owner, and every IP list.
    pub async fn check_ip(&self, ip: IpAddr) -> IpReport {
        let (ptr, confirmed) = if self.ptr {
            self.ptr(ip).await
        } else {
            (None, false)
        };
        let owner = owner::recognise(ip, if confirmed { ptr.as_deref() } else { None });
        let lists: Vec<&ListSpec> = self
            .catalog
            .lists
            .iter()
            .filter(|l| {
                if ip.is_ipv4() {
                    l.takes_ip4()
                } else {
                    l.takes_ip6()
                }
            })
            .collect();
        let mut set = Vec::with_capacity(lists.len());
        for l in lists {
            let name = owner::reverse_name(ip, &l.zone);
            set.push(self.query_list(l, name));
        }
        let lists = futures_join_all(set).await;
        IpReport {
            ip,
            shared_pool: owner.shared_pool,
            ptr,
            ptr_confirmed: confirmed,
            owner,
            lists,
        }
    }

    /// Check one domain against the domain lists.
    pub async fn check_domain(&self, domain: &str) -> DomainReport {
        let d = domain.trim().trim_end_matches('.').to_ascii_lowercase();
        let mut set = Vec::new();
        for l in self.catalog.lists.iter().filter(|l| l.takes_domain()) {
            set.push(self.query_list(l, format!("{d}.{}.", l.zone.trim_end_matches('.'))));
        }
        DomainReport {
            domain: d,
            lists: futures_join_all(set).await,
        }
    }

    /// PTR name of `ip`, and whether it resolves back to `ip`.
    async fn ptr(&self, ip: IpAddr) -> (Option<String>, bool) {
        let _permit = self.permits.acquire().await;
        let Ok(lookup) = self.resolver.reverse_lookup(ip).await else {
            return (None, false);
        };
        let name = lookup.answers().iter().find_map(|r| match &r.data {
            RData::PTR(p) => Some(p.0.to_utf8()),
            _ => None,
        });
        let Some(name) = name else {
            return (None, false);
        };
        let confirmed = match self.resolver.lookup_ip(name.as_str()).await {
            Ok(addrs) => addrs.iter().any(|a| a == ip),
            Err(_) => false,
        };
        (Some(name.trim_end_matches('.').to_string()), confirmed)
    }

    /// Is the zone answering for everything? RFC 5782: 127.0.0.1 must never
    /// be listed; an answer for it means a wildcard (often an expired list
    /// domain bought by someone else). Checked once per zone.
    async fn broken_zone(&self, l: &ListSpec) -> Option<String> {
        if let Some(v) = self.health.lock().await.get(&l.zone) {
            return v.clone();
        }
        let probe = if l.takes_domain() {
            format!("invalid.{}.", l.zone.trim_end_matches('.'))
        } else {
            owner::reverse_name(IpAddr::from([127, 0, 0, 1]), &l.zone)
        };
        let verdict = match self.ask_a(&probe).await {
            Ok(found) if !found.is_empty() => {
                let answers: Vec<String> = found.iter().map(|a| a.to_string()).collect();
                // An operator error code on the probe is the operator speaking
                // (e.g. refusing a public resolver): not a wildcard.
                let errorish = found
                    .iter()
                    .all(|a| matches!(l.read(*a), Reading::Error(_)));
                (!errorish).then(|| {
                    format!(
                        "{} answers {} for the test address that must never be listed: the zone lists everything (wildcard or expired list domain); its answers are ignored",
                        l.zone,
                        answers.join(", ")
                    )
                })
            }
            _ => None,
        };
        self.health
            .lock()
            .await
            .insert(l.zone.clone(), verdict.clone());
        verdict
    }

    async fn query_list(&self, l: &ListSpec, name: String) -> ListResult {
        let mut r = ListResult {
            id: l.id.clone(),
            zone: l.zone.clone(),
            name: l.name.clone(),
            status: Status::Error,
            codes: Vec::new(),
            meanings: Vec::new(),
            txt: Vec::new(),
            good: false,
            error: None,
        };
        if let Some(why) = &l.dead {
            r.error = Some(format!("not queried: {why}"));
            return r;
        }
        self.pace.wait(&l.zone, l.max_qps).await;
        let _permit = self.permits.acquire().await;
        let answer = self.ask_a(&name).await;
        match answer {
            Ok(answers) => {
                if answers.is_empty() {
                    r.status = Status::Clear;
                    return r;
                }
                if let Some(why) = self.broken_zone(l).await {
                    r.error = Some(why);
                    return r;
                }
                let mut errors = Vec::new();
                let mut all_good = true;
                for a in answers {
                    r.codes.push(a.to_string());
                    match l.read(a) {
                        Reading::Listed { meaning, good } => {
                            all_good &= good;
                            r.meanings.push(meaning);
                        }
                        Reading::Error(m) => {
                            r.meanings.push(m.clone());
                            errors.push(m);
                        }
                    }
                }
                if !errors.is_empty() {
                    let mut msg = errors.join("; ");
                    if let Some(p) = &self.public_resolver
                        && l.public_resolvers_refused
                    {
                        msg.push_str(&format!(
                            " ({p} is a public resolver, which this operator refuses)"
                        ));
                    }
                    r.error = Some(msg);
                    return r;
                }
                r.status = Status::Listed;
                r.good = all_good;
                r.txt = self.ask_txt(&name).await;
            }
            Err(msg) => r.error = Some(msg),
        }
        r
    }

    /// The UDP fast path, when a nameserver address is known.
    async fn udp(&self) -> Option<&UdpClient> {
        self.udp
            .get_or_init(|| async {
                let server = self.server?;
                UdpClient::new(server, self.timeout, self.attempts)
                    .await
                    .ok()
            })
            .await
            .as_ref()
    }

    /// A records of `name`: `Ok(empty)` when it does not exist, `Err` when
    /// no usable answer came.
    async fn ask_a(&self, name: &str) -> Result<Vec<std::net::Ipv4Addr>, String> {
        if let Some(udp) = self.udp().await {
            match udp.query(name, wire::TYPE_A).await {
                Outcome::Answers(a) => {
                    return Ok(a
                        .iter()
                        .filter_map(|x| {
                            if let Answer::A(ip) = x {
                                Some(*ip)
                            } else {
                                None
                            }
                        })
                        .collect());
                }
                Outcome::NoRecords => return Ok(Vec::new()),
                Outcome::Rcode(code) => return Err(rcode_message(code)),
                Outcome::Timeout => {
                    return Err(format!("no answer within {:?} (timeout)", self.timeout));
                }
                Outcome::Truncated => {} // retried below over TCP
            }
        }
        match self.resolver.ipv4_lookup(name).await {
            Ok(lookup) => Ok(a_answers(&lookup)),
            Err(e) => classify_error(&e, self.timeout).map(|()| Vec::new()),
        }
    }

    /// TXT strings of `name` (best effort: the reason a list gives).
    async fn ask_txt(&self, name: &str) -> Vec<String> {
        if let Some(udp) = self.udp().await
            && let Outcome::Answers(a) = udp.query(name, wire::TYPE_TXT).await
        {
            return a
                .into_iter()
                .filter_map(|x| {
                    if let Answer::Txt(t) = x {
                        Some(t)
                    } else {
                        None
                    }
                })
                .collect();
        }
        match self.resolver.txt_lookup(name).await {
            Ok(txt) => txt
                .answers()
                .iter()
                .filter_map(|rec| {
                    if let RData::TXT(t) = &rec.data {
                        Some(t.to_string())
                    } else {
                        None
                    }
                })
                .collect(),
            Err(_) => Vec::new(),
        }
    }
}

fn a_answers(lookup: &hickory_resolver::lookup::Lookup) -> Vec<std::net::Ipv4Addr> {
    lookup
        .answers()
        .iter()
        .filter_map(|r| match &r.data {
            RData::A(a) => Some(a.0),
            _ => None,
        })
        .collect()
}

fn rcode_message(code: u8) -> String {
    let name = match code {
        1 => "FORMERR",
        2 => "SERVFAIL",
        4 => "NOTIMP",
        5 => "REFUSED",
        _ => "an error code",
    };
    let hint = if code == 5 {
        " (the resolver refuses this query; is it allowed to recurse for you?)"
    } else {
        ""
    };
    format!("the server answered {name} ({code}){hint}")
}

/// `Ok(())` for "not listed" (NXDOMAIN or no A record); otherwise why the
/// answer is unusable.
fn classify_error(e: &NetError, timeout: Duration) -> Result<(), String> {
    match e {
        NetError::Dns(DnsError::NoRecordsFound(nr))
            if matches!(
                nr.response_code,
                ResponseCode::NXDomain | ResponseCode::NoError
            ) =>
        {
            Ok(())
        }
        NetError::Dns(DnsError::NoRecordsFound(nr)) => {
            Err(format!("the server answered {}", nr.response_code))
        }
        NetError::Dns(DnsError::ResponseCode(code)) => Err(format!(
            "the server answered {code}{}",
            if *code == ResponseCode::Refused {
                " (the resolver refuses this query; is it allowed to recurse for you?)"
            } else {
                ""
            }
        )),
        NetError::Timeout => Err(format!("no answer within {:?} (timeout)", timeout)),
        other => Err(other.to_string()),
    }
}

/// Await a set of futures concurrently (they share the checker's permits).
async fn futures_join_all<F: std::future::Future>(futures: Vec<F>) -> Vec<F::Output> {
    let mut pinned: Vec<std::pin::Pin<Box<F>>> = futures.into_iter().map(Box::pin).collect();
    let mut out: Vec<Option<F::Output>> = (0..pinned.len()).map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (i, f) in pinned.iter_mut().enumerate() {
            if out[i].is_none() {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => out[i] = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    out.into_iter()
        .map(|o| o.expect("every future completed"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Recognising a public resolver needs no query (and sends none).
    #[tokio::test]
    async fn public_resolvers_are_recognised() {
        let cfg = |addr: &str| CheckerConfig {
            resolver: Some(addr.parse().unwrap()),
            ..CheckerConfig::default()
        };
        let c = Checker::new(Catalog::bundled(), &cfg("8.8.8.8:53")).unwrap();
        assert_eq!(c.public_resolver(), Some("8.8.8.8"));
        let c = Checker::new(Catalog::bundled(), &cfg("127.0.0.1:53")).unwrap();
        assert_eq!(c.public_resolver(), None);
    }
}
