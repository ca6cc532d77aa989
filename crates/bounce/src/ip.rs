//! IP address literals in text: where a diagnostic or a `Received:` line
//! names an address, and whether that address is public.
//!
//! The literals are what this regular expression finds, one match after
//! another (leftmost-first, as `regex` searches):
//!
//! ```text
//! (?:(?-u:\b)|\[)((?:[0-9]{1,3}\.){3}[0-9]{1,3}|(?i:IPv6:)?[0-9a-fA-F]{1,4}(?::[0-9a-fA-F]{0,4}){2,7})(?:(?-u:\b)|\])
//! ```
//!
//! Hand-written instead of run by `regex` because that pattern has no literal
//! to look for first: its lazy DFA stepped through every byte of every
//! diagnostic and every `Received:` line (3% of the engine's time). Every
//! match holds a `.` or a `:` a few bytes after where it starts, so
//! [`Literals`] jumps from one of those to the next with `memchr2` and tries
//! only the one or two starts each allows. A proptest holds it equal to the
//! regex.

use std::net::IpAddr;

/// An ASCII word byte, as `(?-u:\b)` sees them (a byte of a non-ASCII
/// character is not one).
fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// `(?-u:\b)` at `at`: a word byte on one side only.
fn boundary(t: &[u8], at: usize) -> bool {
    let before = at > 0 && is_word(t[at - 1]);
    let after = t.get(at).is_some_and(|&b| is_word(b));
    before != after
}

/// The end of the pattern, `(?:\b|\])`, at `at`: where the match ends.
fn close(t: &[u8], at: usize) -> Option<usize> {
    if boundary(t, at) {
        Some(at)
    } else if t.get(at) == Some(&b']') {
        Some(at + 1)
    } else {
        None
    }
}

/// How many bytes from `at` (at most `max`) satisfy `class`.
fn run(t: &[u8], at: usize, max: usize, class: impl Fn(u8) -> bool) -> usize {
    t[at.min(t.len())..]
        .iter()
        .take(max)
        .take_while(|&&b| class(b))
        .count()
}

/// `(?:[0-9]{1,3}\.){3}[0-9]{1,3}` and the close, from `at`. Each run of
/// digits is taken whole: a shorter one would leave a digit where a `.` or
/// a word boundary is needed, so there is nothing to backtrack to.
fn v4(t: &[u8], mut at: usize) -> Option<usize> {
    for _ in 0..3 {
        let n = run(t, at, 3, |b| b.is_ascii_digit());
        if n == 0 || t.get(at + n) != Some(&b'.') {
            return None;
        }
        at += n + 1;
    }
    let n = run(t, at, 3, |b| b.is_ascii_digit());
    if n == 0 {
        return None;
    }
    close(t, at + n)
}

/// `(?i:IPv6:)?[0-9a-fA-F]{1,4}(?::[0-9a-fA-F]{0,4}){2,7}` and the close,
/// from `at`, trying the choices in the order the regex prefers them.
fn v6(t: &[u8], at: usize) -> Option<usize> {
    let tagged = t
        .get(at..at + 5)
        .is_some_and(|s| s.eq_ignore_ascii_case(b"IPv6:"));
    if tagged && let Some(end) = v6_groups(t, at + 5) {
        return Some(end);
    }
    v6_groups(t, at)
}

fn v6_groups(t: &[u8], at: usize) -> Option<usize> {
    let n = run(t, at, 4, |b| b.is_ascii_hexdigit());
    if n == 0 {
        return None;
    }
    v6_more(t, at + n, 0)
}

/// After `done` groups of `(?::[0-9a-fA-F]{0,4})`, at `at`: one more
/// (greedy, up to seven), else the close once there are two. A group of
/// fewer hex digits than there are leaves a hex digit next, where neither
/// a `:` nor a close can be, except a group of none: right after its `:`
/// a hex digit is a word boundary.
fn v6_more(t: &[u8], at: usize, done: usize) -> Option<usize> {
    if done < 7 && t.get(at) == Some(&b':') {
        let n = run(t, at + 1, 4, |b| b.is_ascii_hexdigit());
        // The whole run of hex digits, then more groups or the close.
        if let Some(end) = v6_more(t, at + 1 + n, done + 1) {
            return Some(end);
        }
        // The empty group: the close right after the `:`.
        if n > 0
            && done + 1 >= 2
            && let Some(end) = close(t, at + 1)
        {
            return Some(end);
        }
    }
    if done >= 2 {
        return close(t, at);
    }
    None
}

/// The pattern at `at`, its opening included: the end of the match.
fn at_start(t: &[u8], at: usize) -> Option<usize> {
    // The regex's first alternative, a word boundary, then its second, `[`.
    if boundary(t, at)
        && let Some(end) = v4(t, at).or_else(|| v6(t, at))
    {
        return Some(end);
    }
    if t.get(at) == Some(&b'[') {
        return v4(t, at + 1).or_else(|| v6(t, at + 1));
    }
    None
}

/// The matches of the pattern in `text`, one after another, as ranges
/// (`[`, `]` included when the pattern took them).
struct Literals<'a> {
    text: &'a [u8],
    /// Where the search goes on.
    at: usize,
}

impl Iterator for Literals<'_> {
    type Item = std::ops::Range<usize>;

    fn next(&mut self) -> Option<Self::Item> {
        let t = self.text;
        let mut from = self.at;
        while from < t.len() {
            let sep = from + memchr::memchr2(b'.', b':', &t[from..])?;
            from = sep + 1;
            // Before its first `.` or `:` a match holds one run of word
            // bytes (digits, hex digits or the `IPv6` tag, at most four),
            // after a word boundary or a `[`: only the start of the run
            // before `sep`, or its `[`, can start one.
            let mut word = sep;
            while word > 0 && sep - word <= 4 && is_word(t[word - 1]) {
                word -= 1;
            }
            if word == sep || sep - word > 4 {
                continue;
            }
            let bracket = (word > 0 && t[word - 1] == b'[').then(|| word - 1);
            for start in bracket.into_iter().chain([word]) {
                if start >= self.at
                    && let Some(end) = at_start(t, start)
                {
                    self.at = end;
                    return Some(start..end);
                }
            }
        }
        None
    }
}

/// The IP address literals in `text` (no part of a longer dotted run such as
/// a version number), with their offsets, brackets left out.
pub(crate) fn literals(text: &str) -> impl Iterator<Item = (usize, &str)> {
    Literals {
        text: text.as_bytes(),
        at: 0,
    }
    .filter_map(move |m| {
        let b = text.as_bytes();
        let start = m.start + usize::from(b[m.start] == b'[');
        let end = m.end - usize::from(m.end > start && b[m.end - 1] == b']');
        (!in_dotted_run(b, start, end)).then(|| (start, &text[start..end]))
    })
}

/// Is `b[start..end]` part of a longer run of dotted numbers? A version
/// such as "Messaging Server 7.0.5.33.0" holds no address 7.0.5.33.
fn in_dotted_run(b: &[u8], start: usize, end: usize) -> bool {
    let after = b.get(end) == Some(&b'.') && b.get(end + 1).is_some_and(u8::is_ascii_digit);
    let before = start >= 2 && b[start - 1] == b'.' && b[start - 2].is_ascii_digit();
    after || before
}

/// An address literal, `IPv6:` tag or not.
pub(crate) fn parse(s: &str) -> Option<IpAddr> {
    // `trim_start_matches("IPv6:")`, without building a substring searcher
    // on each call.
    let mut s = s;
    while let Some(rest) = s.strip_prefix("IPv6:") {
        s = rest;
    }
    while let Some(rest) = s.strip_prefix("ipv6:") {
        s = rest;
    }
    s.parse().ok()
}

/// Not private, loopback, link-local or unspecified.
pub(crate) fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v) => {
            !(v.is_private()
                || v.is_loopback()
                || v.is_link_local()
                || v.is_unspecified()
                || v.is_broadcast()
                || v.octets()[0] == 0)
        }
        IpAddr::V6(v) => {
            !(v.is_loopback()
                || v.is_unspecified()
                || (v.segments()[0] & 0xfe00) == 0xfc00
                || (v.segments()[0] & 0xffc0) == 0xfe80)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The pattern [`Literals`] stands for.
    static PATTERN: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"(?:(?-u:\b)|\[)((?:[0-9]{1,3}\.){3}[0-9]{1,3}|(?i:IPv6:)?[0-9a-fA-F]{1,4}(?::[0-9a-fA-F]{0,4}){2,7})(?:(?-u:\b)|\])").unwrap()
    });

    fn ours(text: &str) -> Vec<std::ops::Range<usize>> {
        Literals {
            text: text.as_bytes(),
            at: 0,
        }
        .collect()
    }

    fn theirs(text: &str) -> Vec<std::ops::Range<usize>> {
        PATTERN.find_iter(text).map(|m| m.range()).collect()
    }

    /// Text made of the pieces addresses and their neighbours are made of.
    fn text() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            4 => "[0-9]{1,4}",
            3 => "[0-9a-fA-F]{1,5}",
            3 => Just(".".to_string()),
            3 => Just(":".to_string()),
            1 => Just("::".to_string()),
            1 => prop_oneof![Just("IPv6:"), Just("ipv6:"), Just("IPV6"), Just("IP")]
                .prop_map(str::to_string),
            1 => prop_oneof![Just("["), Just("]"), Just(" "), Just("_"), Just("é"), Just("x"), Just("-")]
                .prop_map(str::to_string),
            1 => "[ -~]{0,3}",
        ];
        proptest::collection::vec(piece, 0..24).prop_map(|v| v.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4096))]
        #[test]
        fn the_scanner_finds_what_the_pattern_finds(t in text()) {
            prop_assert_eq!(ours(&t), theirs(&t), "{:?}", t);
        }
    }

    #[test]
    fn literals_in_the_shapes_bounces_write_them() {
        let cases: &[(&str, &[&str])] = &[
            ("Client host [192.0.2.1] blocked", &["192.0.2.1"]),
            ("host mx.example.jp[192.0.2.20] said:", &["192.0.2.20"]),
            ("from [IPv6:2001:db8::1] by", &["IPv6:2001:db8::1"]),
            ("Messaging Server 7.0.5.33.0 and 192.0.2.9", &["192.0.2.9"]),
            ("at 23:34:45 +0000", &["23:34:45"]),
            ("1234.1.1.1 1.2.3.4567", &[]),
            ("fe80::]", &["fe80::"]),
            ("a:b:cdefg", &["a:b:"]),
        ];
        for (text, want) in cases {
            let got: Vec<&str> = literals(text).map(|(_, s)| s).collect();
            assert_eq!(&got, want, "{text}");
            assert_eq!(ours(text), theirs(text), "{text}");
        }
    }

    #[test]
    fn tagged_literals_parse() {
        assert_eq!(parse("IPv6:2001:db8::1"), "2001:db8::1".parse().ok());
        assert_eq!(parse("ipv6:2001:db8::2"), "2001:db8::2".parse().ok());
        assert_eq!(parse("192.0.2.1"), "192.0.2.1".parse().ok());
        assert_eq!(parse("IPv6:"), None);
        assert_eq!(parse("IPv4:192.0.2.1"), None);
    }
}
