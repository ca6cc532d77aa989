//! SMTP enhanced status codes (RFC 3463) and reply codes (RFC 5321): finding
//! them in free text and mapping the well-defined ones to a [`Reason`].

use crate::Reason;
use regex::Regex;
use std::sync::LazyLock;

/// Finds an enhanced status code such as `5.1.1` or `4.7.26` in text.
static STATUS_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:^|[^0-9.])#?([245])\.([0-9]{1,3})\.([0-9]{1,3})(?:[^0-9.]|\.(?:[^0-9]|$)|$)")
        .unwrap()
});

/// A failure status code right after a failure reply code.
static AFTER_REPLY_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?:^|[^0-9.])[45][0-9][0-9][ \-'"]+([45])\.([0-9]{1,3})\.([0-9]{1,3})(?:[^0-9.]|\.(?:[^0-9]|$)|$)"#)
        .unwrap()
});

/// Finds a three-digit SMTP reply code at the start of text or after "said:".
static REPLY_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"(?:^|[\s:;(\['"<#])([245][0-5][0-9])(?:[\s\-:,]|$)"#).unwrap());

/// The first failure (4.x.x or 5.x.x) enhanced status code found in
/// `text`, else the first code of any class (a transcript quotes the
/// successes before the failure: "250 2.1.5 Ok ... 451 4.3.0 Error").
pub fn find_status(text: &str) -> Option<String> {
    // The code right after a reply code is the remote server's own
    // ("550-'5.7.1 ... Access denied" after a relay's "5.1.0 - Unknown
    // address error"): it wins.
    if let Some(m) = AFTER_REPLY_RE.find(text) {
        return Some(status_after_reply(m.as_str()).to_string());
    }
    let mut first = None;
    for m in STATUS_RE.find_iter(text) {
        let code = code_in(m.as_str());
        if !code.starts_with('2') {
            return Some(code.to_string());
        }
        first.get_or_insert(code);
    }
    first.map(str::to_string)
}

/// The code in a match of [`STATUS_RE`] or [`REPLY_RE`], which hold one
/// character of context on each side (and `#` before a status code): from
/// the first digit, the run of digits and dots (at most one dot after the
/// code, which the patterns allow only before a non-digit).
fn code_in(m: &str) -> &str {
    let start = m
        .bytes()
        .position(|b| b.is_ascii_digit())
        .unwrap_or(m.len());
    let rest = &m[start..];
    let len = rest
        .bytes()
        .position(|b| !(b.is_ascii_digit() || b == b'.'))
        .unwrap_or(rest.len());
    rest[..len].trim_end_matches('.')
}

/// The status code in a match of [`AFTER_REPLY_RE`]: the code past the
/// reply code (the match's first three digits; no digit separates them).
fn status_after_reply(m: &str) -> &str {
    let reply = m
        .bytes()
        .position(|b| b.is_ascii_digit())
        .unwrap_or(m.len());
    code_in(m.get(reply + 3..).unwrap_or(""))
}

/// The first failure (4xx or 5xx) SMTP reply code found in `text`, else the
/// first reply code of any class.
pub fn find_reply(text: &str) -> Option<u16> {
    let mut first = None;
    for m in REPLY_RE.find_iter(text) {
        let Ok(code) = code_in(m.as_str()).parse::<u16>() else {
            continue;
        };
        if !is_reply_code(code) {
            continue;
        }
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
    // The match is the code with one character of context on each side; its
    // first digit is the code's.
    REPLY_RE.find_iter(text).any(|m| {
        m.as_str()
            .bytes()
            .find(u8::is_ascii_digit)
            .is_some_and(|d| d == b'4' || d == b'5')
    })
}

/// A failure reply code of the given class (`b'4'` or `b'5'`) in `text`.
pub fn find_reply_of_class(text: &str, class: u8) -> Option<u16> {
    REPLY_RE
        .find_iter(text)
        .filter_map(|m| code_in(m.as_str()).parse::<u16>().ok())
        .find(|&code| is_reply_code(code) && b'0' + (code / 100) as u8 == class)
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

    proptest::proptest! {
        /// The codes read from a match are the patterns' capture groups.
        #[test]
        fn codes_read_from_matches_are_the_captured_ones(
            parts in proptest::collection::vec(proptest::sample::select(vec![
                "5", "4", "2", "1", "0", "55", "550", "5.1.1", "4.7.26", "2.0.0", ".", "..",
                "-", " ", ":", "#", "(", "'", "x", "said:", "\n", "5.", "1234", "é", "550 5.1.1",
                "421-4.7.0", "550 '5.7.1", "\"",
            ]), 0..30),
        ) {
            let text = parts.concat();
            for c in STATUS_RE.captures_iter(&text) {
                let whole = c.get(0).unwrap().as_str();
                proptest::prop_assert_eq!(code_in(whole), format!("{}.{}.{}", &c[1], &c[2], &c[3]));
            }
            for c in REPLY_RE.captures_iter(&text) {
                proptest::prop_assert_eq!(code_in(c.get(0).unwrap().as_str()), &c[1]);
            }
            for c in AFTER_REPLY_RE.captures_iter(&text) {
                let whole = c.get(0).unwrap().as_str();
                proptest::prop_assert_eq!(
                    status_after_reply(whole),
                    format!("{}.{}.{}", &c[1], &c[2], &c[3])
                );
            }
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
