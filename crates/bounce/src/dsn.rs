//! RFC 3464 delivery status notifications: the machine-readable
//! `message/delivery-status` part, or the same fields found in plain text.

use crate::Reason;
use crate::record::Action;
use crate::status;
use crate::text::trim;

/// Per-message fields of a DSN.
#[derive(Debug, Default, Clone)]
pub(crate) struct MessageFields {
    pub reporting_mta: String,
    pub arrival_date: Option<i64>,
}

/// Per-recipient fields of a DSN.
#[derive(Debug, Default, Clone)]
pub(crate) struct RecipientFields {
    pub recipient: String,
    pub action: Option<Action>,
    pub status: String,
    pub remote_mta: String,
    pub diagnostic: String,
    pub diagnostic_type: String,
    pub last_attempt: Option<i64>,
    /// The comment after the `Status:` code ("4.0.0 (host name lookup
    /// failure)"), when it says more than the class of the code.
    pub status_comment: Option<String>,
    /// The reporting MTA's own category of the failure (PowerMTA's
    /// `X-PowerMTA-BounceCategory`), a hint weaker than the text.
    pub category: Option<Reason>,
}

/// PowerMTA's bounce categories that name a reason. The others
/// (`bad-connection`, `other`, `protocol-errors`, ...) say too little.
const POWERMTA_CATEGORIES: &[(&str, Reason)] = &[
    ("bad-domain", Reason::HostUnknown),
    ("bad-mailbox", Reason::UserUnknown),
    ("inactive-mailbox", Reason::Suspend),
    ("message-expired", Reason::Expired),
    ("no-answer-from-host", Reason::NetworkError),
    ("policy-related", Reason::PolicyViolation),
    ("quota-issues", Reason::MailboxFull),
    ("routing-errors", Reason::SystemError),
    ("spam-related", Reason::SpamDetected),
];

/// Parse the fields of DSN text into the per-message part and one entry per
/// recipient. Groups are separated by blank lines; inside a recipient group
/// the fields may come in any order (Facebook puts `Diagnostic-Code` before
/// `Final-Recipient`). A group holding several `Final-Recipient` fields
/// without blank lines between them is split at each one.
pub(crate) fn parse(text: &str) -> (MessageFields, Vec<RecipientFields>) {
    let mut msg = MessageFields::default();
    let mut out: Vec<RecipientFields> = Vec::new();
    for group in groups(text) {
        let fields = fields(group);
        let is_recipient = |n: &str| {
            n.eq_ignore_ascii_case("final-recipient")
                || n.eq_ignore_ascii_case("original-recipient")
        };
        if !fields.iter().any(|(n, _)| is_recipient(n)) {
            for (name, value) in &fields {
                match name.as_str() {
                    "reporting-mta" => msg.reporting_mta = strip_type(value),
                    "arrival-date" => msg.arrival_date = parse_date(value),
                    _ => {}
                }
            }
            continue;
        }
        // Split the group at every Final-Recipient after the first one.
        let finals: Vec<usize> = fields
            .iter()
            .enumerate()
            .filter(|(_, (n, _))| n.eq_ignore_ascii_case("final-recipient"))
            .map(|(i, _)| i)
            .collect();
        let mut cuts: Vec<usize> = vec![0];
        cuts.extend(finals.iter().skip(1).map(|&i| {
            // An Original-Recipient right before a Final-Recipient belongs to it.
            if i > 0 && fields[i - 1].0.eq_ignore_ascii_case("original-recipient") {
                i - 1
            } else {
                i
            }
        }));
        cuts.push(fields.len());
        for w in cuts.windows(2) {
            if let Some(r) = recipient(&fields[w[0]..w[1]], &mut msg) {
                out.push(r);
            }
        }
    }
    out.retain(|r| !r.recipient.is_empty());
    // Sendmail repeats the recipient once per alias it expanded (a
    // forwarding loop lists it ten times): one delivery, one record, as
    // Sisimai skips a recipient that repeats the one before it.
    out.dedup_by(|next, kept| next.recipient.eq_ignore_ascii_case(&kept.recipient));
    (msg, out)
}

/// One recipient from its fields.
fn recipient(fields: &[(String, String)], msg: &mut MessageFields) -> Option<RecipientFields> {
    let mut r = RecipientFields::default();
    let (mut final_rcpt, mut original, mut actual) = (None, None, None);
    for (name, value) in fields {
        match name.as_str() {
            "final-recipient" => final_rcpt = Some(crate::address::clean(&strip_type(value))),
            "original-recipient" => original = Some(crate::address::clean(&strip_type(value))),
            "x-actual-recipient" => actual = Some(crate::address::clean(&strip_type(value))),
            "action" => r.action = Action::parse(value),
            "status" => {
                r.status = status::find_status(value).unwrap_or_default();
                // "4.0.0 (cat.example.net: host name lookup failure)"; not
                // the bare class ("5.0.0 (permanent failure)").
                r.status_comment = value
                    .split_once('(')
                    .and_then(|(_, c)| c.rsplit_once(')'))
                    .map(|(c, _)| trim(c).to_string())
                    .filter(|c| {
                        let l = c.to_ascii_lowercase();
                        !l.is_empty()
                            && ![
                                "permanent failure",
                                "temporary failure",
                                "transient failure",
                                "persistent transient failure",
                                "undefined status",
                                "failure",
                            ]
                            .contains(&l.as_str())
                    });
            }
            "remote-mta" => {
                // "dns; mx.example.jp. (192.0.2.1, the server for ...)"
                let v = strip_type(value);
                let host = v
                    .split_whitespace()
                    .next()
                    .unwrap_or("")
                    .trim_matches(['[', ']']);
                r.remote_mta = host.trim_end_matches('.').to_ascii_lowercase();
            }
            "diagnostic-code" => {
                let (t, v) = split_type(value);
                r.diagnostic_type = t.to_ascii_uppercase();
                r.diagnostic = trim(v).to_string();
            }
            "last-attempt-date" => r.last_attempt = parse_date(value),
            "x-powermta-bouncecategory" => {
                let v = trim(value).to_ascii_lowercase();
                r.category = POWERMTA_CATEGORIES
                    .iter()
                    .find(|(c, _)| *c == v)
                    .map(|(_, reason)| *reason);
            }
            "reporting-mta" => msg.reporting_mta = strip_type(value),
            "arrival-date" => msg.arrival_date = parse_date(value),
            _ => {}
        }
    }
    // The first field that holds a usual address, else the first that
    // holds one at an unusual domain (`root@localhost`).
    let named = [&final_rcpt, &actual, &original];
    let first = |check: fn(&str) -> bool| {
        named
            .iter()
            .find_map(|a| a.as_deref().filter(|a| check(a)).map(str::to_string))
    };
    // Not an address ("/var/mail/x", a pipe, a template): the caller may
    // find the address elsewhere (X-Failed-Recipients) or drop the record.
    r.recipient = first(crate::address::is_address)
        .or_else(|| first(crate::address::is_field_address))
        .or(final_rcpt)
        .or(original)
        .unwrap_or_default();
    Some(r)
}

/// Blank-line separated groups of lines, as slices of `text`.
fn groups(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start: Option<usize> = None;
    for line in crate::text::line_spans(text) {
        if trim(&text[line.clone()]).is_empty() {
            if let Some(s) = start.take() {
                out.push(&text[s..line.start]);
            }
        } else if start.is_none() {
            start = Some(line.start);
        }
    }
    if let Some(s) = start {
        out.push(&text[s..]);
    }
    out
}

/// `name: value` pairs with continuation lines unfolded, names in lower
/// case.
pub(crate) fn fields(text: &str) -> Vec<(String, String)> {
    fields_where(text, |_| true)
}

/// The fields whose name `keep` accepts, as `name: value` pairs with
/// continuation lines unfolded and names in lower case (the callers
/// compare them so); the others are skipped without copying
/// (a returned message's header block is mostly `Received:` and
/// `DKIM-Signature:` lines nobody reads).
pub(crate) fn fields_where(text: &str, keep: impl Fn(&str) -> bool) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    // Whether the continuation lines that follow belong to the last kept field.
    let mut open = false;
    for line in crate::text::lines(text) {
        if matches!(line.as_bytes().first(), Some(b' ' | b'\t')) {
            if open
                && let Some(last) = out.last_mut()
                && !trim(line).is_empty()
            {
                last.1.push(' ');
                last.1.push_str(trim(line));
            }
            continue;
        }
        open = false;
        if let Some((n, v)) = split_field(line) {
            let n = trim(n);
            // (The caller's test first: for a few names it fails on the
            // length, before the name's characters are looked at.)
            if keep(n)
                && !n.is_empty()
                && n.len() < 40
                && n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            {
                out.push((n.to_ascii_lowercase(), trim(v).to_string()));
                open = true;
            }
        }
        // A line that is neither a field nor a continuation ends folding.
    }
    out
}

/// `line.split_once(':')`, with `memchr`: the standard library's search
/// for one byte is not vectorised, and this runs on every header line.
pub(crate) fn split_field(line: &str) -> Option<(&str, &str)> {
    memchr::memchr(b':', line.as_bytes()).map(|i| (&line[..i], &line[i + 1..]))
}

/// `rfc822; user@example.jp` -> `user@example.jp`.
fn strip_type(v: &str) -> String {
    trim(split_type(v).1).to_string()
}

/// `smtp; 550 ...` -> (`smtp`, `550 ...`). Without a `;`, the type is empty.
fn split_type(v: &str) -> (&str, &str) {
    match v.split_once(';') {
        Some((t, rest)) if !trim(t).is_empty() && trim(t).len() <= 16 && !t.contains(' ') => {
            (trim(t), rest)
        }
        _ => ("", v),
    }
}

/// An RFC 5322 date to Unix seconds, as `mail-parser` reads it.
pub(crate) fn parse_date(v: &str) -> Option<i64> {
    let v = trim(v);
    match canonical_date(v) {
        Some(d) => Some(d.to_timestamp()),
        None => mail_parser::DateTime::parse_rfc822(v)
            .map(|d| d.to_timestamp() - zone_name_offset(v).unwrap_or(0)),
    }
}

/// Zone names that RFC 5322 does not define (it has UT, GMT and the
/// North American ones, which `mail-parser` reads) but that mailers write
/// after the time, with their offsets east of UTC in seconds. Only names
/// with one meaning: IST, BST and the Chinese CST are left out.
const ZONE_NAMES: [(&str, i64); 21] = [
    ("JST", 9 * 3600),
    ("KST", 9 * 3600),
    ("HKT", 8 * 3600),
    ("SGT", 8 * 3600),
    ("AWST", 8 * 3600),
    ("ACST", 9 * 3600 + 1800),
    ("AEST", 10 * 3600),
    ("AEDT", 11 * 3600),
    ("NZST", 12 * 3600),
    ("NZDT", 13 * 3600),
    ("CET", 3600),
    ("CEST", 2 * 3600),
    ("MET", 3600),
    ("MEST", 2 * 3600),
    ("EET", 2 * 3600),
    ("EEST", 3 * 3600),
    ("WEST", 3600),
    ("MSK", 3 * 3600),
    ("HST", -10 * 3600),
    ("AKST", -9 * 3600),
    ("AKDT", -8 * 3600),
];

/// The offset of a zone name that ends a date right after its time
/// (`Thu, 9 Apr 2006 23:34:45 JST`), one that `mail-parser` does not know
/// and so reads the time as UTC for: the seconds to take off its reading.
pub(crate) fn zone_name_offset(v: &str) -> Option<i64> {
    // Most dates end in a digit or a comment: nothing to look at.
    if !v
        .trim_ascii_end()
        .ends_with(|c: char| c.is_ascii_alphabetic())
    {
        return None;
    }
    let mut words = v.split_ascii_whitespace().rev();
    let (zone, time) = (words.next()?, words.next()?);
    let is_time = time.contains(':') && time.bytes().all(|b| b.is_ascii_digit() || b == b':');
    is_time
        .then(|| {
            ZONE_NAMES
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(zone))
        })
        .flatten()
        .map(|(_, offset)| *offset)
}

/// The canonical form of an RFC 5322 date ("Thu, 29 Apr 2016 23:34:45
/// +0900", the day's name and a closing "(JST)" optional), read directly:
/// `mail-parser`'s general date reader costs about 1,350 instructions a
/// date, this a tenth of that. Anything else (two-digit years, no seconds,
/// zone names, other spacing) is left to `mail-parser`, and a proptest
/// holds the two to the same result where this one reads a date.
pub(crate) fn canonical_date(v: &str) -> Option<mail_parser::DateTime> {
    let b = v.as_bytes();
    // "Thu, " (any three letters: mail-parser skips the day's name).
    let b = match b {
        [d, a, y, b',', b' ', rest @ ..] if [d, a, y].iter().all(|c| c.is_ascii_alphabetic()) => {
            rest
        }
        _ => b,
    };
    let two = |x: u8, y: u8| -> Option<u8> {
        (x.is_ascii_digit() && y.is_ascii_digit()).then(|| (x - b'0') * 10 + (y - b'0'))
    };
    let (day, rest) = match b {
        [d, b' ', rest @ ..] if d.is_ascii_digit() => (d - b'0', rest),
        [d1, d2, b' ', rest @ ..] => (two(*d1, *d2)?, rest),
        _ => return None,
    };
    let [
        m1,
        m2,
        m3,
        b' ',
        y1,
        y2,
        y3,
        y4,
        b' ',
        h1,
        h2,
        b':',
        n1,
        n2,
        b':',
        s1,
        s2,
        b' ',
        sign,
        z1,
        z2,
        z3,
        z4,
        tail @ ..,
    ] = rest
    else {
        return None;
    };
    const MONTHS: [&[u8; 3]; 12] = [
        b"jan", b"feb", b"mar", b"apr", b"may", b"jun", b"jul", b"aug", b"sep", b"oct", b"nov",
        b"dec",
    ];
    let month = [m1, m2, m3].map(u8::to_ascii_lowercase);
    let month = MONTHS.iter().position(|m| **m == month)? as u8 + 1;
    let year = u16::from(two(*y1, *y2)?) * 100 + u16::from(two(*y3, *y4)?);
    let zone = u16::from(two(*z1, *z2)?) * 100 + u16::from(two(*z3, *z4)?);
    // (A year up to 99 is read as 19xx or 20xx: mail-parser's business.)
    let comment_only = tail.is_empty()
        || (tail.starts_with(b" (")
            && tail.ends_with(b")")
            && !tail[2..tail.len() - 1]
                .iter()
                .any(|c| matches!(c, b'(' | b')' | b'\\' | b'\n' | b';')));
    if year < 100 || !matches!(sign, b'+' | b'-') || !comment_only {
        return None;
    }
    Some(mail_parser::DateTime {
        year,
        month,
        day,
        hour: two(*h1, *h2)?,
        minute: two(*n1, *n2)?,
        second: two(*s1, *s2)?,
        // As mail-parser folds the zone's digits.
        tz_before_gmt: *sign == b'-',
        tz_hour: ((zone / 100) % 24) as u8,
        tz_minute: ((zone % 100) % 60) as u8,
    })
}

/// Does this text contain DSN recipient fields?
pub(crate) fn looks_like_dsn(text: &str) -> bool {
    let l = text.to_ascii_lowercase();
    (l.contains("\nfinal-recipient:")
        || l.starts_with("final-recipient:")
        || l.contains("\noriginal-recipient:"))
        && (l.contains("\nstatus:") || l.contains("\naction:"))
}

#[cfg(test)]
mod tests {
    use super::*;

    use proptest::strategy::Strategy;

    proptest::proptest! {
        // (Many cases: a date is cheap, and few of the generated ones are
        // canonical.)
        #![proptest_config(proptest::test_runner::Config::with_cases(8192))]

        /// Where the canonical-date reader reads a date, it is the date
        /// `mail-parser` reads.
        #[test]
        fn canonical_dates_read_as_mail_parser_reads_them(
            day_name in proptest::sample::select(vec!["", "Thu, ", "thu, ", "Thursday, ", "Thu,", "Thu ", "12, "]),
            day in proptest::prop_oneof![
                4 => (0u32..100).prop_map(|d| d.to_string()),
                1 => (0u32..10).prop_map(|d| format!("0{d}")),
                1 => proptest::sample::select(vec!["123", "a", ""]).prop_map(str::to_string),
            ],
            month in proptest::sample::select(vec![
                "Jan", "feb", "MAR", "Apr", "May", "jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
                "Foo", "April", "ap", "",
            ]),
            year in proptest::prop_oneof![
                4 => (0u32..10000).prop_map(|y| format!("{y:04}")),
                4 => (0u32..100).prop_map(|y| format!("{y:04}")),
                1 => proptest::sample::select(vec!["99", "16", "20166", "2o16"]).prop_map(str::to_string),
            ],
            time in proptest::prop_oneof![
                4 => (0u32..100, 0u32..100, 0u32..100).prop_map(|(h, m, s)| format!("{h:02}:{m:02}:{s:02}")),
                1 => proptest::sample::select(vec!["23:34", "3:34:45", "23:34:45.5", "23-34-45"])
                    .prop_map(str::to_string),
            ],
            zone in proptest::prop_oneof![
                4 => (proptest::sample::select(vec!['+', '-']), 0u32..10000).prop_map(|(s, z)| format!("{s}{z:04}")),
                1 => proptest::sample::select(vec!["+090", "+09:00", "GMT", "UTC", "EST", "Z", ""])
                    .prop_map(str::to_string),
            ],
            tail in proptest::sample::select(vec![
                "", "", "", " (JST)", " (UTC)", " (a;b)", " (x (y))", " x", "  ", " (", ")", " (\\)",
            ]),
            spaces in proptest::sample::select(vec![" ", " ", " ", " ", "  ", "\t"]),
        ) {
            let v = format!("{day_name}{day}{spaces}{month} {year} {time} {zone}{tail}");
            if let Some(d) = canonical_date(v.trim()) {
                let theirs = mail_parser::DateTime::parse_rfc822(v.trim());
                proptest::prop_assert_eq!(Some(d.to_timestamp()), theirs.map(|t| t.to_timestamp()), "{:?}", v);
            }
        }
    }

    #[test]
    fn zone_names_rfc_5322_lacks_are_read() {
        let utc = parse_date("Thu, 9 Apr 2006 14:34:45 +0000");
        assert!(utc.is_some());
        for v in [
            "Thu, 9 Apr 2006 23:34:45 JST",
            "Thu, 9 Apr 2006 23:34:45 jst",
            "9 Apr 2006 16:34:45 CEST",
            "Thu, 9 Apr 2006 04:34:45 HST",
        ] {
            assert_eq!(parse_date(v), utc, "{v}");
        }
        // The names RFC 5322 has are mail-parser's, a numeric zone wins,
        // and a name that is not right after the time is not read.
        assert_eq!(parse_date("Thu, 9 Apr 2006 09:34:45 EST"), utc);
        assert_eq!(parse_date("Thu, 9 Apr 2006 23:34:45 +0900 (JST)"), utc);
        assert_eq!(zone_name_offset("Thu, 9 Apr 2006 23:34:45 +0900 JST"), None);
        assert_eq!(zone_name_offset("Thu, 9 Apr 2006 23:34:45 IST"), None);
    }

    #[test]
    fn canonical_dates_are_read_directly() {
        for v in [
            "Thu, 29 Apr 2016 23:34:45 +0900",
            "29 Apr 2016 23:34:45 -0500 (EST)",
            "Mon, 1 Jan 2024 00:00:00 +0000",
        ] {
            assert!(canonical_date(v).is_some(), "{v}");
            assert_eq!(
                parse_date(v),
                mail_parser::DateTime::parse_rfc822(v).map(|d| d.to_timestamp())
            );
        }
        assert_eq!(
            parse_date("Thu, 29 Apr 2016 23:34:45 +0900"),
            Some(1_461_940_485)
        );
        // Left to mail-parser: a two-digit year, a zone name, no seconds.
        for v in [
            "29 Apr 16 23:34:45 +0900",
            "29 Apr 2016 23:34:45 GMT",
            "29 Apr 2016 23:34 +0900",
        ] {
            assert!(canonical_date(v).is_none(), "{v}");
            assert!(parse_date(v).is_some(), "{v}");
        }
    }

    const SAMPLE: &str = "Reporting-MTA: dns; mx.example.jp\nArrival-Date: Thu, 29 Apr 2010 23:34:45 +0900 (JST)\n\nFinal-Recipient: rfc822; kijitora@example.jp\nOriginal-Recipient: rfc822;kijitora@example.jp\nAction: failed\nStatus: 5.1.1\nRemote-MTA: dns; mx.example.jp\nDiagnostic-Code: smtp; 550 5.1.1 <kijitora@example.jp>... User\n    Unknown\n\nFinal-Recipient: rfc822; neko@example.jp\nAction: delayed\nStatus: 4.4.7\n";

    #[test]
    fn a_recipient_repeated_in_a_row_is_one_record() {
        let one = "Final-Recipient: RFC822; <joem@example.com>\nAction: failed\nStatus: 5.1.1\n\n";
        let again = "Final-Recipient: RFC822; <joem@example.com>\nX-Actual-Recipient: RFC822; joem@example.com\nAction: failed\nStatus: 5.1.1\n\n";
        let (_, r) = parse(&format!(
            "Reporting-MTA: dns; example.com\n\n{one}{again}{again}"
        ));
        assert_eq!(r.len(), 1);
        // Apart, they are two deliveries.
        let other = "Final-Recipient: rfc822; neko@example.jp\nAction: failed\nStatus: 5.1.1\n\n";
        let (_, r) = parse(&format!("{one}{other}{again}"));
        assert_eq!(r.len(), 3);
    }

    #[test]
    fn parses_two_recipients() {
        let (m, r) = parse(SAMPLE);
        assert_eq!(m.reporting_mta, "mx.example.jp");
        assert!(m.arrival_date.is_some());
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].recipient, "kijitora@example.jp");
        assert_eq!(r[0].status, "5.1.1");
        assert_eq!(r[0].diagnostic_type, "SMTP");
        assert_eq!(
            r[0].diagnostic,
            "550 5.1.1 <kijitora@example.jp>... User Unknown"
        );
        assert_eq!(r[1].action, Some(Action::Delayed));
        assert!(looks_like_dsn(&format!("x\n{SAMPLE}")));
        assert!(!looks_like_dsn("Status: 5.1.1"));
        assert_eq!(r[0].category, None);
    }

    #[test]
    fn reads_powermta_categories() {
        let text = "Reporting-MTA: dns;example.net\n\nFinal-Recipient: rfc822;a@example.com\nAction: failed\nStatus: 5.0.0\nX-PowerMTA-BounceCategory: Bad-Mailbox\n\nFinal-Recipient: rfc822;b@example.com\nAction: failed\nStatus: 5.0.0\nX-PowerMTA-BounceCategory: other\n";
        let (_, r) = parse(text);
        assert_eq!(r[0].category, Some(Reason::UserUnknown));
        assert_eq!(r[1].category, None);
        // Through the whole engine: the hint decides only when nothing else does.
        let raw = format!(
            "From: MAILER-DAEMON@example.net\nSubject: Delivery failure\nContent-Type: multipart/report; report-type=delivery-status; boundary=b\n\n--b\nContent-Type: text/plain\n\nDelivery failed.\n--b\nContent-Type: message/delivery-status\n\n{text}--b--\n"
        );
        let got = crate::analyze(raw.as_bytes()).unwrap();
        assert_eq!(got[0].reason, Reason::UserUnknown);
    }
}
