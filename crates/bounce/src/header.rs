//! A header block read the way `mail-parser`'s `MessageStream::parse_headers`
//! reads it, but keeping only the fields the engine uses.
//!
//! `parse_headers` walks every field a byte at a time, maps its name through
//! a table, runs a parser for its value (or skips it) and stores a `Header`
//! for each. A bounce's header block is mostly `Received:`, `DKIM-Signature:`,
//! `ARC-*` and `X-*` fields that nothing reads, and each part of a report
//! has a few more. This reader finds where fields start and end with
//! `memchr`, compares names only against the few the engine reads, and runs
//! `mail-parser`'s own value parsers (`parse_content_type`, `parse_address`,
//! `parse_date`, `parse_unstructured`) on those alone, so their values are
//! exactly what `mail-parser` gives. It is written here, not taken from a
//! crate, for speed alone (see `docs/engine-speed.md`).
//!
//! What it keeps from `parse_headers`, quirk for quirk:
//! - between fields, white space is skipped and a line break ends the block
//!   (a line of only white space at a field's start, e.g. a stray `\r`);
//! - a field's name runs to the first colon after a character that is
//!   neither white space nor a colon; a line with no such colon is dropped;
//! - a name is matched without case and without the white space inside it
//!   (`Content - Type:` is `Content-Type`), as `mail-parser`'s name table is;
//! - a field ends at a line feed not followed by a space or a tab;
//! - when a field occurs twice, the last one counts (`GetHeader`'s rule).

use mail_parser::HeaderValue;
use mail_parser::parsers::MessageStream;
use std::ops::Range;

/// Which fields a block is read for.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Level {
    /// The message's own header block: the MIME fields, From, To,
    /// Subject, Date, the first `Received:` and the fields
    /// [`Fields::named`] is asked about.
    Top,
    /// A body part's header block: the MIME fields only.
    Part,
}

/// The fields of a header block that the engine reads.
#[derive(Default)]
pub(crate) struct Fields<'a> {
    /// `Content-Type:` as `mail-parser` parses it.
    pub content_type: Option<HeaderValue<'a>>,
    /// `Content-Disposition:` (parsed as a content type, as `mail-parser` does).
    pub disposition: Option<HeaderValue<'a>>,
    /// `Content-Transfer-Encoding:` as unstructured text.
    pub transfer_encoding: Option<HeaderValue<'a>>,
    /// `From:` (top level only).
    pub from: Option<HeaderValue<'a>>,
    /// `To:` (top level only).
    pub to: Option<HeaderValue<'a>>,
    /// `Subject:` (top level only).
    pub subject: Option<HeaderValue<'a>>,
    /// `Date:` (top level only).
    pub date: Option<HeaderValue<'a>>,
    /// The raw value of the first `Received:` (top level only).
    pub received: Option<Range<usize>>,
    /// Every other field at the top level: its name as written and where
    /// its raw value is (after the colon, to the end of its last line).
    pub others: Vec<(&'a [u8], Range<usize>)>,
    /// Whether the block holds any field at all.
    pub any: bool,
}

/// The fields the engine parses, by their names in `mail-parser`'s table.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Known {
    ContentType,
    ContentDisposition,
    ContentTransferEncoding,
    From,
    To,
    Subject,
    Date,
    Received,
}

impl Known {
    /// The field a name stands for, compared as `mail-parser` compares it:
    /// its characters other than white space, without case, at most 34.
    fn of(name: &[u8]) -> Option<Known> {
        const ALL: [(&[u8], Known); 8] = [
            (b"content-type", Known::ContentType),
            (b"content-disposition", Known::ContentDisposition),
            (b"content-transfer-encoding", Known::ContentTransferEncoding),
            (b"from", Known::From),
            (b"to", Known::To),
            (b"subject", Known::Subject),
            (b"date", Known::Date),
            (b"received", Known::Received),
        ];
        let find = |n: &[u8]| {
            ALL.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(n))
                .map(|&(_, known)| known)
        };
        if !name.iter().any(u8::is_ascii_whitespace) {
            return find(name);
        }
        // White space inside the name (rare): compare what is left.
        let mut compact = [0u8; 34];
        let mut len = 0;
        for &b in name.iter().filter(|b| !b.is_ascii_whitespace()) {
            *compact.get_mut(len)? = b;
            len += 1;
        }
        find(&compact[..len])
    }
}

/// Where a field that is not parsed ends (`parse_and_ignore`): after the
/// first line feed not followed by a space or a tab, or at the end.
fn skip_field(data: &[u8], mut at: usize) -> usize {
    loop {
        match memchr::memchr(b'\n', &data[at..]) {
            None => return data.len(),
            Some(i) => {
                at += i + 1;
                match data.get(at) {
                    Some(b' ' | b'\t') => at += 1,
                    _ => return at,
                }
            }
        }
    }
}

/// The next field's name from `at` (the first character that is not white
/// space), as `parse_header_name` reads it: `Ok((name, after the colon))`,
/// `Err(Some(next line))` for a line with no field name, `Err(None)` at the
/// end of the data with no name. A name cut off by the end of the data is
/// still a name (its value is empty): `Ok((name, data.len()))`.
fn name_at(data: &[u8], at: usize) -> Result<(&[u8], usize), Option<usize>> {
    // Where the name starts: the first character that is neither white
    // space nor a colon (colons before it are skipped).
    let mut start = None;
    let mut from = at;
    loop {
        let stop = memchr::memchr2(b':', b'\n', &data[from..]).map(|i| from + i);
        let run = &data[from..stop.unwrap_or(data.len())];
        start = start.or_else(|| {
            run.iter()
                .position(|b| !b.is_ascii_whitespace())
                .map(|p| from + p)
        });
        match (stop, start) {
            (None, Some(s)) => return Ok((data[s..].trim_ascii_end(), data.len())),
            (None, None) => return Err(None),
            (Some(i), _) if data[i] == b'\n' => return Err(Some(i + 1)),
            (Some(i), Some(s)) => return Ok((data[s..i].trim_ascii_end(), i + 1)),
            (Some(i), None) => from = i + 1,
        }
    }
}

/// Read the header block that starts at `at`: the fields the engine reads,
/// where the block ends (after its blank line, or at the end of the data)
/// and whether it ended with a blank line (`parse_headers`' result).
pub(crate) fn read<'a>(data: &'a [u8], mut at: usize, level: Level) -> (Fields<'a>, usize, bool) {
    let mut f = Fields::default();
    loop {
        // Between fields: white space is skipped; a line feed ends the block.
        loop {
            match data.get(at) {
                Some(b'\n') => return (f, at + 1, true),
                None => return (f, at, false),
                Some(b) if !b.is_ascii_whitespace() => break,
                Some(_) => at += 1,
            }
        }
        let (name, value) = match name_at(data, at) {
            Ok(found) => found,
            Err(Some(next)) => {
                at = next;
                continue;
            }
            Err(None) => return (f, data.len(), false),
        };
        f.any = true;
        let known = Known::of(name).filter(|k| {
            level == Level::Top
                || matches!(
                    k,
                    Known::ContentType | Known::ContentDisposition | Known::ContentTransferEncoding
                )
        });
        // A field parsed by `mail-parser`'s parser for it: the value is
        // kept (the last one counts) and the parser says where it ends.
        let parse = |slot: &mut Option<HeaderValue<'a>>,
                     how: fn(&mut MessageStream<'a>) -> HeaderValue<'a>| {
            let mut stream = MessageStream::new(data);
            stream.skip_bytes(value);
            *slot = Some(how(&mut stream));
            stream.offset()
        };
        at = match known {
            Some(Known::ContentType) => {
                parse(&mut f.content_type, MessageStream::parse_content_type)
            }
            Some(Known::ContentDisposition) => {
                parse(&mut f.disposition, MessageStream::parse_content_type)
            }
            Some(Known::ContentTransferEncoding) => {
                parse(&mut f.transfer_encoding, MessageStream::parse_unstructured)
            }
            Some(Known::From) => parse(&mut f.from, MessageStream::parse_address),
            Some(Known::To) => parse(&mut f.to, MessageStream::parse_address),
            Some(Known::Subject) => parse(&mut f.subject, MessageStream::parse_unstructured),
            Some(Known::Date) => parse(&mut f.date, MessageStream::parse_date),
            Some(Known::Received) => {
                let end = skip_field(data, value);
                f.received.get_or_insert(value..end);
                end
            }
            None => {
                let end = skip_field(data, value);
                if level == Level::Top {
                    f.others.push((name, value..end));
                }
                end
            }
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mail_parser::{GetHeader, Header, HeaderName, MessageParser};
    use proptest::prelude::*;

    /// `mail-parser`'s reading of the same block, with the same fields parsed.
    fn theirs(data: &[u8], at: usize, level: Level) -> (Vec<Header<'_>>, usize, bool) {
        let mut conf = MessageParser::new()
            .default_header_ignore()
            .header_content_type(HeaderName::ContentType)
            .header_content_type(HeaderName::ContentDisposition)
            .header_text(HeaderName::ContentTransferEncoding);
        if level == Level::Top {
            conf = conf
                .header_date(HeaderName::Date)
                .header_text(HeaderName::Subject)
                .header_address(HeaderName::From)
                .header_address(HeaderName::To);
        }
        let mut stream = MessageStream::new(data);
        stream.skip_bytes(at);
        let mut headers = Vec::new();
        let complete = stream.parse_headers(&conf, &mut headers);
        (headers, stream.offset(), complete)
    }

    /// Ours and theirs agree on every field the engine reads, on where the
    /// block ends and on whether it is complete.
    fn same(data: &[u8], at: usize, level: Level) {
        let (ours, end, complete) = read(data, at, level);
        let (headers, their_end, their_complete) = theirs(data, at, level);
        let shown = String::from_utf8_lossy(data);
        assert_eq!((end, complete), (their_end, their_complete), "{shown:?}");
        assert_eq!(ours.any, !headers.is_empty(), "{shown:?}");
        let value = |n: HeaderName<'_>| headers.header_value(&n).cloned();
        assert_eq!(
            ours.content_type,
            value(HeaderName::ContentType),
            "{shown:?}"
        );
        assert_eq!(
            ours.disposition,
            value(HeaderName::ContentDisposition),
            "{shown:?}"
        );
        assert_eq!(
            ours.transfer_encoding,
            value(HeaderName::ContentTransferEncoding),
            "{shown:?}"
        );
        if level == Level::Top {
            assert_eq!(ours.from, value(HeaderName::From), "{shown:?}");
            assert_eq!(ours.to, value(HeaderName::To), "{shown:?}");
            assert_eq!(ours.subject, value(HeaderName::Subject), "{shown:?}");
            assert_eq!(ours.date, value(HeaderName::Date), "{shown:?}");
            let raw = |h: &Header<'_>| h.offset_start as usize..h.offset_end as usize;
            let received = headers.iter().find(|h| h.name == HeaderName::Received);
            assert_eq!(ours.received, received.map(raw), "{shown:?}");
            // The other fields: a name `mail-parser` knows in lower case
            // (its `as_str` is the canonical spelling), any other as written.
            let compact = |n: &str| -> String {
                n.chars()
                    .filter(|c| !c.is_ascii_whitespace())
                    .collect::<String>()
                    .to_ascii_lowercase()
            };
            let others: Vec<(String, Range<usize>)> = headers
                .iter()
                .filter(|h| Known::of(h.name.as_str().as_bytes()).is_none())
                .map(|h| match &h.name {
                    HeaderName::Other(n) => (n.to_string(), raw(h)),
                    known => (known.as_str().to_ascii_lowercase(), raw(h)),
                })
                .collect();
            let mine: Vec<(String, Range<usize>)> = ours
                .others
                .iter()
                .map(|(n, r)| {
                    let n = String::from_utf8_lossy(n);
                    match HeaderName::parse(compact(&n)) {
                        Some(HeaderName::Other(_)) | None => (n.into_owned(), r.clone()),
                        Some(_) => (compact(&n), r.clone()),
                    }
                })
                .collect();
            assert_eq!(mine, others, "{shown:?}");
        }
    }

    #[test]
    fn reads_a_block_as_mail_parser_does() {
        let blocks: &[&str] = &[
            "From: a@example.jp\nTo: b@example.org, c@example.org\nSubject: =?UTF-8?B?w6k=?=\nDate: Thu, 1 Jan 2026 00:00:00 +0900\n\nbody",
            "Received: from a\n\tby b\nReceived: from c\nContent-Type: multipart/report;\n report-type=delivery-status;\n\tboundary=\"XX\"\n\n--XX\n",
            "X-Failed-Recipients: a@example.jp\nContent-Type: text/plain\nContent-Type: text/html\n\nbody",
            "Content - Type : text/plain; charset=iso-2022-jp\n\nbody",
            "::Content-Type: text/plain\n\nbody",
            ": X-Failed-Recipients: a@example.jp\n:\tX-Spasign : NG\nmessage - id: <a@b>\n\n",
            "no colon on this line\nSubject: still read\n\nbody",
            "Subject: a\n\r\nX-Not: a field\n\nbody",
            "Subject: a\n \nX-Field: b\n\nbody",
            "X-Cut-Off",
            "Content-Type: text/pl",
            "   \n",
            "",
            ":\n:: \nDate:\n\n",
            "Content-Disposition: attachment; filename=\"a.txt\"\nContent-Transfer-Encoding:  BASE64 \n\n",
            "A-Very-Long-Field-Name-That-Goes-On-And-On-And-On: x\nReceived: y\n\n",
        ];
        for b in blocks {
            same(b.as_bytes(), 0, Level::Top);
            same(b.as_bytes(), 0, Level::Part);
        }
        // From the middle of the data, as a part's headers are read.
        let data = b"--XX\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; a\n";
        same(data, 5, Level::Part);
    }

    #[test]
    fn keeps_the_first_received_and_the_other_fields_in_order() {
        let data = b"Received: from a\n by b\nX-A: 1\nReceived: from c\nx-a: 2\n\n";
        let (f, end, complete) = read(data, 0, Level::Top);
        assert!(complete);
        assert_eq!(end, data.len());
        assert_eq!(&data[f.received.unwrap()], b" from a\n by b\n");
        let others: Vec<_> = f
            .others
            .iter()
            .map(|(n, r)| (*n, &data[r.clone()]))
            .collect();
        assert_eq!(others, [(&b"X-A"[..], &b" 1\n"[..]), (b"x-a", b" 2\n")]);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4096))]
        /// Any block made of field-like lines, odd ones included, reads as
        /// `mail-parser` reads it.
        #[test]
        fn any_block_reads_as_mail_parser_does(
            lines in prop::collection::vec(
                prop_oneof![
                    Just("Content-Type: text/plain; charset=\"utf-8\"".to_string()),
                    Just("content-type:multipart/mixed; boundary=b".to_string()),
                    Just("Content-Disposition: inline; filename=x".to_string()),
                    Just("Content-Transfer-Encoding: quoted-printable".to_string()),
                    Just("From: \"A, B\" <a@example.jp>".to_string()),
                    Just("To: b@example.org".to_string()),
                    Just("Subject: =?ISO-2022-JP?B?GyRCJTUbKEI=?=".to_string()),
                    Just("Date: Mon, 2 Feb 2026 10:00:00 -0500".to_string()),
                    Just("Received: from x by y".to_string()),
                    Just("X-Failed-Recipients: c@example.net".to_string()),
                    Just(" folded continuation".to_string()),
                    Just("\tcontinued \"quoted".to_string()),
                    Just("".to_string()),
                    Just("\r".to_string()),
                    Just(" ".to_string()),
                    Just(":".to_string()),
                    "[ -~\t\r]{0,24}",
                ],
                0..12,
            ),
            end_with_newline in any::<bool>(),
        ) {
            let mut data = lines.join("\n");
            if end_with_newline {
                data.push('\n');
            }
            same(data.as_bytes(), 0, Level::Top);
            same(data.as_bytes(), 0, Level::Part);
        }
    }
}
