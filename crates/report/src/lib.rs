//! # outcry-report
//!
//! The evidence packet for a support ticket: a self-contained HTML page (no
//! external assets; an inline SVG timeline of failures per hour and
//! recipient domain, with markers for vendor claims), a Markdown version to
//! paste into a ticket or forum, and JSON. Built from an
//! [`outcry_incident::Incident`] and its failures. Addresses' local parts,
//! subjects and bodies never appear: failures carry only domains and masked
//! texts.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod svg;

use outcry_bounce::Reason;
use outcry_incident::{ClaimCheck, Context, Failure, Incident, Standing, Verdict, check_claim};
use serde::Serialize;
use std::fmt::Write as _;
use std::net::IpAddr;

pub use svg::timeline;

/// A vendor's claim ("fixed at 10:00") to check against the failures.
#[derive(Debug, Clone, Serialize)]
pub struct Claim {
    /// When the vendor says the problem was fixed (Unix seconds).
    pub at: i64,
    /// Who said it and where ("Microsoft, ticket 12345").
    pub who: String,
}

/// A ticket with one party and its status history, for the packet's log.
#[derive(Debug, Clone, Serialize)]
pub struct TicketLog {
    /// Who it is with (provider, blocklist, recipient, other).
    pub party: String,
    /// Their ticket number.
    pub number: String,
    /// Status changes: (Unix seconds, status, note), oldest first.
    pub events: Vec<(i64, String, String)>,
}

/// A refused sending IP with what is known about it.
#[derive(Debug, Clone, Serialize)]
pub struct SendingIp {
    /// The address.
    pub ip: IpAddr,
    /// Its owner, from a forward-confirmed PTR or the bundled prefix table.
    pub owner: Option<String>,
    /// The owner's pool is shared by many unrelated customers.
    pub shared_pool: bool,
    /// The latest blocklist check, if any (`outcry ingest` or `outcry check`).
    pub standing: Option<Standing>,
}

impl SendingIp {
    fn owner_text(&self) -> String {
        match (&self.owner, self.shared_pool) {
            (Some(o), true) => format!("{o} (shared pool)"),
            (Some(o), false) => o.clone(),
            (None, _) => "not a recognised provider".into(),
        }
    }

    fn ptr_text(&self) -> String {
        match &self.standing {
            Some(Standing {
                ptr: Some(p),
                ptr_confirmed,
                ..
            }) => format!(
                "{p}{}",
                if *ptr_confirmed {
                    ""
                } else {
                    " (does not resolve back)"
                }
            ),
            Some(_) => "no PTR".into(),
            None => "not checked".into(),
        }
    }

    fn lists_text(&self) -> String {
        match &self.standing {
            Some(st) => format!("{} (checked {})", st.summary(), utc(st.checked_at)),
            None => "not checked: `outcry ingest` with a resolver, or `outcry check`, asks the blocklists".into(),
        }
    }
}

/// Everything a packet shows.
#[derive(Debug, Clone, Serialize)]
pub struct Packet<'a> {
    /// The incident.
    pub incident: &'a Incident,
    /// Its failures (the timeline's data).
    #[serde(skip)]
    pub failures: Vec<&'a Failure>,
    /// Vendor claims and what followed each.
    pub claims: Vec<(Claim, ClaimCheck)>,
    /// The refused sending IPs: owner and blocklist standing.
    pub sending_ips: Vec<SendingIp>,
    /// The tickets about this incident, with their history (empty from
    /// [`Packet::new`]; set the field to show them).
    pub tickets: Vec<TicketLog>,
    /// What the organisation has already ruled out.
    pub ruled_out: Vec<String>,
    /// When the packet was made (Unix seconds).
    pub generated_at: i64,
}

impl<'a> Packet<'a> {
    /// Assemble a packet: the incident's failures among `all`, the claims
    /// checked, the sending IPs with what `ctx` knows of them, and what the
    /// failures rule out.
    pub fn new(
        incident: &'a Incident,
        all: &'a [Failure],
        ctx: &Context,
        claims: Vec<Claim>,
        generated_at: i64,
    ) -> Packet<'a> {
        let failures: Vec<&Failure> = all
            .iter()
            .filter(|f| {
                outcry_incident::Signature::of(f) == incident.signature
                    && f.at >= incident.first_seen
                    && f.at <= incident.last_seen
            })
            .collect();
        let claims = claims
            .into_iter()
            .map(|c| {
                let check = check_claim(incident, all, c.at);
                (c, check)
            })
            .collect();
        let sending_ips = incident
            .sending_ips
            .iter()
            .map(|ip| {
                let standing = ctx.standings.get(ip).cloned();
                let known = ctx.ip_owners.get(ip);
                let (owner, shared_pool) = match (known, &standing) {
                    (Some(o), _) => (Some(o.provider.clone()), o.shared_pool),
                    (None, Some(st)) => (st.owner.clone(), st.shared_pool),
                    (None, None) => (None, false),
                };
                SendingIp {
                    ip: *ip,
                    owner,
                    shared_pool,
                    standing,
                }
            })
            .collect();
        Packet {
            incident,
            failures,
            claims,
            sending_ips,
            tickets: Vec::new(),
            ruled_out: ruled_out(incident, all),
            generated_at,
        }
    }
}

/// What the failures rule out, in plain words.
fn ruled_out(inc: &Incident, all: &[Failure]) -> Vec<String> {
    let mut out = Vec::new();
    let window: Vec<&Failure> = all
        .iter()
        .filter(|f| f.at >= inc.first_seen && f.at <= inc.last_seen)
        .collect();
    if !window.iter().any(|f| f.reason == Reason::AuthFailure) {
        out.push(
            "Authentication: no recipient reports an SPF, DKIM or DMARC failure in this period."
                .to_string(),
        );
    }
    if !window.iter().any(|f| {
        matches!(
            f.reason,
            Reason::SpamDetected | Reason::VirusDetected | Reason::ContentError
        )
    }) {
        out.push(
            "Content: no recipient reports the messages' content as spam or malware.".to_string(),
        );
    }
    if inc.rejecting_orgs.len() >= 3 {
        out.push(format!(
            "One recipient's own policy: {} unrelated organisations refuse in the same way.",
            inc.rejecting_orgs.len()
        ));
    }
    out
}

/// `YYYY-MM-DDTHH:MM[:SS]` with an optional `Z` or ` UTC` (or a space for
/// the `T`), as UTC, to Unix seconds; `None` when it is not such a time.
pub fn parse_utc(s: &str) -> Option<i64> {
    let s = s.trim();
    let s = s
        .strip_suffix('Z')
        .or_else(|| s.strip_suffix("UTC"))
        .unwrap_or(s)
        .trim();
    let (date, time) = s.split_once(['T', ' '])?;
    let mut d = date.split('-').map(|x| x.parse::<i64>().ok());
    let (y, m, day) = (d.next()??, d.next()??, d.next()??);
    let mut t = time.split(':').map(|x| x.parse::<i64>().ok());
    let (h, min) = (t.next()??, t.next()??);
    let sec = t.next().flatten().unwrap_or(0);
    if !(1..=12).contains(&m) || !(1..=31).contains(&day) || h > 23 || min > 59 || sec > 60 {
        return None;
    }
    let y2 = if m <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some((era * 146_097 + doe - 719_468) * 86_400 + h * 3600 + min * 60 + sec)
}

/// Now, in Unix seconds.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// `2026-11-04 14:02 UTC`.
pub fn utc(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60
    )
}

fn verdict_word(v: Verdict) -> &'static str {
    match v {
        Verdict::Own => "the organisation's own setup",
        Verdict::Provider => "the mail provider",
        Verdict::Recipient => "the recipient",
        Verdict::Blocklist => "a blocklist operator",
        Verdict::Unknown => "not yet determined",
    }
}

/// The one-paragraph statement at the top of every format.
fn headline(inc: &Incident) -> String {
    let ips: Vec<String> = inc.sending_ips.iter().map(|i| i.to_string()).collect();
    let lists: Vec<&str> = inc.blocklists.iter().map(|(b, _)| b.as_str()).collect();
    let mut s = format!(
        "Since {}, mail to {} recipient domain(s) has been refused ({} failures, last on {}).",
        utc(inc.first_seen),
        inc.domains.len(),
        inc.failures,
        utc(inc.last_seen)
    );
    if !ips.is_empty() {
        let _ = write!(s, " The refused sending IPs are {}.", ips.join(", "));
    }
    if !lists.is_empty() {
        let _ = write!(s, " The refusals name {}.", lists.join(", "));
    }
    let _ = write!(
        s,
        " Fault: {} ({:.0}% confidence).",
        verdict_word(inc.verdict),
        inc.confidence * 100.0
    );
    s
}

/// The packet as JSON.
pub fn json(p: &Packet<'_>) -> String {
    let mut v = serde_json::to_value(p).unwrap_or_default();
    v["headline"] = headline(p.incident).into();
    serde_json::to_string_pretty(&v).unwrap_or_default()
}

/// The packet as Markdown, to paste into a ticket or a forum post.
pub fn markdown(p: &Packet<'_>) -> String {
    let inc = p.incident;
    let mut s = String::new();
    let _ = writeln!(s, "# Delivery incident {}\n", inc.id);
    let _ = writeln!(s, "{}\n", headline(inc));
    let _ = writeln!(
        s,
        "## Affected recipient domains\n\n| domain | failures |\n|---|---|"
    );
    for (d, n) in &inc.domains {
        let star = if inc.important.contains(d) {
            " (key correspondent)"
        } else {
            ""
        };
        let _ = writeln!(s, "| {d}{star} | {n} |");
    }
    if !p.sending_ips.is_empty() {
        let _ = writeln!(
            s,
            "\n## Sending IPs\n\n| IP | owner | PTR | blocklists |\n|---|---|---|---|"
        );
        for ip in &p.sending_ips {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} |",
                ip.ip,
                ip.owner_text(),
                ip.ptr_text(),
                ip.lists_text().replace('|', "\\|")
            );
        }
    }
    let _ = writeln!(s, "\n## Why this is {}\n", verdict_word(inc.verdict));
    for e in &inc.evidence {
        let _ = writeln!(s, "- {} {}", if e.supports { "✔" } else { "✘" }, e.text);
    }
    if !p.claims.is_empty() {
        let _ = writeln!(s, "\n## Vendor claims against the evidence\n");
        for (c, check) in &p.claims {
            let _ = writeln!(
                s,
                "- {} said fixed at {}: {}",
                c.who,
                utc(c.at),
                claim_text(check)
            );
        }
    }
    if !p.tickets.is_empty() {
        let _ = writeln!(
            s,
            "\n## Ticket log\n\n| when | ticket | status | note |\n|---|---|---|---|"
        );
        for (t, at, status, note) in ticket_rows(p) {
            let _ = writeln!(
                s,
                "| {} | {} {} | {status} | {} |",
                utc(at),
                t.party,
                t.number,
                note.replace('|', "\\|")
            );
        }
    }
    if !p.ruled_out.is_empty() {
        let _ = writeln!(s, "\n## Already ruled out\n");
        for r in &p.ruled_out {
            let _ = writeln!(s, "- {r}");
        }
    }
    if !inc.samples.is_empty() {
        let _ = writeln!(
            s,
            "\n## What the recipients' servers said (addresses masked)\n"
        );
        for t in &inc.samples {
            let _ = writeln!(s, "    {t}");
        }
    }
    let _ = writeln!(s, "\n_Generated by outcry on {}._", utc(p.generated_at));
    s
}

fn claim_text(c: &ClaimCheck) -> String {
    match c.first_after {
        None => "no failure of this kind since then.".to_string(),
        Some(first) => format!(
            "{} failure(s) of the same kind since, the first at {}, at {}.",
            c.failures_after,
            utc(first),
            c.domains_after.join(", ")
        ),
    }
}

/// Every ticket event, oldest first.
fn ticket_rows<'p>(p: &'p Packet<'_>) -> Vec<(&'p TicketLog, i64, &'p str, &'p str)> {
    let mut rows: Vec<_> = p
        .tickets
        .iter()
        .flat_map(|t| {
            t.events
                .iter()
                .map(move |(at, st, note)| (t, *at, st.as_str(), note.as_str()))
        })
        .collect();
    rows.sort_by_key(|r| r.1);
    rows
}

/// Escape text for HTML.
pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The packet as one self-contained HTML page.
pub fn html(p: &Packet<'_>) -> String {
    let inc = p.incident;
    let mut markers: Vec<(i64, String)> = p
        .claims
        .iter()
        .map(|(c, _)| (c.at, format!("{}: fixed", c.who)))
        .collect();
    markers.extend(
        ticket_rows(p)
            .into_iter()
            .map(|(t, at, st, _)| (at, format!("{} ticket {}: {st}", t.party, t.number))),
    );
    let svg = timeline(&p.failures, &markers);
    let mut s = String::new();
    let _ = write!(
        s,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Delivery incident {id}</title><style>{css}</style></head><body>",
        id = esc(&inc.id),
        css = CSS
    );
    let _ = write!(
        s,
        "<h1>Delivery incident</h1><p class=\"id\">{}</p><p class=\"headline verdict-{:?}\">{}</p>",
        esc(&inc.id),
        inc.verdict,
        esc(&headline(inc))
    );
    let _ = write!(s, "<h2>Failures per hour</h2>{svg}");
    let _ = write!(
        s,
        "<h2>Why this is {}</h2><ul class=\"evidence\">",
        esc(verdict_word(inc.verdict))
    );
    for e in &inc.evidence {
        let _ = write!(
            s,
            "<li class=\"{}\">{}</li>",
            if e.supports { "for" } else { "against" },
            esc(&e.text)
        );
    }
    s.push_str(
        "</ul><h2>Affected recipient domains</h2><table><tr><th>domain</th><th>failures</th></tr>",
    );
    for (d, n) in &inc.domains {
        let star = if inc.important.contains(d) {
            " <span class=\"key\">key correspondent</span>"
        } else {
            ""
        };
        let _ = write!(s, "<tr><td>{}{star}</td><td>{n}</td></tr>", esc(d));
    }
    s.push_str("</table>");
    if !p.sending_ips.is_empty() {
        s.push_str("<h2>Sending IPs</h2><table><tr><th>IP</th><th>owner</th><th>PTR</th><th>blocklists</th></tr>");
        for ip in &p.sending_ips {
            let listed = ip
                .standing
                .as_ref()
                .is_some_and(|st| st.bad().next().is_some());
            let _ = write!(
                s,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td{}>{}</td></tr>",
                ip.ip,
                esc(&ip.owner_text()),
                esc(&ip.ptr_text()),
                if listed { " class=\"listed\"" } else { "" },
                esc(&ip.lists_text())
            );
        }
        s.push_str("</table>");
    }
    if !p.claims.is_empty() {
        s.push_str("<h2>Vendor claims against the evidence</h2><ul>");
        for (c, check) in &p.claims {
            let _ = write!(
                s,
                "<li>{} said fixed at {}: {}</li>",
                esc(&c.who),
                utc(c.at),
                esc(&claim_text(check))
            );
        }
        s.push_str("</ul>");
    }
    if !p.tickets.is_empty() {
        s.push_str("<h2>Ticket log</h2><table><tr><th>when</th><th>ticket</th><th>status</th><th>note</th></tr>");
        for (t, at, status, note) in ticket_rows(p) {
            let _ = write!(
                s,
                "<tr><td>{}</td><td>{} {}</td><td>{}</td><td>{}</td></tr>",
                utc(at),
                esc(&t.party),
                esc(&t.number),
                esc(status),
                esc(note)
            );
        }
        s.push_str("</table>");
    }
    if !p.ruled_out.is_empty() {
        s.push_str("<h2>Already ruled out</h2><ul>");
        for r in &p.ruled_out {
            let _ = write!(s, "<li>{}</li>", esc(r));
        }
        s.push_str("</ul>");
    }
    if !inc.samples.is_empty() {
        s.push_str("<h2>What the recipients' servers said</h2>");
        for t in &inc.samples {
            let _ = write!(s, "<pre>{}</pre>", esc(t));
        }
    }
    let _ = write!(
        s,
        "<p class=\"foot\">Generated by outcry on {}. Addresses are masked; no message content is included.</p></body></html>",
        utc(p.generated_at)
    );
    s
}

const CSS: &str = "body{font:15px/1.45 system-ui,sans-serif;max-width:960px;margin:2em auto;padding:0 1em;color:#1b1f24}\
h1{margin-bottom:0}.id{color:#57606a;margin-top:.2em}.headline{font-size:1.1em;padding:.8em 1em;border-left:5px solid #cf222e;background:#fff5f5}\
table{border-collapse:collapse}td,th{border-bottom:1px solid #d0d7de;padding:.3em .8em;text-align:left}\
.evidence li.for::marker{content:'\\2714  ';color:#1a7f37}.evidence li.against::marker{content:'\\2718  ';color:#cf222e}\
.key{font-size:.8em;background:#ddf4ff;border-radius:4px;padding:0 .4em}pre{background:#f6f8fa;padding:.6em;white-space:pre-wrap}\
.listed{color:#cf222e;font-weight:600}.foot{color:#57606a;font-size:.85em;margin-top:2em}svg{max-width:100%;height:auto}";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_escaping() {
        assert_eq!(utc(0), "1970-01-01 00:00 UTC");
        assert_eq!(utc(1_793_800_920), "2026-11-04 14:02 UTC");
        assert_eq!(utc(951_782_400), "2000-02-29 00:00 UTC");
        assert_eq!(esc("<a & \"b\">"), "&lt;a &amp; &quot;b&quot;&gt;");
    }

    #[test]
    fn times_parsed() {
        for t in [
            "2026-11-04T14:02Z",
            "2026-11-04T14:02",
            " 2026-11-04 14:02 UTC ",
        ] {
            assert_eq!(parse_utc(t), Some(1_793_800_920), "{t}");
        }
        assert_eq!(parse_utc("2026-11-04T14:02:30Z"), Some(1_793_800_950));
        assert_eq!(parse_utc("2026-13-04T14:02Z"), None);
        assert_eq!(parse_utc("yesterday"), None);
    }
}

#[cfg(test)]
mod packet_tests {
    use super::*;
    use outcry_bounce::Blocklist;
    use outcry_incident::{Context, IpOwner, Thresholds, detect};

    fn failures() -> Vec<Failure> {
        let domains = ["a.example", "b.example", "c.example", "d.example"];
        (0..10)
            .map(|i| Failure {
                at: 1_793_800_000 + i * 3600,
                recipient_domain: domains[i as usize % 4].to_string(),
                reason: Reason::Blocked,
                status: "5.7.1".into(),
                sending_ip: Some("40.107.22.93".parse().unwrap()),
                blocklist: Some(Blocklist::Spamhaus),
                rejecting_org: format!("mx.{}", domains[i as usize % 4]),
                template: outcry_incident::mask(
                    "550 5.7.1 <kijitora@a.example> blocked using zen.spamhaus.org <script>",
                ),
            })
            .collect()
    }

    #[test]
    fn html_is_self_contained_masked_and_escaped() {
        let fs = failures();
        let mut ctx = Context::default();
        ctx.ip_owners.insert(
            "40.107.22.93".parse().unwrap(),
            IpOwner {
                provider: "Microsoft 365".into(),
                shared_pool: true,
            },
        );
        let incs = detect(&fs, &ctx, &Thresholds::default(), 1_793_900_000);
        let claim = Claim {
            at: 1_793_800_000 + 5 * 3600,
            who: "Vendor <b>".into(),
        };
        let p = Packet::new(&incs[0], &fs, &ctx, vec![claim], 1_793_900_000);
        let h = html(&p);
        assert!(h.starts_with("<!doctype html>"));
        assert!(h.contains("<svg") && h.contains("<rect"));
        assert!(
            !h.contains("src=\"http") && !h.contains("href=\"http"),
            "no external assets"
        );
        assert!(!h.contains("kijitora"), "no local part");
        assert!(!h.contains("<script>") && h.contains("&lt;script&gt;"));
        assert!(h.contains("Vendor &lt;b&gt; said fixed"));
        assert!(h.contains("4 failure(s) of the same kind since"));
        assert!(h.contains("<td>Microsoft 365 (shared pool)</td><td>not checked</td>"));
        let md = markdown(&p);
        assert!(md.contains("| a.example | 3 |"));
        assert!(md.contains("| 40.107.22.93 | Microsoft 365 (shared pool) | not checked |"));
        let js: serde_json::Value = serde_json::from_str(&json(&p)).unwrap();
        assert_eq!(js["incident"]["verdict"], "provider");
        assert!(js["headline"].as_str().unwrap().contains("mail provider"));
    }

    #[test]
    fn the_ticket_log_is_listed_in_order_and_marked_on_the_timeline() {
        let fs = failures();
        let incs = detect(
            &fs,
            &Context::default(),
            &Thresholds::default(),
            1_793_900_000,
        );
        let mut p = Packet::new(
            &incs[0],
            &fs,
            &Context::default(),
            Vec::new(),
            1_793_900_000,
        );
        p.tickets = vec![TicketLog {
            party: "provider".into(),
            number: "31415926".into(),
            events: vec![
                (
                    1_793_810_000,
                    "escalated".into(),
                    "joint | escalation".into(),
                ),
                (1_793_801_000, "open".into(), "<opened>".into()),
            ],
        }];
        let h = html(&p);
        let (open, esc) = (
            h.find("&lt;opened&gt;").unwrap(),
            h.find("joint | escalation").unwrap(),
        );
        assert!(open < esc, "oldest first");
        assert!(
            h.contains("provider ticket 31415926: escalated"),
            "a timeline marker"
        );
        let md = markdown(&p);
        assert!(
            md.contains("| provider 31415926 | escalated | joint \\| escalation |"),
            "{md}"
        );
        let js: serde_json::Value = serde_json::from_str(&json(&p)).unwrap();
        assert_eq!(js["tickets"][0]["number"], "31415926");
    }
}

#[cfg(test)]
mod standing_tests {
    use super::*;
    use outcry_incident::{Context, Listing, Standing, Thresholds, detect};

    #[test]
    fn checked_ips_show_their_listings_in_every_format() {
        let ip: IpAddr = "40.107.22.93".parse().unwrap();
        let fs: Vec<Failure> = (0..6)
            .map(|i| Failure {
                at: 1_793_800_000 + i * 3600,
                recipient_domain: format!("d{}.example", i % 3),
                reason: Reason::Blocked,
                status: "5.7.1".into(),
                sending_ip: Some(ip),
                blocklist: None,
                rejecting_org: format!("d{}.example", i % 3),
                template: "550 5.7.1 blocked".into(),
            })
            .collect();
        let mut ctx = Context::default();
        ctx.standings.insert(
            ip,
            Standing {
                ip,
                checked_at: 1_793_810_000,
                ptr: Some("mail-x.outbound.protection.outlook.com".into()),
                ptr_confirmed: true,
                owner: Some("Microsoft 365".into()),
                shared_pool: true,
                listed: vec![Listing {
                    list: "Spamhaus ZEN".into(),
                    zone: "zen.spamhaus.org".into(),
                    codes: vec!["127.0.0.3".into()],
                    meanings: vec!["CSS: snowshoe or low-reputation sender".into()],
                    good: false,
                }],
                clear: vec!["SpamCop".into(), "Barracuda".into()],
                errors: vec!["PSBL".into()],
            },
        );
        let incs = detect(&fs, &ctx, &Thresholds::default(), 1_793_900_000);
        assert!(
            incs[0]
                .evidence
                .iter()
                .any(|e| e.supports && e.text == "40.107.22.93 is listed on Spamhaus ZEN"),
            "{:?}",
            incs[0].evidence
        );
        let p = Packet::new(&incs[0], &fs, &ctx, Vec::new(), 1_793_900_000);
        let want = "listed on Spamhaus ZEN (CSS: snowshoe or low-reputation sender); clear on 2 list(s); 1 list(s) could not be asked (PSBL) (checked 2026-11-04 16:33 UTC)";
        let h = html(&p);
        assert!(
            h.contains(&format!("<td class=\"listed\">{want}</td>")),
            "{h}"
        );
        assert!(markdown(&p).contains(&format!(
            "| 40.107.22.93 | Microsoft 365 (shared pool) | mail-x.outbound.protection.outlook.com | {want} |"
        )));
        let js: serde_json::Value = serde_json::from_str(&json(&p)).unwrap();
        assert_eq!(
            js["sending_ips"][0]["standing"]["listed"][0]["codes"][0],
            "127.0.0.3"
        );
    }
}
