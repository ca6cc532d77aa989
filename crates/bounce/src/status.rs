//! SMTP enhanced status codes (RFC 3463) and reply codes (RFC 5321): finding
//! them in free text and mapping the well-defined ones to a [`Reason`].

use crate::Reason;

// The codes are found by hand-written scanners, not regular expressions:
// they run over every diagnostic and notification block, and a pattern
// whose context characters are consumed ("(?:^|[^0-9.])5.1.1(?:[^0-9.]|$)")
// costs a lazy-DFA walk of every byte, about 4% of the engine's
// instructions (session 11). Each scanner is held by a proptest to the
// pattern it replaces, `find_iter`'s consumption of context characters
// included (in "2.0.0 5.1.1" the space is the first match's, so there is
// no second); the patterns are in the tests.

/// A failure reply code's first digit.
fn is_failure_class(b: u8) -> bool {
    b == b'4' || b == b'5'
}

/// An enhanced status code's class digit.
fn is_class(b: u8) -> bool {
    matches!(b, b'2' | b'4' | b'5')
}

/// What may stand before a status code: anything but a digit or a dot
/// (a byte of a multi-byte character is neither).
fn may_precede_status(b: u8) -> bool {
    !(b.is_ascii_digit() || b == b'.')
}

/// The length of the run of ASCII digits at `at`.
fn digits(b: &[u8], at: usize) -> usize {
    b.get(at..)
        .map_or(0, |r| r.iter().take_while(|c| c.is_ascii_digit()).count())
}

/// The length of the character that starts at byte `at` of `text`.
fn char_len(text: &str, at: usize) -> usize {
    text[at..].chars().next().map_or(0, char::len_utf8)
}

/// A status code's `.d{1,3}.d{1,3}` and what may follow it, from its class
/// digit at `q` (checked by the caller): where the code ends and where the
/// match ends (after the character that closes it: not a digit, not a
/// dot, or a dot and a non-digit).
fn status_tail(text: &str, q: usize) -> Option<(usize, usize)> {
    let b = text.as_bytes();
    if b.get(q + 1) != Some(&b'.') {
        return None;
    }
    let n1 = digits(b, q + 2);
    let dot = q + 2 + n1;
    if !(1..=3).contains(&n1) || b.get(dot) != Some(&b'.') {
        return None;
    }
    let n2 = digits(b, dot + 1);
    let code_end = dot + 1 + n2;
    if !(1..=3).contains(&n2) {
        return None;
    }
    let end = match b.get(code_end) {
        None => code_end,
        Some(b'.') => match b.get(code_end + 1) {
            None => code_end + 1,
            Some(c) if c.is_ascii_digit() => return None,
            Some(_) => code_end + 1 + char_len(text, code_end + 1),
        },
        // (a digit cannot follow: the run was read whole)
        Some(_) => code_end + char_len(text, code_end),
    };
    Some((code_end, end))
}

/// The next enhanced status code (`5.1.1`, `4.7.26`, `#5.5.0`) in `text`
/// from byte `from`: the code and where its match ends. A code stands
/// after the start of the text or a character that is not a digit or a
/// dot, and before the end, such a character, or a dot and a non-digit.
fn next_status(text: &str, from: usize) -> Option<(&str, usize)> {
    let b = text.as_bytes();
    let mut at = from;
    // Each code has a dot right after its class digit.
    while let Some(i) = memchr::memchr(b'.', b.get(at + 1..)?) {
        let q = at + i;
        at = q + 1;
        if !is_class(b[q]) || !(q == 0 || (q > from && may_precede_status(b[q - 1]))) {
            continue;
        }
        if let Some((code_end, end)) = status_tail(text, q) {
            return Some((&text[q..code_end], end));
        }
    }
    None
}

/// The enhanced status codes in `text`, in order.
fn status_codes(text: &str) -> impl Iterator<Item = &str> {
    let mut from = 0;
    std::iter::from_fn(move || {
        let (code, end) = next_status(text, from)?;
        from = end;
        Some(code)
    })
}

/// The first failure status code right after a failure reply code
/// ("550 5.1.1", "421-4.7.0", "550 '5.7.1", separated by spaces, dashes
/// and quotes), the reply code standing where a status code could.
fn status_after_reply(text: &str) -> Option<&str> {
    let b = text.as_bytes();
    let mut at = 0;
    while let Some(i) = memchr::memchr2(b'4', b'5', b.get(at..)?) {
        let p = at + i;
        at = p + 1;
        // (two digits and a separator: a third digit is no separator)
        if !(p == 0 || may_precede_status(b[p - 1])) || digits(b, p + 1) < 2 {
            continue;
        }
        let seps = b[p + 3..]
            .iter()
            .take_while(|c| matches!(c, b' ' | b'-' | b'\'' | b'"'))
            .count();
        let q = p + 3 + seps;
        if seps == 0 || !b.get(q).is_some_and(|&c| is_failure_class(c)) {
            continue;
        }
        if let Some((code_end, _)) = status_tail(text, q) {
            return Some(&text[q..code_end]);
        }
    }
    None
}

/// The first failure (4.x.x or 5.x.x) enhanced status code found in
/// `text`, else the first code of any class (a transcript quotes the
/// successes before the failure: "250 2.1.5 Ok ... 451 4.3.0 Error").
pub fn find_status(text: &str) -> Option<String> {
    // The code right after a reply code is the remote server's own
    // ("550-'5.7.1 ... Access denied" after a relay's "5.1.0 - Unknown
    // address error"): it wins.
    if let Some(code) = status_after_reply(text) {
        return Some(code.to_string());
    }
    let mut first = None;
    for code in status_codes(text) {
        if !code.starts_with('2') {
            return Some(code.to_string());
        }
        first.get_or_insert(code);
    }
    first.map(str::to_string)
}

/// What may stand before a reply code: white space or one of `:;(['"<#`.
fn may_precede_reply(c: char) -> bool {
    c.is_whitespace() || matches!(c, ':' | ';' | '(' | '[' | '\'' | '"' | '<' | '#')
}

/// The three-digit reply codes (`[245][0-5][0-9]`) in `text`, in order:
/// each at the start of the text or after white space or one of
/// `:;(['"<#`, and before the end, white space or one of `-:,` (which
/// belongs to it: "550 551" holds one code).
fn reply_codes(text: &str) -> impl Iterator<Item = u16> + '_ {
    let b = text.as_bytes();
    let mut from = 0;
    let mut at = 0;
    std::iter::from_fn(move || {
        while let Some(i) = memchr::memchr3(b'2', b'4', b'5', b.get(at..)?) {
            let q = at + i;
            at = q + 1;
            let shape = b.get(q + 1).is_some_and(|c| (b'0'..=b'5').contains(c))
                && b.get(q + 2).is_some_and(u8::is_ascii_digit);
            let before = q == 0
                || (q > from && text[..q].chars().next_back().is_some_and(may_precede_reply));
            if !shape || !before {
                continue;
            }
            let end = match text[q + 3..].chars().next() {
                None => q + 3,
                Some(c) if c.is_whitespace() || matches!(c, '-' | ':' | ',') => {
                    q + 3 + c.len_utf8()
                }
                Some(_) => continue,
            };
            (from, at) = (end, end);
            let d = |k: usize| u16::from(b[q + k] - b'0');
            return Some(d(0) * 100 + d(1) * 10 + d(2));
        }
        None
    })
}

/// The first failure (4xx or 5xx) SMTP reply code found in `text`, else the
/// first reply code of any class.
pub fn find_reply(text: &str) -> Option<u16> {
    let mut first = None;
    for code in reply_codes(text).filter(|&c| is_reply_code(c)) {
        if code >= 400 {
            return Some(code);
        }
        first.get_or_insert(code);
    }
    first
}

/// Does `text` quote a failure reply code, defined or not ("542 ...
/// Rejected" is a server's failure line even if 542 is no RFC code)?
pub fn quotes_failure_reply(text: &str) -> bool {
    reply_codes(text).any(|c| c >= 400)
}

/// A failure reply code of the given class (`b'4'` or `b'5'`) in `text`.
pub fn find_reply_of_class(text: &str, class: u8) -> Option<u16> {
    reply_codes(text).find(|&code| is_reply_code(code) && b'0' + (code / 100) as u8 == class)
}

/// The reply codes RFC 5321 and its extensions define (RFC 1985, 2645,
/// 3207, 4954, 5248, 7504), as Sisimai lists them: "542" in a text is a
/// number, not a reply code.
fn is_reply_code(code: u16) -> bool {
    matches!(
        code,
        211 | 214
            | 220
            | 221
            | 235
            | 250..=253
            | 421
            | 422
            | 430
            | 432
            | 450..=455
            | 458
            | 459
            | 500..=504
            | 521
            | 523..=525
            | 530
            | 533..=535
            | 538
            | 550..=556
    )
}

/// Choose between the `Status:` field and the code quoted in the error text.
///
/// The field is often generic (`5.0.0`, `4.4.7` "delivery time expired",
/// `5.3.0`) while the remote server's own text carries the precise code.
/// The rules follow the reference analyser (Sisimai) so results agree.
pub fn prefer(field: &str, in_text: &str, reply: Option<u16>) -> String {
    if field.is_empty() {
        return in_text.to_string();
    }
    if in_text.is_empty() || field.len() < 5 {
        return if in_text.is_empty() { field } else { in_text }.to_string();
    }
    let (f0, t0) = (field.as_bytes()[0], in_text.as_bytes()[0]);
    if let Some(r) = reply
        && f0 != t0
    {
        let r0 = b'0' + (r / 100) as u8;
        if r0 == f0 {
            return field.to_string();
        }
        if r0 == t0 {
            return in_text.to_string();
        }
    }
    if field == in_text {
        return field.to_string();
    }
    let zero_detail = |s: &str| s.contains(".0");
    let zero_both = |s: &str| s.contains(".0.0");
    if zero_both(field) {
        return if zero_both(in_text) { field } else { in_text }.to_string();
    }
    if zero_detail(field) && !zero_detail(in_text) {
        return in_text.to_string();
    }
    if zero_both(in_text) {
        return field.to_string();
    }
    let generic = field == "4.4.7"
        || field == "4.7.0"
        || field.starts_with("5.3.")
        || [".5.1", ".5.2", ".5.4", ".5.5"]
            .iter()
            .any(|p| field[1..].starts_with(p));
    if generic {
        return in_text.to_string();
    }
    if field == "5.1.1" {
        return if zero_detail(in_text) || in_text.starts_with("5.5.") {
            field
        } else {
            in_text
        }
        .to_string();
    }
    if field == "5.1.3" && in_text.starts_with("5.7.") {
        return in_text.to_string();
    }
    field.to_string()
}

/// The reason that an enhanced status code denotes on its own, when it is
/// specific enough (RFC 3463 and its IANA registry).
pub fn reason_of(status: &str) -> Option<Reason> {
    use Reason::*;
    let r = match status {
        "2.1.5" => Delivered,
        "4.1.6" | "5.1.6" | "5.7.17" | "5.7.18" => HasMoved,
        "4.1.7" | "4.1.8" | "5.1.7" | "5.1.8" => Rejected,
        "4.1.9" | "5.1.9" | "4.3.3" | "4.3.5" | "4.4.3" | "4.5.3" | "4.5.5" | "5.3.0" | "5.3.3"
        | "5.3.5" | "5.4.3" | "5.5.4" | "5.5.5" => SystemError,
        "4.2.1" | "4.7.1" | "4.7.2" => Blocked,
        "4.2.2" | "5.2.2" => MailboxFull,
        "4.2.3" | "5.2.3" => ExceedLimit,
        "4.2.4" | "5.1.4" | "5.2.0" | "5.2.1" | "5.2.4" => Filtered,
        "4.3.1" | "4.4.5" | "5.3.1" => SystemFull,
        "4.3.2" | "5.1.10" | "5.3.2" | "5.7.27" => NotAccept,
        "4.4.1" | "4.4.7" => Expired,
        "4.4.2" | "4.4.4" | "4.4.6" | "4.4.8" | "5.4.0" => NetworkError,
        "4.6.0" | "4.6.2" | "4.6.5" | "5.6.0" | "5.6.1" | "5.6.2" | "5.6.3" | "5.6.5" | "5.6.6"
        | "5.6.7" | "5.6.8" | "5.6.9" => ContentError,
        "4.7.5" | "4.7.6" | "4.7.7" | "4.7.12" | "4.7.15" | "5.7.0" | "5.7.1" | "5.7.2"
        | "5.7.3" | "5.7.4" | "5.7.5" | "5.7.6" | "5.7.7" | "5.7.8" | "5.7.9" | "5.7.10"
        | "5.7.11" | "5.7.14" | "5.7.15" | "5.7.19" => SecurityError,
        "4.7.16" | "5.3.4" | "5.7.16" => MesgTooBig,
        "4.7.24" | "4.7.26" | "5.7.20" | "5.7.21" | "5.7.22" | "5.7.23" | "5.7.24" | "5.7.26"
        | "5.7.29" => AuthFailure,
        "4.7.25" | "5.7.25" => RequirePtr,
        "5.1.0" | "5.1.1" | "5.1.3" => UserUnknown,
        "5.1.2" | "5.4.4" => HostUnknown,
        "5.5.2" | "5.5.6" => SyntaxError,
        "5.5.3" => TooManyConn,
        "5.7.13" => Suspend,
        "5.7.28" => SpamDetected,
        "5.7.30" => FailedStartTls,
        _ => return None,
    };
    Some(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    use regex::Regex;
    use std::sync::LazyLock;

    // The patterns the scanners replace, and the functions as they read
    // them: the reference the proptest holds the scanners to.
    static STATUS_RE: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(
            r"(?:^|[^0-9.])#?([245])\.([0-9]{1,3})\.([0-9]{1,3})(?:[^0-9.]|\.(?:[^0-9]|$)|$)",
        )
        .unwrap()
    });
    static AFTER_REPLY_RE: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r#"(?:^|[^0-9.])[45][0-9][0-9][ \-'"]+([45])\.([0-9]{1,3})\.([0-9]{1,3})(?:[^0-9.]|\.(?:[^0-9]|$)|$)"#)
            .unwrap()
    });
    static REPLY_RE: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r#"(?:^|[\s:;(\['"<#])([245][0-5][0-9])(?:[\s\-:,]|$)"#).unwrap()
    });

    fn statuses_by_pattern(text: &str) -> Vec<String> {
        STATUS_RE
            .captures_iter(text)
            .map(|c| format!("{}.{}.{}", &c[1], &c[2], &c[3]))
            .collect()
    }

    fn replies_by_pattern(text: &str) -> Vec<u16> {
        REPLY_RE
            .captures_iter(text)
            .map(|c| c[1].parse().unwrap())
            .collect()
    }

    fn find_status_by_pattern(text: &str) -> Option<String> {
        if let Some(c) = AFTER_REPLY_RE.captures(text) {
            return Some(format!("{}.{}.{}", &c[1], &c[2], &c[3]));
        }
        let all = statuses_by_pattern(text);
        all.iter()
            .find(|c| !c.starts_with('2'))
            .or(all.first())
            .cloned()
    }

    fn find_reply_by_pattern(text: &str) -> Option<u16> {
        let all: Vec<u16> = replies_by_pattern(text)
            .into_iter()
            .filter(|&c| is_reply_code(c))
            .collect();
        all.iter().find(|&&c| c >= 400).or(all.first()).copied()
    }

    proptest::proptest! {
        /// The scanners find what the patterns they replace find, with the
        /// same consumption of context characters.
        #[test]
        fn scanners_read_codes_as_the_patterns_do(
            parts in proptest::collection::vec(proptest::sample::select(vec![
                "5", "4", "2", "1", "0", "9", "6", "55", "550", "5.1.1", "4.7.26", "2.0.0",
                "5.1234", ".", "..", "-", " ", ":", ";", ",", "#", "(", "[", "<", "'", "x",
                "said:", "\n", "5.", "1234", "é", "\u{3000}", "\u{a0}", "\u{661}",
                "550 5.1.1", "421-4.7.0", "550 '5.7.1", "\"", "250 2.1.5", "4.2.2.", "5.7.1.x",
            ]), 0..30),
        ) {
            let text = parts.concat();
            proptest::prop_assert_eq!(
                status_codes(&text).map(str::to_string).collect::<Vec<_>>(),
                statuses_by_pattern(&text)
            );
            proptest::prop_assert_eq!(
                status_after_reply(&text).map(str::to_string),
                AFTER_REPLY_RE.captures(&text).map(|c| format!("{}.{}.{}", &c[1], &c[2], &c[3]))
            );
            proptest::prop_assert_eq!(reply_codes(&text).collect::<Vec<_>>(), replies_by_pattern(&text));
            proptest::prop_assert_eq!(find_status(&text), find_status_by_pattern(&text));
            proptest::prop_assert_eq!(find_reply(&text), find_reply_by_pattern(&text));
            proptest::prop_assert_eq!(
                quotes_failure_reply(&text),
                replies_by_pattern(&text).iter().any(|&c| c >= 400)
            );
        }
    }

    /// Codes are ASCII digits: a digit of another script (Arabic-Indic
    /// U+0661, full-width U+FF15) makes no code, nor ends one.
    #[test]
    fn codes_are_ascii_digits() {
        assert_eq!(find_status("550 5.1.\u{661} unknown"), None);
        assert_eq!(
            find_status("\u{ff15}5.1.1 unknown").as_deref(),
            Some("5.1.1")
        );
        assert_eq!(find_reply("55\u{661} unknown"), None);
        assert_eq!(find_reply("550 5.1.1 unknown"), Some(550));
    }

    #[test]
    fn only_defined_reply_codes_count() {
        assert_eq!(find_reply("Reason: 542 a@b Rejected"), None);
        assert!(quotes_failure_reply("Reason: 542 a@b Rejected"));
        assert_eq!(find_reply("542 x 550 5.1.1 unknown"), Some(550));
        assert_eq!(find_reply_of_class("421 busy 554 no", b'5'), Some(554));
        assert_eq!(find_reply_of_class("554 no service", b'4'), None);
    }

    #[test]
    fn finds_codes_in_text() {
        let t = "550 5.1.1 <kijitora@example.jp>... User Unknown";
        assert_eq!(find_status(t).as_deref(), Some("5.1.1"));
        assert_eq!(find_reply(t), Some(550));
        assert_eq!(find_status("(#5.5.0)").as_deref(), Some("5.5.0"));
        assert_eq!(find_status("host 192.0.2.1 said no"), None);
        assert_eq!(find_status("version 1.2.3.4"), None);
        assert_eq!(find_reply("remote host said: 452 too many"), Some(452));
        assert_eq!(find_reply("no code here 12345"), None);
        assert_eq!(
            find_status("4.7.26 Unauthenticated").as_deref(),
            Some("4.7.26")
        );
    }

    #[test]
    fn prefers_the_precise_code() {
        assert_eq!(prefer("5.0.0", "5.1.1", Some(550)), "5.1.1");
        assert_eq!(prefer("4.4.7", "4.7.1", Some(450)), "4.7.1");
        assert_eq!(prefer("5.1.1", "5.7.1", Some(550)), "5.7.1");
        assert_eq!(prefer("5.7.1", "5.1.1", Some(550)), "5.7.1");
        assert_eq!(prefer("", "5.2.2", None), "5.2.2");
        assert_eq!(prefer("4.4.1", "5.1.1", Some(550)), "5.1.1");
    }

    #[test]
    fn maps_specific_codes() {
        assert_eq!(reason_of("5.1.1"), Some(Reason::UserUnknown));
        assert_eq!(reason_of("5.7.26"), Some(Reason::AuthFailure));
        assert_eq!(reason_of("5.0.0"), None);
    }
}
