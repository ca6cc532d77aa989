//! Finding a long string (a MIME boundary, a whole diagnostic) in a text
//! without building a searcher for all of it.
//!
//! `memchr::memmem::Finder::new` and the standard library's `str::contains`
//! for a needle of over 32 bytes build a two-way searcher: about 2,700
//! instructions for a needle of 30-70 bytes, more than the search itself
//! through a short text, paid on every call. A searcher for the needle's
//! first [`PREFIX`] bytes costs a few hundred; each place the prefix occurs
//! is then checked for the whole. Written here because neither crate
//! offers a searcher that is cheap to build for a needle used once.

use std::borrow::Cow;

/// How much of the needle the searcher is built for.
const PREFIX: usize = 8;

/// After this many places where the prefix occurs without the rest, the
/// search for the whole needle takes over: a text full of the prefix (a
/// boundary of dashes in a body of dashes) stays linear.
const CHECKS: usize = 32;

/// A needle and the searcher for its first [`PREFIX`] bytes.
pub(crate) struct Needle<'n> {
    needle: Cow<'n, [u8]>,
    prefix: memchr::memmem::Finder<'n>,
}

impl<'n> Needle<'n> {
    /// The searcher for `needle`.
    pub(crate) fn new(needle: impl Into<Cow<'n, [u8]>>) -> Needle<'n> {
        let needle = needle.into();
        let prefix = match &needle {
            Cow::Borrowed(b) => memchr::memmem::Finder::new(&b[..b.len().min(PREFIX)]),
            Cow::Owned(v) => memchr::memmem::Finder::new(&v[..v.len().min(PREFIX)]).into_owned(),
        };
        Needle { needle, prefix }
    }

    /// What is looked for.
    pub(crate) fn bytes(&self) -> &[u8] {
        &self.needle
    }

    /// Where the needle first occurs in `text`.
    pub(crate) fn find(&self, text: &[u8]) -> Option<usize> {
        let mut from = 0;
        for _ in 0..CHECKS {
            let at = from + self.prefix.find(&text[from..])?;
            if text[at..].starts_with(&self.needle) {
                return Some(at);
            }
            from = at + 1;
        }
        memchr::memmem::find(&text[from..], &self.needle).map(|i| from + i)
    }
}

/// `text.contains(needle)`, for a needle looked for once. The standard
/// library searches for a needle of up to 32 bytes with SIMD and builds
/// nothing; a longer one is looked for only where its last 32 bytes are
/// (most such phrases are not there at all), then by a [`Needle`].
pub(crate) fn contains(text: &str, needle: &str) -> bool {
    match needle.get(needle.len().saturating_sub(32)..) {
        Some(tail) if tail.len() < needle.len() => {
            text.contains(tail)
                && Needle::new(needle.as_bytes())
                    .find(text.as_bytes())
                    .is_some()
        }
        _ => text.contains(needle),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #![proptest_config(proptest::test_runner::Config::with_cases(4096))]
        /// The prefix search finds a needle (here a `--boundary`) where
        /// `memmem` finds it: needles longer than the prefix, texts full of
        /// the prefix without the rest, and past the switch to `memmem`.
        #[test]
        fn a_needle_is_found_where_memmem_finds_it(
            // Mostly dashes: boundaries like "----=_Part" overlap themselves.
            boundary in proptest::collection::vec(proptest::sample::select(b"---BA".to_vec()), 0..20),
            // The text: pieces of the boundary line (its first n bytes, so
            // that the prefix occurs, overlapping, without the rest) and
            // stray bytes.
            pieces in proptest::collection::vec(
                (0usize..24, proptest::sample::select(b"-BA\n".to_vec())),
                0..60,
            ),
        ) {
            let mut needle = b"--".to_vec();
            needle.extend_from_slice(&boundary);
            let mut text = Vec::new();
            for (n, byte) in pieces {
                text.extend_from_slice(&needle[..n.min(needle.len())]);
                text.push(byte);
            }
            proptest::prop_assert_eq!(
                Needle::new(needle.clone()).find(&text),
                memchr::memmem::find(&text, &needle),
                "{:?} in {:?}", String::from_utf8_lossy(&needle), String::from_utf8_lossy(&text)
            );
        }
    }

    #[test]
    fn a_needle_of_dashes_in_a_text_of_dashes_is_searched_in_linear_time() {
        // Every byte of the body starts the prefix, and the boundary (60,000
        // dashes and a "y") is never there: checking it at each of the
        // 8 million places would compare 500 GB.
        let mut boundary = vec![b'-'; 60_000];
        boundary.push(b'y');
        let body = vec![b'-'; 8 << 20];
        let t = std::time::Instant::now();
        assert_eq!(Needle::new(boundary).find(&body), None);
        assert!(
            t.elapsed() < std::time::Duration::from_secs(5),
            "{:?}",
            t.elapsed()
        );
    }

    #[test]
    fn contains_is_str_contains() {
        let long = "550 5.1.1 <kijitora@example.jp>... user unknown, mailbox not found";
        for (text, needle) in [
            (format!("host said: {long} (in reply to RCPT TO)"), long),
            (long.replace("unknown", "known"), long),
            (String::new(), long),
            ("a mailbox is full".to_string(), "mailbox is full"),
            ("a mailbox".to_string(), "mailbox is full"),
            ("x".to_string(), ""),
        ] {
            assert_eq!(
                contains(&text, needle),
                text.contains(needle),
                "{needle:?} in {text:?}"
            );
        }
        let long = "retry time not reached for any host after a long failure period";
        let text = format!("550 {long}.");
        assert!(contains(&text, long));
        // Its last 32 bytes alone are not the phrase.
        assert!(!contains("any host after a long failure period", long));
        assert!(!contains("retry time not reached for any host", long));
        // Short phrases (up to 32 bytes) as they are.
        assert!(contains("a mailbox is full", "mailbox is full"));
        assert!(!contains("a mailbox", "mailbox is full"));
        assert!(contains("x", ""));
    }
}
