//! A lazy walk over a message's MIME structure.
//!
//! `mail-parser`'s `MessageParser::parse` builds a whole `Message`: every
//! header of every part is parsed and every body decoded, the returned
//! original message included (its `Received:` lines, its attachments). The
//! engine reads a fraction of that: the bounce's own headers, its text and
//! report parts, and the returned message as raw bytes. This walk follows
//! `mail-parser`'s own parse loop (same primitives: `MessageStream`'s
//! boundary search and transfer decoders, its value parsers for the header
//! fields read, same quirks, e.g. a boundary is found wherever `--boundary`
//! occurs), but it
//! - reads each header block with [`crate::header::read`], which finds
//!   fields as `parse_headers` does but parses only the few read,
//! - keeps an attached `message/rfc822` as a byte range instead of parsing
//!   it (it ends where the enclosing part's boundary is),
//! - skips the bodies of parts nothing reads (images, archives, PDFs), and
//! - leaves HTML parts undecoded until asked for (the text part is read
//!   when there is one).
//!
//! It is written here, not taken from a crate, for speed alone: this was a
//! third of the engine's instructions (see `docs/engine-speed.md`).

use crate::find::Needle;
use crate::header::{Fields, Level};
use mail_parser::decoders::charsets::map::charset_decoder;
use mail_parser::parsers::MessageStream;
use mail_parser::{ContentType, Encoding, HeaderValue};
use std::borrow::Cow;

/// What a leaf part holds, decoded as far as the engine needs.
#[derive(Debug)]
pub(crate) enum Body<'a> {
    /// A text part, transfer- and charset-decoded.
    Text(Cow<'a, str>),
    /// A `text/html` part, not decoded yet: see [`Leaf::html`].
    Html,
    /// Any other part the engine may read, transfer-decoded.
    Bytes(Cow<'a, [u8]>),
    /// An attached message, whole (headers and body), transfer-decoded.
    Message(Cow<'a, [u8]>),
    /// A part nothing reads (an image, an archive): not decoded.
    Skipped,
}

/// One leaf part of the message, in document order.
#[derive(Debug)]
pub(crate) struct Leaf<'a> {
    /// Media type, lower-case (`text`, `message`); `text` when undeclared.
    pub ctype: String,
    /// Media subtype, lower-case (`plain`, `delivery-status`).
    pub subtype: String,
    /// Whether the part names a file (`filename=` or `name=`).
    pub named: bool,
    /// The declared transfer encoding (`None` after an encoding problem).
    pub encoding: Encoding,
    /// The raw body bytes, before any decoding.
    pub raw: &'a [u8],
    /// The `charset` parameter, when given.
    charset: Option<String>,
    /// The content.
    pub body: Body<'a>,
}

impl Leaf<'_> {
    /// The text of an HTML part, decoded now. `None` for other parts.
    pub fn html(&self) -> Option<String> {
        if !matches!(self.body, Body::Html) {
            return None;
        }
        let mut stream = MessageStream::new(self.raw);
        let (end, bytes) = decoder(self.encoding)(&mut stream, b"");
        // A body that does not decode is read as it is (as `mail-parser` does).
        let bytes = if end == usize::MAX {
            Cow::Borrowed(self.raw)
        } else {
            bytes
        };
        Some(charset_text(bytes, self.charset.as_deref()).into_owned())
    }
}

/// The top-level header fields and the leaf parts of a message.
pub(crate) struct Walk<'a> {
    /// The message's own header fields that the engine reads.
    pub headers: Fields<'a>,
    /// Leaf parts in document order (multipart containers left out).
    pub leaves: Vec<Leaf<'a>>,
}

/// How a part is treated, from its `Content-Type` and its parent's.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Multipart,
    Digest,
    TextPlain,
    TextHtml,
    TextOther,
    Message,
    Other,
}

/// `mail-parser`'s classification of a part (`parsers::message::mime_type`).
fn kind(ct: Option<&ContentType<'_>>, parent: Kind) -> Kind {
    match ct {
        Some(ct) => match (ct.ctype(), ct.subtype()) {
            ("multipart", Some("digest")) => Kind::Digest,
            ("multipart", _) => Kind::Multipart,
            ("text", Some("plain")) => Kind::TextPlain,
            ("text", Some("html")) => Kind::TextHtml,
            ("text", _) => Kind::TextOther,
            ("message", Some("rfc822" | "global")) => Kind::Message,
            _ => Kind::Other,
        },
        None if parent == Kind::Digest => Kind::Message,
        None => Kind::TextPlain,
    }
}

type Decoder<'a> = fn(&mut MessageStream<'a>, &[u8]) -> (usize, Cow<'a, [u8]>);

/// Quoted-printable decoding of a whole body, byte for byte what
/// `MessageStream::decode_quoted_printable_mime` gives with no boundary
/// (`None` where it fails: a `=` right after a `=` or its first hex digit),
/// but copying the runs between `=`, CR and LF at once instead of a byte at
/// a time: the HTML of an Exchange or AOL notice is tens of kilobytes.
fn quoted_printable(src: &[u8]) -> Option<(Vec<u8>, bool)> {
    /// Where the decoder is: in text, after `=`, after `=` and a hex digit.
    #[derive(Clone, Copy)]
    enum At {
        Text,
        Equals,
        Digit(u8),
    }
    fn hex(c: u8) -> Option<u8> {
        (c as char).to_digit(16).map(|d| d as u8)
    }
    let mut buf = Vec::with_capacity(src.len());
    // A hard line break is LF until the first CR, CRLF from then on.
    let mut cr_seen = false;
    // Whitespace copied as is since the last other byte: it is dropped
    // before a hard line break (decoded bytes do not count).
    let mut ws = 0usize;
    let mut at = At::Text;
    let mut i = 0;
    while i < src.len() {
        if let At::Text = at {
            let end = memchr::memchr3(b'=', b'\n', b'\r', &src[i..]).map_or(src.len(), |k| i + k);
            if end > i {
                let run = &src[i..end];
                buf.extend_from_slice(run);
                let trailing = run
                    .iter()
                    .rev()
                    .take_while(|c| c.is_ascii_whitespace())
                    .count();
                ws = if trailing == run.len() {
                    ws + trailing
                } else {
                    trailing
                };
                i = end;
                continue;
            }
        }
        let c = src[i];
        i += 1;
        match (at, c) {
            (At::Text, b'=') => at = At::Equals,
            (_, b'=') => return None,
            (_, b'\r') => cr_seen = true,
            // A soft line break.
            (At::Equals, b'\n') => {
                at = At::Text;
                ws = 0;
            }
            // A hard one (also between an escape's two digits).
            (_, b'\n') => {
                buf.truncate(buf.len() - ws);
                buf.extend_from_slice(if cr_seen { b"\r\n" } else { b"\n" });
                ws = 0;
            }
            (At::Equals, c) => match hex(c) {
                Some(high) => at = At::Digit(high),
                None if c.is_ascii_whitespace() => {}
                None => {
                    buf.extend_from_slice(&[b'=', c]);
                    ws = 0;
                    at = At::Text;
                }
            },
            (At::Digit(high), c) => {
                match hex(c) {
                    Some(low) => buf.push(high << 4 | low),
                    // '=', the byte before this one, this one.
                    None => buf.extend_from_slice(&[b'=', src[i - 2], c]),
                }
                ws = 0;
                at = At::Text;
            }
            (At::Text, c) => {
                buf.push(c);
                ws = if c.is_ascii_whitespace() { ws + 1 } else { 0 };
            }
        }
    }
    Some((buf, cr_seen))
}

/// `MessageStream::decode_quoted_printable_mime` with [`quoted_printable`]:
/// the same end offset, bytes and stream position, boundary or none (its
/// quirks included: the part ends at the first `--boundary`, wherever it
/// is, and the line break before it is dropped).
fn decode_qp<'a>(stream: &mut MessageStream<'a>, boundary: &[u8]) -> (usize, Cow<'a, [u8]>) {
    let start = stream.offset();
    let rest = stream.bytes(start..stream.len());
    let failed = (usize::MAX, Cow::Borrowed(&b""[..]));
    if boundary.is_empty() {
        let Some((buf, _)) = quoted_printable(rest) else {
            return failed;
        };
        stream.skip_bytes(rest.len());
        return (stream.offset(), Cow::Owned(buf));
    }
    let Some(next) = next_boundary(rest, boundary) else {
        // No boundary: a failure, with what was decoded (as mail-parser).
        return quoted_printable(rest).map_or(failed, |(buf, _)| (usize::MAX, Cow::Owned(buf)));
    };
    // Decoded up to and with the boundary's first '-', as mail-parser
    // does before it sees the second, then that '-' (and the line break
    // before it) taken back.
    let Some((mut buf, cr_seen)) = quoted_printable(&rest[..=next.at]) else {
        return failed;
    };
    // (The part ends before the boundary when the boundary starts a line.)
    let take_back = if next.end < next.at {
        1 + 1 + usize::from(cr_seen)
    } else {
        1
    };
    if let Some(keep) = buf.len().checked_sub(take_back) {
        buf.truncate(keep);
    }
    stream.skip_bytes(next.after);
    (start + next.end, Cow::Owned(buf))
}

/// The next `--boundary` in `rest`, found wherever it is (as mail-parser
/// finds it, not only at the start of a line).
struct NextBoundary {
    /// Where its `--` starts.
    at: usize,
    /// Where the part before it ends: before the line break that precedes
    /// the `--`, or at the `--` when it is not at the start of a line.
    end: usize,
    /// Just after the boundary.
    after: usize,
}

fn next_boundary(rest: &[u8], boundary: &[u8]) -> Option<NextBoundary> {
    thread_local! {
        /// The searcher for the last boundary looked for: a message's parts
        /// all end at the same one. (A `memmem` searcher for a whole
        /// boundary of the usual 30-70 bytes costs about 2,700 instructions
        /// to build, more than the search through a short part: see
        /// [`Needle`].)
        static LAST: std::cell::RefCell<Option<Needle<'static>>> =
            const { std::cell::RefCell::new(None) };
    }
    let needle_len = boundary.len() + 2;
    let at = LAST.with_borrow_mut(|last| {
        let reuse = last
            .as_ref()
            .is_some_and(|s| s.bytes().strip_prefix(b"--") == Some(boundary));
        if !reuse {
            let mut needle = Vec::with_capacity(needle_len);
            needle.extend_from_slice(b"--");
            needle.extend_from_slice(boundary);
            *last = Some(Needle::new(needle));
        }
        last.as_ref().and_then(|s| s.find(rest))
    })?;
    let end = if at > 0 && rest[at - 1] == b'\n' {
        if at >= 2 && rest[at - 2] == b'\r' {
            at - 2
        } else {
            at - 1
        }
    } else {
        at
    };
    Some(NextBoundary {
        at,
        end,
        after: at + needle_len,
    })
}

/// `MessageStream::mime_part` (a part with no transfer encoding) with
/// [`next_boundary`]'s `memchr::memmem` search instead of a byte-at-a-time
/// walk: the same end offset, bytes and stream position. Without a
/// boundary the part runs to the end; with one that never comes, the end
/// is `usize::MAX` and the stream stays where it was.
fn plain_part<'a>(stream: &mut MessageStream<'a>, boundary: &[u8]) -> (usize, Cow<'a, [u8]>) {
    let start = stream.offset();
    let rest = stream.bytes(start..stream.len());
    if boundary.is_empty() {
        stream.skip_bytes(rest.len());
        return (stream.offset(), Cow::Borrowed(rest));
    }
    match next_boundary(rest, boundary) {
        Some(next) => {
            stream.skip_bytes(next.after);
            (start + next.end, Cow::Borrowed(&rest[..next.end]))
        }
        None => (usize::MAX, Cow::Borrowed(rest)),
    }
}

fn decoder<'a>(encoding: Encoding) -> Decoder<'a> {
    match encoding {
        Encoding::Base64 => MessageStream::decode_base64_mime,
        Encoding::QuotedPrintable => decode_qp as Decoder<'a>,
        Encoding::None => plain_part as Decoder<'a>,
    }
}

/// Bytes as text in the declared charset; UTF-8 (invalid bytes replaced)
/// when none is declared or the charset is unknown.
fn charset_text<'a>(bytes: Cow<'a, [u8]>, charset: Option<&str>) -> Cow<'a, str> {
    // Plain ASCII in a charset that is a superset of it reads as it is: no
    // table lookups for the Windows-1252 text of every Exchange notice.
    let as_is = bytes.is_ascii() && charset.is_none_or(ascii_superset);
    if !as_is && let Some(decode) = charset.and_then(|c| charset_decoder(c.as_bytes())) {
        return Cow::Owned(decode(&bytes));
    }
    match bytes {
        Cow::Borrowed(b) => match std::str::from_utf8(b) {
            Ok(s) => Cow::Borrowed(s),
            Err(_) => String::from_utf8_lossy(b),
        },
        Cow::Owned(v) => Cow::Owned(
            String::from_utf8(v).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into()),
        ),
    }
}

/// Charsets whose first 128 code points are ASCII's (a test holds
/// `mail-parser`'s decoders to it).
const ASCII_SUPERSETS: &[&str] = &[
    "us-ascii",
    "ascii",
    "utf-8",
    "utf8",
    "iso-8859-",
    "windows-125",
    "cp125",
];

fn ascii_superset(charset: &str) -> bool {
    let c = charset.trim().as_bytes();
    ASCII_SUPERSETS.iter().any(|p| {
        let p = p.as_bytes();
        c.len() >= p.len()
            && c[..p.len()].eq_ignore_ascii_case(p)
            && (p.ends_with(b"-") || p.ends_with(b"125") || c.len() == p.len())
    })
}

/// Whether the engine reads a part that is neither text nor a message:
/// report parts, and a multipart whose boundary is missing.
fn read_anyway(ct: &str, sub: &str) -> bool {
    sub.contains("delivery-status")
        || sub.contains("feedback-report")
        || crate::message::returned_headers(sub)
        || ct == "multipart"
}

/// Walk a message. `None` when it has no header block at all.
pub(crate) fn walk(data: &[u8]) -> Option<Walk<'_>> {
    let mut stream = MessageStream::new(data);
    let mut top: Option<Fields<'_>> = None;
    let mut leaves = Vec::new();
    // The enclosing multiparts: (boundary, kind) of each, innermost last.
    let mut stack: Vec<(Option<Vec<u8>>, Kind)> = Vec::new();
    let (mut boundary, mut parent): (Option<Vec<u8>>, Kind) = (None, Kind::Message);

    'outer: loop {
        let level = if top.is_none() {
            Level::Top
        } else {
            Level::Part
        };
        let (part_headers, end, complete) = crate::header::read(data, stream.offset(), level);
        stream.skip_bytes(end - stream.offset());
        let headers: &Fields<'_> = match top {
            None => top.insert(part_headers),
            Some(_) => &part_headers,
        };
        if !complete {
            break;
        }
        let body_start = stream.offset();
        let ct = headers
            .content_type
            .as_ref()
            .and_then(HeaderValue::as_content_type);
        let mut k = kind(ct, parent);
        if matches!(k, Kind::Multipart | Kind::Digest)
            && let Some(b) = ct.and_then(|c| c.attribute("boundary"))
        {
            if stream.seek_next_part(b.as_bytes()) {
                stack.push((boundary.take(), parent));
                boundary = Some(b.as_bytes().to_vec());
                parent = k;
                stream.skip_crlf();
                continue;
            }
            // A multipart whose first boundary never comes is text.
            k = Kind::TextOther;
        }
        let (ctype, subtype) = ct.map_or_else(
            || ("text".to_string(), "plain".to_string()),
            |c| {
                (
                    c.ctype().to_ascii_lowercase(),
                    c.subtype().unwrap_or("").to_ascii_lowercase(),
                )
            },
        );
        let named = headers
            .disposition
            .as_ref()
            .and_then(HeaderValue::as_content_type)
            .and_then(|d| d.attribute("filename"))
            .or_else(|| ct.and_then(|c| c.attribute("name")))
            .is_some();
        let mut encoding = match &headers.transfer_encoding {
            Some(HeaderValue::Text(e)) if e.eq_ignore_ascii_case("base64") => Encoding::Base64,
            Some(HeaderValue::Text(e)) if e.eq_ignore_ascii_case("quoted-printable") => {
                Encoding::QuotedPrintable
            }
            _ => Encoding::None,
        };
        let charset = ct.and_then(|c| c.attribute("charset")).map(str::to_string);
        let b = boundary.as_deref().unwrap_or(b"");
        // The part's raw bytes, up to where it ends.
        let span = |end: usize| &data[body_start..end.clamp(body_start, data.len())];

        let lazy = k == Kind::TextHtml
            || (k == Kind::Other && !read_anyway(&ctype, &subtype))
            || (k == Kind::Message && encoding == Encoding::None);
        let (raw, body) = if lazy {
            // Find the end without decoding.
            let (end, found) = seek_part_end(&mut stream, data, boundary.as_deref());
            if !found {
                boundary = None;
            }
            let raw = span(end);
            let body = match k {
                Kind::Message if raw.iter().all(u8::is_ascii_whitespace) => Body::Skipped,
                Kind::Message => Body::Message(Cow::Borrowed(raw)),
                // Its boundary never comes: `mail-parser` would fail to
                // decode it and keep the bytes as text.
                _ if !found => {
                    encoding = Encoding::None;
                    Body::Text(charset_text(Cow::Borrowed(raw), charset.as_deref()))
                }
                Kind::TextHtml => Body::Html,
                _ => Body::Skipped,
            };
            (raw, body)
        } else {
            let (mut end, mut bytes) = decoder(encoding)(&mut stream, b);
            if end == usize::MAX {
                // A body that does not decode, or whose boundary never comes:
                // read it as it is, as text.
                encoding = Encoding::None;
                k = Kind::TextOther;
                let found;
                (end, found) = seek_part_end(&mut stream, data, boundary.as_deref());
                if !found {
                    boundary = None;
                }
                bytes = Cow::Borrowed(span(end));
            }
            let body = match k {
                Kind::TextPlain | Kind::TextOther => {
                    Body::Text(charset_text(bytes, charset.as_deref()))
                }
                Kind::Message if has_headers(&bytes) => Body::Message(bytes),
                _ => Body::Bytes(bytes),
            };
            (span(end), body)
        };
        leaves.push(Leaf {
            ctype,
            subtype,
            named,
            encoding,
            raw,
            charset,
            body,
        });

        if boundary.is_some() {
            loop {
                if !stream.is_multipart_end() {
                    continue 'outer; // the next part's headers follow
                }
                // The end of this multipart: back to the enclosing one.
                let Some((outer, outer_kind)) = stack.pop() else {
                    break 'outer;
                };
                boundary = outer;
                parent = outer_kind;
                match boundary.as_deref() {
                    Some(ob) if stream.seek_next_part_offset(ob).is_some() => {}
                    _ => break 'outer,
                }
            }
        } else if stream.offset() >= data.len() {
            break;
        }
    }
    let headers = top?;
    headers.any.then_some(Walk { headers, leaves })
}

/// Whether decoded bytes start with a header block `mail-parser` can read
/// (an encoded attached message that is not one is left alone).
fn has_headers(bytes: &[u8]) -> bool {
    let (fields, _, complete) = crate::header::read(bytes, 0, Level::Part);
    complete || fields.any
}

/// `MessageStream::seek_part_end` with `memchr::memmem` instead of a
/// byte-at-a-time walk: the end of the current part (before the newline
/// that precedes `--boundary`, or where `--boundary` starts when it is
/// not at the start of a line) and whether the boundary was found. The
/// stream is left after the boundary, or at the end of the data.
fn seek_part_end(
    stream: &mut MessageStream<'_>,
    data: &[u8],
    boundary: Option<&[u8]>,
) -> (usize, bool) {
    let start = stream.offset();
    let Some(next) = boundary.and_then(|b| next_boundary(&data[start..], b)) else {
        stream.skip_bytes(data.len() - start);
        return (data.len(), boundary.is_none());
    };
    stream.skip_bytes(next.after);
    (start + next.end, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaves(raw: &str) -> Vec<Leaf<'_>> {
        walk(raw.as_bytes()).expect("a message").leaves
    }

    const REPORT: &str = "From: MAILER-DAEMON@mx.example.jp\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\n\n--B\nContent-Type: text/plain\n\nUndelivered.\n--B\nContent-Type: message/delivery-status\n\nFinal-Recipient: rfc822; a@example.jp\nStatus: 5.1.1\n--B\nContent-Type: message/rfc822\n\nFrom: owner@example.org\nContent-Type: multipart/mixed; boundary=\"I\"\n\n--I\nContent-Type: image/png\nContent-Transfer-Encoding: base64\n\niVBORw0KGgo=\n--I--\n\n--B--\n";

    #[test]
    fn an_attached_message_is_kept_whole_and_not_parsed() {
        let l = leaves(REPORT);
        assert_eq!(l.len(), 3, "{l:?}");
        assert!(matches!(&l[0].body, Body::Text(t) if t == "Undelivered."));
        assert!(matches!(&l[1].body, Body::Bytes(b) if b.starts_with(b"Final-Recipient")));
        assert_eq!(l[1].subtype, "delivery-status");
        let Body::Message(m) = &l[2].body else {
            panic!("{:?}", l[2].body)
        };
        let m = std::str::from_utf8(m).unwrap();
        assert!(m.starts_with("From: owner@example.org\n"), "{m}");
        // It ends where the report's own boundary is, its parts inside it.
        assert!(m.ends_with("--I--\n"), "{m:?}");
    }

    #[test]
    fn an_attached_message_cut_short_keeps_its_headers() {
        // No blank line after the returned headers, no closing boundary:
        // `mail-parser` reads this as text; it is the original's header block.
        let raw = "From: MAILER-DAEMON@mx.example.jp\nContent-Type: multipart/report; boundary=\"B\"\n\n--B\nContent-Type: text/plain\n\nUndelivered.\n--B\nContent-Type: message/rfc822\n\nMessage-ID: <1@example.org>\nFrom: owner@example.org";
        let l = leaves(raw);
        assert!(
            matches!(&l[1].body, Body::Message(m) if m.starts_with(b"Message-ID: <1@example.org>")),
            "{l:?}"
        );
    }

    #[test]
    fn html_is_decoded_when_asked_for() {
        let raw = "From: a@example.jp\nContent-Type: multipart/alternative; boundary=\"A\"\n\n--A\nContent-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n<p>caf=C3=A9 5.1.1</p>\n--A--\n";
        let l = leaves(raw);
        assert!(matches!(l[0].body, Body::Html));
        assert_eq!(l[0].html().as_deref(), Some("<p>caf\u{e9} 5.1.1</p>"));
        assert_eq!(leaves(REPORT)[0].html(), None);
    }

    #[test]
    fn the_next_boundary_is_found_whichever_boundary_was_looked_for_last() {
        // The searcher kept from the last call must not be reused for
        // another boundary, even one that starts the same way.
        let text = b"a\n--inn\nb\n--inner\nc\r\n--outer--\n";
        for _ in 0..2 {
            for (boundary, at, end) in [
                (&b"outer"[..], 21, 19),
                (b"inner", 10, 9),
                (b"inn", 2, 1),
                (b"outer", 21, 19),
            ] {
                let next = next_boundary(text, boundary).expect("found");
                assert_eq!((next.at, next.end), (at, end), "{boundary:?}");
                assert_eq!(next.after, at + 2 + boundary.len());
            }
        }
        assert!(next_boundary(text, b"other").is_none());
        assert!(next_boundary(b"no boundary here", b"outer").is_none());
    }

    #[test]
    fn unread_parts_are_skipped_and_a_part_whose_boundary_never_comes_is_text() {
        let raw = "From: a@example.jp\nContent-Type: multipart/mixed; boundary=\"M\"\n\n--M\nContent-Type: application/pdf\nContent-Transfer-Encoding: base64\n\nJVBERi0=\n--M\nContent-Type: text/html\n\n<p>The boundary is lost</p>\n";
        let l = leaves(raw);
        assert!(matches!(l[0].body, Body::Skipped), "{l:?}");
        assert!(
            matches!(&l[1].body, Body::Text(t) if t.contains("The boundary is lost")),
            "{l:?}"
        );
    }

    fn theirs(src: &[u8]) -> Option<(Vec<u8>, bool)> {
        let (end, bytes) = MessageStream::new(src).decode_quoted_printable_mime(b"");
        (end != usize::MAX).then(|| (bytes.into_owned(), src.contains(&b'\r')))
    }

    /// Both decoders over `src` from `from` with `boundary`: end offset,
    /// bytes and where the stream is left. `mail-parser`'s is `None` where
    /// it panics: with overflow checks on (debug builds, as CI tests), its
    /// `buf.len() - (crlf.len() + 1)` underflows when a soft line break
    /// comes right before the boundary; a release build wraps, and the
    /// truncation does nothing, as ours does.
    type Decoded = (usize, Vec<u8>, usize);
    fn both(src: &[u8], from: usize, boundary: &[u8]) -> (Decoded, Option<Decoded>) {
        let theirs = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            run(
                src,
                from,
                boundary,
                MessageStream::decode_quoted_printable_mime,
            )
        }))
        .ok();
        (run(src, from, boundary, decode_qp), theirs)
    }

    /// One part decoder over `src` from `from` with `boundary`: end offset,
    /// bytes and where the stream is left.
    fn run<'a>(src: &'a [u8], from: usize, boundary: &[u8], decode: Decoder<'a>) -> Decoded {
        let mut stream = MessageStream::new(src);
        stream.skip_bytes(from.min(src.len()));
        let (end, bytes) = decode(&mut stream, boundary);
        (end, bytes.into_owned(), stream.offset())
    }

    #[test]
    fn quoted_printable_decodes_as_mail_parser_does() {
        for src in [
            "caf=C3=A9 =\nsoft break=20\nhard  \n=3d=3D",
            "bad =ZZ and =4 and == and =",
            "=\r\nx=0\ny \t\n=\t\nz=4\r\n1",
            "",
            "=",
            "=A",
        ] {
            assert_eq!(
                quoted_printable(src.as_bytes()),
                theirs(src.as_bytes()),
                "{src:?}"
            );
            for b in ["", "B"] {
                let with = format!("x\n{src}\n--B\ny");
                let (ours, theirs) = both(with.as_bytes(), 2, b.as_bytes());
                if let Some(theirs) = theirs {
                    assert_eq!(ours, theirs, "{with:?} {b:?}");
                } else {
                    // "=" then the boundary: a soft line break, then "--B".
                    assert_eq!((src, b), ("=", "B"));
                    assert_eq!(ours, (3, b"-".to_vec(), 7), "{with:?}");
                }
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn quoted_printable_matches_mail_parser(
            src in proptest::collection::vec(proptest::sample::select(
                b"=AaFf09Zz \t\x0c\r\n--BB\xc3\xa9".to_vec()), 0..200)
        ) {
            let ours = quoted_printable(&src).map(|(b, _)| b);
            proptest::prop_assert_eq!(ours, theirs(&src).map(|(b, _)| b));
            for b in [&b""[..], b"B", b"-"] {
                let (ours, theirs) = both(&src, 0, b);
                // Where mail-parser overflows (debug builds only), there
                // is nothing to compare with.
                proptest::prop_assume!(theirs.is_some());
                proptest::prop_assert_eq!(Some(ours), theirs);
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn plain_parts_end_as_mail_parsers_do(
            src in proptest::collection::vec(proptest::sample::select(
                b"-BAx \r\n".to_vec()), 0..80),
            from in 0usize..4,
        ) {
            for b in [&b""[..], b"B", b"BA", b"-"] {
                proptest::prop_assert_eq!(
                    run(&src, from, b, plain_part),
                    run(&src, from, b, MessageStream::mime_part),
                    "{:?} {:?}", String::from_utf8_lossy(&src), b
                );
            }
        }
    }

    #[test]
    fn ascii_reads_as_itself_in_the_charsets_taken_as_ascii_supersets() {
        let ascii: Vec<u8> = (0u8..128).collect();
        let mut checked = 0;
        for name in [
            "us-ascii",
            "ASCII",
            "utf-8",
            "UTF8",
            "iso-8859-1",
            "ISO-8859-2",
            "iso-8859-15",
            "windows-1250",
            "Windows-1252",
            "windows-1257",
            "cp1251",
            "CP1252",
        ] {
            assert!(ascii_superset(name), "{name}");
            if let Some(decode) = charset_decoder(name.as_bytes()) {
                assert_eq!(decode(&ascii).as_bytes(), &ascii[..], "{name}");
                checked += 1;
            }
        }
        assert!(checked >= 10, "{checked}");
        for name in [
            "utf-7",
            "iso-2022-jp",
            "shift_jis",
            "utf-16",
            "cp932",
            "utf-8x",
        ] {
            assert!(!ascii_superset(name), "{name}");
        }
    }

    #[test]
    fn part_ends_like_mail_parsers() {
        for (data, boundary, end, found) in [
            ("text\n--B\nnext", Some("B"), 4, true),
            ("text\r\n--B\r\nnext", Some("B"), 4, true),
            ("text --B", Some("B"), 5, true),
            ("--B", Some("B"), 0, true),
            ("no boundary", Some("B"), 11, false),
            ("to the end", None, 10, true),
        ] {
            let mut stream = MessageStream::new(data.as_bytes());
            let got = seek_part_end(&mut stream, data.as_bytes(), boundary.map(str::as_bytes));
            let mut theirs = MessageStream::new(data.as_bytes());
            let want = theirs.seek_part_end(boundary.map(str::as_bytes));
            assert_eq!(got, (end, found), "{data:?}");
            assert_eq!(got, want, "{data:?}");
            assert_eq!(stream.offset(), theirs.offset(), "{data:?}");
        }
    }
}
