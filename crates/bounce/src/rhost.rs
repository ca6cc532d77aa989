//! Rules for particular receiving services (Google, Microsoft, Yahoo, Apple,
//! Orange/La Poste, ...), whose rejection texts mean something specific.
//! The tables are data in `rules/rhost.json`.

use crate::Reason;
use crate::rules::Scan;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::collections::HashMap;
use std::sync::LazyLock;

const RHOST_JSON: &str = include_str!("../rules/rhost.json");

#[derive(Deserialize)]
struct Class {
    hosts: Vec<String>,
    #[serde(default)]
    phrases: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    codes: BTreeMap<String, String>,
    #[serde(default)]
    needs: BTreeMap<String, String>,
    /// The service's own error codes follow this text (`AUP#CXBL`, ` IB104`).
    #[serde(default)]
    code_prefix: Option<String>,
    /// Reasons that apply only with these status codes.
    #[serde(default)]
    statuses: BTreeMap<String, Vec<String>>,
    /// Reasons that apply only when these SMTP commands failed.
    #[serde(default)]
    commands: BTreeMap<String, Vec<String>>,
    /// Numbered codes after `code_prefix` by range: `[first, last, reason]`
    /// (Spectrum's `AUP#O1020` .. `AUP#O1080`; any letters before the
    /// number are the direction, not the code).
    #[serde(default)]
    code_ranges: Vec<(u32, u32, String)>,
}

struct Compiled {
    hosts: Vec<String>,
    /// The reasons that have phrases, in table order.
    phrase_reasons: Vec<Reason>,
    /// Every phrase; phrase i is one of `phrase_reasons[phrase_owner[i]]`.
    /// They are searched for in `rules::COMBINED`, with every class's
    /// ([`phrases`]).
    phrases: Vec<String>,
    /// Where this class's phrases start among every class's.
    first_phrase: usize,
    phrase_owner: Vec<usize>,
    codes: Vec<(String, Reason)>,
    needs: Vec<(Reason, char)>,
    code_prefix: Option<String>,
    statuses: Vec<(Reason, Vec<String>)>,
    commands: Vec<(Reason, Vec<String>)>,
    code_ranges: Vec<(u32, u32, Reason)>,
}

static CLASSES: LazyLock<Vec<Compiled>> = LazyLock::new(|| {
    let table: BTreeMap<String, serde_json::Value> =
        serde_json::from_str(RHOST_JSON).expect("rules/rhost.json is valid JSON");
    let parse = |s: &str| -> Reason { s.parse().expect("rules/rhost.json names known reasons") };
    let mut first_phrase = 0;
    table
        .into_iter()
        .filter(|(k, _)| !k.starts_with('_'))
        .map(|(_, v)| {
            let c: Class =
                serde_json::from_value(v).expect("rules/rhost.json classes are well-formed");
            let (phrase_owner, all): (Vec<usize>, Vec<&String>) = c
                .phrases
                .values()
                .enumerate()
                .flat_map(|(k, ps)| ps.iter().map(move |p| (k, p)))
                .unzip();
            let first = first_phrase;
            first_phrase += all.len();
            Compiled {
                hosts: c.hosts.iter().map(|h| h.to_ascii_lowercase()).collect(),
                first_phrase: first,
                phrases: all.into_iter().cloned().collect(),
                phrase_owner,
                phrase_reasons: c.phrases.keys().map(|r| parse(r)).collect(),
                codes: c.codes.iter().map(|(k, r)| (k.clone(), parse(r))).collect(),
                needs: c
                    .needs
                    .iter()
                    .map(|(r, n)| (parse(r), n.chars().next().unwrap_or('5')))
                    .collect(),
                code_prefix: c.code_prefix.map(|p| p.to_ascii_lowercase()),
                statuses: c
                    .statuses
                    .iter()
                    .map(|(r, s)| (parse(r), s.clone()))
                    .collect(),
                commands: c
                    .commands
                    .iter()
                    .map(|(r, s)| (parse(r), s.clone()))
                    .collect(),
                code_ranges: c
                    .code_ranges
                    .iter()
                    .map(|(a, b, r)| (*a, *b, parse(r)))
                    .collect(),
            }
        })
        .collect()
});

/// Every class's phrases, class after class: `rules::COMBINED` searches
/// for them with the other rule texts, in the one scan of a diagnostic.
pub(crate) fn phrases() -> impl Iterator<Item = &'static str> {
    CLASSES
        .iter()
        .flat_map(|c| c.phrases.iter().map(String::as_str))
}

/// Build the rule tables now (see [`crate::prepare`]).
pub(crate) fn prepare() {
    LazyLock::force(&CLASSES);
    LazyLock::force(&BY_HOST);
}

/// Every host pattern of every class, without its leading dot, to the
/// first class (in table order) that lists it. Hashed with foldhash, not
/// the standard library's SipHash: each delivery looks up every parent
/// domain of three hosts, and these keys are no attacker's to choose.
static BY_HOST: LazyLock<HashMap<&'static str, usize, foldhash::fast::FixedState>> =
    LazyLock::new(|| {
        let mut map = HashMap::with_hasher(foldhash::fast::FixedState::default());
        for (k, c) in CLASSES.iter().enumerate() {
            for h in &c.hosts {
                map.entry(h.strip_prefix('.').unwrap_or(h)).or_insert(k);
            }
        }
        map
    });

/// Which service class a delivery belongs to: by the recipient's domain
/// first, then the remote MTA, then the reporting MTA. A pattern
/// (`google.com` or `.google.com` alike) matches the host itself and any
/// host below it; when several classes match, the first in the table wins.
fn class_of(domain: &str, remote: &str, reporting: &str) -> Option<&'static Compiled> {
    for h in [domain, remote, reporting] {
        let h = h.trim().trim_end_matches('.').to_ascii_lowercase();
        // The host and each of its parent domains: a.b.c, b.c, c.
        let parents =
            std::iter::successors(Some(h.as_str()), |s| s.split_once('.').map(|(_, p)| p));
        if let Some(k) = parents
            .filter(|s| !s.is_empty())
            .filter_map(|s| BY_HOST.get(s))
            .min()
        {
            return Some(&CLASSES[*k]);
        }
    }
    None
}

/// The reason a service-specific rule gives, if any. `class` is the status
/// class digit ('4' or '5') of the failure.
pub(crate) fn find(
    domain: &str,
    remote: &str,
    reporting: &str,
    scan: &Scan,
    class: Option<char>,
    status: &str,
    command: Option<&str>,
) -> Option<Reason> {
    let c = class_of(domain, remote, reporting)?;
    let lower = scan.text();
    if let Some(prefix) = &c.code_prefix {
        // The token right after the prefix: "AUP#CXBL" -> "cxbl".
        if let Some(i) = lower.find(prefix.as_str()) {
            let token: String = lower[i + prefix.len()..]
                .chars()
                .take_while(|ch| ch.is_ascii_alphanumeric())
                .collect();
            if let Some((_, r)) = c.codes.iter().find(|(k, _)| *k == token) {
                return Some(*r);
            }
            let number = token.trim_start_matches(|ch: char| ch.is_ascii_alphabetic());
            if let Ok(n) = number.parse::<u32>()
                && let Some((_, _, r)) = c
                    .code_ranges
                    .iter()
                    .find(|(a, b, _)| (*a..=*b).contains(&n))
            {
                return Some(*r);
            }
        }
    } else if !c.codes.is_empty()
        && let Some(code) = label_code(lower)
        && let Some((_, r)) = c.codes.iter().find(|(k, _)| code.ends_with(k.as_str()))
    {
        return Some(*r);
    }
    // Which reasons have a phrase in the text: one pass for all of them.
    let mut said = vec![false; c.phrase_reasons.len()];
    for i in scan.rhost_phrases(c.first_phrase, c.phrases.len()) {
        said[c.phrase_owner[i]] = true;
    }
    for (k, reason) in c.phrase_reasons.iter().enumerate() {
        if !said[k] {
            continue;
        }
        if let Some((_, allowed)) = c.statuses.iter().find(|(r, _)| r == reason)
            && !allowed.iter().any(|s| s == status)
        {
            continue;
        }
        if let Some((_, allowed)) = c.commands.iter().find(|(r, _)| r == reason)
            && !command.is_some_and(|cmd| allowed.iter().any(|a| a == cmd))
        {
            continue;
        }
        // "5": only for permanent failures; "4": never for permanent ones.
        if let Some((_, need)) = c.needs.iter().find(|(r, _)| r == reason) {
            let permanent = class == Some('5');
            if (*need == '5') != permanent {
                continue;
            }
        }
        return Some(*reason);
    }
    None
}

/// Orange / La Poste label their errors `LPN007_416`, `OFR_506`: the digits
/// after the label.
fn label_code(lower: &str) -> Option<String> {
    for label in ["lpnaaa", "lpn", "ofr", "ouk"] {
        if let Some(i) = lower.rfind(label) {
            let rest = &lower[i + label.len()..];
            let token: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
                .collect();
            let digits: String = token
                .chars()
                .rev()
                .take_while(|c| c.is_ascii_digit())
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            if digits.len() >= 3 {
                return Some(digits);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::COMBINED;

    #[test]
    fn every_class_s_phrases_are_found_as_its_own() {
        for c in CLASSES.iter() {
            for (i, p) in c.phrases.iter().enumerate() {
                // Each phrase is found in itself, as one of its class's.
                let scan = crate::rules::COMBINED.scan(p);
                let found: Vec<usize> = scan
                    .rhost_phrases(c.first_phrase, c.phrases.len())
                    .collect();
                assert!(found.contains(&i), "{p:?}");
                // And nothing of its class that is not in it.
                for j in found {
                    assert!(p.contains(c.phrases[j].as_str()), "{p:?}");
                }
            }
        }
    }

    /// The first version: every class's patterns tried in table order.
    fn class_of_by_scan(domain: &str, remote: &str, reporting: &str) -> Option<usize> {
        let matches = |host: &str, pattern: &str| match pattern.strip_prefix('.') {
            Some(bare) => host.ends_with(pattern) || host == bare,
            None => {
                host == pattern
                    || (host.len() > pattern.len()
                        && host.ends_with(pattern)
                        && host.as_bytes()[host.len() - pattern.len() - 1] == b'.')
            }
        };
        [domain, remote, reporting].into_iter().find_map(|h| {
            let h = h.trim().trim_end_matches('.').to_ascii_lowercase();
            CLASSES
                .iter()
                .position(|c| c.hosts.iter().any(|p| matches(&h, p)))
        })
    }

    #[test]
    fn the_host_lookup_picks_the_class_the_scan_did() {
        let mut hosts: Vec<String> = vec![
            String::new(),
            "example.org".into(),
            "a..b".into(),
            ".".into(),
        ];
        for c in CLASSES.iter() {
            for h in &c.hosts {
                let bare = h.trim_start_matches('.');
                hosts.push(bare.to_string());
                hosts.push(format!("mx1.{bare}"));
                hosts.push(format!("MX.{}.", bare.to_uppercase()));
                hosts.push(format!("x{bare}"));
                hosts.push(
                    bare.split_once('.')
                        .map_or(String::new(), |(_, p)| p.to_string()),
                );
            }
        }
        let mut matched = 0;
        for h in &hosts {
            let new = class_of(h, "", "").map(std::ptr::from_ref);
            let old = class_of_by_scan(h, "", "").map(|k| std::ptr::from_ref(&CLASSES[k]));
            assert_eq!(new, old, "{h:?}");
            matched += usize::from(new.is_some());
            // The remote MTA counts when the domain says nothing.
            let new = class_of("example.org", h, "").map(std::ptr::from_ref);
            let old =
                class_of_by_scan("example.org", h, "").map(|k| std::ptr::from_ref(&CLASSES[k]));
            assert_eq!(new, old, "remote {h:?}");
        }
        assert!(matched > 50, "{matched}");
    }

    #[test]
    fn google_and_orange() {
        let r = find(
            "gmail.com",
            "",
            "",
            &COMBINED.scan("421 4.7.0 this message is suspicious due to the very low reputation of the sending ip address"),
            Some('4'),
            "4.7.0",
            None,
        );
        assert_eq!(r, Some(Reason::BadReputation));
        let r = find(
            "example.fr",
            "smtp-in.orange.fr",
            "",
            &COMBINED.scan("550 5.2.0 mail rejete. mail rejected. ofr_506 [506]"),
            Some('5'),
            "5.2.0",
            None,
        );
        assert_eq!(r, Some(Reason::SpamDetected));
        assert_eq!(
            find(
                "example.org",
                "mx.example.org",
                "",
                &COMBINED.scan("user unknown"),
                Some('5'),
                "5.1.1",
                None
            ),
            None
        );
    }

    /// The reason for a failed delivery through `host` saying `text`.
    fn via(host: &str, text: &str, class: char, status: &str) -> Option<Reason> {
        find(
            "x.example",
            host,
            "",
            &COMBINED.scan(text),
            Some(class),
            status,
            None,
        )
    }

    #[test]
    fn reasons_restricted_to_status_codes() {
        let host = "sg2apc01ht226.eop-apc01.prod.protection.outlook.com";
        let t = "550 5.4.312 message expired, dns query failed(infonorecords)";
        assert_eq!(via(host, t, '5', "5.4.312"), None);
        let t = "550 5.4.316 message expired, connection refused";
        assert_eq!(via(host, t, '5', "5.4.316"), Some(Reason::Expired));
    }

    #[test]
    fn conditions_on_the_status_class() {
        let t = "dns error: domain name not found";
        assert_eq!(
            find(
                "x.example",
                "",
                "googlemail.com",
                &COMBINED.scan(t),
                Some('5'),
                "",
                None
            ),
            Some(Reason::HostUnknown)
        );
        assert_eq!(
            find(
                "x.example",
                "",
                "googlemail.com",
                &COMBINED.scan(t),
                Some('4'),
                "",
                None
            ),
            Some(Reason::NetworkError)
        );
    }

    #[test]
    fn conditions_on_the_command() {
        // NTT DOCOMO: "Unknown user" after DATA means the recipient's
        // settings refuse the sender; at RCPT it is an unknown user.
        let t = "host mfsmax.docomo.ne.jp[192.0.2.1] said: 550 unknown user neko@docomo.ne.jp";
        let at = |cmd| {
            find(
                "docomo.ne.jp",
                "mfsmax.docomo.ne.jp",
                "",
                &COMBINED.scan(t),
                Some('5'),
                "5.0.0",
                cmd,
            )
        };
        assert_eq!(at(Some("DATA")), Some(Reason::Rejected));
        assert_eq!(at(Some("RCPT")), None);
        assert_eq!(at(None), None);
    }
}
