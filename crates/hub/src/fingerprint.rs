//! What an organisation shares with the hub: an anonymised fingerprint of a
//! local incident, or a manual report. Built by `outcry share` (see
//! [`Fingerprint::of`]) and validated again by the hub (see
//! [`Fingerprint::validate`]); `docs/hub.md` lists every field.

use outcry_bounce::{Blocklist, Family};
use outcry_incident::{Failure, Incident, Scope, Signature, Verdict, mask, registrable};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;
use std::net::IpAddr;

/// The fingerprint format version.
pub const VERSION: u32 = 1;

/// Mail-hosting and filtering operators whose name is shared in clear: they
/// serve many organisations, so naming one does not name a recipient. Any
/// other rejecting organisation (an organisation's own MX) is shared only
/// as a keyed hash.
pub const PUBLIC_OPERATORS: &[&str] = &[
    "outlook.com",
    "office.com",
    "microsoft.com",
    "hotmail.com",
    "google.com",
    "googlemail.com",
    "gmail.com",
    "yahoodns.net",
    "yahoo.com",
    "aol.com",
    "icloud.com",
    "apple.com",
    "me.com",
    "mimecast.com",
    "pphosted.com",
    "ppe-hosted.com",
    "messagelabs.com",
    "barracudanetworks.com",
    "iphmx.com",
    "trendmicro.com",
    "trendmicro.eu",
    "sophos.com",
    "hornetsecurity.com",
    "secureserver.net",
    "zoho.com",
    "zoho.eu",
    "gmx.net",
    "web.de",
    "t-online.de",
    "orange.fr",
    "free.fr",
    "comcast.net",
    "cox.net",
    "att.net",
    "yandex.net",
    "yandex.ru",
    "mail.ru",
    "qq.com",
    "163.com",
    "naver.com",
    "spamhaus.org",
    "spamcop.net",
    "barracudacentral.org",
    "uceprotect.net",
    "sorbs.net",
    "proofpoint.com",
    "cisco.com",
    "talosintelligence.com",
];

/// A keyed hash, as `h:` and 16 hex digits. The key is the share key
/// (`OUTCRY_SHARE_KEY`): organisations that use the same key get the same
/// hash for the same domain, so the hub can match them without reading
/// them. SHA-256 over key, a separator and the value; a hub that knows the
/// key could test guesses, which is why the key is meant to be agreed
/// among the participants and not given to the hub.
pub fn keyed_hash(key: &str, value: &str) -> String {
    let mut h = Sha256::new();
    h.update(key.as_bytes());
    h.update([0u8]);
    h.update(value.trim().to_ascii_lowercase().as_bytes());
    let d = h.finalize();
    let hex: String = d[..8].iter().map(|b| format!("{b:02x}")).collect();
    format!("h:{hex}")
}

/// An organisation's ticket with its provider, shared only on opt-in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SharedTicket {
    /// The ticket number.
    pub number: String,
    /// Its latest status (open, escalated, acknowledged, resolved, ...).
    #[serde(default)]
    pub status: String,
}

/// A vendor's "fixed at" claim, shared only on opt-in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SharedClaim {
    /// When the vendor says it was fixed (Unix seconds).
    pub fixed_at: i64,
    /// What the vendor said (as typed by the organisation).
    pub text: String,
}

/// An anonymised local incident. Nothing else leaves the organisation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fingerprint {
    /// Format version ([`VERSION`]).
    pub version: u32,
    /// A keyed hash of the local incident's id: sharing the same incident
    /// again updates it instead of counting twice.
    pub local_ref: String,
    /// The mail provider that owns the sending IPs, when recognised.
    pub provider: Option<String>,
    /// The reason family (`reputation`, `sender`, `recipient`, ...).
    pub family: Family,
    /// The cause's scope: `pool:40.107.22.0/24`, `org:<operator or hash>`,
    /// `sender`, `content` or `addresses`.
    pub scope: String,
    /// The refused sending IPs.
    pub sending_ips: Vec<IpAddr>,
    /// Their /24 (IPv4) or /48 (IPv6) ranges.
    pub sending_ranges: Vec<String>,
    /// The enhanced status codes seen.
    pub status_codes: Vec<String>,
    /// The blocklists the refusals name.
    pub blocklists: Vec<Blocklist>,
    /// The rejecting organisations: a public operator in clear, others as
    /// keyed hashes.
    pub rejecting_orgs: Vec<String>,
    /// Diagnostic templates: addresses, IPs, hosts and ids masked.
    pub templates: Vec<String>,
    /// First failure (Unix seconds).
    pub first_seen: i64,
    /// Last failure (Unix seconds).
    pub last_seen: i64,
    /// How many failures.
    pub failures: u64,
    /// Recipient domains as keyed hashes.
    pub recipient_domains: Vec<String>,
    /// The local verdict.
    pub verdict: Verdict,
    /// Its confidence, 0 to 1.
    pub confidence: f32,
    /// The provider ticket, if the organisation opts in.
    pub ticket: Option<SharedTicket>,
    /// The vendor's claims, if the organisation opts in.
    #[serde(default)]
    pub claims: Vec<SharedClaim>,
}

/// A problem no bounce shows, reported by hand.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManualReport {
    /// The provider (`Microsoft 365`).
    pub provider: String,
    /// The service (`email`, `admin console`, `teams`, ...).
    pub service: String,
    /// The symptom in a few words (no personal data, please).
    pub symptom: String,
    /// When it started (Unix seconds).
    pub started_at: i64,
    /// The provider ticket number, if the organisation wants it shared.
    #[serde(default)]
    pub ticket: Option<String>,
}

/// What the hub refuses in a submission.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {problem}")]
pub struct Invalid {
    /// The offending field.
    pub field: &'static str,
    /// What is wrong with it.
    pub problem: String,
}

fn invalid(field: &'static str, problem: impl Into<String>) -> Invalid {
    Invalid {
        field,
        problem: problem.into(),
    }
}

/// Printable text of at most `max` characters, no control characters.
fn check_text(field: &'static str, s: &str, max: usize) -> Result<(), Invalid> {
    if s.chars().count() > max {
        return Err(invalid(field, format!("longer than {max} characters")));
    }
    if s.chars().any(|c| c.is_control() && c != ' ') {
        return Err(invalid(field, "control characters are not allowed"));
    }
    Ok(())
}

fn check_list(field: &'static str, v: &[String], max: usize, len: usize) -> Result<(), Invalid> {
    if v.len() > max {
        return Err(invalid(field, format!("more than {max} entries")));
    }
    v.iter().try_for_each(|s| check_text(field, s, len))
}

fn is_hash(s: &str) -> bool {
    s.len() == 18 && s.starts_with("h:") && s[2..].bytes().all(|b| b.is_ascii_hexdigit())
}

/// Earliest and latest plausible times: 2000-01-01 and 2100-01-01.
const TIME_RANGE: std::ops::RangeInclusive<i64> = 946_684_800..=4_102_444_800;

impl Fingerprint {
    /// The fingerprint of a local incident. `failures` are all local
    /// failures (the incident's are picked by signature and time), `key` is
    /// the share key for the keyed hashes; ticket and claims are included
    /// only when given (opt-in).
    pub fn of(
        inc: &Incident,
        failures: &[Failure],
        key: &str,
        provider: Option<String>,
        ticket: Option<SharedTicket>,
        claims: Vec<SharedClaim>,
    ) -> Fingerprint {
        let mine: Vec<&Failure> = failures
            .iter()
            .filter(|f| {
                Signature::of(f) == inc.signature && f.at >= inc.first_seen && f.at <= inc.last_seen
            })
            .collect();
        let status_codes: BTreeSet<String> = mine.iter().map(|f| f.status.clone()).collect();
        let templates: BTreeSet<String> = mine
            .iter()
            .map(|f| template(&f.template))
            .filter(|t| !t.is_empty())
            .take(5)
            .collect();
        let scope = match &inc.signature.scope {
            Scope::Pool(p) => format!("pool:{p}"),
            Scope::Org(o) => format!("org:{}", public_or_hash(key, o)),
            Scope::Sender => "sender".into(),
            Scope::Content => "content".into(),
            Scope::Addresses => "addresses".into(),
        };
        let mut ranges: Vec<String> = inc.sending_ips.iter().map(|ip| range_of(*ip)).collect();
        ranges.dedup();
        Fingerprint {
            version: VERSION,
            local_ref: keyed_hash(key, &inc.id),
            provider,
            family: inc.signature.family,
            scope,
            sending_ips: inc.sending_ips.clone(),
            sending_ranges: ranges,
            status_codes: status_codes.into_iter().collect(),
            blocklists: inc.blocklists.iter().map(|(b, _)| *b).collect(),
            rejecting_orgs: inc
                .rejecting_orgs
                .iter()
                .map(|o| public_or_hash(key, o))
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect(),
            templates: templates.into_iter().collect(),
            first_seen: inc.first_seen,
            last_seen: inc.last_seen,
            failures: inc.failures as u64,
            recipient_domains: inc
                .domains
                .iter()
                .map(|(d, _)| keyed_hash(key, d))
                .collect(),
            verdict: inc.verdict,
            confidence: (inc.confidence * 100.0).round() / 100.0,
            ticket,
            claims,
        }
    }

    /// Check a submission: sizes, formats, times, and that nothing in it
    /// looks like an address or a recipient domain in clear.
    pub fn validate(&self) -> Result<(), Invalid> {
        if self.version != VERSION {
            return Err(invalid(
                "version",
                format!(
                    "{} is not supported (this hub speaks {VERSION})",
                    self.version
                ),
            ));
        }
        if !is_hash(&self.local_ref) {
            return Err(invalid("local_ref", "must be h: and 16 hex digits"));
        }
        if let Some(p) = &self.provider {
            check_text("provider", p, 80)?;
        }
        check_text("scope", &self.scope, 80)?;
        let scope_ok = match self.scope.split_once(':') {
            Some(("pool", r)) => r.parse::<ipnet::IpNet>().is_ok(),
            Some(("org", o)) => is_hash(o) || PUBLIC_OPERATORS.contains(&o),
            None => ["sender", "content", "addresses"].contains(&self.scope.as_str()),
            _ => false,
        };
        if !scope_ok {
            return Err(invalid(
                "scope",
                "must be pool:<range>, org:<public operator or h:hash>, sender, content or addresses",
            ));
        }
        if self.sending_ips.len() > 64 {
            return Err(invalid("sending_ips", "more than 64 entries"));
        }
        check_list("sending_ranges", &self.sending_ranges, 64, 50)?;
        if self
            .sending_ranges
            .iter()
            .any(|r| r.parse::<ipnet::IpNet>().is_err())
        {
            return Err(invalid("sending_ranges", "each must be a CIDR range"));
        }
        check_list("status_codes", &self.status_codes, 32, 12)?;
        if self.blocklists.len() > 32 {
            return Err(invalid("blocklists", "more than 32 entries"));
        }
        check_list("rejecting_orgs", &self.rejecting_orgs, 256, 80)?;
        if let Some(o) = self
            .rejecting_orgs
            .iter()
            .find(|o| !is_hash(o) && !PUBLIC_OPERATORS.contains(&o.as_str()))
        {
            return Err(invalid(
                "rejecting_orgs",
                format!("{o:?} is neither a public operator nor a keyed hash"),
            ));
        }
        check_list("templates", &self.templates, 5, 500)?;
        if self.templates.iter().any(|t| t.contains('@')) {
            return Err(invalid("templates", "must not contain an address"));
        }
        check_list("recipient_domains", &self.recipient_domains, 1000, 18)?;
        if !self.recipient_domains.iter().all(|d| is_hash(d)) {
            return Err(invalid(
                "recipient_domains",
                "must be keyed hashes (h: and 16 hex digits), never domains in clear",
            ));
        }
        if !TIME_RANGE.contains(&self.first_seen) || !TIME_RANGE.contains(&self.last_seen) {
            return Err(invalid(
                "first_seen",
                "times must be Unix seconds in 2000..2100",
            ));
        }
        if self.last_seen < self.first_seen {
            return Err(invalid("last_seen", "is before first_seen"));
        }
        if self.failures == 0 || self.failures > 10_000_000 {
            return Err(invalid("failures", "must be 1..10000000"));
        }
        if !(0.0..=1.0).contains(&self.confidence) {
            return Err(invalid("confidence", "must be between 0 and 1"));
        }
        if let Some(t) = &self.ticket {
            check_text("ticket.number", &t.number, 64)?;
            check_text("ticket.status", &t.status, 32)?;
            if t.number.trim().is_empty() {
                return Err(invalid("ticket.number", "is empty"));
            }
        }
        if self.claims.len() > 16 {
            return Err(invalid("claims", "more than 16 entries"));
        }
        for c in &self.claims {
            check_text("claims.text", &c.text, 200)?;
            if !TIME_RANGE.contains(&c.fixed_at) {
                return Err(invalid(
                    "claims.fixed_at",
                    "must be Unix seconds in 2000..2100",
                ));
            }
        }
        Ok(())
    }
}

impl ManualReport {
    /// Check a manual report.
    pub fn validate(&self) -> Result<(), Invalid> {
        check_text("provider", &self.provider, 80)?;
        check_text("service", &self.service, 80)?;
        check_text("symptom", &self.symptom, 200)?;
        if self.provider.trim().is_empty() || self.service.trim().is_empty() {
            return Err(invalid("provider", "provider and service are required"));
        }
        if self.symptom.contains('@') {
            return Err(invalid("symptom", "must not contain an address"));
        }
        if !TIME_RANGE.contains(&self.started_at) {
            return Err(invalid("started_at", "must be Unix seconds in 2000..2100"));
        }
        if let Some(t) = &self.ticket {
            check_text("ticket", t, 64)?;
        }
        Ok(())
    }
}

/// The /24 (IPv4) or /48 (IPv6) of an address.
pub fn range_of(ip: IpAddr) -> String {
    let prefix = if ip.is_ipv4() { 24 } else { 48 };
    ipnet::IpNet::new(ip, prefix)
        .map(|n| n.trunc().to_string())
        .unwrap_or_else(|_| ip.to_string())
}

/// A public operator's registrable domain in clear, anything else hashed.
pub fn public_or_hash(key: &str, org: &str) -> String {
    let org = registrable(org);
    if PUBLIC_OPERATORS.contains(&org.as_str()) {
        org
    } else {
        keyed_hash(key, &org)
    }
}

/// A diagnostic text fit to share: the local mask (addresses, IPs, ids),
/// then addresses without their domain and host names that are not public
/// operators' replaced by `<host>`.
pub fn template(text: &str) -> String {
    let masked = mask(text);
    let mut out = Vec::new();
    for word in masked.split(' ') {
        if let Some(start) = word.find("<address@") {
            let end = word[start..]
                .find('>')
                .map(|e| start + e + 1)
                .unwrap_or(word.len());
            let rest = &word[end..];
            // Anything else with an `@` in the word goes whole.
            let rest = if rest.contains('@') { "" } else { rest };
            let head = &word[..start];
            let head = if head.contains('@') { "" } else { head };
            out.push(format!("{head}<address>{rest}"));
            continue;
        }
        if word.contains('@') {
            out.push("<address>".into());
            continue;
        }
        out.push(mask_hosts(word));
    }
    let mut s = out.join(" ").replace("<<address>>", "<address>");
    s.truncate(s.floor_char_boundary(500));
    s
}

/// Replace host names in `word` (`mx1.example.com`, in URLs too) by
/// `<host>` unless they belong to a public operator.
fn mask_hosts(word: &str) -> String {
    // Letters of every script: an internationalised name ("mx.bücher.example",
    // "почта.рф") is as private as an ASCII one.
    let is_host_char = |c: char| c.is_alphanumeric() || c == '.' || c == '-' || c == '_';
    let mut out = String::new();
    let mut rest = word;
    while let Some(start) = rest.find(is_host_char) {
        out.push_str(&rest[..start]);
        let run = &rest[start..];
        let len = run.find(|c| !is_host_char(c)).unwrap_or(run.len());
        let token = run[..len].trim_end_matches('.');
        let tail = &run[token.len()..len];
        let labels: Vec<&str> = token.split('.').collect();
        let hostlike = labels.len() >= 2
            && labels.iter().all(|l| !l.is_empty())
            && labels.last().is_some_and(|tld| {
                tld.chars().count() >= 2
                    && (tld.chars().all(char::is_alphabetic)
                        || tld.to_ascii_lowercase().starts_with("xn--"))
            })
            && labels.iter().any(|l| l.chars().any(char::is_alphabetic));
        if hostlike && !PUBLIC_OPERATORS.contains(&registrable(token).as_str()) {
            out.push_str("<host>");
        } else {
            out.push_str(token);
        }
        out.push_str(tail);
        rest = &run[len..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_keep_no_address_domain_or_private_host() {
        let t = template(
            "mx1.fabrikam-foods.example Remote Server returned '550 5.7.1 <accounts@fabrikam-foods.example> Client host [40.107.22.93] blocked using zen.spamhaus.org; https://www.spamhaus.org/query/ip/40.107.22.93'",
        );
        assert_eq!(
            t,
            "<host> Remote Server returned '550 5.7.1 <address> Client host [<ip>] blocked using zen.spamhaus.org; https://www.spamhaus.org/query/ip/<ip>'"
        );
    }

    #[test]
    fn internationalised_host_names_are_masked_whole() {
        for (text, want) in [
            ("host mx.bücher.example said: 550", "host <host> said: 550"),
            ("host почта.рф said: 550", "host <host> said: 550"),
            ("relay.example.xn--p1ai refused", "<host> refused"),
            // Public operators stay readable.
            (
                "mx.protection.outlook.com refused",
                "mx.protection.outlook.com refused",
            ),
        ] {
            assert_eq!(template(text), want, "{text}");
        }
    }

    #[test]
    fn keyed_hashes_match_across_organisations_with_the_same_key_only() {
        assert_eq!(
            keyed_hash("k", "Fabrikam.example"),
            keyed_hash("k", "fabrikam.example")
        );
        assert_ne!(keyed_hash("k", "a.example"), keyed_hash("j", "a.example"));
        assert!(is_hash(&keyed_hash("k", "a.example")));
        assert_eq!(
            public_or_hash("k", "mail.protection.outlook.com"),
            "outlook.com"
        );
        assert!(is_hash(&public_or_hash("k", "mx1.fabrikam.example")));
    }
}
