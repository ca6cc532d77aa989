//! Mangled input: truncated, binary, NUL bytes, huge header lines, deep
//! nesting, wrong charsets. The engine must never panic, must finish in
//! bounded time, and must say clearly when nothing could be read.

use outcry_bounce::{Error, Reason, analyze};
use proptest::prelude::*;
use std::time::{Duration, Instant};

const BOUNCE: &str = "From: MAILER-DAEMON@mx.example.jp\nTo: neko@example.org\nSubject: Undelivered Mail Returned to Sender\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\n\n--B\nContent-Type: text/plain\n\n<kijitora@example.jp>: host mx.example.jp[192.0.2.1] said: 550 5.1.1\n    <kijitora@example.jp>... User Unknown (in reply to RCPT TO command)\n\n--B\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.jp\n\nFinal-Recipient: rfc822; kijitora@example.jp\nAction: failed\nStatus: 5.1.1\nDiagnostic-Code: smtp; 550 5.1.1 <kijitora@example.jp>... User Unknown\n\n--B--\n";

/// Runs `analyze` and fails if it takes more than a generous bound (debug
/// builds on a 2-core CI machine); this is a guard against runaway
/// behaviour, not a speed measurement (see `bench/`).
fn timed(input: &[u8]) -> Result<Vec<outcry_bounce::Record>, Error> {
    let start = Instant::now();
    let out = analyze(input);
    assert!(
        start.elapsed() < Duration::from_secs(20),
        "took {:?} on {} bytes",
        start.elapsed(),
        input.len()
    );
    out
}

#[test]
fn the_intact_bounce_decodes() {
    let r = timed(BOUNCE.as_bytes()).unwrap();
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].reason, Reason::UserUnknown);
}

#[test]
fn every_truncation_is_safe() {
    let b = BOUNCE.as_bytes();
    for cut in 0..b.len() {
        let _ = timed(&b[..cut]);
    }
    // Cut inside the DSN part: the recipient is still found.
    let cut = BOUNCE.find("Action: failed").unwrap();
    let r = timed(&b[..cut]).unwrap();
    assert_eq!(
        r.first().map(|r| r.recipient.as_str()),
        Some("kijitora@example.jp")
    );
}

#[test]
fn nothing_readable_is_a_clear_error() {
    assert_eq!(analyze(b""), Err(Error::Empty));
    assert_eq!(analyze(b"\n\n  \r\n"), Err(Error::Empty));
    // Binary with no line structure, a picture's header, text that is
    // not mail, data files: each says which line is wrong and why.
    let binary: Vec<u8> = (0..4096u32).map(|i| (i * 7 % 251) as u8).collect();
    let cases: [(&[u8], usize, &str); 6] = [
        (&binary, 1, "\"\\0\\u{7}"),
        (b"\x00\x01\x02\x03", 1, "\"\\0\\u{1}\\u{2}\\u{3}\""),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", 1, "\"\u{fffd}PNG\""),
        (
            b"\n\ngarbage without headers\nmore: garbage",
            3,
            "\"garbage without headers\"",
        ),
        (b"{\n  \"story\": \"json\"\n}\n", 1, "\"{\""),
        (
            b"\"Id\",\"Received\"\r\n\"1\",\"2026-11-04T10:02:00Z\"\r\n",
            1,
            "\"\\\"Id\\\",",
        ),
    ];
    for (input, line, start) in cases {
        match analyze(input) {
            Err(e @ Error::NotAMessage { line: l, .. }) => {
                assert_eq!(l, line, "{e}");
                let msg = e.to_string();
                assert!(msg.starts_with("not an e-mail message: line"), "{msg}");
                assert!(msg.contains(start), "{msg} lacks {start}");
                assert!(msg.contains("check that this is a saved message"), "{msg}");
            }
            other => panic!(
                "{:?}: {other:?}",
                String::from_utf8_lossy(&input[..8.min(input.len())])
            ),
        }
    }
}

#[test]
fn a_message_may_start_oddly_and_still_be_read() {
    let with = |prefix: &str| [prefix.as_bytes(), BOUNCE.as_bytes()].concat();
    for prefix in [
        "\u{feff}",                                          // a byte-order mark
        "\n\n",                                              // blank lines
        " \r\r\t\r",                                         // blank lines, old Mac ends
        "From MAILER-DAEMON Thu Jan  1 00:00:00 2026\n",     // an mbox envelope line
        "Received : from mx.example.jp by mx.example.org\n", // white space before the colon
        "Ret\u{0}urn-Path: <>\n",                            // a damaged first field
    ] {
        let r = analyze(&with(prefix)).unwrap_or_else(|e| panic!("{prefix:?}: {e}"));
        assert_eq!(r.len(), 1, "{prefix:?}");
        assert_eq!(r[0].reason, Reason::UserUnknown, "{prefix:?}");
    }
    // A lone field after a byte-order mark is a message (not a bounce).
    assert_eq!(
        analyze("\u{feff}X-Note: hello\n\nhello".as_bytes()),
        Ok(vec![])
    );
    // Old Mac line ends and CRLF alike.
    for eol in ["\r", "\r\n"] {
        let r = analyze(BOUNCE.replace('\n', eol).as_bytes()).unwrap();
        assert_eq!(r.len(), 1, "{eol:?}");
    }
}

#[test]
fn nul_bytes_and_binary_bodies() {
    let mut b = BOUNCE.as_bytes().to_vec();
    let at = BOUNCE.find("Reporting-MTA").unwrap();
    b.splice(at..at, std::iter::repeat_n(0u8, 1000));
    let r = timed(&b).unwrap();
    assert_eq!(r[0].recipient, "kijitora@example.jp");
}

#[test]
fn a_ten_megabyte_header_line() {
    let mut s = String::from("X-Huge: ");
    s.push_str(&"a".repeat(10 << 20));
    s.push('\n');
    s.push_str(BOUNCE);
    let r = timed(s.as_bytes()).unwrap();
    assert_eq!(r.len(), 1);
}

#[test]
fn a_ten_megabyte_body_line() {
    let mut s = BOUNCE.replace("--B--\n", "");
    s.push_str("--B\nContent-Type: text/plain\n\n");
    s.push_str(&"x@y.example ".repeat(1 << 20));
    s.push_str("\n--B--\n");
    let _ = timed(s.as_bytes()).unwrap();
}

#[test]
fn a_hundred_nested_messages() {
    let mut s = BOUNCE.to_string();
    for i in 0..100 {
        s = format!(
            "From: a{i}@example.org\nTo: b@example.org\nSubject: fwd\nContent-Type: multipart/mixed; boundary=\"N{i}\"\n\n--N{i}\nContent-Type: message/rfc822\n\n{s}\n--N{i}--\n"
        );
    }
    let _ = timed(s.as_bytes()).unwrap();
}

#[test]
fn wrong_and_unknown_charsets() {
    for cs in [
        "uft-8",
        "x-unknown",
        "iso-2022-jp",
        "shift_jis",
        "utf-7",
        "windows-1252",
        "",
    ] {
        let s = BOUNCE.replace(
            "Content-Type: text/plain",
            &format!("Content-Type: text/plain; charset={cs}"),
        );
        let r = timed(s.as_bytes()).unwrap();
        assert_eq!(r[0].recipient, "kijitora@example.jp", "charset {cs}");
    }
    // Bytes that are not valid in the declared charset.
    let s = BOUNCE.replace("User Unknown (in", "User Unknown \u{fffd}\u{1} (in");
    let mut b = s.into_bytes();
    b.extend_from_slice(&[0xff, 0xfe, 0xc3]);
    let _ = timed(&b).unwrap();
}

#[test]
fn not_a_bounce_gives_nothing() {
    let r = timed(b"From: a@example.org\nTo: b@example.org\nSubject: lunch\n\nLunch at noon? Write to c@example.org\n").unwrap();
    assert!(r.is_empty());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        let _ = analyze(&bytes);
    }

    #[test]
    fn never_panics_on_mutated_bounces(pos in 0usize..1500, len in 0usize..64, fill in any::<u8>()) {
        let mut b = BOUNCE.as_bytes().to_vec();
        let pos = pos.min(b.len());
        let end = (pos + len).min(b.len());
        for x in &mut b[pos..end] {
            *x = fill;
        }
        let _ = analyze(&b);
    }
}

#[test]
fn a_huge_returned_message_is_not_parsed_below_its_headers() {
    // A "message too big" bounce returning a 20 MB original.
    let mut s = BOUNCE.replace("--B--\n", "");
    s.push_str("--B\nContent-Type: message/rfc822\n\nFrom: neko@example.org\nTo: kijitora@example.jp\nSubject: big\nContent-Type: application/pdf\nContent-Transfer-Encoding: base64\n\n");
    let line = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0\n";
    for _ in 0..(20 << 20) / line.len() {
        s.push_str(line);
    }
    s.push_str("--B--\n");
    let r = timed(s.as_bytes()).unwrap();
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].recipient, "kijitora@example.jp");
    assert_eq!(
        r[0].sender, "neko@example.org",
        "the original's headers are still read"
    );
}

#[test]
fn thousands_of_internationalised_recipients() {
    // Two things were quadratic in the number of recipients a notice names:
    // finding an address's earlier block (a list search per address), and
    // swapping each internationalised address for an ASCII stand-in (a pass
    // over the text per address). 30,000 took minutes; now about a second
    // in a debug build.
    let mut raw = String::from(
        "From: MAILER-DAEMON@mx.sender.example\nTo: owner@sender.example\nSubject: failure notice\n\n\
Hi. This is the qmail-send program at mx.sender.example.\n\
I'm afraid I wasn't able to deliver your message to the following addresses.\n\n",
    );
    let n = 30_000;
    for i in 0..n {
        raw.push_str(&format!(
            "<josé{i}@exämple.com>:\n192.0.2.1 does not like recipient.\n\
Remote host said: 550 5.1.1 <josé{i}@exämple.com>... User unknown\n\n"
        ));
    }
    let r = timed(raw.as_bytes()).unwrap();
    assert_eq!(r.len(), n);
    assert_eq!(r[1234].recipient, "josé1234@exämple.com");
    assert!(r.iter().all(|r| r.reason == Reason::UserUnknown));
}

#[test]
fn an_exim_notice_naming_thousands_of_failed_recipients() {
    // X-Failed-Recipients matched against the text's recipients: a list
    // search per address made this quadratic too.
    let n = 30_000;
    let named: Vec<String> = (0..n).map(|i| format!("u{i}@example.com")).collect();
    let mut raw = format!(
        "From: Mail Delivery System <Mailer-Daemon@mx.sender.example>\nTo: owner@sender.example\n\
Subject: Mail delivery failed: returning message to sender\nX-Failed-Recipients: {}\n\n\
This message was created automatically by mail delivery software.\n\n\
A message that you sent could not be delivered to one or more of its\n\
recipients. This is a permanent error. The following address(es) failed:\n\n",
        named.join(", ")
    );
    for a in &named {
        raw.push_str(&format!(
            "  {a}\n    SMTP error from remote mail server after RCPT TO:<{a}>:\n    550 5.1.1 User unknown\n"
        ));
    }
    let r = timed(raw.as_bytes()).unwrap();
    assert_eq!(r.len(), n);
    assert_eq!(r[n - 1].recipient, named[n - 1]);
    assert!(r.iter().all(|r| r.reason == Reason::UserUnknown));
}

#[test]
fn a_diagnostic_naming_one_blocklist_a_hundred_thousand_times() {
    // Each rule table reads its matches from one scan of the diagnostic;
    // reading them one after another by a look through all of them at
    // each step made this quadratic.
    let names = "blocked using zen.spamhaus.org; ".repeat(100_000);
    let raw = format!(
        "From: MAILER-DAEMON@mx.sender.example\nTo: owner@sender.example\n\
Subject: Undelivered Mail Returned to Sender\n\
Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\n\n\
--B\nContent-Type: text/plain\n\nYour message could not be delivered.\n\
--B\nContent-Type: message/delivery-status\n\n\
Reporting-MTA: dns; mx.sender.example\n\n\
Final-Recipient: rfc822; kijitora@example.jp\nAction: failed\nStatus: 5.7.1\n\
Diagnostic-Code: smtp; 554 5.7.1 {names}\n--B--\n"
    );
    let r = timed(raw.as_bytes()).unwrap();
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].reason, Reason::Blocked);
    assert_eq!(r[0].blocklist, Some(outcry_bounce::Blocklist::Spamhaus));
}

#[test]
fn a_received_field_of_a_hundred_thousand_addresses() {
    // The sending IP is chosen among a `Received:` field's addresses by
    // the parentheses around each; counting them from the field's start
    // for every address made this quadratic (90 s for 300,000).
    let field = format!("Received: from x {}\n", "203.0.113.9 ".repeat(100_000));
    let raw = format!(
        "From: MAILER-DAEMON@mx.sender.example\nTo: owner@sender.example\n\
Subject: Undelivered Mail Returned to Sender\n\
Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\n\n\
--B\nContent-Type: message/delivery-status\n\n\
Reporting-MTA: dns; mx.sender.example\n\n\
Final-Recipient: rfc822; kijitora@example.jp\nAction: failed\nStatus: 5.1.1\n\n\
--B\nContent-Type: text/rfc822-headers\n\n{field}From: owner@sender.example\n\n--B--\n"
    );
    let r = timed(raw.as_bytes()).unwrap();
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].sending_ip, "203.0.113.9".parse().ok());
}
