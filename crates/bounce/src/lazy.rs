//! An overlapping Aho-Corasick search whose transitions are remembered as
//! the texts take them: a lazy DFA over `aho-corasick`'s contiguous NFA.
//!
//! Hand-written because no crate does this well for the rule automaton
//! (`crate::rules::COMBINED`, 1,243 texts):
//! - `aho-corasick`'s NFA follows failure links, about 40 instructions
//!   a byte on diagnostic texts; a tenth of the engine's work went there.
//! - Its DFA is 12.7 MB and takes 37 ms to build, and rare paths then
//!   miss the cache.
//! - `regex-automata`'s lazy DFA starts from a Thompson NFA in which every
//!   state set holds all 1,243 pattern starts, so each new state costs a
//!   pass over them.
//!
//! This keeps the NFA, which builds in 4 ms, and each thread fills a table
//! of the transitions the texts actually take (a few thousand states). The
//! table's size is bounded: once it is full, a transition to a state it
//! holds no row for is the NFA's own, and so are the steps after it until
//! the NFA is back at its start state. A text that walks through more
//! states than the table holds (a hostile one) is searched at the NFA's
//! speed, with no more memory.
//! Matches are the NFA's own, reported in its order, so a scan finds what
//! `AhoCorasick::find_overlapping_iter` finds; a proptest holds them equal.

use aho_corasick::automaton::Automaton;
use aho_corasick::automaton::StateID;
use aho_corasick::nfa::contiguous::NFA;
use aho_corasick::{Anchored, MatchKind, PatternID};
use std::cell::Cell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

/// A transition not taken yet.
const UNKNOWN: u32 = u32::MAX;

/// Set in a transition to a match state.
const MATCH: u32 = 1 << 31;

/// The start state's row: the first a table adds.
const START: u32 = 0;

/// An overlapping search over a fixed set of patterns (see the module's
/// documentation).
pub(crate) struct LazyDfa {
    /// Which automaton a thread's table belongs to.
    id: u64,
    nfa: NFA,
    /// Each byte's class: bytes in no pattern share class 0, every byte of
    /// a pattern has a class of its own.
    classes: [u8; 256],
    /// A byte of each class, to ask the NFA with.
    representatives: Vec<u8>,
    /// The NFA's start state.
    start: StateID,
    /// The most states a thread's table holds.
    capacity: usize,
}

/// One thread's transitions (see [`LazyDfa`]). A state is known by where
/// its row starts in `next` (its number times the alphabet's size).
struct Table {
    /// The [`LazyDfa::id`] of the automaton it belongs to.
    owner: u64,
    /// `row + class`: the next state's row, with [`MATCH`] set when it is
    /// a match state; [`UNKNOWN`] for a transition not taken yet.
    next: Vec<u32>,
    /// The NFA state of each state number.
    nfa_ids: Vec<StateID>,
    /// Each NFA state's row.
    rows: HashMap<StateID, u32>,
}

/// The next automaton's [`LazyDfa::id`].
static NEXT_ID: AtomicU64 = AtomicU64::new(0);

thread_local! {
    /// This thread's table, for the automaton that used it last (the
    /// engine has one; the tests build many); `None` while a scan has it
    /// out.
    static TABLE: Cell<Option<Box<Table>>> = const { Cell::new(None) };
}

impl LazyDfa {
    /// The automaton of `patterns` (texts, none empty), a
    /// standard-semantics overlapping search; `capacity` bounds each
    /// thread's table (in states, at least the start state).
    pub(crate) fn new(patterns: &[String], capacity: usize) -> Result<LazyDfa, String> {
        if patterns.iter().any(String::is_empty) {
            return Err("an empty pattern matches everywhere".into());
        }
        let nfa = NFA::builder()
            .match_kind(MatchKind::Standard)
            .build(patterns)
            .map_err(|e| e.to_string())?;
        let mut classes = [0u8; 256];
        // Class 0 is asked about with a byte no UTF-8 text holds.
        let mut representatives = vec![0xFF];
        for &b in patterns.iter().flat_map(|p| p.as_bytes()) {
            if classes[usize::from(b)] == 0 {
                let class = u8::try_from(representatives.len())
                    .expect("UTF-8 text holds at most 243 distinct bytes");
                classes[usize::from(b)] = class;
                representatives.push(b);
            }
        }
        // Rows are numbered in 31 bits, beside the match flag.
        let most = (MATCH as usize - 1) / representatives.len();
        let start = nfa.start_state(Anchored::No).map_err(|e| e.to_string())?;
        Ok(LazyDfa {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            nfa,
            classes,
            representatives,
            start,
            capacity: capacity.clamp(1, most),
        })
    }

    /// Every occurrence of every pattern in `text`, as
    /// `found(pattern, start, end)`, by where they end, and at one end in
    /// the NFA's order (as `AhoCorasick::find_overlapping_iter` reports
    /// them).
    pub(crate) fn overlapping(&self, text: &[u8], mut found: impl FnMut(PatternID, usize, usize)) {
        let mut table = TABLE
            .take()
            .filter(|t| t.owner == self.id)
            .unwrap_or_else(|| Box::new(self.table()));
        let mut row = START;
        // Where the text read so far ends.
        let mut at = 0;
        while let Some(&b) = text.get(at) {
            at += 1;
            let slot = row as usize + usize::from(self.classes[usize::from(b)]);
            let mut next = table.next[slot];
            // One test for both rare cases: a transition not taken yet, a
            // match state.
            if next >= MATCH {
                if next == UNKNOWN {
                    match self.fill(&mut table, row, b) {
                        Ok(filled) => next = filled,
                        Err(sid) => {
                            at = self.without_table(sid, text, at, &mut found);
                            row = START;
                            continue;
                        }
                    }
                }
                if next & MATCH != 0 {
                    self.report(
                        table.nfa_ids[(next & !MATCH) as usize / self.alphabet()],
                        at,
                        &mut found,
                    );
                }
            }
            row = next & !MATCH;
        }
        TABLE.set(Some(table));
    }

    /// The NFA's own steps, for a full table that holds no row for `sid`
    /// (the state after `text[..at]`): each state's matches reported, until
    /// the NFA is back at its start state (which has a row) or the text
    /// ends. Where it stopped.
    fn without_table(
        &self,
        mut sid: StateID,
        text: &[u8],
        mut at: usize,
        found: &mut impl FnMut(PatternID, usize, usize),
    ) -> usize {
        loop {
            self.report(sid, at, found);
            if sid == self.start {
                return at;
            }
            let Some(&b) = text.get(at) else {
                return at;
            };
            sid = self.nfa.next_state(Anchored::No, sid, b);
            at += 1;
        }
    }

    /// The matches of NFA state `sid`, reached where the text read ends
    /// (`end`), in the NFA's order.
    fn report(&self, sid: StateID, end: usize, found: &mut impl FnMut(PatternID, usize, usize)) {
        if !self.nfa.is_match(sid) {
            return;
        }
        for i in 0..self.nfa.match_len(sid) {
            let pid = self.nfa.match_pattern(sid, i);
            found(pid, end - self.nfa.pattern_len(pid), end);
        }
    }

    /// How many byte classes there are.
    fn alphabet(&self) -> usize {
        self.representatives.len()
    }

    /// A table that knows the start state only.
    fn table(&self) -> Table {
        let mut table = Table {
            owner: self.id,
            next: Vec::new(),
            nfa_ids: Vec::new(),
            rows: HashMap::new(),
        };
        // (Not a match state: no pattern is empty.)
        let start = self.add(&mut table, self.start);
        debug_assert_eq!(start, START);
        table
    }

    /// The row of a new state for NFA state `sid`, [`MATCH`] set if it is
    /// a match state.
    fn add(&self, table: &mut Table, sid: StateID) -> u32 {
        let row = u32::try_from(table.next.len()).expect("capacity fits in 31 bits");
        table.nfa_ids.push(sid);
        table
            .next
            .resize(table.next.len() + self.alphabet(), UNKNOWN);
        let entry = if self.nfa.is_match(sid) {
            row | MATCH
        } else {
            row
        };
        table.rows.insert(sid, entry);
        entry
    }

    /// The transition from `row` on `byte`, asked of the NFA and
    /// remembered; `Err` with the NFA's state when the table is full and
    /// holds no row for it (the table is kept as it is: the states the
    /// texts reach first are the ones they reach most).
    fn fill(&self, table: &mut Table, row: u32, byte: u8) -> Result<u32, StateID> {
        let class = usize::from(self.classes[usize::from(byte)]);
        let from = table.nfa_ids[row as usize / self.alphabet()];
        let sid = self
            .nfa
            .next_state(Anchored::No, from, self.representatives[class]);
        let next = match table.rows.get(&sid) {
            Some(&known) => known,
            None if table.nfa_ids.len() >= self.capacity => return Err(sid),
            None => self.add(table, sid),
        };
        table.next[row as usize + class] = next;
        Ok(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aho_corasick::AhoCorasickBuilder;

    fn all(dfa: &LazyDfa, text: &str) -> Vec<(u32, usize, usize)> {
        let mut v = Vec::new();
        dfa.overlapping(text.as_bytes(), |p, s, e| v.push((p.as_u32(), s, e)));
        v
    }

    fn theirs(patterns: &[String], text: &str) -> Vec<(u32, usize, usize)> {
        AhoCorasickBuilder::new()
            .match_kind(MatchKind::Standard)
            .build(patterns)
            .unwrap()
            .find_overlapping_iter(text)
            .map(|m| (m.pattern().as_u32(), m.start(), m.end()))
            .collect()
    }

    #[test]
    fn finds_overlapping_occurrences_in_the_nfas_order() {
        let p: Vec<String> = ["he", "she", "hers", "his", "s"].map(String::from).to_vec();
        let dfa = LazyDfa::new(&p, 64).unwrap();
        assert_eq!(all(&dfa, "ushers"), theirs(&p, "ushers"));
        assert_eq!(
            all(&dfa, "ushers"),
            vec![(4, 1, 2), (1, 1, 4), (0, 2, 4), (2, 2, 6), (4, 5, 6)]
        );
        // A second scan on this thread reads the table the first filled.
        assert_eq!(all(&dfa, "ushers"), theirs(&p, "ushers"));
        assert_eq!(all(&dfa, "xyz"), vec![]);
    }

    #[test]
    fn a_full_table_leaves_the_steps_it_has_no_row_for_to_the_nfa() {
        let p: Vec<String> = ["user unknown", "unknown user", "mailbox full", "user"]
            .map(String::from)
            .to_vec();
        let text = "550 user unknown; unknown user@x; mailbox full, user ".repeat(3);
        // Only the start state's row: every other step is the NFA's.
        let tiny = LazyDfa::new(&p, 1).unwrap();
        assert_eq!(all(&tiny, &text), theirs(&p, &text));
        assert_eq!(all(&tiny, &text).len(), 3 * 6);
        // Room for some rows: a scan in and out of the table.
        let small = LazyDfa::new(&p, 6).unwrap();
        assert_eq!(all(&small, &text), theirs(&p, &text));
    }

    #[test]
    fn refuses_an_empty_pattern() {
        assert!(LazyDfa::new(&[String::new()], 8).is_err());
    }

    #[test]
    fn two_automata_on_one_thread_keep_apart() {
        let a = LazyDfa::new(&["ab".to_string()], 8).unwrap();
        let b = LazyDfa::new(&["b".to_string()], 8).unwrap();
        assert_eq!(all(&a, "ab"), vec![(0, 0, 2)]);
        assert_eq!(all(&b, "ab"), vec![(0, 1, 2)]);
        assert_eq!(all(&a, "ab"), vec![(0, 0, 2)]);
    }

    proptest::proptest! {
        #![proptest_config(proptest::test_runner::Config::with_cases(1024))]
        /// Any patterns, any text, any table size (a small one is full
        /// soon, and the NFA steps where it holds no row): what the
        /// crate's overlapping search finds.
        #[test]
        fn finds_what_aho_corasick_finds(
            patterns in proptest::collection::vec("[a-d ]{1,5}|[a-dé]{1,3}", 1..12),
            text in "[a-e é]{0,80}",
            capacity in 1usize..40,
        ) {
            let dfa = LazyDfa::new(&patterns, capacity).unwrap();
            proptest::prop_assert_eq!(all(&dfa, &text), theirs(&patterns, &text));
            // Again, with the table this thread kept.
            proptest::prop_assert_eq!(all(&dfa, &text), theirs(&patterns, &text));
        }
    }
}
