//! Error-message phrase tables, compiled once.
//!
//! The tables live in `rules/phrases.json` (data, not code): for each reason a
//! list of substrings (`any`), ordered multi-part phrases (`aligned`) and
//! exclusions (`not`); `rules/vendor.json` and `rules/reporting_mta.json`
//! hold texts that decide a reason outright. Every text of these tables,
//! the blocklist names of `crate::blocklist` and the receiving services'
//! phrases of `crate::rhost` go into one Aho-Corasick
//! automaton ([`COMBINED`]), so a diagnostic text is scanned once
//! ([`Scan`]) and each table reads its own matches from that one scan,
//! with the match semantics it was written for.

use crate::Decoder;
use crate::Reason;
use crate::lazy::LazyDfa;
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

/// The compiled phrase table (its texts are [`COMBINED`]'s first patterns).
pub(crate) struct Phrases {
    tags: Vec<Tag>,
    /// Each aligned rule's reason and its parts, as prebuilt searchers.
    aligned: Vec<(Reason, Vec<memchr::memmem::Finder<'static>>)>,
}

/// A set of reasons, one bit each.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
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

/// A table of texts and the reason each means: `rules/vendor.json`, texts
/// that decide the reason outright, and `rules/reporting_mta.json` (its
/// texts are patterns of [`COMBINED`]).
pub(crate) struct Vendor {
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

impl Vendor {
    /// Read a table of `{"rules": [{"reason", "phrases"}]}`, with its texts
    /// in lower case; `name` is the file, for the message when it is
    /// malformed (a bug of this crate).
    fn load(json: &str, name: &str) -> (Vendor, Vec<String>) {
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
        (Vendor { reasons, decoders }, patterns)
    }
}

impl Phrases {
    /// Read `rules/phrases.json`: the table and its texts, in lower case.
    fn compile() -> (Phrases, Vec<String>) {
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
        (Phrases { tags, aligned }, patterns)
    }
}

/// Every table's texts in one automaton: pattern ids are the phrase
/// table's, then the vendor table's, the reporting MTAs', the blocklist
/// names' and the receiving services' phrases (`crate::rhost`), in that
/// order.
pub(crate) struct Combined {
    automaton: LazyDfa,
    phrases: Phrases,
    vendor: Vendor,
    reporting: Vendor,
    /// Where the vendor, reporting-MTA, blocklist and receiving-service
    /// patterns start, and where the last ends.
    starts: [u32; 5],
}

/// How many states each thread's table of the rule automaton's
/// transitions holds at most (`crate::lazy`; beyond them the NFA itself
/// steps): the whole Sisimai corpus takes 5,938 (1.9 MB of transitions:
/// 81 byte classes of 4 bytes), so this bounds the table at 2.7 MB.
const TABLE_STATES: usize = 8_192;

/// The combined tables, built once (see [`crate::prepare`]).
pub(crate) static COMBINED: LazyLock<Combined> = LazyLock::new(|| {
    let (phrases, mut patterns) = Phrases::compile();
    let (vendor, texts) = Vendor::load(VENDOR_JSON, "rules/vendor.json");
    let mut starts = [0u32; 5];
    let id = |n: usize| u32::try_from(n).expect("fewer than 2^32 rule texts");
    starts[0] = id(patterns.len());
    patterns.extend(texts);
    let (reporting, texts) = Vendor::load(REPORTING_MTA_JSON, "rules/reporting_mta.json");
    starts[1] = id(patterns.len());
    patterns.extend(texts);
    starts[2] = id(patterns.len());
    patterns.extend(crate::blocklist::texts());
    starts[3] = id(patterns.len());
    patterns.extend(crate::rhost::phrases().map(str::to_string));
    starts[4] = id(patterns.len());
    // Not `aho-corasick`'s DFA: 190M instructions to build (12.7 MB of
    // tables); its contiguous NFA, with each thread's transitions
    // remembered (`crate::lazy`).
    let automaton = LazyDfa::new(&patterns, TABLE_STATES).expect("rule automaton builds");
    Combined {
        automaton,
        phrases,
        vendor,
        reporting,
        starts,
    }
});

impl Combined {
    /// Scan a lower-cased text for every table's texts, once.
    pub(crate) fn scan<'t>(&self, lower: &'t str) -> Scan<'t> {
        // The phrase table's matches are read as they come (a text can
        // hold several phrases ending at each of its bytes); the other
        // tables' are kept, to be read in their search's order.
        let mut hit = ReasonSet::default();
        let mut veto = ReasonSet::default();
        let mut candidates: Vec<usize> = Vec::new();
        let mut others = Vec::new();
        self.automaton
            .overlapping(lower.as_bytes(), |pattern, start, end| {
                let id = pattern.as_u32();
                if id >= self.starts[0] {
                    others.push(Hit { id, start, end });
                    return;
                }
                match self.phrases.tags[id as usize] {
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
            });
        // An aligned rule is checked only when its first part occurs.
        for n in candidates {
            let (reason, parts) = &self.phrases.aligned[n];
            if !hit.has(*reason) && aligned(lower, parts) {
                hit.insert(*reason);
            }
        }
        Scan {
            text: lower,
            reasons: hit.without(veto),
            others,
        }
    }
}

/// One occurrence of a rule text.
#[derive(Clone, Copy, Debug)]
struct Hit {
    id: u32,
    start: usize,
    end: usize,
}

/// What one scan of a lower-cased text found ([`Combined::scan`]), read
/// per table.
#[derive(Debug)]
pub(crate) struct Scan<'t> {
    text: &'t str,
    /// The reasons whose phrases occur in the text.
    reasons: ReasonSet,
    /// The vendor, reporting-MTA and blocklist texts found, in the order
    /// the automaton reports them (by where they end).
    others: Vec<Hit>,
}

impl Scan<'_> {
    /// The occurrences of the patterns `from..to`, ids made local to them.
    fn of(&self, from: u32, to: u32) -> impl Iterator<Item = Hit> + '_ {
        self.others
            .iter()
            .filter(move |h| (from..to).contains(&h.id))
            .map(move |h| Hit {
                id: h.id - from,
                ..*h
            })
    }

    /// The reasons whose phrases occur in the text.
    pub(crate) fn reasons(&self) -> ReasonSet {
        self.reasons
    }

    /// The reason of the vendor text listed first among those in the text
    /// (texts of every notice only).
    pub(crate) fn vendor(&self) -> Option<Reason> {
        let c = &*COMBINED;
        self.of(c.starts[0], c.starts[1])
            .map(|h| h.id as usize)
            .filter(|&i| c.vendor.decoders[i].is_none())
            .min()
            .map(|i| c.vendor.reasons[i])
    }

    /// The reason of the reporting MTA's text found first in the text,
    /// among the texts of every notice and those of `decoder`'s own, as a
    /// standard search of their own finds them ([`standard`]).
    pub(crate) fn reporting(&self, decoder: Decoder) -> Option<Reason> {
        let c = &*COMBINED;
        standard(self.of(c.starts[1], c.starts[2]).collect())
            .map(|h| h.id as usize)
            .find(|&i| c.reporting.decoders[i].is_none_or(|d| d == decoder))
            .map(|i| c.reporting.reasons[i])
    }

    /// The blocklist names in the text (indices into `crate::blocklist`'s
    /// table, each with where it ends in the text), as a leftmost-first
    /// search of their own finds them one after another
    /// ([`leftmost_first`]).
    pub(crate) fn blocklists(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        let c = &*COMBINED;
        leftmost_first(self.of(c.starts[2], c.starts[3]).collect()).map(|h| (h.id as usize, h.end))
    }

    /// Which of the receiving-service phrases `first..first + len` (ids
    /// into `crate::rhost::phrases`) are in the text, as ids from `first`.
    pub(crate) fn rhost_phrases(
        &self,
        first: usize,
        len: usize,
    ) -> impl Iterator<Item = usize> + '_ {
        let from = COMBINED.starts[3].saturating_add(u32::try_from(first).unwrap_or(u32::MAX));
        let to = from.saturating_add(u32::try_from(len).unwrap_or(u32::MAX));
        self.of(from, to).map(|h| h.id as usize)
    }

    /// The text scanned.
    pub(crate) fn text(&self) -> &str {
        self.text
    }
}

/// The matches a standard (non-overlapping) Aho-Corasick search reports,
/// one after another, from every occurrence of its patterns (`all`): the
/// one that ends first (of those ending there the longest, then the one
/// listed first: the order of a match state's patterns), the next one
/// searched for from its end.
fn standard(all: Vec<Hit>) -> impl Iterator<Item = Hit> {
    one_after_another(all, |h| (h.end, usize::MAX - (h.end - h.start), h.id))
}

/// The matches a leftmost-first search reports, one after another, from
/// every occurrence of its patterns: the one that starts first (of those
/// starting there the one listed first), the next one searched for from
/// its end.
fn leftmost_first(all: Vec<Hit>) -> impl Iterator<Item = Hit> {
    one_after_another(all, |h| (h.start, 0, h.id))
}

/// The occurrence `first` puts first among those from the search's
/// position on, then the search goes on from its end. One sort and one
/// pass (not a look through all of them at each step, which a text full of
/// one name would make quadratic): in `first`'s order, an occurrence
/// passed over because it starts before the search's position stays
/// behind it, since the position only moves on.
fn one_after_another(
    mut all: Vec<Hit>,
    first: fn(&Hit) -> (usize, usize, u32),
) -> impl Iterator<Item = Hit> {
    all.sort_unstable_by_key(first);
    let mut from = 0;
    all.into_iter().filter(move |h| {
        let next = h.start >= from;
        if next {
            from = h.end;
        }
        next
    })
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

#[cfg(test)]
mod tests {
    use super::*;
    use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};

    #[test]
    fn scans_phrases_and_aligned_parts() {
        let reasons = |t: &str| COMBINED.scan(t).reasons();
        let s = reasons("550 5.1.1 <x@example.jp>... user unknown");
        assert!(s.has(Reason::UserUnknown));
        assert!(!s.has(Reason::MailboxFull));
        let s = reasons("the mailbox of this user is full");
        assert!(s.has(Reason::MailboxFull));
        let s = reasons("quota nothing");
        assert!(!s.has(Reason::MailboxFull));
    }

    #[test]
    fn a_decoders_own_texts_hold_only_in_its_notices() {
        let text = "unable to switch to /home/partner. (#4.3.0)";
        let scan = COMBINED.scan(text);
        assert_eq!(scan.reporting(Decoder::Qmail), Some(Reason::SystemError));
        assert_eq!(scan.reporting(Decoder::Postfix), None);
        // Texts of every notice hold in all of them.
        assert_eq!(
            COMBINED
                .scan("550 5.1.1 resolver.adr.recipnotfound")
                .reporting(Decoder::Postfix),
            Some(Reason::UserUnknown)
        );
    }

    #[test]
    fn exclusions_veto_a_reason() {
        // "address rejected" means Rejected, but not when it is the recipient's.
        let reasons = |t: &str| COMBINED.scan(t).reasons();
        assert!(reasons("sender address rejected").has(Reason::Rejected));
        assert!(!reasons("recipient address rejected").has(Reason::Rejected));
    }

    /// The reporting MTAs' texts, the blocklist names and the vendor texts
    /// each in a searcher of their own, with the match semantics [`Scan`]
    /// stands in for.
    static SEARCHERS: LazyLock<[AhoCorasick; 3]> = LazyLock::new(|| {
        let c = &*COMBINED;
        let mut texts = Phrases::compile().1;
        texts.extend(rule_texts());
        assert_eq!(texts.len(), c.starts[3] as usize);
        assert_eq!(
            crate::rhost::phrases().count(),
            (c.starts[4] - c.starts[3]) as usize
        );
        let searcher = |from: u32, to: u32, kind: MatchKind| {
            AhoCorasickBuilder::new()
                .match_kind(kind)
                .build(&texts[from as usize..to as usize])
                .unwrap()
        };
        [
            searcher(c.starts[1], c.starts[2], MatchKind::Standard),
            searcher(c.starts[2], c.starts[3], MatchKind::LeftmostFirst),
            searcher(c.starts[0], c.starts[1], MatchKind::Standard),
        ]
    });

    proptest::proptest! {
        #![proptest_config(proptest::test_runner::Config::with_cases(4096))]
        /// [`standard`] and [`leftmost_first`] read from every occurrence
        /// what the two searches find, for any patterns (short ones over two
        /// letters: every way of overlapping, nesting and ending alike).
        #[test]
        fn the_searches_read_from_every_occurrence(
            patterns in proptest::collection::vec("[ab]{1,4}", 1..6),
            text in "[ab]{0,24}",
        ) {
            let overlapping = AhoCorasickBuilder::new().build(&patterns).unwrap();
            let all: Vec<Hit> = overlapping
                .find_overlapping_iter(&text)
                .map(|m| Hit { id: m.pattern().as_u32(), start: m.start(), end: m.end() })
                .collect();
            let ours = |hits: Vec<Hit>| hits.iter().map(|h| (h.id, h.start, h.end)).collect::<Vec<_>>();
            for (kind, found) in [
                (MatchKind::Standard, standard(all.clone()).collect::<Vec<_>>()),
                (MatchKind::LeftmostFirst, leftmost_first(all.clone()).collect()),
            ] {
                let search = AhoCorasickBuilder::new().match_kind(kind).build(&patterns).unwrap();
                let theirs: Vec<(u32, usize, usize)> = search
                    .find_iter(&text)
                    .map(|m| (m.pattern().as_u32(), m.start(), m.end()))
                    .collect();
                proptest::prop_assert_eq!(ours(found), theirs, "{:?} {:?} {:?}", kind, patterns, text);
            }
        }
    }

    /// The vendor, reporting-MTA and blocklist texts.
    fn rule_texts() -> Vec<String> {
        let mut texts = Vendor::load(VENDOR_JSON, "").1;
        texts.extend(Vendor::load(REPORTING_MTA_JSON, "").1);
        texts.extend(crate::blocklist::texts());
        texts
    }

    proptest::proptest! {
        #![proptest_config(proptest::test_runner::Config::with_cases(2048))]
        /// What one scan says for each table is what each table's own
        /// search says: the reporting MTAs' texts as a standard search
        /// finds them one after another, the blocklist names as a
        /// leftmost-first one does, the vendor texts and phrases wherever
        /// they occur.
        #[test]
        fn one_scan_reads_as_each_tables_own_search(
            parts in proptest::collection::vec(
                (
                    proptest::sample::select(rule_texts()),
                    0usize..48,
                    0usize..48,
                    proptest::sample::select(vec!["", "", " ", "x", ". ", "550 5.7.1 "]),
                ),
                0..8,
            ),
        ) {
            // Whole texts, their beginnings, ends and middles, run together:
            // texts that overlap, end alike or start alike.
            let text: String = parts
                .iter()
                .map(|(t, a, b, sep)| {
                    let (a, b) = (*a.min(b), *a.max(b));
                    let piece = if a == 0 && b >= 40 { t.as_str() } else { t.get(a..b).unwrap_or(t) };
                    format!("{piece}{sep}")
                })
                .collect();
            let c = &*COMBINED;
            let scan = c.scan(&text);
            let [standard, leftmost, all] = &*SEARCHERS;
            // Reporting MTAs: the standard search, decoder by decoder.
            for decoder in [Decoder::Qmail, Decoder::Postfix, Decoder::Exim, Decoder::Sendmail] {
                let theirs = standard
                    .find_iter(&text)
                    .map(|m| m.pattern().as_usize())
                    .find(|&i| c.reporting.decoders[i].is_none_or(|d| d == decoder))
                    .map(|i| c.reporting.reasons[i]);
                proptest::prop_assert_eq!(scan.reporting(decoder), theirs, "{:?}", text);
            }
            // Blocklist names: leftmost-first, one after another.
            let theirs: Vec<(usize, usize)> =
                leftmost.find_iter(&text).map(|m| (m.pattern().as_usize(), m.end())).collect();
            proptest::prop_assert_eq!(scan.blocklists().collect::<Vec<_>>(), theirs, "{:?}", text);
            // Vendor texts: the first listed of every one present.
            let theirs = all
                .find_overlapping_iter(&text)
                .map(|m| m.pattern().as_usize())
                .filter(|&i| c.vendor.decoders[i].is_none())
                .min()
                .map(|i| c.vendor.reasons[i]);
            proptest::prop_assert_eq!(scan.vendor(), theirs, "{:?}", text);
        }
    }
}
