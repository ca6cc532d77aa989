//! Flattening a MIME message into what the decoders read: the bounce's own
//! headers, its human-readable text, its machine-readable report parts and
//! the returned original message's headers. Bodies of the original message
//! are never kept.

use crate::mime::{Body, Leaf};
use mail_parser::{Encoding, HeaderValue};
use regex::Regex;
use std::borrow::Cow;
use std::sync::LazyLock;

/// The parts of one message the decoders look at.
#[derive(Debug, Default)]
pub(crate) struct Flat {
    /// `From:` of the bounce itself.
    pub from: String,
    /// `To:` addresses of the bounce (usually the original sender).
    pub to: Vec<String>,
    /// `Subject:` of the bounce (used for recognition, never stored).
    pub subject: String,
    /// The bounce's `Date:` as Unix seconds.
    pub date: Option<i64>,
    /// Raw header lines of the bounce, name and value.
    pub headers: Vec<(String, String)>,
    /// `Content-Type` of the top level, lower-cased (`multipart/report`).
    pub content_type: String,
    /// `report-type` parameter of a multipart/report.
    pub report_type: String,
    /// Human-readable text parts, decoded, in order.
    pub text: String,
    /// `message/delivery-status` parts, as text.
    pub dsn: Vec<String>,
    /// `message/feedback-report` parts, as text.
    pub feedback: Vec<String>,
    /// Header block of the returned original message, when attached.
    pub original_headers: String,
    /// The `from` host of the topmost `Received:` header of the bounce,
    /// lower-cased: the host that handed the bounce on, its reporting MTA
    /// when the bounce names none (as Sisimai reads it). Empty when that is
    /// `localhost`, an IP literal or a name without a dot.
    pub received_from: String,
    /// The topmost `Received:` header of the bounce, lower-cased: where the
    /// bounce was written ("(qmail 10000 invoked for bounce)").
    pub received: String,
    /// Where the notification ends in `text` (the returned message follows).
    pub note_end: usize,
    /// The first attached message, whole (a forwarded bounce is decoded from it).
    pub nested: Option<Vec<u8>>,
    /// [`Flat::note`] in ASCII lower case, made on first use: several
    /// checks look for phrases in it.
    note_lower: std::cell::OnceCell<String>,
}

impl Flat {
    /// The human-readable notification: `text` up to the returned message.
    pub fn note(&self) -> &str {
        &self.text[..self.note_end]
    }

    /// [`Flat::note`] in ASCII lower case (made once, on first use: the
    /// notification's end must be known by then).
    pub fn note_lower(&self) -> &str {
        self.note_lower
            .get_or_init(|| self.note().to_ascii_lowercase())
    }

    /// A header of the bounce by name (case-insensitive), first occurrence.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim())
    }
}

/// The `from` host of a raw `Received:` value.
static RECEIVED_FROM: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)\bfrom\s+\[?([A-Za-z0-9][A-Za-z0-9.\-:]*)").unwrap());

/// The host in a match of [`RECEIVED_FROM`], read without a capture run:
/// what follows "from", the white space and the bracket.
fn received_from_host(m: &str) -> &str {
    let host = m
        .get(4..)
        .unwrap_or("")
        .trim_start_matches(char::is_whitespace);
    host.strip_prefix('[').unwrap_or(host)
}

/// The `from` host of a `Received:` value: [`RECEIVED_FROM`]'s group, read
/// by hand when the value starts with it ("from mx.example.jp (...)", nearly
/// always), by the pattern otherwise.
fn received_from(value: &str) -> Option<&str> {
    let t = value.trim_start_matches(char::is_whitespace);
    let from_then_space = t.get(..4).is_some_and(|w| w.eq_ignore_ascii_case("from"))
        && t[4..].starts_with(char::is_whitespace);
    let host = received_from_host(t);
    if from_then_space && host.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        let end = host
            .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':')))
            .unwrap_or(host.len());
        return Some(&host[..end]);
    }
    RECEIVED_FROM
        .find(value)
        .map(|m| received_from_host(m.as_str()))
}

/// Whether a `Received:` line's host names a relay by its name: not
/// `localhost`, not an IP literal, not a name without a dot ("mail").
fn names_a_relay(host: &str) -> bool {
    host.contains('.')
        && !host.starts_with("localhost")
        && host.parse::<std::net::IpAddr>().is_err()
}

/// The largest attached message kept for decoding a forwarded bounce.
const NESTED_MAX: usize = 4 << 20;

/// The bounce headers the decoders look at; the rest are not copied.
const WANTED_HEADERS: &[&str] = &[
    "X-Failed-Recipients",
    "Auto-Submitted",
    "X-Autoreply",
    "X-Autorespond",
    "Precedence",
    "X-MS-Exchange-Message-Is-Ndr",
    "X-MS-Exchange-Organization-SCL",
    "X-Postfix-Queue-ID",
    "X-SES-Outgoing",
    "X-MLServer",
    "X-Apple-Unsubscribe",
    "X-GMX-Antispam",
    "X-ZohoMail",
    "X-SPASIGN",
];

/// Parse and flatten. `None` when the bytes hold no message at all.
pub(crate) fn flatten(data: &[u8]) -> Option<Flat> {
    let walk = crate::mime::walk(data)?;
    let top = &walk.headers;
    let raw_value = |r: &std::ops::Range<usize>| std::str::from_utf8(data.get(r.clone())?).ok();
    let mut f = Flat {
        from: top.from.clone(),
        to: top.to.clone(),
        subject: top
            .subject
            .as_ref()
            .and_then(HeaderValue::as_text)
            .unwrap_or("")
            .to_string(),
        date: top.date,
        headers: top
            .others
            .iter()
            .filter(|(name, _)| {
                WANTED_HEADERS
                    .iter()
                    .any(|w| w.as_bytes().eq_ignore_ascii_case(name))
            })
            .filter_map(|(name, r)| {
                Some((
                    String::from_utf8_lossy(name).into_owned(),
                    unfold(raw_value(r)?),
                ))
            })
            .collect(),
        ..Flat::default()
    };
    if let Some(ct) = top
        .content_type
        .as_ref()
        .and_then(HeaderValue::as_content_type)
    {
        f.content_type = format!(
            "{}/{}",
            ct.ctype().to_ascii_lowercase(),
            ct.subtype().unwrap_or("").to_ascii_lowercase()
        );
        f.report_type = ct
            .attribute("report-type")
            .unwrap_or("")
            .to_ascii_lowercase();
    }
    if let Some(r) = top.received.as_ref().and_then(raw_value) {
        if let Some(host) = received_from(r) {
            let host = host.trim_end_matches('.').to_ascii_lowercase();
            if names_a_relay(&host) {
                f.received_from = host;
            }
        }
        f.received = r.to_ascii_lowercase();
    }

    // An HTML part is read only when no text part tells the same (the
    // report parts and the returned headers do not count).
    let read_html = !walk
        .leaves
        .iter()
        .any(|l| matches!(l.body, Body::Text(_)) && text_role(&l.ctype, &l.subtype) == Role::Note);
    for leaf in &walk.leaves {
        let (ctype, sub) = (leaf.ctype.as_str(), leaf.subtype.as_str());
        match &leaf.body {
            Body::Text(t) => {
                let t = mislabelled_utf8(leaf, t).unwrap_or(t);
                match text_role(ctype, sub) {
                    Role::Dsn => f.dsn.push(t.to_string()),
                    Role::Headers => append_headers(&mut f.original_headers, t),
                    Role::Feedback => f.feedback.push(t.to_string()),
                    Role::Note if !leaf.named || f.text.is_empty() => push_text(&mut f.text, t),
                    Role::Note => {}
                }
            }
            Body::Html => {
                if read_html && let Some(h) = leaf.html() {
                    push_text(&mut f.text, &html_to_text(&h));
                }
            }
            Body::Bytes(b) => {
                let s = lossy(b);
                match role(ctype, sub) {
                    Some(Role::Dsn) => f.dsn.push(s.into_owned()),
                    Some(Role::Feedback) => f.feedback.push(s.into_owned()),
                    Some(Role::Headers) => append_headers(&mut f.original_headers, &s),
                    // Text, or a multipart whose boundary was lost (a
                    // malformed header): read its bytes as text.
                    Some(Role::Note) => push_text(&mut f.text, &s),
                    // An attached message with no header block, an
                    // application part: nothing to read.
                    None => {}
                }
            }
            Body::Message(raw) => {
                if f.nested.is_none() && raw.len() <= NESTED_MAX {
                    f.nested = Some(raw.to_vec());
                }
                let end = header_end(raw);
                append_headers(&mut f.original_headers, &lossy(&raw[..end]));
            }
            // An image, a PDF, an archive: nothing to read.
            Body::Skipped => {}
        }
    }
    f.note_end = crate::text::notification(&f.text).len();
    Some(f)
}

/// What a text part is to the engine.
#[derive(PartialEq)]
enum Role {
    /// A delivery status report (or a message read as text).
    Dsn,
    /// The returned message's header block.
    Headers,
    /// An ARF feedback report.
    Feedback,
    /// The human-readable notification.
    Note,
}

/// What a part is to the engine, by its media type; `None` for a part
/// nothing reads (an attached message, an application part).
fn role(ctype: &str, sub: &str) -> Option<Role> {
    if sub.contains("delivery-status") {
        Some(Role::Dsn)
    } else if sub.contains("feedback-report") {
        Some(Role::Feedback)
    } else if returned_headers(sub) {
        Some(Role::Headers)
    } else if ctype == "text" || ctype == "multipart" {
        Some(Role::Note)
    } else {
        None
    }
}

/// The role of a part decoded as text: [`role`], and else a `message/*`
/// part is read as a report (its body did not decode as a message) and
/// anything else as the notification.
fn text_role(ctype: &str, sub: &str) -> Role {
    role(ctype, sub).unwrap_or(if ctype == "message" {
        Role::Dsn
    } else {
        Role::Note
    })
}

/// A part holding the returned message's header block: `text/rfc822-headers`
/// (RFC 6522; also misspelt in the singular), or `message/global-headers`,
/// its internationalised form (RFC 6533).
pub(crate) fn returned_headers(sub: &str) -> bool {
    sub.contains("rfc822-headers") || sub == "rfc822-header" || sub == "global-headers"
}

/// The text of a part whose declared charset cannot be right: decoding it
/// gave replacement characters, yet its bytes (after the transfer encoding)
/// are valid UTF-8. au EZweb, for one, labels UTF-8 text `iso-2022-jp`, a
/// 7-bit charset, which leaves every Japanese line unreadable.
fn mislabelled_utf8<'a>(leaf: &Leaf<'a>, text: &str) -> Option<&'a str> {
    if !text.contains('\u{FFFD}') || leaf.encoding != Encoding::None {
        return None;
    }
    std::str::from_utf8(leaf.raw)
        .ok()
        .filter(|s| !s.contains('\u{FFFD}'))
}

/// The bytes as text, invalid UTF-8 replaced. Valid input (nearly all of
/// it) is checked by `str::from_utf8`, whose ASCII fast path is several
/// times quicker than the lossy decoder's byte-by-byte walk.
fn lossy(b: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(b) {
        Ok(s) => Cow::Borrowed(s),
        Err(_) => String::from_utf8_lossy(b),
    }
}

fn push_text(dst: &mut String, t: &str) {
    if !dst.is_empty() {
        dst.push('\n');
    }
    dst.push_str(t);
}

fn append_headers(dst: &mut String, t: &str) {
    if !dst.is_empty() {
        return; // keep the first returned header block only
    }
    let end = header_end(t.as_bytes());
    dst.push_str(&t[..end]);
}

/// Where the first `\n\n` in `raw` starts. (`memmem::find` would build
/// its searcher again on every call; this one is built once.)
fn blank_line(raw: &[u8]) -> Option<usize> {
    static FINDER: LazyLock<memchr::memmem::Finder<'static>> =
        LazyLock::new(|| memchr::memmem::Finder::new(b"\n\n"));
    FINDER.find(raw)
}

/// Offset of the blank line that ends a header block (or the end).
pub(crate) fn header_end(raw: &[u8]) -> usize {
    blank_line(raw).map(|i| i + 1).unwrap_or(raw.len())
}

/// Join folded header lines.
pub(crate) fn unfold(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for (i, line) in crate::text::lines(v).enumerate() {
        if i > 0 {
            out.push(' ');
            out.push_str(line.trim_start());
        } else {
            out.push_str(line.trim());
        }
    }
    out.trim().to_string()
}

/// A crude HTML to text: drop tags, decode the common entities, keep line
/// breaks at block elements. Text runs are copied whole between `<` and
/// `>` (both ASCII, so never inside a multi-byte character).
pub(crate) fn html_to_text(h: &str) -> String {
    let mut out = String::with_capacity(h.len());
    let mut skip = false;
    let mut rest = h;
    while !rest.is_empty() {
        let Some(open) = memchr::memchr(b'<', rest.as_bytes()) else {
            if !skip {
                out.push_str(rest);
            }
            break;
        };
        if !skip {
            out.push_str(&rest[..open]);
        }
        let tag_and_after = &rest[open + 1..];
        // A tag that never closes hides the rest.
        let Some(close) = memchr::memchr(b'>', tag_and_after.as_bytes()) else {
            break;
        };
        let tag = &tag_and_after[..close];
        let name = tag
            .trim_start_matches('/')
            .split_whitespace()
            .next()
            .unwrap_or("");
        let is = |n: &str| name.eq_ignore_ascii_case(n);
        if ["style", "script", "head"].into_iter().any(is) {
            skip = !tag.starts_with('/');
        }
        if ["br", "p", "div", "tr", "li", "h1", "h2", "h3", "table"]
            .into_iter()
            .any(is)
        {
            out.push('\n');
        }
        rest = &tag_and_after[close + 1..];
    }
    decode_entities(out)
}

/// The common HTML entities decoded (`&amp;` last, so `&amp;lt;` stays `&lt;`).
fn decode_entities(text: String) -> String {
    if !text.contains('&') {
        return text;
    }
    text.replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// In a message larger than `limit`, cut the attached original message
/// (`message/rfc822`, `text/rfc822-headers`) after its header block. The
/// notification before it is kept whole.
pub(crate) fn trim_returned_message(raw: Cow<'_, [u8]>, limit: usize) -> Cow<'_, [u8]> {
    if raw.len() <= limit {
        return raw;
    }
    static RFC822: LazyLock<aho_corasick::AhoCorasick> = LazyLock::new(|| {
        aho_corasick::AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(["content-type: message/rfc822"])
            .expect("one pattern builds")
    });
    let Some(part) = RFC822.find(&*raw).map(|m| m.start()) else {
        return raw;
    };
    // The end of the part's own headers, then the end of the original's headers.
    let Some(a) = blank_line(&raw[part..]) else {
        return raw;
    };
    let body = part + a + 2;
    let Some(b) = blank_line(&raw[body..]) else {
        return raw;
    };
    let cut = body + b + 1;
    let mut out = raw[..cut].to_vec();
    out.extend_from_slice(b"\n[returned message body omitted by outcry]\n");
    Cow::Owned(out)
}

/// Normalise line endings: CRLF becomes LF; in a file with no LF at all
/// (old Mac style) every CR becomes LF. A stray CR inside LF text is kept.
pub(crate) fn normalise_newlines(raw: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    if memchr::memchr(b'\r', raw).is_none() {
        return std::borrow::Cow::Borrowed(raw);
    }
    let bare_cr_file = memchr::memchr(b'\n', raw).is_none();
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        let b = raw[i];
        if b == b'\r' && bare_cr_file {
            out.push(b'\n');
        } else if b == b'\r' && raw.get(i + 1) == Some(&b'\n') {
            // CRLF: the LF follows
        } else {
            out.push(b);
        }
        i += 1;
    }
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newlines() {
        assert_eq!(&*normalise_newlines(b"a\r\nb\rc\n"), b"a\nb\rc\n");
        assert_eq!(&*normalise_newlines(b"a\rb\r"), b"a\nb\n");
        assert_eq!(&*normalise_newlines(b"plain\n"), b"plain\n");
    }

    #[test]
    fn the_fields_read_are_the_first_received_and_the_wanted_ones() {
        let raw = b"Received: from mx1.example.jp by b\n\tid 1\nReceived: from mx2.example.jp by d\nDKIM-Signature: v=1;\n b=xyz\nFrom: MAILER-DAEMON@example.jp\nnot a field line\nX-Failed-Recipients: a@example.jp,\n b@example.jp\n\nbody\nDKIM-Signature: stays in the body\n";
        let f = flatten(raw).unwrap();
        assert_eq!(f.received_from, "mx1.example.jp");
        assert_eq!(f.received, " from mx1.example.jp by b\n\tid 1\n");
        assert_eq!(f.from, "MAILER-DAEMON@example.jp");
        assert_eq!(
            f.headers,
            [(
                "X-Failed-Recipients".to_string(),
                "a@example.jp, b@example.jp".to_string()
            )]
        );
        assert_eq!(f.text, "body\nDKIM-Signature: stays in the body\n");
    }

    #[test]
    fn html_is_read_only_when_no_text_part_tells_it() {
        let alt = "From: a@example.jp\nContent-Type: multipart/alternative; boundary=\"A\"\n\n--A\nContent-Type: text/html\n\n<p>in html</p>\n--A\nContent-Type: text/plain\n\nin text\n--A--\n";
        assert_eq!(flatten(alt.as_bytes()).unwrap().text, "in text");
        // The returned headers are text too, but no notification.
        let only_html = "From: a@example.jp\nContent-Type: multipart/report; boundary=\"R\"\n\n--R\nContent-Type: text/html\n\n<p>in html</p>\n--R\nContent-Type: text/rfc822-headers\n\nFrom: b@example.org\n--R--\n";
        let f = flatten(only_html.as_bytes()).unwrap();
        assert_eq!(f.text, "\nin html\n");
        assert_eq!(f.original_headers, "From: b@example.org");
    }

    #[test]
    fn html() {
        assert_eq!(html_to_text("<p>a&amp;b</p><style>x</style>c"), "\na&b\nc");
        assert_eq!(
            html_to_text("<BR>caf\u{e9}<HEAD>x</head>&lt;y<unclosed"),
            "\ncaf\u{e9}<y"
        );
    }

    /// The first, char-at-a-time version: what `html_to_text` must still give.
    fn old_html_to_text(h: &str) -> String {
        let mut out = String::with_capacity(h.len());
        let mut in_tag = false;
        let mut tag = String::new();
        let mut skip = false;
        for c in h.chars() {
            if in_tag {
                if c == '>' {
                    in_tag = false;
                    let t = tag.to_ascii_lowercase();
                    let name = t
                        .trim_start_matches('/')
                        .split_whitespace()
                        .next()
                        .unwrap_or("");
                    if matches!(name, "style" | "script" | "head") {
                        skip = !t.starts_with('/');
                    }
                    if matches!(
                        name,
                        "br" | "p" | "div" | "tr" | "li" | "h1" | "h2" | "h3" | "table"
                    ) {
                        out.push('\n');
                    }
                    tag.clear();
                } else {
                    tag.push(c);
                }
            } else if c == '<' {
                in_tag = true;
            } else if !skip {
                out.push(c);
            }
        }
        decode_entities(out)
    }

    #[test]
    fn the_relay_a_bounce_came_from() {
        let flat = |received: &str| {
            let raw = format!(
                "Received: {received}\nFrom: MAILER-DAEMON@mx.example.jp\nSubject: x\n\nUndelivered.\n"
            );
            flatten(raw.as_bytes()).expect("a message").received_from
        };
        assert_eq!(
            flat(
                "from MX.Example.JP. (mx.example.jp [192.0.2.1])\n\tby mail.example.org; Mon, 2 Mar 2026"
            ),
            "mx.example.jp"
        );
        assert_eq!(
            flat("from [mx.example.jp] by mail.example.org"),
            "mx.example.jp"
        );
        // Not a relay's name: the local host, an IP literal, no dot.
        for r in [
            "from localhost by x.example",
            "from [192.0.2.1] by x.example",
            "from mail by x.example",
            "by x.example",
        ] {
            assert_eq!(flat(r), "", "{r}");
        }
    }

    proptest::proptest! {
        #[test]
        fn html_to_text_matches_the_first_version(
            h in "(<|>|/|p|P|br|style|STYLE|head|script|div| |\t|&|amp;|lt;|nbsp;|é|x)*"
        ) {
            proptest::prop_assert_eq!(html_to_text(&h), old_html_to_text(&h));
        }

        #[test]
        fn the_received_from_host_is_the_capture_group(
            head in proptest::sample::select(vec![
                "", "", "", " ", "\t", "by x ", "wherefrom", "from", "(from) ", "from [(x ",
            ]),
            from in proptest::sample::select(vec!["from", "FROM", "From"]),
            space in proptest::sample::select(vec!["", " ", "\t", "\u{A0}", "  \n\t"]),
            bracket in proptest::sample::select(vec!["", "[", "[["]),
            host in proptest::sample::select(vec!["mx.example.jp", "2001:db8::1", "-x", "x", "", "é"]),
            tail in proptest::sample::select(vec!["", "]", " ;", ")", ". by", "_y", "é"]),
        ) {
            let r = format!("{head}{from}{space}{bracket}{host}{tail}");
            let captured = RECEIVED_FROM.captures(&r);
            if let Some(c) = &captured {
                proptest::prop_assert_eq!(received_from_host(&c[0]), &c[1]);
            }
            let group = captured.as_ref().map(|c| c.get(1).map_or("", |g| g.as_str()));
            proptest::prop_assert_eq!(received_from(&r), group);
        }
    }
}
