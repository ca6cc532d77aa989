//! Reading human-written bounce texts: the notification part of Postfix,
//! Exim, qmail, Sendmail, Exchange, Gmail and the many MTAs that write no
//! machine-readable report. Finds the failed recipients and the error text
//! that belongs to each.
//!
//! Hand-written on purpose: no crate reads free-form bounce texts, and the
//! shapes are few (an address alone on a line, `<address>: text`, an SMTP
//! transcript) even though the MTAs are many.

use crate::address::{ADDR_RE, clean};
use crate::record::Command;
use aho_corasick::AhoCorasick;
use regex::Regex;
use std::sync::LazyLock;

/// One recipient found in a notification text, with its error text.
#[derive(Debug, Clone, Default)]
pub(crate) struct TextHit {
    pub recipient: String,
    pub diagnostic: String,
    pub command: Option<Command>,
    pub remote_mta: String,
    /// The diagnostic is the whole notice: the recipient's own lines say
    /// nothing of what failed (no reply or status code), or only a
    /// sentence names the recipient.
    pub whole: bool,
}

static ALONE_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r#"^\s*(?:-{{1,2}}\s+|\*\s+|>>>\s*)?["<]?({a})["'>]?\s*[:,.]?\s*(?:\(.*\)|<{a}>)?\s*$"#,
        a = ADDR_RE.as_str()
    ))
    .unwrap()
});
/// `Unknown user: addr`, `Recipient: <addr>`, MailEnable's `Recipient:
/// [SMTP:addr]`: a label, then the address; the label may follow RFC 5321's
/// "Requested action not taken:" (iMail Server's "Requested action not
/// taken: virus detected: addr").
static LABELLED_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r#"^\s*(?:[Rr]equested action not taken:\s*)?([A-Za-z][A-Za-z0-9 .'\-]{{2,40}}):\s*<?(?:\[SMTP:)?({})\]?>?\s*$"#,
        ADDR_RE.as_str()
    ))
    .unwrap()
});
/// `addr Invalid Address, ERROR_CODE :550`: the address, then its error.
static ADDR_THEN_ERROR_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r#"(?i)^\s*(?:[245][0-9][0-9](?:\s+|-))?<?({})>?(?:\.\.\.|:)?\s+(.*(?:(?-u:\b)[245][0-9][0-9](?-u:\b)|[245]\.[0-9]{{1,3}}\.[0-9]{{1,3}}|invalid|unknown|error|fail|reject|denied|not found|no such|full|quota|unavailable|disabled).*)$"#,
        ADDR_RE.as_str()
    ))
    .unwrap()
});
/// The head of [`ADDR_THEN_ERROR_RE`], up to the address: once the whole
/// shape is known to match (the [`SHAPES`] set), this cheaper pattern
/// finds the same address without a capture over the rest of the line.
static ADDR_THEN_ERROR_HEAD_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r#"(?i)^\s*(?:[245][0-9][0-9](?:\s+|-))?<?({})"#,
        ADDR_RE.as_str()
    ))
    .unwrap()
});
/// The lines that lead with the address, in three shapes tried in this
/// order (three patterns, not one with three alternatives: the capture
/// run on the one that matched is then a third of the work). Each pattern
/// stops at the first character of the text after the address, which runs
/// to the end of the line: as `.*$` would match the rest of any line (it
/// holds no line feed), the lines matched and the captures are the same as
/// with it, and the capture run stops there instead of walking the line.
/// `<addr>: text` (or `* [addr]: text`), ...
static LEADING_BRACKETED_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r#"^\s*(?:[0-9]+\.\s*|\*\s+)?(?:<({a})>|\[({a})\])\s*(?::|\.\.\.|,)?\s*(\S)"#,
        a = ADDR_RE.as_str()
    ))
    .unwrap()
});
/// ... `addr: text`, ...
static LEADING_COLON_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(&format!(r#"^\s*({}):\s+(\S)"#, ADDR_RE.as_str())).unwrap());
/// ... and Exchange 2003's `addr on <date>`, where the address may be the
/// SMTP part of an X.400 one (`c=US;a= ;p=ORG;o=Site;dda:SMTP=addr; on
/// Fri, 4 Oct 2002`).
static LEADING_ON_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r#"^\s*(?:c=[^@\n]*?:[Ss][Mm][Tt][Pp]=)?({});?\s+on\s+\S"#,
        ADDR_RE.as_str()
    ))
    .unwrap()
});
/// `RCPT TO:<addr>` in a session transcript: bare, after `>>>`/`<<<`, after
/// Postfix's `In:`, or after one word and an arrow (Trend Micro writes
/// "Sent <<< RCPT TO:", in Japanese "送信 <<< RCPT TO:").
static TRANSCRIPT_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"(?i)^\s*(?:(?:sent\s*|in:\s*)?(?:>>>|<<<)?|[^\s<>]{{1,12}}\s*(?:>>>|<<<))\s*RCPT\s+TO:\s*<?({})>?",
        ADDR_RE.as_str()
    ))
    .unwrap()
});
/// The line shapes above in one automaton, in the same order.
static SHAPES: LazyLock<regex::RegexSet> = LazyLock::new(|| {
    regex::RegexSet::new([
        TRANSCRIPT_RE.as_str(),
        ALONE_RE.as_str(),
        LEADING_BRACKETED_RE.as_str(),
        LEADING_COLON_RE.as_str(),
        LEADING_ON_RE.as_str(),
        ADDR_THEN_ERROR_RE.as_str(),
        LABELLED_RE.as_str(),
    ])
    .expect("line shapes compile")
});
/// Exim's `(generated from addr)` under the address a forward or an alias
/// expanded to: the recipient when the expansion is not shown ("an
/// undisclosed address").
static GENERATED_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r#"^\s*\(generated from\s+<?({})>?\)\s*$"#,
        ADDR_RE.as_str()
    ))
    .unwrap()
});
static SENTENCE_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r#"(?i)(?:(?-u:\b)to:?|(?-u:\b)for|recipients?(?-u:\b)[^:\n]{{0,40}}:|address:?|(?-u:\b)mailbox)\s+["<]?({})"#,
        ADDR_RE.as_str()
    ))
    .unwrap()
});
/// What follows the last white space of a match: the capture group of
/// [`SENTENCE_RE`] and [`HOST_RE`], which end with an address or a host
/// (neither holds white space), read without running the regex again for
/// its groups. Only a quote or bracket around it is left to strip.
fn last_word(matched: &str) -> &str {
    matched
        .rfind(char::is_whitespace)
        .map_or(matched, |i| &matched[i..])
        .trim_start_matches(char::is_whitespace)
}

/// [`SENTENCE_RE`]'s address in one of its matches (no quote or angle
/// bracket is part of an address).
fn sentence_address(matched: &str) -> &str {
    let word = last_word(matched);
    word.strip_prefix(['"', '<']).unwrap_or(word)
}

/// [`HOST_RE`]'s host in one of its matches, less its brackets.
fn named_host(matched: &str) -> &str {
    let word = last_word(matched);
    let host = word.strip_prefix('[').unwrap_or(word);
    host.strip_suffix(']').unwrap_or(host)
}

static HOST_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(?:(?-u:\b)host|(?-u:\b)server|talking to|(?-u:\b)by)\s+\[?([A-Za-z0-9][A-Za-z0-9.\-]*\.[A-Za-z]{2,}|[0-9]{1,3}(?:\.[0-9]{1,3}){3})\]?").unwrap()
});

/// What an MTA writes of the remote host in its own verdict, after naming
/// it: qmail's "192.0.2.1 does not like recipient.", DragonFly's
/// "mx.example [192.0.2.25] did not like our RCPT TO:".
const VERDICTS_AFTER_HOST: [&str; 4] = [
    "did not like our",
    "does not like recipient",
    "failed on data command",
    "failed after i sent the message",
];
/// ... and before naming it: qmail's "Giving up on 192.0.2.1.", "Connected
/// to 192.0.2.1 but ...".
const VERDICTS_BEFORE_HOST: [&str; 2] = ["giving up on", "connected to"];

/// The verdicts, to skip [`VERDICT_HOST_RE`] (which has no literal to
/// search for first) when none occurs.
static VERDICT: LazyLock<PhraseSet> =
    LazyLock::new(|| PhraseSet::new(VERDICTS_AFTER_HOST.iter().chain(&VERDICTS_BEFORE_HOST)));

/// Lower-case phrases to look for in a lower-cased text, all in one pass.
///
/// Searched case-sensitively in a lower-cased copy: an automaton that
/// folds ASCII case itself gets no SIMD prefilter and reads every byte,
/// and a `str::contains` per phrase builds a searcher for its phrase on
/// every call.
pub(crate) struct PhraseSet {
    automaton: AhoCorasick,
    /// No phrase is the start of another (what [`PhraseSet::found_in`] needs).
    prefix_free: bool,
}

impl PhraseSet {
    /// The set of `phrases`; each must be lower-case.
    pub(crate) fn new<'p>(phrases: impl IntoIterator<Item = &'p &'p str>) -> PhraseSet {
        let all: Vec<&str> = phrases.into_iter().copied().collect();
        for p in &all {
            assert_eq!(*p, p.to_ascii_lowercase(), "phrases are lower-case");
        }
        PhraseSet::exact(&all)
    }

    /// The set of `phrases` as they are written, to look for in a text as
    /// it is (not lower-cased).
    pub(crate) fn exact(all: &[&str]) -> PhraseSet {
        let prefix_free = all
            .iter()
            .all(|p| all.iter().all(|q| q == p || !q.starts_with(p)));
        PhraseSet {
            automaton: AhoCorasick::builder()
                .match_kind(aho_corasick::MatchKind::LeftmostFirst)
                .build(all)
                .expect("phrases build"),
            prefix_free,
        }
    }

    /// Whether any phrase occurs in `lower` (an ASCII-lower-cased text).
    pub(crate) fn any_in(&self, lower: &str) -> bool {
        self.automaton.is_match(lower)
    }

    /// Bit i set when phrase i occurs in `lower` (or, for an
    /// [`PhraseSet::exact`] set, in any text), also where phrases
    /// overlap ("this is the qmail-send program" holds two). Each search
    /// starts just after the start of the last phrase found: no two
    /// phrases can start at one place when none is the start of another,
    /// so every phrase that occurs is found. At most 64 phrases.
    pub(crate) fn found_in(&self, lower: &str) -> u64 {
        assert!(
            self.prefix_free && self.automaton.patterns_len() <= 64,
            "found_in needs at most 64 phrases, none of which starts another"
        );
        let mut found = 0u64;
        let mut at = 0;
        while let Some(m) = self
            .automaton
            .find(aho_corasick::Input::new(lower).span(at..lower.len()))
        {
            found |= 1 << m.pattern().as_u64();
            at = m.start() + 1;
        }
        found
    }
}

/// The host an MTA names in its own verdict on the remote server.
static VERDICT_HOST_RE: LazyLock<Regex> = LazyLock::new(|| {
    let host = r"[A-Za-z0-9][A-Za-z0-9.\-]*\.[A-Za-z]{2,}|[0-9]{1,3}(?:\.[0-9]{1,3}){3}";
    let alternatives = |words: &[&str]| {
        words
            .iter()
            .map(|w| regex::escape(w))
            .collect::<Vec<_>>()
            .join("|")
    };
    Regex::new(&format!(
        r"(?im)^\s*({host})(?: \[[0-9a-f.:]+\])? (?:{})|(?-u:\b)(?:{}) ({host})",
        alternatives(&VERDICTS_AFTER_HOST),
        alternatives(&VERDICTS_BEFORE_HOST),
    ))
    .unwrap()
});

/// Where each line of `text` starts and ends, its newline included (the
/// lines of `str::split_inclusive('\n')`), found with the SIMD `memchr`:
/// for the scans that need the offsets.
pub(crate) fn line_spans(text: &str) -> impl Iterator<Item = std::ops::Range<usize>> + '_ {
    let b = text.as_bytes();
    let mut offset = 0;
    std::iter::from_fn(move || {
        (offset < b.len()).then(|| {
            let start = offset;
            offset = memchr::memchr(b'\n', &b[start..]).map_or(b.len(), |i| start + i + 1);
            start..offset
        })
    })
}

/// The lines of `text` as `str::lines` gives them (the `\r` of a `\r\n`
/// dropped, no empty line after a final newline), found with the SIMD `memchr`
/// instead of the standard library's portable one: line splitting runs over
/// every notification, DSN and header block.
pub(crate) fn lines(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let line = match memchr::memchr(b'\n', rest.as_bytes()) {
            Some(i) => {
                let line = &rest[..i];
                rest = &rest[i + 1..];
                line.strip_suffix('\r').unwrap_or(line)
            }
            // The last line, with no newline: kept whole, as `str::lines` does.
            None => std::mem::take(&mut rest),
        };
        Some(line)
    })
}

/// `s.trim()`, for the many short lines and field values trimmed on the
/// way: ASCII white space is taken off byte by byte, and Unicode white
/// space is looked up only when what is left starts or ends with a byte
/// that is not printable ASCII (`str::trim` decodes and classifies a
/// character at each end on every call).
pub(crate) fn trim(s: &str) -> &str {
    let t = s.trim_ascii();
    let plain = |b: Option<&u8>| b.is_some_and(u8::is_ascii_graphic);
    if t.is_empty() || (plain(t.as_bytes().first()) && plain(t.as_bytes().last())) {
        t
    } else {
        t.trim()
    }
}

/// The part of the text before the returned original message.
pub(crate) fn notification(text: &str) -> &str {
    line_spans(text)
        .find(|l| is_boundary(&text[l.clone()]))
        .map_or(text, |l| &text[..l.start])
}

fn is_boundary(line: &str) -> bool {
    let t = trim(line);
    // Fast path: every boundary starts with one of these characters.
    match t.as_bytes().first() {
        Some(
            b'-' | b'=' | b'_' | b'*' | b'|' | b'R' | b'r' | b'D' | b'd' | b'C' | b'c' | b'X'
            | b'x' | b'O' | b'o',
        ) => {}
        _ => return false,
    }
    let b = t.as_bytes();
    let starts = |p: &str| b.len() >= p.len() && b[..p.len()].eq_ignore_ascii_case(p.as_bytes());
    if starts("return-path:")
        || starts("received:")
        || starts("dkim-signature:")
        || starts("content-type: message/rfc822")
        || starts("x-original-to:")
        || starts("delivered-to:")
        || t.eq_ignore_ascii_case("original message follows.")
        || t.eq_ignore_ascii_case("original message follows:")
        || starts("original mail as follows")
    {
        return true;
    }
    // Also framed in bars, as Smail 3 and Deutsche Telekom (T-Online) write
    // it: "|------ Message header follows: ------|".
    let d = t.trim_matches('|').trim_start();
    let decorated =
        d.starts_with("--") || d.starts_with("==") || d.starts_with("__") || d.starts_with("**");
    if !decorated {
        return false;
    }
    // What a decorated line says of what follows, in one pass.
    static FOLLOWS: LazyLock<PhraseSet> = LazyLock::new(|| {
        PhraseSet::new(&[
            "original message",
            "message header follows",
            "copy of the message",
            "copy of your message",
            "returned message",
            "message text follows",
            "unsent message",
            "header of the original",
            "headers of the original",
            "original header",
            "undelivered message",
        ])
    });
    FOLLOWS.any_in(&t.to_ascii_lowercase())
}

/// Find the recipients and their error texts in a notification (the text
/// before the returned message, see [`notification`]). `exclude` holds
/// addresses that are not recipients (the bounce's own From and To, i.e. the
/// mailer daemon and the original sender).
///
/// Internationalised addresses (`<josé.garcia@example.com>`, a line that is
/// only `用户@例子.广告`) are read where they are clearly delimited: in angle
/// brackets or alone on their line. Each stands in for an ASCII address
/// while the line shapes are matched, and is put back in the results. Found
/// anywhere, an address pattern of any script would swallow the Japanese or
/// Chinese words written against an ASCII address.
pub(crate) fn scan(note: &str, exclude: &[String]) -> Vec<TextHit> {
    if !crate::address::may_hold_international(note) {
        return scan_ascii(note, exclude);
    }
    let stand_ins = international_stand_ins(note);
    if stand_ins.is_empty() {
        return scan_ascii(note, exclude);
    }
    // One pass each way (not a replacement per address: a notice naming
    // thousands of them stays linear).
    let (originals, stand_ins): (Vec<&str>, Vec<&str>) = stand_ins
        .iter()
        .map(|(o, s)| (o.as_str(), s.as_str()))
        .unzip();
    let build = |patterns: &[&str]| {
        aho_corasick::AhoCorasick::builder()
            .match_kind(aho_corasick::MatchKind::LeftmostLongest)
            .build(patterns)
            .expect("literal addresses build")
    };
    let to_ascii = build(&originals);
    let ascii = to_ascii.replace_all(note, &stand_ins);
    // Back from each stand-in to the first spelling of its address (the
    // same address in other cases shares its stand-in).
    let (mut firsts, mut distinct): (Vec<&str>, Vec<&str>) = (Vec::new(), Vec::new());
    for (original, stand_in) in originals.iter().zip(&stand_ins) {
        if !distinct.contains(stand_in) {
            firsts.push(original);
            distinct.push(stand_in);
        }
    }
    let back = build(&distinct);
    // Excluded addresses compare without case, as `scan_ascii` compares
    // ASCII ones (here in every script: `JOSÉ@...` is `josé@...`).
    let mut exclude = exclude.to_vec();
    let lower_excluded: Vec<String> = exclude.iter().map(|e| e.to_lowercase()).collect();
    for (original, stand_in) in originals.iter().zip(&stand_ins) {
        if lower_excluded.contains(&original.to_lowercase()) {
            exclude.push(stand_in.to_string());
        }
    }
    let mut hits = scan_ascii(&ascii, &exclude);
    for h in &mut hits {
        h.recipient = back.replace_all(&h.recipient, &firsts);
        h.diagnostic = back.replace_all(&h.diagnostic, &firsts);
    }
    hits
}

/// The internationalised addresses a notification names in angle brackets
/// or alone on a line, each spelling with the ASCII address that stands in
/// for it.
fn international_stand_ins(note: &str) -> Vec<(String, String)> {
    static DELIMITED: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"<([^<>\s]+@[^<>\s]+)>|(?m)^[ \t]*([^<>\s]+@[^<>\s]+?)[.:,]?[ \t]*$")
            .expect("delimited address pattern compiles")
    });
    // Each spelling once; the spellings of one address (compared without
    // case) share a stand-in.
    let mut spellings = std::collections::HashSet::new();
    let mut addresses: std::collections::HashMap<String, String> = Default::default();
    let mut out: Vec<(String, String)> = Vec::new();
    for c in DELIMITED.captures_iter(note) {
        let Some(a) = c.get(1).or(c.get(2)).map(|m| m.as_str()) else {
            continue;
        };
        if crate::address::is_international(a)
            && !glued_to_east_asian_words(a)
            && spellings.insert(a)
        {
            let next = addresses.len() + 1;
            let stand_in = addresses
                .entry(a.to_lowercase())
                .or_insert_with(|| format!("international-{next}@stand-in.invalid"));
            out.push((a.to_string(), stand_in.clone()));
        }
    }
    out
}

/// `宛先kijitora@example.jp`: Japanese, Chinese or Korean words written
/// right against an ASCII local part are words, not part of the address.
fn glued_to_east_asian_words(address: &str) -> bool {
    let local = address.rsplit_once('@').map_or(address, |(l, _)| l);
    let east_asian = |c: char| matches!(c as u32, 0x3040..=0x30FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xAC00..=0xD7AF | 0xFF00..=0xFFEF);
    local.chars().any(east_asian) && local.chars().any(|c| c.is_ascii_alphanumeric())
}

/// The address a line leads with and the text after it, for a line of
/// one of the three leading shapes ([`SHAPES`] 2-4, the first that
/// matched), read by that shape's pattern alone.
fn leading<'l>(shapes: &regex::SetMatches, line: &'l str) -> Option<(&'l str, &'l str)> {
    // The text: from its first character to the end of the line.
    let text = |m: Option<regex::Match<'l>>| m.map_or("", |m| &line[m.start()..]);
    if shapes.matched(2) {
        let c = LEADING_BRACKETED_RE.captures(line)?;
        Some((c.get(1).or(c.get(2))?.as_str(), text(c.get(3))))
    } else if shapes.matched(3) {
        let c = LEADING_COLON_RE.captures(line)?;
        Some((c.get(1)?.as_str(), text(c.get(2))))
    } else if shapes.matched(4) {
        Some((LEADING_ON_RE.captures(line)?.get(1)?.as_str(), ""))
    } else {
        None
    }
}

fn scan_ascii(note: &str, exclude: &[String]) -> Vec<TextHit> {
    let lines: Vec<&str> = lines(note).collect();
    // A hash set only for a long list (a notice naming thousands of
    // addresses); the usual two or three are compared in place.
    let long: std::collections::HashSet<String> = if exclude.len() > 8 {
        exclude.iter().map(|e| e.to_ascii_lowercase()).collect()
    } else {
        Default::default()
    };
    let excluded = |a: &str| {
        if long.is_empty() {
            exclude.iter().any(|e| e.eq_ignore_ascii_case(a))
        } else {
            long.contains(&a.to_ascii_lowercase())
        }
    };

    // 1. Candidate lines: (line index, address, rest of that line).
    let mut cands: Vec<(usize, String, String)> = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if line.len() > 2000 || memchr::memchr(b'@', line.as_bytes()).is_none() {
            continue;
        }
        if line.trim_start().starts_with("(generated from") {
            let shown = lines[..i]
                .iter()
                .rev()
                .find(|l| !l.trim().is_empty())
                .is_some_and(|l| l.contains('@'));
            if let Some(c) = GENERATED_RE.captures(line).filter(|_| !shown) {
                cands.push((i, clean(&c[1]), String::new()));
            }
            continue;
        }
        // One pass over the line tells which shape (if any) it has; only
        // that regex then extracts the parts.
        let shapes = SHAPES.matches(line);
        if !shapes.matched_any() {
            continue;
        }
        if let Some(c) = shapes
            .matched(0)
            .then(|| TRANSCRIPT_RE.captures(line))
            .flatten()
        {
            cands.push((i, clean(&c[1]), line.trim().to_string()));
        } else if let Some(a) = shapes.matched(1).then(|| ADDR_RE.find(line)).flatten() {
            // An address alone on its line: the first address of the line
            // is the pattern's (a proptest holds them equal), found
            // without a capture run of the whole pattern.
            cands.push((i, clean(a.as_str()), String::new()));
        } else if let Some((a, rest)) = leading(&shapes, line) {
            cands.push((i, clean(a), rest.to_string()));
        } else if let Some(c) = shapes
            .matched(5)
            .then(|| ADDR_THEN_ERROR_HEAD_RE.captures(line))
            .flatten()
        {
            cands.push((i, clean(&c[1]), line.trim().to_string()));
        } else if let Some(c) = shapes
            .matched(6)
            .then(|| LABELLED_RE.captures(line))
            .flatten()
        {
            let label = c[1].trim().to_ascii_lowercase();
            let header = [
                "from",
                "to",
                "cc",
                "bcc",
                "reply-to",
                "sender",
                "return-path",
                "delivered-to",
                "x-original-to",
                "envelope-to",
                "original sender",
                "message-id",
                "in-reply-to",
                "references",
                "mail from",
                "sent by",
                "sender address",
            ];
            // "System Contact: postmaster@..." names whom to ask, not whom
            // the message failed to reach.
            if !header.contains(&label.as_str()) && !label.contains("contact") {
                cands.push((i, clean(&c[2]), line.trim().to_string()));
            }
        }
    }
    let kept: Vec<_> = cands.iter().filter(|c| !excluded(&c.1)).cloned().collect();
    // When every candidate is excluded, the bounce went to the failed
    // address itself (a list, a forward): keep them.
    let cands = if kept.is_empty() { cands } else { kept };

    let mut hits: Vec<TextHit> = Vec::new();
    if cands.is_empty() {
        // 2. A sentence naming the recipient: "Your message to <x> ...".
        // (No address without an "@": the pattern is not run on a text
        // that has none.)
        if let Some(address) = (memchr::memchr(b'@', note.as_bytes()).is_some())
            .then(|| SENTENCE_RE.find_iter(note))
            .into_iter()
            .flatten()
            .map(|m| clean(sentence_address(m.as_str())))
            .find(|a| !excluded(a))
        {
            let body = collapse_unquoted(note);
            hits.push(TextHit {
                whole: true,
                ..hit(address, &body, note)
            });
        }
        return hits;
    }

    // 3. The text that belongs to each candidate: up to the next one, except
    // that a Sendmail summary line ("554 <a>... Host unknown") closes its
    // recipient's part of a transcript: the session lines right before it
    // ("While talking to ...", ">>> DATA", "<<< 550 ...", "550 host
    // (smtp)... ...") are its own, not the previous recipient's.
    let lead: Vec<usize> = cands
        .iter()
        .enumerate()
        .map(|(k, (i, _, _))| {
            let floor = if k == 0 { 0 } else { cands[k - 1].0 + 1 };
            if !SENDMAIL_SUMMARY_RE.is_match(lines[*i]) {
                return *i;
            }
            let mut start = *i;
            while start > floor && is_session_line(lines[start - 1]) {
                start -= 1;
            }
            start
        })
        .collect();
    let mut blocks: Vec<(String, String)> = Vec::new();
    // Where each address (compared case-insensitively) is in `blocks`: by
    // hash when there are many, else by a look along the list.
    let by_hash = cands.len() > 32;
    let mut seen: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for (k, (i, addr, rest)) in cands.iter().enumerate() {
        let end = cands
            .get(k + 1)
            .map(|_| lead[k + 1])
            .unwrap_or(lines.len())
            .min(i + 40)
            .max(i + 1);
        let mut block = String::new();
        for l in &lines[lead[k]..*i] {
            block.push_str(l);
            block.push('\n');
        }
        block.push_str(rest);
        for l in &lines[i + 1..end] {
            block.push('\n');
            block.push_str(l);
        }
        // A run of addresses with no text of their own shares the text that
        // follows the run.
        let block = if block.trim().is_empty() {
            let mut j = k + 1;
            while j < cands.len() && cands[j].0 == cands[j - 1].0 + 1 && cands[j].2.is_empty() {
                j += 1;
            }
            let from = cands.get(j - 1).map(|c| c.0 + 1).unwrap_or(lines.len());
            let to = cands
                .get(j)
                .map(|c| c.0)
                .unwrap_or(lines.len())
                .min(from + 40);
            lines[from.min(to)..to].join("\n")
        } else {
            block
        };
        let earlier = if by_hash {
            seen.get(&addr.to_ascii_lowercase()).copied()
        } else {
            blocks
                .iter()
                .position(|(a, _)| a.eq_ignore_ascii_case(addr))
        };
        match earlier {
            // The same address again (a wrapped line, a transcript and a
            // summary): one recipient, all of its text.
            Some(j) => {
                let b = &mut blocks[j].1;
                // Keep the whole line: it may repeat the address in the text
                // ("550 <a>: Recipient address rejected").
                b.push('\n');
                b.push_str(lines[*i].trim());
                b.push_str(block.strip_prefix(rest.as_str()).unwrap_or(&block));
            }
            None => {
                if by_hash {
                    seen.insert(addr.to_ascii_lowercase(), blocks.len());
                }
                blocks.push((addr.clone(), block));
            }
        }
    }
    let single = blocks.len() == 1;
    // No failure code of its own (a "222" byte count is not one).
    let weak = |block: &str| {
        !crate::status::quotes_failure_reply(block) && crate::status::find_status(block).is_none()
    };
    // Several recipients, none with a code of its own: what happened is
    // told once, before the list ("Your message was not delivered within 2
    // days. Host ... is not responding. The following recipients ...").
    let preamble = (!single && blocks.iter().all(|b| weak(&b.1)))
        .then(|| lines[..lead[0]].join("\n"))
        .filter(|p| !p.trim().is_empty());
    for (addr, block) in blocks {
        if single && weak(&block) {
            let whole = without_quoted_headers(note);
            hits.push(TextHit {
                whole: true,
                ..hit(addr, &collapse(&whole), &whole)
            });
        } else if let Some(p) = &preamble {
            let text = format!("{p}\n{block}");
            hits.push(hit(addr, &collapse_unquoted(&text), &text));
        } else {
            hits.push(hit(addr, &collapse_unquoted(&block), &block));
        }
    }
    hits
}

/// The notice without the lines that quote the returned message's subject
/// and dates ("Your message\n  To: ...\n  Subject: ...\n  Sent: ..."): the
/// subject is not the notice's to keep, and a version number in it
/// ("RELEASED Mailman 2.0.12") would read as a status code.
pub(crate) fn without_quoted_headers(note: &str) -> String {
    let mut out = String::with_capacity(note.len());
    for line in lines(note).filter(|l| !quotes_a_header(l)) {
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// Whether `line` quotes the returned message's subject or a date.
fn quotes_a_header(line: &str) -> bool {
    // Not "From:" and "To:": qmail-ldap writes its verdict on a "From: <a>
    // RCPT: <b> ..." line, and an address line is no subject to hide.
    const QUOTED: [&str; 3] = ["subject:", "sent:", "date:"];
    // Also when listed: "\t* Subject: ...".
    let t = line.trim_start();
    let t = t.strip_prefix("* ").unwrap_or(t).trim_start().as_bytes();
    QUOTED
        .iter()
        .any(|q| t.len() >= q.len() && t[..q.len()].eq_ignore_ascii_case(q.as_bytes()))
}

/// Sendmail's per-recipient summary after a transcript: `554 <a>... text`.
static SENDMAIL_SUMMARY_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"^\s*[45][0-9][0-9] <{}>\.\.\. ",
        ADDR_RE.as_str()
    ))
    .unwrap()
});

/// A line of an SMTP session as Sendmail reports it.
fn is_session_line(line: &str) -> bool {
    static HOST_SAID: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"^\s*[245][0-9][0-9] \S+ \([a-z]+\)\.\.\. ").unwrap());
    let t = line.trim_start();
    t.starts_with(">>>")
        || t.starts_with("<<<")
        || t.to_ascii_lowercase().starts_with("while talking to ")
        || HOST_SAID.is_match(t)
}

/// What marks a session transcript and Sendmail's reason line, in the
/// order of the bits [`PhraseSet::found_in`] gives: [`REASON`], [`REPLY`],
/// [`SENT`], [`POSTFIX_IN`].
static TRANSCRIPT_MARKS: LazyLock<PhraseSet> =
    LazyLock::new(|| PhraseSet::exact(&["(reason:", "<<<", ">>>", "In:"]));
/// Sendmail's "(reason: 551 not our user)".
const REASON: u8 = 0;
/// A server's reply in a transcript ("<<< 550 ...").
const REPLY: u8 = 1;
/// A client's command in a transcript (`>>> RCPT TO:<a>`).
const SENT: u8 = 2;
/// A client's command in Postfix's server-side transcript ("In: RCPT").
const POSTFIX_IN: u8 = 3;

fn hit(recipient: String, diagnostic: &str, raw: &str) -> TextHit {
    // In an SMTP transcript the remote server speaks on the "<<<" lines;
    // the local MTA's own summary ("550 5.1.1 <a>... User unknown") is its
    // interpretation, not the refusal. Keep the server's words.
    // Sendmail's "(reason: 551 not our user)" line says which reply counts.
    // (Each line scan only where its marker occurs at all: the markers
    // are found in one pass.)
    let marked = TRANSCRIPT_MARKS.found_in(raw);
    let has = |mark: u8| marked & (1 << mark) != 0;
    let reason_line = has(REASON)
        .then(|| {
            lines(raw).find_map(|l| {
                l.trim()
                    .strip_prefix("(reason:")
                    .map(|r| r.trim_end_matches(')').trim())
            })
        })
        .flatten();
    let said: Vec<&str> = if has(REPLY) {
        lines(raw)
            .filter_map(|l| l.trim_start().strip_prefix("<<<"))
            .map(str::trim)
            .filter(|l| l.starts_with(['4', '5']))
            .collect()
    } else {
        Vec::new()
    };
    let diagnostic = match reason_line {
        Some(reason) if !said.is_empty() => collapse(&format!("{reason} {}", said.join(" "))),
        _ => trim_diagnostic(diagnostic),
    };
    // One lower-cased copy for both phrase searches.
    let lower = raw.to_ascii_lowercase();
    let command = (has(REPLY) || has(SENT) || has(POSTFIX_IN))
        .then(|| transcript_command(raw))
        .flatten()
        .or_else(|| Command::find_in_lower(&lower));
    // "Client host [192.0.2.1] blocked" (or "Connecting host", "your
    // host") names the sender, not the server.
    let remote_mta = VERDICT
        .any_in(&lower)
        .then(|| VERDICT_HOST_RE.captures(raw))
        .flatten()
        .and_then(|c| c.get(1).or(c.get(2)))
        .map(|m| m.as_str())
        .or_else(|| {
            HOST_RE
                .find_iter(raw)
                .find(|m| !names_the_sender(&raw[..m.start()]))
                .map(|m| named_host(m.as_str()))
        })
        .map(|h| h.trim_end_matches('.').to_ascii_lowercase())
        .unwrap_or_default();
    TextHit {
        recipient,
        diagnostic,
        command,
        remote_mta,
        whole: false,
    }
}

/// Does `before` end with a word that makes the "host" after it the one
/// that connected ("Client host [192.0.2.1]", "Connecting host", "your
/// host"), the sender rather than the refusing server?
pub(crate) fn names_the_sender(before: &str) -> bool {
    ["client ", "connecting ", "your "]
        .iter()
        .any(|w| ends_with_ignore_case(before.as_bytes(), w.as_bytes()))
}

/// Does `s` end with `suffix`, ASCII case aside?
pub(crate) fn ends_with_ignore_case(s: &[u8], suffix: &[u8]) -> bool {
    s.len() >= suffix.len() && s[s.len() - suffix.len()..].eq_ignore_ascii_case(suffix)
}

/// The command a transcript shows refused.
///
/// Sendmail prints only the exchanges that went wrong (">>> DATA",
/// "<<< 550 ..."): its first command is the one refused, and replies with
/// no command at all were refused at the greeting, which Sisimai counts as
/// EHLO. Postfix's server-side transcript ("In: EHLO" / "Out: 250" ...)
/// prints the whole session: there the command is the last "In:" before
/// the first 5xx "Out:", else before the first 4xx.
/// (Only lines starting with [`TRANSCRIPT_MARKS`] say anything here.)
fn transcript_command(raw: &str) -> Option<Command> {
    let mut sendmail_reply = false;
    let mut last = None;
    let mut deferred = None;
    for line in lines(raw) {
        let t = line.trim_start();
        if let Some(cmd) = t.strip_prefix(">>>") {
            if let Some(c) = command_word(cmd) {
                return Some(c);
            }
        } else if t.starts_with("<<<") {
            sendmail_reply = true;
        } else if let Some(cmd) = t.strip_prefix("In:") {
            last = command_word(cmd).or(last);
        } else if let Some(r) = t.strip_prefix("Out:").map(str::trim_start)
            && last.is_some()
        {
            if r.starts_with('5') {
                return last;
            }
            if r.starts_with('4') {
                deferred = deferred.or(last);
            }
        }
    }
    deferred.or(sendmail_reply.then_some(Command::Ehlo))
}

/// The SMTP command a client line starts with (`RCPT To:<a>`, `DATA`, `.`).
fn command_word(line: &str) -> Option<Command> {
    let c = line.trim().as_bytes();
    let starts = |p: &[u8]| c.len() >= p.len() && c[..p.len()].eq_ignore_ascii_case(p);
    if starts(b"RCPT") {
        Some(Command::Rcpt)
    } else if starts(b"MAIL") {
        Some(Command::Mail)
    } else if starts(b"DATA") || c == b"." {
        Some(Command::Data)
    } else if starts(b"EHLO") {
        Some(Command::Ehlo)
    } else if starts(b"HELO") {
        Some(Command::Helo)
    } else if starts(b"QUIT") {
        Some(Command::Quit)
    } else {
        None
    }
}

/// Join lines, squeeze white space, cap the length: the words of
/// `str::split_whitespace` joined by single spaces, stopping after the word
/// that takes the text past 4,000 bytes.
///
/// ASCII text (nearly all of it) is copied a run at a time: a run of words
/// already separated by single spaces (most of a line) is copied whole,
/// without decoding characters or splitting words as `split_whitespace`
/// does. This runs over every diagnostic and notification.
pub(crate) fn collapse(s: &str) -> String {
    let mut words = Collapsed::with_capacity(s.len());
    words.push(s);
    words.out
}

/// [`collapse`] of [`without_quoted_headers`], without the copy between:
/// the lines that are kept are collapsed as they are read.
pub(crate) fn collapse_unquoted(note: &str) -> String {
    let mut words = Collapsed::with_capacity(note.len());
    for line in lines(note).filter(|l| !quotes_a_header(l)) {
        if !words.push(line) {
            break;
        }
    }
    words.out
}

/// Words joined by single spaces, from texts fed in order: what
/// [`collapse`] makes of them one after the other, white space between.
struct Collapsed {
    out: String,
}

impl Collapsed {
    fn with_capacity(len: usize) -> Collapsed {
        Collapsed {
            out: String::with_capacity(len.min(4096)),
        }
    }

    /// Add the words of `s`; false once past 4,000 bytes (the word that
    /// went past them is the last).
    fn push(&mut self, s: &str) -> bool {
        if !s.is_ascii() {
            for w in s.split_whitespace() {
                if !self.out.is_empty() {
                    self.out.push(' ');
                }
                self.out.push_str(w);
                if self.out.len() > 4000 {
                    return false;
                }
            }
            return true;
        }
        let b = s.as_bytes();
        // `char::is_whitespace` in ASCII (with the vertical tab, which
        // `u8::is_ascii_whitespace` leaves out); all are at most b' '.
        let space = |c: u8| matches!(c, b'\t' | b'\n' | 0x0B | 0x0C | b'\r' | b' ');
        let mut i = 0;
        loop {
            // White space before the next run.
            while i < b.len() && space(b[i]) {
                i += 1;
            }
            if i == b.len() {
                return true;
            }
            // The run: words separated by single spaces.
            let start = i;
            while i < b.len() {
                let c = b[i];
                if c > b' ' || !space(c) {
                    i += 1;
                } else if c == b' ' && b.get(i + 1).is_some_and(|&n| !space(n)) {
                    i += 2;
                } else {
                    break;
                }
            }
            if !self.out.is_empty() {
                self.out.push(' ');
            }
            // (ASCII: the run ends on a character boundary.)
            self.out.push_str(&s[start..i]);
            if self.out.len() > 4000 {
                // Stop after the word that went past 4,000 bytes (a space
                // is a character boundary).
                if let Some(cut) = memchr::memchr(b' ', &self.out.as_bytes()[4001..]) {
                    self.out.truncate(4001 + cut);
                }
                return false;
            }
        }
    }
}

fn trim_diagnostic(s: &str) -> String {
    s.trim_start_matches([':', '.', ' ', ',', '-'])
        .trim()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #![proptest_config(proptest::test_runner::Config::with_cases(4096))]
        /// [`trim`] is `str::trim`: ASCII and Unicode white space (a
        /// vertical tab, which `u8::is_ascii_whitespace` leaves, a
        /// no-break space, an ideographic space) at either end, or none.
        #[test]
        fn trim_is_strs_trim(
            pieces in proptest::collection::vec(
                proptest::sample::select(vec![
                    " ", "\t", "\r", "\n", "\u{b}", "\u{c}", "\u{a0}", "\u{3000}", "\u{85}",
                    "a", "-", "é", "語", ":", "",
                ]),
                0..8,
            ),
        ) {
            let s: String = pieces.concat();
            proptest::prop_assert_eq!(trim(&s), s.trim(), "{:?}", s);
        }
    }

    /// What `leading` gave when its patterns ran to the line's end
    /// (`(\S.*)$`, `\S.*$`), capturing the text whole.
    fn old_leading<'l>(line: &'l str) -> Option<(&'l str, &'l str)> {
        let whole = |head: &Regex| {
            let p = head.as_str();
            Regex::new(&match p.strip_suffix(r"(\S)") {
                Some(h) => format!(r"{h}(\S.*)$"),
                None => format!("{p}.*$"),
            })
            .unwrap()
        };
        let text = |m: Option<regex::Match<'l>>| m.map_or("", |m| m.as_str());
        if let Some(c) = whole(&LEADING_BRACKETED_RE).captures(line) {
            return Some((c.get(1).or(c.get(2))?.as_str(), text(c.get(3))));
        }
        if let Some(c) = whole(&LEADING_COLON_RE).captures(line) {
            return Some((c.get(1)?.as_str(), text(c.get(2))));
        }
        Some((whole(&LEADING_ON_RE).captures(line)?.get(1)?.as_str(), ""))
    }

    proptest::proptest! {
        #![proptest_config(proptest::test_runner::Config::with_cases(2048))]
        /// The leading-address patterns stop at the text's first character
        /// and take the rest of the line as the text: the same address and
        /// text as when they ran to the line's end.
        #[test]
        fn leading_shapes_read_what_the_whole_line_patterns_did(
            pieces in proptest::collection::vec(proptest::sample::select(vec![
                "<", ">", "[", "]", "neko@example.jp", "a@b", ":", "...", ",", " ", " ", "\t",
                "\u{a0}", "1. ", "* ", " on ", "Fri, 4 Oct", "c=US;a= ;p=O;dda:SMTP=",
                "User unknown", ";", "\r",
            ]), 0..10)
        ) {
            let line: String = pieces.concat();
            let shapes = SHAPES.matches(&line);
            let ours = if shapes.matched(2) || shapes.matched(3) || shapes.matched(4) {
                leading(&shapes, &line)
            } else {
                None
            };
            proptest::prop_assert_eq!(ours, old_leading(&line), "{:?}", line);
        }
    }

    #[test]
    fn a_leading_address_and_its_text() {
        let l = "<neko@example.jp>: 550 User unknown";
        assert_eq!(
            old_leading(l),
            Some(("neko@example.jp", "550 User unknown"))
        );
        assert_eq!(leading(&SHAPES.matches(l), l), old_leading(l));
    }

    /// What `collapse` was for all text: the words of `split_whitespace`.
    fn old_collapse(s: &str) -> String {
        join_words(s.split_whitespace(), s.len())
    }

    /// The words joined by single spaces, up to the one that goes past
    /// 4,000 bytes.
    fn join_words<'a>(words: impl Iterator<Item = &'a str>, len: usize) -> String {
        let mut out = String::with_capacity(len.min(4096));
        for w in words {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(w);
            if out.len() > 4000 {
                break;
            }
        }
        out
    }

    proptest::proptest! {
        /// Collapsing the kept lines as they are read is collapsing the
        /// text without its quoted headers: ASCII and other text, quoted
        /// lines anywhere, and texts long enough to stop at 4,000 bytes.
        #[test]
        fn collapsing_unquoted_lines_is_collapsing_the_unquoted_text(
            lines in proptest::collection::vec(
                (
                    proptest::sample::select(vec![
                        "", "  ", "* ", "\t", "\u{a0}", "Subject: ", "subject:", "Date: ", "Sent:",
                        "To: ", "a", "550 5.1.1 ", "é ",
                    ]),
                    proptest::sample::select(vec![
                        "Nyaan", "user  unknown", "  x  y ", "", "日本語 テキスト", "\r",
                    ]),
                    0usize..3,
                ),
                0..40,
            )
        ) {
            // Now and then a long line, to reach the 4,000-byte stop.
            let text: String = lines
                .iter()
                .map(|(head, words, long)| {
                    let tail = if *long == 2 { "word ".repeat(300) } else { String::new() };
                    format!("{head}{words} {tail}\n")
                })
                .collect();
            proptest::prop_assert_eq!(
                collapse_unquoted(&text),
                collapse(&without_quoted_headers(&text)),
                "{:?}", text
            );
        }
    }

    proptest::proptest! {
        #[test]
        fn groups_read_from_the_match_are_the_capture_groups(
            parts in proptest::collection::vec(proptest::sample::select(vec![
                "Your message to ", "for", "recipient x@y.example:", "recipients ", "address:",
                "mailbox", "To:", "host", "server", "talking to", "by", " ", "\t", "\n",
                "\u{A0}", "\u{3000}", "<", "\"", " <", " \"", "\u{A0}<", "[", "]", " [",
                "kijitora@example.jp", "neko.nyaan@mx.example.co.jp", "mx.example.jp",
                "192.0.2.1", ">", ":", "a",
            ]), 0..10),
        ) {
            let text = parts.concat();
            for c in SENTENCE_RE.captures_iter(&text) {
                proptest::prop_assert_eq!(sentence_address(&c[0]), &c[1]);
            }
            for c in HOST_RE.captures_iter(&text) {
                proptest::prop_assert_eq!(named_host(&c[0]), &c[1]);
            }
        }

        #[test]
        fn an_address_alone_is_the_first_address_of_its_line(
            lead in proptest::sample::select(vec![
                "", " ", "\t", "-- ", "- ", "--", "* ", "*", ">>>", ">>> ", "x ",
            ]),
            open in proptest::sample::select(vec!["", "\"", "<", "'"]),
            address in proptest::sample::select(vec![
                "kijitora@example.jp", "a.b-c@mx.example.co.jp", "*x@y.example",
                "-a@b.example", "a@b.c", "a@b.cd-", "é@x.example", "a@@b.example",
            ]),
            close in proptest::sample::select(vec!["", "\"", ">", "'", ">>"]),
            tail in proptest::sample::select(vec![
                "", ":", ".", ",", " ", " (reason)", " <kijitora@example.jp>",
                "<a@b.example>", " x", "...", ". ", "\t",
            ]),
        ) {
            let line = format!("{lead}{open}{address}{close}{tail}");
            if let Some(c) = ALONE_RE.captures(&line) {
                proptest::prop_assert_eq!(ADDR_RE.find(&line).map(|m| m.as_str()), Some(&c[1]));
            }
        }

        #[test]
        fn collapse_joins_the_words_of_split_whitespace(
            parts in proptest::prop_oneof![
                // ASCII (the fast path) and any script.
                proptest::collection::vec(proptest::sample::select(vec![
                    "a", "550", "5.1.1", " ", "  ", "\t", "\n", "\r\n", "\u{0B}", "\u{0C}",
                    "\u{1}", "x y",
                ]), 0..60),
                proptest::collection::vec(proptest::sample::select(vec![
                    "a", "550", "5.1.1", " ", "  ", "\t", "\n", "\r\n", "\u{0B}", "\u{0C}",
                    "\u{85}", "\u{A0}", "\u{3000}", "\u{2028}", "é", "用户", "\u{200B}", "x\u{A0}y",
                ]), 0..60),
            ],
            long in 0usize..3,
        ) {
            let mut text = parts.concat();
            // Now and then long enough to be cut.
            for _ in 0..long {
                text = text.repeat(40);
            }
            proptest::prop_assert_eq!(collapse(&text), old_collapse(&text));
        }
    }

    #[test]
    fn phrase_sets_find_every_phrase_also_overlapping_ones() {
        let set = PhraseSet::new(&["this is the qmail", "qmail-send program", "giving up"]);
        assert_eq!(
            set.found_in("hi. this is the qmail-send program at x."),
            0b011
        );
        assert_eq!(set.found_in("giving up on x; giving up"), 0b100);
        assert_eq!(set.found_in("nothing here"), 0);
        assert!(set.any_in("... giving up on 192.0.2.1."));
        assert!(!set.any_in("Giving up")); // the caller lower-cases
        // Against the plain definition, on every cut of a text that holds
        // all three, overlapping.
        let text = "x this is the qmail-send program giving up qmail-send program";
        for end in 0..=text.len() {
            let t = &text[..end];
            let want = ["this is the qmail", "qmail-send program", "giving up"]
                .iter()
                .enumerate()
                .filter(|(_, p)| t.contains(*p))
                .fold(0, |bits, (i, _)| bits | 1 << i);
            assert_eq!(set.found_in(t), want, "{t:?}");
        }
        // An exact set is searched as written: "In:" is Postfix's, "in:"
        // ends "domain:".
        let marks = &TRANSCRIPT_MARKS;
        assert_eq!(marks.found_in("In: RCPT TO:<a@b.c>\n<<< 550 no"), 0b1010);
        assert_eq!(marks.found_in("domain: x >>> DATA (reason: 550"), 0b0101);
    }

    #[test]
    #[should_panic(expected = "none of which starts another")]
    fn a_phrase_that_starts_another_cannot_be_found_overlapping() {
        PhraseSet::new(&["delivery fail", "delivery failure"]).found_in("delivery failure");
    }

    #[test]
    fn qmail_shape() {
        let t = "Hi. This is the qmail-send program at mx.example.jp.\n\n<kijitora@example.ne.jp>:\nremote host 192.0.2.32 said: 550 Unknown user\n. (#5.5.0)\n\n--- Below this line is a copy of the message.\n\nReturn-Path: <nekochan@example.jp>\nTo: other@example.com\n";
        let h = scan(t, &[]);
        assert_eq!(h.len(), 1);
        assert_eq!(h[0].recipient, "kijitora@example.ne.jp");
        assert!(h[0].diagnostic.contains("550 Unknown user"));
    }

    #[test]
    fn exim_shape_excludes_sender() {
        let t = "The following address(es) failed:\n\n  kijitora@example.ed.jp\n    SMTP error from remote mail server after RCPT TO:<kijitora@example.ed.jp>:\n    host mx.example.jp [192.0.2.20]: 550 5.1.1 unknown\n";
        let h = scan(t, &["shironeko@example.jp".to_string()]);
        assert_eq!(h.len(), 1);
        assert_eq!(h[0].command, Some(Command::Rcpt));
        assert_eq!(h[0].remote_mta, "mx.example.jp");
    }

    #[test]
    fn sendmail_transcript() {
        let t = "   ----- Transcript of session follows -----\n... while talking to mx.example.jp.:\n>>> RCPT To:<neko@example.jp>\n<<< 550 5.1.1 <neko@example.jp>... User Unknown\n";
        let h = scan(t, &[]);
        assert_eq!(h[0].recipient, "neko@example.jp");
        assert_eq!(h[0].command, Some(Command::Rcpt));
        assert!(h[0].diagnostic.contains("550 5.1.1"));
    }

    #[test]
    fn lines_split_as_the_standard_library_does() {
        for t in [
            "",
            "a",
            "a\n",
            "a\nb",
            "a\r\nb\r\n",
            "\n\n",
            "a\rb\n",
            "x\r",
            "\r\n",
        ] {
            assert_eq!(
                lines(t).collect::<Vec<_>>(),
                t.lines().collect::<Vec<_>>(),
                "{t:?}"
            );
        }
    }

    #[test]
    fn nothing_in_plain_prose() {
        assert!(scan("Hello, see you tomorrow.\n", &[]).is_empty());
    }
}
