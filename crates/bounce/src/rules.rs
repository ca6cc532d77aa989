//! Error-message phrase tables, compiled once.
//!
//! The tables live in `rules/phrases.json` (data, not code): for each reason a
//! list of substrings (`any`), ordered multi-part phrases (`aligned`) and
//! exclusions (`not`). All `any`/`not` phrases of all reasons go into one
//! Aho-Corasick automaton, so a diagnostic text is scanned once and yields the
//! set of reasons whose phrases it contains.

use crate::Reason;
use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::LazyLock;

const PHRASES_JSON: &str = include_str!("../rules/phrases.json");
const VENDOR_JSON: &str = include_str!("../rules/vendor.json");

#[derive(Deserialize, Default)]
struct RuleSpec {
    #[serde(default)]
    any: Vec<String>,
    #[serde(default)]
    aligned: Vec<Vec<String>>,
    #[serde(default)]
    not: Vec<String>,
}

/// What one phrase in the automaton stands for.
#[derive(Clone, Copy)]
enum Tag {
    /// A phrase of `reason` (`negative`: one that vetoes it).
    Phrase { reason: Reason, negative: bool },
    /// The first part of aligned rule number `n`: the rule needs checking.
    AlignedStart(usize),
}

/// The compiled tables.
pub(crate) struct Phrases {
    automaton: AhoCorasick,
    tags: Vec<Tag>,
    /// Each aligned rule's reason and its parts, as prebuilt searchers.
    aligned: Vec<(Reason, Vec<memchr::memmem::Finder<'static>>)>,
}

/// A set of reasons, one bit each.
#[derive(Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct ReasonSet(u64);

impl ReasonSet {
    fn insert(&mut self, r: Reason) {
        self.0 |= 1 << (r as u32);
    }
    /// The reasons of `self` that `veto` does not hold.
    fn without(self, veto: ReasonSet) -> ReasonSet {
        ReasonSet(self.0 & !veto.0)
    }
    /// Does the set hold `r`?
    pub(crate) fn has(self, r: Reason) -> bool {
        self.0 & (1 << (r as u32)) != 0
    }
}

pub(crate) static PHRASES: LazyLock<Phrases> = LazyLock::new(Phrases::compile);

/// Vendor texts that decide the reason outright (`rules/vendor.json`).
pub(crate) struct Vendor {
    automaton: AhoCorasick,
    reasons: Vec<Reason>,
}

#[derive(Deserialize)]
struct VendorFile {
    rules: Vec<VendorRule>,
}

#[derive(Deserialize)]
struct VendorRule {
    reason: String,
    phrases: Vec<String>,
}

pub(crate) static VENDOR: LazyLock<Vendor> = LazyLock::new(|| {
    let file: VendorFile =
        serde_json::from_str(VENDOR_JSON).expect("rules/vendor.json is well-formed");
    let mut patterns = Vec::new();
    let mut reasons = Vec::new();
    for rule in file.rules {
        let reason: Reason = rule
            .reason
            .parse()
            .expect("rules/vendor.json names a known reason");
        for p in rule.phrases {
            patterns.push(p.to_lowercase());
            reasons.push(reason);
        }
    }
    Vendor {
        automaton: AhoCorasickBuilder::new()
            .match_kind(MatchKind::Standard)
            .build(&patterns)
            .expect("vendor automaton builds"),
        reasons,
    }
});

impl Vendor {
    /// The reason of the first vendor text found in `lower`.
    pub(crate) fn find(&self, lower: &str) -> Option<Reason> {
        // Every vendor text present; the one listed first wins.
        self.automaton
            .find_overlapping_iter(lower)
            .map(|m| m.pattern().as_usize())
            .min()
            .map(|i| self.reasons[i])
    }
}

impl Phrases {
    fn compile() -> Phrases {
        let table: BTreeMap<String, serde_json::Value> =
            serde_json::from_str(PHRASES_JSON).expect("rules/phrases.json is valid JSON");
        let mut patterns = Vec::new();
        let mut tags = Vec::new();
        let mut aligned = Vec::new();
        for (name, value) in table {
            if name.starts_with('_') {
                continue;
            }
            let reason: Reason = name
                .parse()
                .expect("rules/phrases.json names a known reason");
            let spec: RuleSpec =
                serde_json::from_value(value).expect("rules/phrases.json entries are well-formed");
            for p in spec.any {
                patterns.push(p.to_lowercase());
                tags.push(Tag::Phrase {
                    reason,
                    negative: false,
                });
            }
            for p in spec.not {
                patterns.push(p.to_lowercase());
                tags.push(Tag::Phrase {
                    reason,
                    negative: true,
                });
            }
            for parts in spec.aligned {
                let parts: Vec<String> = parts.iter().map(|p| p.to_lowercase()).collect();
                patterns.push(parts[0].clone());
                tags.push(Tag::AlignedStart(aligned.len()));
                let finders = parts
                    .iter()
                    .map(|p| memchr::memmem::Finder::new(p.as_bytes()).into_owned())
                    .collect();
                aligned.push((reason, finders));
            }
        }
        let automaton = AhoCorasickBuilder::new()
            .kind(Some(aho_corasick::AhoCorasickKind::DFA))
            .match_kind(MatchKind::Standard)
            .build(&patterns)
            .expect("phrase automaton builds");
        Phrases {
            automaton,
            tags,
            aligned,
        }
    }

    /// The reasons whose phrases occur in `lower` (already lower-cased).
    pub(crate) fn scan(&self, lower: &str) -> ReasonSet {
        let mut hit = ReasonSet::default();
        let mut veto = ReasonSet::default();
        let mut candidates: Vec<usize> = Vec::new();
        for m in self.automaton.find_overlapping_iter(lower) {
            match self.tags[m.pattern().as_usize()] {
                Tag::Phrase {
                    reason,
                    negative: true,
                } => veto.insert(reason),
                Tag::Phrase {
                    reason,
                    negative: false,
                } => hit.insert(reason),
                Tag::AlignedStart(n) => {
                    if !candidates.contains(&n) {
                        candidates.push(n);
                    }
                }
            }
        }
        // An aligned rule is checked only when its first part occurs.
        for n in candidates {
            let (reason, parts) = &self.aligned[n];
            if !hit.has(*reason) && aligned(lower, parts) {
                hit.insert(*reason);
            }
        }
        hit.without(veto)
    }
}

/// Do all `parts` occur in `text`, each after the end of the previous one?
fn aligned(text: &str, parts: &[memchr::memmem::Finder<'static>]) -> bool {
    let mut rest = text.as_bytes();
    for p in parts {
        match p.find(rest) {
            Some(i) => rest = &rest[i + p.needle().len()..],
            None => return false,
        }
    }
    true
}

/// Texts and codes a reporting MTA writes about its own decision, with the
/// reason each one means, as Sisimai's decoders for those MTAs read them:
/// Exchange 2007 and later (`550 5.1.1 RESOLVER.ADR.RecipNotFound; not
/// found`), Exchange 2003 (`MSEXCH:IMS:... (000C05A6) Unknown Recipient`),
/// Courier (`No such domain.`), HCL Domino (`Cannot route mail to user`),
/// OpenSMTPD (`No MX found for domain`). The reason is what the reporting MTA says (a
/// preset): as with Sisimai, the ones a more specific text may overturn
/// (system, security and network errors, unknown users and hosts, expiry,
/// "on hold") are checked against the text first.
const REPORTING_MTA_TEXTS: &[(&str, Reason)] = &[
    ("resolver.adr.recipnotfound", Reason::UserUnknown),
    ("resolver.adr.recipientnotfound", Reason::UserUnknown),
    ("resolver.adr.exrecipnotfound", Reason::UserUnknown),
    ("resolver.adr.badprimary", Reason::SystemError),
    ("resolver.adr.invalidinsmtp", Reason::SystemError),
    ("resolver.adr.ambiguous", Reason::SystemError),
    ("resolver.adr.reciplimit", Reason::TooManyConn),
    ("resolver.rst.authrequired", Reason::SecurityError),
    ("resolver.rst.notauthorized", Reason::Rejected),
    ("resolver.rst.recipsizelimit", Reason::ExceedLimit),
    ("queue.expired", Reason::Expired),
    ("(000c05a6)", Reason::UserUnknown),
    ("(000c0595)", Reason::Filtered),
    ("(00010256)", Reason::SystemError),
    ("(000d06b5)", Reason::SystemError),
    ("(00120270)", Reason::NetworkError),
    ("(00050311)", Reason::ContentError),
    ("(000502cc)", Reason::ContentError),
    ("(000b0981)", Reason::SecurityError),
    ("(000b099c)", Reason::OnHold),
    ("(000b09aa)", Reason::OnHold),
    ("(000b09b6)", Reason::OnHold),
    ("no such domain.", Reason::HostUnknown),
    ("this domain's dns violates rfc 1035.", Reason::SystemError),
    ("dns lookup failed.", Reason::NetworkError),
    // HCL Domino, in its languages.
    ("cannot route mail to user", Reason::Filtered),
    (
        "several matches found in domino directory",
        Reason::SystemError,
    ),
    (
        "no se encuentra en el directorio de domino",
        Reason::UserUnknown,
    ),
    ("non répertorié dans l'annuaire domino", Reason::UserUnknown),
    ("domino ディレクトリには見つかりません", Reason::UserUnknown),
    // OpenSMTPD (smtpd/mta.c, smtpd/queue.c).
    ("envelope expired", Reason::Expired),
    ("could not retrieve credentials", Reason::SecurityError),
    ("invalid domain name", Reason::HostUnknown),
    ("domain does not exist", Reason::HostUnknown),
    (
        "address family mismatch on destination mxs",
        Reason::NetworkError,
    ),
    ("all routes to destination blocked", Reason::NetworkError),
    ("bad dns lookup error code", Reason::NetworkError),
    ("could not retrieve source address", Reason::NetworkError),
    ("loop detected", Reason::NetworkError),
    ("network error on destination mxs", Reason::NetworkError),
    ("no valid route to remote mx", Reason::NetworkError),
    ("no valid route to destination", Reason::NetworkError),
    ("temporary failure in mx lookup", Reason::NetworkError),
    ("destination seem to reject all mails", Reason::NotAccept),
    ("no mx found for domain", Reason::NotAccept),
    ("no mx found for destination", Reason::NotAccept),
];

/// The reason a reporting MTA's own text or code in `lower` (a lower-cased
/// diagnostic) stands for; the first one in the text wins.
pub(crate) fn reporting_mta_reason(lower: &str) -> Option<Reason> {
    static CODES: LazyLock<AhoCorasick> = LazyLock::new(|| {
        AhoCorasick::new(REPORTING_MTA_TEXTS.iter().map(|(code, _)| code))
            .expect("reporting MTA text automaton builds")
    });
    CODES
        .find(lower)
        .map(|m| REPORTING_MTA_TEXTS[m.pattern().as_usize()].1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scans_phrases_and_aligned_parts() {
        let s = PHRASES.scan("550 5.1.1 <x@example.jp>... user unknown");
        assert!(s.has(Reason::UserUnknown));
        assert!(!s.has(Reason::MailboxFull));
        let s = PHRASES.scan("the mailbox of this user is full");
        assert!(s.has(Reason::MailboxFull));
        let s = PHRASES.scan("quota nothing");
        assert!(!s.has(Reason::MailboxFull));
    }

    #[test]
    fn exclusions_veto_a_reason() {
        // "address rejected" means Rejected, but not when it is the recipient's.
        assert!(
            PHRASES
                .scan("sender address rejected")
                .has(Reason::Rejected)
        );
        assert!(
            !PHRASES
                .scan("recipient address rejected")
                .has(Reason::Rejected)
        );
    }
}
