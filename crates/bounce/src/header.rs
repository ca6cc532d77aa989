//! A header block read the way `mail-parser`'s `MessageStream::parse_headers`
//! reads it, but keeping only the fields the engine uses.
//!
//! `parse_headers` walks every field a byte at a time, maps its name through
//! a table, runs a parser for its value (or skips it) and stores a `Header`
//! for each. A bounce's header block is mostly `Received:`, `DKIM-Signature:`,
//! `ARC-*` and `X-*` fields that nothing reads, and each part of a report
//! has a few more. This reader finds where fields start and end with
//! `memchr`, compares names only against the few the engine reads, and
//! parses those alone: the usual shapes of `Content-Type:`,
//! `Content-Disposition:`, `Date:`, `From:`, `To:`, `Subject:` and
//! `Content-Transfer-Encoding:` by fast paths that copy `mail-parser`'s
//! state machines for them, anything else by
//! `mail-parser`'s own value parsers (`parse_content_type`,
//! `parse_address`, `parse_date`, `parse_unstructured`). Proptests hold
//! each fast path, and the whole reader, to `mail-parser`'s results. It is
//! written here, not taken from a crate, for speed alone (see
//! `docs/engine-speed.md`).
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

use mail_parser::parsers::MessageStream;
use mail_parser::{Attribute, ContentType, HeaderValue};
use std::borrow::Cow;
use std::ops::Range;

/// Does a part's `Content-Type` so far say it holds a message or a
/// message's header (`message/rfc822`, `message/global`,
/// `text/rfc822-headers`)?
fn holds_a_message(f: &Fields<'_>) -> bool {
    f.content_type
        .as_ref()
        .and_then(HeaderValue::as_content_type)
        .is_some_and(|ct| {
            let sub = ct.subtype().unwrap_or("");
            (ct.ctype().eq_ignore_ascii_case("message")
                && (sub.eq_ignore_ascii_case("rfc822") || sub.eq_ignore_ascii_case("global")))
                || (ct.ctype().eq_ignore_ascii_case("text")
                    && sub.eq_ignore_ascii_case("rfc822-headers"))
        })
}

/// Is a field name one of a body part's own (`Content-*`, `MIME-Version`)?
fn is_mime_field(name: &[u8]) -> bool {
    name.get(..8)
        .is_some_and(|p| p.eq_ignore_ascii_case(b"content-"))
        || name.eq_ignore_ascii_case(b"mime-version")
}

/// Which fields a block is read for.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Level {
    /// The message's own header block: the MIME fields, From, To,
    /// Subject, Date, the first `Received:` and where every other field
    /// is ([`Fields::others`]).
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
    /// The first address of `From:` (top level only; empty without one).
    pub from: String,
    /// The addresses of `To:` (top level only).
    pub to: Vec<String>,
    /// `Subject:` (top level only).
    pub subject: Option<HeaderValue<'a>>,
    /// `Date:` as Unix seconds (top level only; `None` when the last
    /// `Date:` is not a date `mail-parser` reads).
    pub date: Option<i64>,
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
    #[inline]
    fn of(name: &[u8]) -> Option<Known> {
        // By length first: a bounce's header block is mostly other fields.
        let direct = |n: &[u8]| -> Option<Known> {
            let (spelling, known): (&[u8], Known) = match n.len() {
                2 => (b"to", Known::To),
                4 if n[0] | 0x20 == b'f' => (b"from", Known::From),
                4 => (b"date", Known::Date),
                7 => (b"subject", Known::Subject),
                8 => (b"received", Known::Received),
                12 => (b"content-type", Known::ContentType),
                19 => (b"content-disposition", Known::ContentDisposition),
                25 => (b"content-transfer-encoding", Known::ContentTransferEncoding),
                _ => return None,
            };
            spelling.eq_ignore_ascii_case(n).then_some(known)
        };
        direct(name).or_else(|| {
            if !name.iter().any(u8::is_ascii_whitespace) {
                return None;
            }
            // White space inside the name (rare): compare what is left.
            let mut compact = [0u8; 34];
            let mut len = 0;
            for &b in name.iter().filter(|b| !b.is_ascii_whitespace()) {
                *compact.get_mut(len)? = b;
                len += 1;
            }
            direct(&compact[..len])
        })
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

/// An unstructured field's value (`Subject:`, `Content-Transfer-Encoding:`;
/// `field` runs from after the colon to the end of the field), exactly as
/// `MessageStream::parse_unstructured` reads it: each line's text without
/// the spaces, tabs and CRs around it, the lines joined by single spaces.
/// `None` when it holds an encoded word (`=?`) or is not UTF-8: those are
/// `mail-parser`'s to read.
fn unstructured(field: &[u8]) -> Option<HeaderValue<'_>> {
    if memchr::memchr_iter(b'=', field).any(|i| field.get(i + 1) == Some(&b'?')) {
        return None;
    }
    let text = std::str::from_utf8(field).ok()?;
    // A field cut off by the end of the data reads as nothing.
    if !text.ends_with('\n') {
        return Some(HeaderValue::Empty);
    }
    let mut lines = text
        .split('\n')
        .map(|l| l.trim_matches([' ', '\t', '\r']))
        .filter(|l| !l.is_empty());
    Some(match (lines.next(), lines.next()) {
        (None, _) => HeaderValue::Empty,
        (Some(one), None) => HeaderValue::Text(Cow::Borrowed(one)),
        (Some(first), Some(second)) => {
            let mut joined = format!("{first} {second}");
            for l in lines {
                joined.push(' ');
                joined.push_str(l);
            }
            HeaderValue::Text(Cow::Owned(joined))
        }
    })
}

/// A token (start, end) of [`content_type`] or [`addresses`] grown by the
/// bytes `first..end`: it starts at `first` when it is new.
#[inline]
fn extend(token: &mut Option<(usize, usize)>, first: usize, end: usize) {
    let start = token.map_or(first, |t| t.0);
    *token = Some((start, end));
}

/// What [`content_type`] is in the middle of.
#[derive(Clone, Copy, PartialEq, Eq)]
enum CtState {
    Type,
    SubType,
    AttributeName,
    AttributeValue,
    QuotedValue,
}

/// [`content_type`]'s reading so far (`parse_content_type`'s parser, less
/// what only the shapes left to `mail-parser` need).
struct CtParser<'a> {
    data: &'a [u8],
    state: CtState,
    /// The token being read: where it starts and where its last byte that
    /// is not white space (outside quotes) ends.
    token: Option<(usize, usize)>,
    /// False once an upper-case letter was read in a name.
    lower: bool,
    /// A quoted value went on over a folded line: drop the line feeds.
    remove_newlines: bool,
    c_type: Option<Cow<'a, str>>,
    c_subtype: Option<Cow<'a, str>>,
    attr_name: Option<Cow<'a, str>>,
    attributes: Vec<Attribute<'a>>,
}

impl<'a> CtParser<'a> {
    /// The token's text (ASCII only, checked as read, so never lossy).
    fn text(&self, (start, end): (usize, usize)) -> Cow<'a, str> {
        Cow::Borrowed(std::str::from_utf8(&self.data[start..end]).unwrap_or_default())
    }

    /// `add_attribute`: the token ends a type, a subtype or a parameter
    /// name; false when there is no token.
    fn add_attribute(&mut self) -> bool {
        let Some(token) = self.token.take() else {
            return false;
        };
        let mut name = self.text(token);
        if !self.lower {
            name.to_mut().make_ascii_lowercase();
            self.lower = true;
        }
        match self.state {
            CtState::AttributeName => self.attr_name = Some(name),
            CtState::Type => self.c_type = Some(name),
            _ => self.c_subtype = Some(name),
        }
        true
    }

    /// `add_value`: the token is the value of the parameter named last
    /// (nothing without a name or a token).
    fn add_value(&mut self) {
        if self.attr_name.is_none() {
            return;
        }
        let Some(token) = self.token.take() else {
            return;
        };
        let mut value = self.text(token);
        if std::mem::take(&mut self.remove_newlines) {
            value = Cow::Owned(value.chars().filter(|c| *c != '\n').collect());
        }
        let name = self.attr_name.take().unwrap_or_default();
        self.attributes.push(Attribute { name, value });
    }

    /// The value read.
    fn finish(self) -> HeaderValue<'a> {
        match self.c_type {
            Some(c_type) => HeaderValue::ContentType(ContentType {
                c_type,
                c_subtype: self.c_subtype,
                attributes: (!self.attributes.is_empty()).then_some(self.attributes),
            }),
            None => HeaderValue::Empty,
        }
    }
}

/// A `Content-Type:` (or `Content-Disposition:`) value from `at`, exactly as
/// `MessageStream::parse_content_type` reads it, with where the field ends;
/// `None` when the field holds anything outside the common shapes (a
/// backslash, a comment, an RFC 2231 `*` parameter, an encoded word, a CR,
/// a byte that is not ASCII), which is then left to `mail-parser`.
///
/// This is `parse_content_type`'s state machine for those shapes alone,
/// over a byte slice instead of a peekable iterator, runs of ordinary bytes
/// taken at once: `parse_content_type` was 4% of the engine's instructions,
/// this is 2.9% (most of that is building `mail-parser`'s `ContentType`).
fn content_type(data: &[u8], at: usize) -> Option<(HeaderValue<'_>, usize)> {
    let mut p = CtParser {
        data,
        state: CtState::Type,
        token: None,
        lower: true,
        remove_newlines: false,
        c_type: None,
        c_subtype: None,
        attr_name: None,
        attributes: Vec::new(),
    };
    let mut i = at;
    while let Some(&ch) = data.get(i) {
        i += 1;
        match (ch, p.state) {
            (b' ' | b'\t', CtState::QuotedValue) => {
                extend(&mut p.token, i - 1, i);
                continue;
            }
            (b' ' | b'\t', _) => continue,
            (b'\n', state) => {
                let next_is_space = matches!(data.get(i), Some(b' ' | b'\t'));
                match state {
                    CtState::AttributeValue => p.add_value(),
                    CtState::QuotedValue if next_is_space => {
                        i += 1;
                        p.remove_newlines = true;
                        continue;
                    }
                    CtState::QuotedValue => p.add_value(),
                    _ => {
                        p.add_attribute();
                    }
                }
                if !next_is_space {
                    return Some((p.finish(), i));
                }
                if state != CtState::Type {
                    p.state = CtState::AttributeName;
                    i += 1;
                }
                continue;
            }
            (b'/', CtState::Type) => {
                p.add_attribute();
                p.state = CtState::SubType;
                continue;
            }
            (b';', CtState::QuotedValue) => {}
            (b';', CtState::AttributeValue) => {
                p.add_value();
                p.state = CtState::AttributeName;
                continue;
            }
            (b';', _) => {
                p.add_attribute();
                p.state = CtState::AttributeName;
                continue;
            }
            // An encoded word: `mail-parser`'s business.
            (b'=', _) if data.get(i) == Some(&b'?') => return None,
            (b'=', CtState::AttributeName) => {
                if p.add_attribute() {
                    p.state = CtState::AttributeValue;
                }
                continue;
            }
            (b'"', CtState::AttributeValue) => {
                p.state = CtState::QuotedValue;
                continue;
            }
            (b'"', CtState::QuotedValue) => {
                p.add_value();
                p.state = CtState::AttributeName;
                continue;
            }
            (b'"', _) => continue,
            (b'\\' | b'(' | b')' | b'*' | b'\r' | 0x80.., _) => return None,
            (b'A'..=b'Z', CtState::Type | CtState::SubType | CtState::AttributeName) => {
                p.lower = false;
            }
            _ => {}
        }
        // The rest of a run of ordinary bytes at once (they only extend
        // the token; an upper-case letter in a name is remembered).
        let run = data[i..]
            .iter()
            .position(|&b| STEERS[usize::from(b)])
            .map_or(data.len(), |n| i + n);
        if matches!(
            p.state,
            CtState::Type | CtState::SubType | CtState::AttributeName
        ) && data[i..run].iter().any(u8::is_ascii_uppercase)
        {
            p.lower = false;
        }
        extend(&mut p.token, i - 1, run);
        i = run;
    }
    Some((HeaderValue::Empty, data.len()))
}

/// The bytes [`content_type`] acts on (or leaves to `mail-parser`); any
/// other byte only extends the token being read.
static STEERS: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0x80;
    while b < 256 {
        t[b] = true;
        b += 1;
    }
    crate::with_bytes(t, b" \t\n/;=\"\\()*\r")
};

/// The addresses of a parsed address field, each `None` where an entry has
/// no address (a name alone); only the first entry when `first_only`
/// (`Address::first`, which for a group is its first member).
fn address_list(v: Option<&HeaderValue<'_>>, first_only: bool) -> Vec<Option<String>> {
    let Some(a) = v.and_then(HeaderValue::as_address) else {
        return Vec::new();
    };
    if first_only {
        return a
            .first()
            .map(|x| x.address().map(str::to_string))
            .into_iter()
            .collect();
    }
    a.iter().map(|x| x.address().map(str::to_string)).collect()
}

/// What [`addresses`] is in the middle of.
#[derive(Clone, Copy, PartialEq, Eq)]
enum AddrState {
    Name,
    Address,
    Quote,
}

/// The entries of an address field (`From:`, `To:`) from `at`, each its
/// address (`None` for a name alone), with where the field ends: exactly
/// what `MessageStream::parse_address` finds, for the common shapes
/// (`a@example.jp`, `Name <a@example.jp>`, `"Name, Quoted" <a@...>`, lists
/// of them). `None` for anything else (comments, groups, backslashes,
/// encoded words, a CR, bytes that are not ASCII): `mail-parser` reads it.
///
/// This is `parse_address`'s state machine for those shapes alone, keeping
/// only the address tokens: `parse_address` was 2.5% of the engine's
/// instructions for the bounce's From and To alone.
fn addresses(data: &[u8], at: usize) -> Option<(Vec<Option<String>>, usize)> {
    let mut entries: Vec<Option<String>> = Vec::new();
    let mut state = AddrState::Name;
    // The token being read (start, end), whether it has an '@' (in a name
    // it is then an address), and the entry's address tokens and whether
    // it has a name token.
    let mut token: Option<(usize, usize)> = None;
    let mut is_email = false;
    let mut mail: Vec<(usize, usize)> = Vec::new();
    let mut has_name = false;
    // `add_token`: the token goes to the address or to the name.
    let add_token = |token: &mut Option<(usize, usize)>,
                     is_email: &mut bool,
                     state: AddrState,
                     mail: &mut Vec<(usize, usize)>,
                     has_name: &mut bool| {
        if let Some(t) = token.take() {
            if state == AddrState::Address || (state == AddrState::Name && *is_email) {
                mail.push(t);
            } else {
                *has_name = true;
            }
            *is_email = false;
        }
    };
    // `add_address`: the entry ends.
    let add_address =
        |mail: &mut Vec<(usize, usize)>, has_name: &mut bool, entries: &mut Vec<Option<String>>| {
            if !mail.is_empty() {
                let address = mail
                    .drain(..)
                    .map(|(s, e)| std::str::from_utf8(&data[s..e]).unwrap_or_default())
                    .collect();
                entries.push(Some(address));
            } else if *has_name {
                entries.push(None);
            }
            *has_name = false;
        };
    let mut i = at;
    while let Some(&ch) = data.get(i) {
        i += 1;
        match (ch, state) {
            (b'\n', _) => {
                add_token(&mut token, &mut is_email, state, &mut mail, &mut has_name);
                let next_is_space = matches!(data.get(i), Some(b' ' | b'\t'));
                if !next_is_space {
                    break;
                }
                if state != AddrState::Quote {
                    i += 1;
                }
                continue;
            }
            (b',', AddrState::Name) => {
                add_token(&mut token, &mut is_email, state, &mut mail, &mut has_name);
                add_address(&mut mail, &mut has_name, &mut entries);
                continue;
            }
            (b'<', AddrState::Name) => {
                is_email = false;
                add_token(&mut token, &mut is_email, state, &mut mail, &mut has_name);
                state = AddrState::Address;
                continue;
            }
            (b'>', AddrState::Address) => {
                add_token(&mut token, &mut is_email, state, &mut mail, &mut has_name);
                state = AddrState::Name;
                continue;
            }
            (b'"', AddrState::Name) => {
                state = AddrState::Quote;
                add_token(&mut token, &mut is_email, state, &mut mail, &mut has_name);
                continue;
            }
            (b'"', AddrState::Quote) => {
                add_token(&mut token, &mut is_email, state, &mut mail, &mut has_name);
                state = AddrState::Name;
                continue;
            }
            (b'@', AddrState::Name) => is_email = true,
            (b' ' | b'\t', AddrState::Quote) => {}
            (b' ' | b'\t', _) => continue,
            (b'=', _) if data.get(i) == Some(&b'?') => return None,
            (b'\\' | b'(' | b')' | b':' | b';' | b'\r' | 0x80.., _) => return None,
            _ => {}
        }
        extend(&mut token, i - 1, i);
    }
    add_address(&mut mail, &mut has_name, &mut entries);
    Some((entries, i))
}

/// Read the header block that starts at `at`: the fields the engine reads,
/// where the block ends (after its blank line, or at the end of the data)
/// and whether it ended with a blank line (`parse_headers`' result).
pub(crate) fn read<'a>(data: &'a [u8], mut at: usize, level: Level) -> (Fields<'a>, usize, bool) {
    let mut f = Fields::default();
    // Where a message glued to its part's fields starts (see below).
    let mut message_at = None;
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
        // A part that holds a message, with no blank line before the
        // message's own header (apollo.lv's notices: "Content-Type:
        // message/rfc822" right above "Message-ID: ..."): a second
        // `Content-Type` is the message's own, and the message starts at
        // the first field after the part's type that is not a MIME field.
        // Read on, the message's type (`multipart/alternative`) would be
        // the part's and its body the notice's text. (Fields of other
        // kinds alone do not end the part: Exchange Online puts its
        // `X-Microsoft-*` fields there, then the blank line.)
        if level == Level::Part && holds_a_message(&f) {
            if !is_mime_field(name) {
                message_at.get_or_insert(at);
            } else if name.eq_ignore_ascii_case(b"content-type") {
                return (f, message_at.unwrap_or(at), true);
            }
        }
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
        // A field with a fast path: its value and end when the fast path
        // reads it, else `mail-parser`'s parser for it.
        let fast_or =
            |slot: &mut Option<HeaderValue<'a>>,
             fast: Option<(HeaderValue<'a>, usize)>,
             how: fn(&mut MessageStream<'a>) -> HeaderValue<'a>| match fast {
                Some((v, end)) => {
                    *slot = Some(v);
                    end
                }
                None => parse(slot, how),
            };
        // Unstructured text is read here when it has no encoded word.
        let text = || {
            let end = skip_field(data, value);
            unstructured(&data[value..end]).map(|v| (v, end))
        };
        at = match known {
            Some(k @ (Known::ContentType | Known::ContentDisposition)) => {
                let slot = if k == Known::ContentType {
                    &mut f.content_type
                } else {
                    &mut f.disposition
                };
                fast_or(
                    slot,
                    content_type(data, value),
                    MessageStream::parse_content_type,
                )
            }
            Some(Known::ContentTransferEncoding) => fast_or(
                &mut f.transfer_encoding,
                text(),
                MessageStream::parse_unstructured,
            ),
            Some(k @ (Known::From | Known::To)) => {
                let (mut list, end) = addresses(data, value).unwrap_or_else(|| {
                    let mut v = None;
                    let end = parse(&mut v, MessageStream::parse_address);
                    (address_list(v.as_ref(), k == Known::From), end)
                });
                if k == Known::From {
                    list.truncate(1);
                    f.from = list.pop().flatten().unwrap_or_default();
                } else {
                    f.to = list.into_iter().flatten().collect();
                }
                end
            }
            Some(Known::Subject) => {
                fast_or(&mut f.subject, text(), MessageStream::parse_unstructured)
            }
            Some(Known::Date) => {
                // The canonical form read directly (see `dsn::canonical_date`),
                // any other by `mail-parser`.
                let end = skip_field(data, value);
                let canonical = std::str::from_utf8(&data[value..end])
                    .ok()
                    .and_then(|v| crate::dsn::canonical_date(v.trim()));
                match canonical {
                    Some(date) => {
                        f.date = Some(date.to_timestamp());
                        end
                    }
                    None => {
                        let mut date = None;
                        let end = parse(&mut date, MessageStream::parse_date);
                        // A zone name `mail-parser` does not know ("JST").
                        f.date = date.as_ref().and_then(HeaderValue::as_datetime).map(|d| {
                            let zone = std::str::from_utf8(&data[value..end.max(value)])
                                .ok()
                                .and_then(crate::dsn::zone_name_offset)
                                .unwrap_or(0);
                            d.to_timestamp() - zone
                        });
                        end
                    }
                }
            }
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
            let from = address_list(value(HeaderName::From).as_ref(), true);
            let from = from.into_iter().next().flatten().unwrap_or_default();
            assert_eq!(ours.from, from, "{shown:?}");
            let to = address_list(value(HeaderName::To).as_ref(), false);
            assert_eq!(
                ours.to,
                to.into_iter().flatten().collect::<Vec<_>>(),
                "{shown:?}"
            );
            assert_eq!(ours.subject, value(HeaderName::Subject), "{shown:?}");
            let date = value(HeaderName::Date);
            let date = date.as_ref().and_then(HeaderValue::as_datetime);
            assert_eq!(ours.date, date.map(|d| d.to_timestamp()), "{shown:?}");
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

    /// A fast path (`ours`: the value and where the field ends, or `None`
    /// when it declines) and `mail-parser`'s parser (`theirs`) on one
    /// field: the same value and the same end, or the fast path declines.
    fn agrees<'a, T: PartialEq + std::fmt::Debug>(
        field: &'a str,
        ours: impl Fn(&'a [u8]) -> Option<(T, usize)>,
        theirs: impl Fn(&mut MessageStream<'a>) -> T,
    ) -> bool {
        let data = field.as_bytes();
        let Some((ours, end)) = ours(data) else {
            return false;
        };
        let mut stream = MessageStream::new(data);
        let theirs = theirs(&mut stream);
        assert_eq!((ours, end), (theirs, stream.offset()), "{field:?}");
        true
    }

    /// The content-type fast path and `parse_content_type` agree.
    fn same_content_type(field: &str) -> bool {
        agrees(field, |d| content_type(d, 0), |s| s.parse_content_type())
    }

    /// The address fast path and `parse_address` agree on the entries.
    fn same_addresses(field: &str) -> bool {
        agrees(
            field,
            |d| addresses(d, 0),
            |s| address_list(Some(&s.parse_address()), false),
        )
    }

    #[test]
    fn addresses_read_as_mail_parser_reads_them() {
        let fields = [
            " Mail Delivery System <MAILER-DAEMON@example.jp>\n",
            " kijitora@example.jp\n",
            " \"Neko, Shiro\" <shironeko@example.org>, kuro@example.net,\n\t<mike@example.com>\n",
            " MAILER-DAEMON\n",
            " a@b c@d\n",
            " a@b<c@d>\n",
            " <a @ b>\n",
            " \"unterminated\n next\n",
            " \"folded\n quote\" <q@example.jp>\n",
            " \"\n \"\n",
            " , ,x@y,\n",
            " no newline@example.jp",
            "\n",
        ];
        for field in fields {
            assert!(same_addresses(field), "declined {field:?}");
        }
        for field in [
            " a@b (comment)\n",
            " group: a@b;\n",
            " =?utf-8?B?w6k=?= <a@b>\n",
            " \"a\\\"b\" <a@b>\n",
        ] {
            assert!(!same_addresses(field), "read {field:?}");
        }
    }

    #[test]
    fn content_types_read_as_mail_parser_reads_them() {
        let fields = [
            " text/plain; charset=\"ISO-2022-JP\"\n",
            " Multipart/Report; Report-Type=Delivery-Status;\n\tboundary=\"=_a b\"\n",
            " message/delivery-status\n",
            " text/plain;\n charset=us-ascii;\n format=flowed\nX: y\n",
            " attachment; filename=\"a long\n name.txt\"\n",
            " text/plain; name=; charset=\"\"; =x; a=\"b\n",
            " text /plain ; ;; charset = utf-8 \n",
            " text\n /plain\n",
            " text/\n plain\n",
            " \"text\"/plain\n",
            " multipart/mixed; boundary=a\"b\"c\n",
            " text/plain",
            "\n",
            " ;charset=utf-8\n",
        ];
        for field in fields {
            assert!(same_content_type(field), "declined {field:?}");
        }
        // Left to `mail-parser`: RFC 2231, comments, escapes, encoded words.
        for field in [
            " text/plain; name*=utf-8''%E3%81%82\n",
            " text/plain (comment)\n",
            " text/plain; name=\"a\\\"b\"\n",
            " text/plain; name==?utf-8?B?w6k=?=\n",
            " text/plain; name=\"caf\u{e9}\"\n",
        ] {
            assert!(!same_content_type(field), "read {field:?}");
        }
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
                    Just("Subject: Returned mail:  see transcript ".to_string()),
                    Just("Date: Mon, 2 Feb 2026 10:00:00 -0500".to_string()),
                    Just("Date: 2 Feb 2026 10:00:00 +0900 (JST)".to_string()),
                    Just("Date: Mon, 2 Feb 26 10:00 EST".to_string()),
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

        /// Any field made of the characters that steer
        /// `parse_content_type` reads as it does (or is left to it).
        #[test]
        fn any_content_type_reads_as_mail_parser_does(
            field in prop_oneof![
                "[a-cA-C/;= \"\\n\t'?-]{0,40}",
                "[a-zA-Z/;= \"\\n\t*()'\\\\?\r-]{0,40}",
            ],
        ) {
            same_content_type(&field);
        }

        /// Any unstructured field reads as `parse_unstructured` reads it (or
        /// is left to it).
        #[test]
        fn any_unstructured_field_reads_as_mail_parser_does(
            field in "[ab =?\\n\t\r\u{e9}]{0,30}",
        ) {
            agrees(
                &field,
                |d| {
                    let end = skip_field(d, 0);
                    unstructured(&d[..end]).map(|v| (v, end))
                },
                |s| s.parse_unstructured(),
            );
        }

        /// Any field made of the characters that steer `parse_address`
        /// reads as it does (or is left to it).
        #[test]
        fn any_address_field_reads_as_mail_parser_does(
            field in prop_oneof![
                "[ab@ <>\",.\\n\t-]{0,40}",
                "[a-zA-Z@ <>\",.\\n\t()\\\\:;=?\r-]{0,40}",
            ],
        ) {
            same_addresses(&field);
        }
    }
}
