//! Error-message phrase tables, compiled once.
//!
//! The tables live in `rules/phrases.json` (data, not code): for each reason a
//! list of substrings (`any`), ordered multi-part phrases (`aligned`) and
//! exclusions (`not`). All `any`/`not` phrases of all reasons go into one
//! Aho-Corasick automaton, so a diagnostic text is scanned once and yields the
//! set of reasons whose phrases it contains.

use crate::Decoder;
use crate::Reason;
use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::LazyLock;

const PHRASES_JSON: &str = include_str!("../rules/phrases.json");
const VENDOR_JSON: &str = include_str!("../rules/vendor.json");
const REPORTING_MTA_JSON: &str = include_str!("../rules/reporting_mta.json");

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

/// A table of texts and the reason each means: `rules/vendor.json`, texts
/// that decide the reason outright, and `rules/reporting_mta.json`.
pub(crate) struct Vendor {
    automaton: AhoCorasick,
    reasons: Vec<Reason>,
    /// The decoder a text belongs to, when it means its reason only in that
    /// MTA's own notice (qmail's "Unable to ..."); `None` for every notice.
    decoders: Vec<Option<Decoder>>,
}

#[derive(Deserialize)]
struct VendorFile {
    rules: Vec<VendorRule>,
}

#[derive(Deserialize)]
struct VendorRule {
    reason: String,
    #[serde(default)]
    decoder: Option<Decoder>,
    phrases: Vec<String>,
}

pub(crate) static VENDOR: LazyLock<Vendor> =
    LazyLock::new(|| Vendor::load(VENDOR_JSON, "rules/vendor.json"));

impl Vendor {
    /// Compile a table of `{"rules": [{"reason", "phrases"}]}`; `name` is
    /// the file, for the message when it is malformed (a bug of this crate).
    fn load(json: &str, name: &str) -> Vendor {
        let file: VendorFile = serde_json::from_str(json)
            .unwrap_or_else(|e| panic!("{name} is not a well-formed rule table: {e}"));
        let mut patterns = Vec::new();
        let mut reasons = Vec::new();
        let mut decoders = Vec::new();
        for rule in file.rules {
            let reason: Reason = rule
                .reason
                .parse()
                .unwrap_or_else(|_| panic!("{name} names an unknown reason {:?}", rule.reason));
            for p in rule.phrases {
                patterns.push(p.to_lowercase());
                reasons.push(reason);
                decoders.push(rule.decoder);
            }
        }
        Vendor {
            automaton: AhoCorasickBuilder::new()
                .match_kind(MatchKind::Standard)
                .build(&patterns)
                .unwrap_or_else(|e| panic!("{name} does not build: {e}")),
            reasons,
            decoders,
        }
    }

    /// The reason of the text that occurs first in `lower`, among the texts
    /// of every notice and those of `decoder`'s own.
    pub(crate) fn first_in(&self, lower: &str, decoder: Decoder) -> Option<Reason> {
        self.automaton
            .find_iter(lower)
            .find(|m| self.decoders[m.pattern().as_usize()].is_none_or(|d| d == decoder))
            .map(|m| self.reasons[m.pattern().as_usize()])
    }

    /// The reason of the first vendor text found in `lower` (texts of every
    /// notice only).
    pub(crate) fn find(&self, lower: &str) -> Option<Reason> {
        // Every vendor text present; the one listed first wins.
        self.automaton
            .find_overlapping_iter(lower)
            .map(|m| m.pattern().as_usize())
            .filter(|&i| self.decoders[i].is_none())
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

/// What a reporting MTA writes about its own decision
/// (`rules/reporting_mta.json`): the reason it stands for is a preset that a
/// more specific text may overturn (see `classify`).
pub(crate) static REPORTING_MTA: LazyLock<Vendor> =
    LazyLock::new(|| Vendor::load(REPORTING_MTA_JSON, "rules/reporting_mta.json"));

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
    fn a_decoders_own_texts_hold_only_in_its_notices() {
        let text = "unable to switch to /home/partner. (#4.3.0)";
        assert_eq!(
            REPORTING_MTA.first_in(text, Decoder::Qmail),
            Some(Reason::SystemError)
        );
        assert_eq!(REPORTING_MTA.first_in(text, Decoder::Postfix), None);
        // Texts of every notice hold in all of them.
        assert_eq!(
            REPORTING_MTA.first_in("550 5.1.1 resolver.adr.recipnotfound", Decoder::Postfix),
            Some(Reason::UserUnknown)
        );
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
