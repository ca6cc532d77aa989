//! # outcry-bounce
//!
//! Bytes of one e-mail in, one [`Record`] per recipient out: what happened to
//! the delivery, the enhanced status code, the SMTP reply, the error text, the
//! [`Reason`] in Sisimai's taxonomy, the sending IP the bounce reveals and the
//! [`Blocklist`] it names.
//!
//! It reads RFC 3464 delivery status notifications, RFC 5965 feedback reports
//! (ARF), RFC 3834 auto-replies and the plain-text notifications of Postfix,
//! Exim, qmail, Sendmail, Exchange, Gmail and many other MTAs. Pure: no I/O.
//! A message that is not a bounce gives zero records; bytes that hold no
//! message at all give an [`Error`].
//!
//! ```
//! let raw = b"From: MAILER-DAEMON@mx.example.jp\nTo: neko@example.org\n\
//! Subject: failure notice\n\nHi. This is the qmail-send program.\n\n\
//! <kijitora@example.jp>:\nremote host said: 550 5.1.1 Unknown user\n";
//! let records = outcry_bounce::analyze(raw).unwrap();
//! assert_eq!(records.len(), 1);
//! assert_eq!(records[0].recipient, "kijitora@example.jp");
//! assert_eq!(records[0].reason, outcry_bounce::Reason::UserUnknown);
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod address;
mod blocklist;
mod classify;
mod dsn;
mod find;
mod header;
mod ip;
mod lazy;
mod listserv;
mod message;
mod mime;
mod reason;
mod record;
mod rhost;
mod rules;
mod ses;
mod status;
mod text;

pub use blocklist::Blocklist;
pub use reason::{Family, Reason, UnknownReason};
pub use record::{Action, Command, Decoder, Record};

use classify::{Facts, classify};
use message::Flat;
use regex::Regex;
use std::net::IpAddr;
use std::sync::LazyLock;
use text::PhraseSet;

/// Bytes that could not be read as a message at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// Nothing there.
    #[error("empty input: no message to read")]
    Empty,
    /// Not an RFC 5322 message: it does not start with a header field
    /// (a PDF, a picture, a spreadsheet, text pasted from a mail client).
    #[error(
        "not an e-mail message: line {line} is not a header field ({found}); a message \
         starts with lines such as \"Received: ...\" or \"From: ...\", so check that this \
         is a saved message (.eml), an mbox or a Maildir file"
    )]
    NotAMessage {
        /// The line (from 1) where a header field was expected.
        line: usize,
        /// The start of that line, quoted and escaped.
        found: String,
    },
}

/// The largest input [`analyze`] reads; longer input is cut there (bounces are
/// small, a 64 MiB message is an attachment carrier, not a notification).
pub const MAX_MESSAGE_BYTES: usize = 64 << 20;

/// Build the rule tables now rather than for the first message that needs
/// them: the phrase automata and the vendor and receiving-service rules
/// take tens of milliseconds, during which other threads needing them
/// wait. A caller with a core to spare runs this on another thread while
/// it starts reading its input (`outcry analyze` does). Calling it is
/// never needed: [`analyze`] builds what it uses on first use.
pub fn prepare() {
    LazyLock::force(&rules::COMBINED);
    rhost::prepare();
}

/// Analyse one message. Zero records means it is not a bounce, a delivery
/// report, a feedback report or an auto-reply.
pub fn analyze(raw: &[u8]) -> Result<Vec<Record>, Error> {
    if raw.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(Error::Empty);
    }
    let raw = &raw[..raw.len().min(MAX_MESSAGE_BYTES)];
    let raw = message_start(raw).map_err(|(line, found)| Error::NotAMessage { line, found })?;
    analyze_nested(raw, 0)
}

/// The message from its first line that is not blank: a UTF-8 byte-order
/// mark and blank lines before it are dropped (they would end the header
/// block before it starts). `Err` with the line number (from 1) and the
/// start of that line, quoted, when it does not start with a header field.
///
/// The first line that is not blank must be a field, `Name: value` with a
/// name of printable ASCII (white space allowed around it, as the obsolete
/// syntax of RFC 5322 section 4.5 does before the colon), after an
/// optional mbox `From ` line. A message whose first line is damaged still
/// counts when its header block goes on with at least two of the fields
/// every message has (`Received:`, `From:`, `Date:`, ...): what follows can
/// still be read. `mail-parser` takes any line for a field, so without this
/// check a picture or a spreadsheet read as "not a bounce" instead of "not
/// an e-mail message".
fn message_start(raw: &[u8]) -> Result<&[u8], (usize, String)> {
    let raw = raw.strip_prefix(b"\xef\xbb\xbf").unwrap_or(raw);
    // Lines ended by LF, CRLF or a bare CR (old Mac files), ends dropped,
    // with where each starts.
    let mut at = 0;
    let mut lines = std::iter::from_fn(|| {
        let rest = raw.get(at..).filter(|r| !r.is_empty())?;
        let end = memchr::memchr2(b'\n', b'\r', rest).unwrap_or(rest.len());
        let start = at;
        at += if rest[end..].starts_with(b"\r\n") {
            end + 2
        } else {
            (end + 1).min(rest.len())
        };
        Some((start, &rest[..end]))
    });
    let mut line_no = 0;
    // Where the first line that is not blank starts (the mbox line, if any).
    let mut begins = None;
    let first = loop {
        // (Blank to the end is `Error::Empty`'s business: `analyze` checked.)
        let Some((start, line)) = lines.next() else {
            return Ok(&raw[begins.unwrap_or(0)..]);
        };
        line_no += 1;
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        if begins.is_none() {
            begins = Some(start);
            if line.starts_with(b"From ") || line.starts_with(b">From ") {
                continue;
            }
        }
        break line;
    };
    let message = &raw[begins.unwrap_or(0)..];
    if field_name(first).is_some_and(|n| !n.is_empty() && n.iter().all(u8::is_ascii_graphic)) {
        return Ok(message);
    }
    const COMMON: [&[u8]; 9] = [
        b"received",
        b"return-path",
        b"from",
        b"to",
        b"subject",
        b"date",
        b"message-id",
        b"mime-version",
        b"content-type",
    ];
    let common = lines
        .map(|(_, l)| l)
        .take(200)
        .take_while(|l| !l.is_empty())
        .filter(|l| field_name(l).is_some_and(|n| COMMON.iter().any(|c| n.eq_ignore_ascii_case(c))))
        .take(2)
        .count();
    if common == 2 {
        Ok(message)
    } else {
        Err((line_no, quoted_start(first)))
    }
}

/// The name of a `[ \t]* name [ \t]* ":"` line, white space trimmed.
fn field_name(line: &[u8]) -> Option<&[u8]> {
    memchr::memchr(b':', line).map(|colon| line[..colon].trim_ascii())
}

/// The first 40 characters of `line`, quoted, control characters and
/// invalid UTF-8 escaped.
fn quoted_start(line: &[u8]) -> String {
    let text = String::from_utf8_lossy(&line[..line.len().min(160)]);
    let mut start: String = text.chars().take(40).collect();
    if text.chars().nth(40).is_some() || line.len() > 160 {
        start.push_str("...");
    }
    format!("\"{}\"", start.escape_debug())
}

/// Above this size, the returned original message is cut after its headers
/// before parsing: a "message too big" bounce often carries the whole 20 MB
/// original, and nothing below its headers is ever read.
const BIG_MESSAGE: usize = 512 << 10;

/// How many forwarded layers are unwrapped to find a bounce.
const MAX_FORWARDS: usize = 3;

fn analyze_nested(raw: &[u8], depth: usize) -> Result<Vec<Record>, Error> {
    let norm = message::normalise_newlines(raw);
    let norm = message::trim_returned_message(norm, BIG_MESSAGE);
    let flat = message::flatten(&norm).ok_or_else(|| Error::NotAMessage {
        line: 1,
        found: quoted_start(raw.split(|&b| b == b'\n').next().unwrap_or_default()),
    })?;
    let records = decode(&flat);
    // A bounce forwarded as an attachment (a notification about a
    // notification): decode the attached message.
    if records.is_empty()
        && depth < MAX_FORWARDS
        && let Some(inner) = &flat.nested
    {
        return Ok(analyze_nested(inner, depth + 1).unwrap_or_default());
    }
    Ok(records)
}

/// One recipient's facts before classification.
#[derive(Default)]
pub(crate) struct Draft {
    recipient: String,
    action: Option<Action>,
    status: String,
    reply: Option<u16>,
    diagnostic: String,
    diagnostic_type: String,
    command: Option<Command>,
    remote_mta: String,
    reporting_mta: String,
    timestamp: Option<i64>,
    preset: Option<Reason>,
    /// The reporting MTA's own category of the failure (a weak hint).
    hint: Option<Reason>,
    feedback_type: Option<String>,
    sending_ip: Option<IpAddr>,
}

fn decode(f: &Flat) -> Vec<Record> {
    let complaint = f
        .subject
        .to_ascii_lowercase()
        .trim_start()
        .starts_with("complaint about message from");
    // Read at most once, and only when a decoder needs it or records follow.
    let original = std::cell::OnceCell::new();
    let original = || original.get_or_init(|| OriginalHeaders::read(f));
    let (drafts, decoder) =
        if !f.feedback.is_empty() || f.report_type == "feedback-report" || complaint {
            (arf(f), Decoder::ARF)
        } else if let Some(d) = apple_unsubscribe(f) {
            (vec![d], Decoder::ARF)
        } else if let Some(d) = listserv::parse(f) {
            (d, Decoder::Fml)
        } else if let Some(d) = from_dsn(f) {
            d
        } else if let Some(d) = ses::parse(&f.text) {
            (d, Decoder::AmazonSES)
        } else if let Some(d) = from_text(f, original) {
            d
        } else if let Some(d) = unnamed_recipient(f, original) {
            (vec![d], decoder_for(f, Decoder::RFC3464))
        } else if let Some(v) = auto_reply(f) {
            (vec![v], Decoder::RFC3834)
        } else {
            return Vec::new();
        };
    drafts
        .into_iter()
        .map(|d| finish(d, decoder, f, original()))
        .collect()
}

fn from_dsn(f: &Flat) -> Option<(Vec<Draft>, Decoder)> {
    let mut source: Vec<&str> = f.dsn.iter().map(String::as_str).collect();
    if source.is_empty() && dsn::looks_like_dsn(&f.text) {
        source.push(&f.text);
    }
    if source.is_empty() {
        return None;
    }
    let mut drafts = Vec::new();
    let texts = text::scan(f.note(), &excluded_addresses(f));
    let failed = failed_recipients(f);
    for s in source {
        let (m, mut rcpts) = dsn::parse(s);
        // A recipient that is not an address: X-Failed-Recipients may name
        // it (Exim); otherwise it is no recipient at all.
        for (i, r) in rcpts.iter_mut().enumerate() {
            if !address::is_field_address(&r.recipient) {
                r.recipient = failed
                    .get(i)
                    .or(failed.first())
                    .cloned()
                    .unwrap_or_default();
            }
        }
        rcpts.retain(|r| address::is_field_address(&r.recipient));
        let single = rcpts.len() == 1 && texts.len() == 1;
        for r in rcpts {
            // The text names the same recipient, or (one of each) the
            // address the DSN expanded to (X-Actual-Recipient, aliases).
            let from_text = texts
                .iter()
                .find(|t| t.recipient.eq_ignore_ascii_case(&r.recipient))
                .or(if single { texts.first() } else { None });
            let mut d = Draft {
                recipient: r.recipient,
                action: r.action,
                status: r.status,
                diagnostic: r.diagnostic,
                diagnostic_type: r.diagnostic_type,
                remote_mta: r.remote_mta,
                hint: r.category,
                reporting_mta: m.reporting_mta.clone(),
                timestamp: r.last_attempt.or(m.arrival_date),
                ..Draft::default()
            };
            // "Diagnostic-Code: X-Unix; 255": a local mailer's exit status,
            // which the text explains ("554 5.3.0 unknown mailer error 255").
            let exit_status = (!d.diagnostic.is_empty()
                && d.diagnostic.trim().bytes().all(|b| b.is_ascii_digit()))
            .then(|| format!("mailer error {}", d.diagnostic.trim()));
            if let Some(t) = from_text {
                // The human-readable text often says more than the DSN field
                // (Postfix adds "(in reply to RCPT TO command)").
                // But a text that is the whole notice (the recipient's
                // lines carry no code) only stands in for a missing field:
                // the field says the same without the notice's greeting.
                if d.diagnostic.is_empty() {
                    d.diagnostic = t.diagnostic.clone();
                } else if !t.whole {
                    let dsn_said = text::collapse(&d.diagnostic).to_lowercase();
                    if find::contains(&t.diagnostic.to_lowercase(), &dsn_said) {
                        d.diagnostic = t.diagnostic.clone();
                    } else if single {
                        d.diagnostic = format!("{} {}", t.diagnostic, d.diagnostic);
                    }
                }
                d.command = t.command;
                if d.remote_mta.is_empty() {
                    d.remote_mta = t.remote_mta.clone();
                }
            } else if d.diagnostic.is_empty() && texts.len() == 1 && !texts[0].diagnostic.is_empty()
            {
                d.diagnostic = texts[0].diagnostic.clone();
            }
            // The Status comment explains the code ("5.2.1 (mailbox disabled,
            // not accepting messages)"): alone when nothing else does, else
            // after the text when it says something the text does not.
            if let Some(c) = &r.status_comment {
                if d.diagnostic.is_empty() {
                    d.diagnostic = c.clone();
                } else if !find::contains(&d.diagnostic.to_lowercase(), &c.to_lowercase()) {
                    d.diagnostic = format!("{} ({c})", d.diagnostic);
                }
            }
            if let Some(mailer_error) = &exit_status
                && let Some(line) = text::lines(f.note()).map(str::trim).find(|l| {
                    let l = l.to_ascii_lowercase();
                    l.ends_with(mailer_error.as_str())
                        || (l.starts_with(['4', '5'])
                            && l.contains(&d.recipient.to_ascii_lowercase()))
                })
            {
                // The reply line naming the recipient, or the mailer error.
                d.diagnostic = line.to_string();
            }
            if d.command.is_none() {
                d.command = Command::find_in(&d.diagnostic);
            }
            drafts.push(d);
        }
    }
    if drafts.is_empty() {
        return None;
    }
    Some((drafts, decoder_for(f, Decoder::RFC3464)))
}

/// The addresses `X-Failed-Recipients` (Exim, Google) names.
fn failed_recipients(f: &Flat) -> Vec<String> {
    // A list of addresses (RFC 5322 `address-list` without names), so any
    // domain the field gives is the recipient's (`root@localhost`); the
    // addresses in an item that is more than one are searched for.
    let Some(value) = f.header("X-Failed-Recipients") else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for item in value.split([',', ' ', '\t', '\r', '\n']) {
        let whole = address::clean(item);
        if address::is_field_address(&whole) {
            out.push(whole);
        } else {
            out.extend(address::all_in(item));
        }
    }
    out
}

/// A delivery report that names no recipient at all (Postfix's "Delivery
/// report unavailable"): the returned message's only `To:` address is the one
/// that failed; why is unknown.
fn unnamed_recipient<'f>(
    f: &Flat,
    original: impl FnOnce() -> &'f OriginalHeaders,
) -> Option<Draft> {
    // The attached message is a report itself (a forwarded bounce): it is
    // decoded on its own, its To: is no recipient of ours.
    let attached_report = f
        .original_headers
        .to_ascii_lowercase()
        .contains("multipart/report");
    if f.report_type != "delivery-status" || attached_report {
        return None;
    }
    let [to] = <[String; 1]>::try_from(original().to()).ok()?;
    Some(Draft {
        recipient: to,
        action: Some(Action::Failed),
        // Nothing says why: not the notification's boilerplate either.
        preset: Some(Reason::Undefined),
        reporting_mta: f
            .dsn
            .first()
            .map(|s| dsn::parse(s).0.reporting_mta)
            .unwrap_or_default(),
        ..Draft::default()
    })
}

fn from_text<'f>(
    f: &Flat,
    original: impl FnOnce() -> &'f OriginalHeaders,
) -> Option<(Vec<Draft>, Decoder)> {
    if !looks_like_bounce(f) {
        return None;
    }
    let excluded = excluded_addresses(f);
    let mut hits = text::scan(f.note(), &excluded);
    // X-Failed-Recipients (Exim, Google) names the recipients outright,
    // except in Google Workspace's notices about the sender's own setup.
    let named = match (hits.is_empty() && google_sender_notice(f)).then(original) {
        Some(o) if let Some(first) = o.to().into_iter().next() => vec![first],
        _ => failed_recipients(f),
    };
    // The text's own list of failed addresses wins only when it names the
    // same mailboxes under other domains (a rewritten address:
    // "kijitora@example.or.jp" in the text, "kijitora@example.jp" in
    // the header); any other address in the text is not the recipient.
    let local = |a: &str| a.rsplit_once('@').map(|(l, _)| l.to_ascii_lowercase());
    let rewritten = hits.len() == named.len()
        && hits
            .iter()
            .zip(&named)
            .all(|(h, a)| !h.recipient.eq_ignore_ascii_case(a) && local(&h.recipient) == local(a));
    if !named.is_empty() && !rewritten {
        // An address in the text that the header does not name is no
        // recipient: quoted in a refusal ("Unknown user: a@b", "<a@b>
        // (generated from ...)") it must not cut the text of the named
        // recipient above it short. Read again without it.
        let lower = |a: &str| a.to_ascii_lowercase();
        let named_set: std::collections::HashSet<String> = named.iter().map(|n| lower(n)).collect();
        let others: Vec<String> = hits
            .iter()
            .map(|h| h.recipient.clone())
            .filter(|a| !named_set.contains(&lower(a)))
            .collect();
        if !others.is_empty() && hits.len() > others.len() {
            let mut exclude = excluded;
            exclude.extend(others);
            hits = text::scan(f.note(), &exclude);
        }
        // The whole notice, for a named address the text has no hit for
        // (read only then).
        let context = std::cell::OnceCell::new();
        let context = || {
            context.get_or_init(|| {
                let text = text::collapse(f.note());
                let command = Command::find_in(&text);
                (text, command)
            })
        };
        // Each named address's first hit, by address (case-insensitive).
        let mut first_hit = std::collections::HashMap::new();
        for h in &hits {
            first_hit.entry(lower(&h.recipient)).or_insert(h);
        }
        hits = named
            .into_iter()
            .map(|a| {
                first_hit
                    .get(&lower(&a))
                    .map(|h| (*h).clone())
                    .unwrap_or_else(|| {
                        let (diagnostic, command) = context();
                        text::TextHit {
                            recipient: a,
                            diagnostic: diagnostic.clone(),
                            command: *command,
                            ..Default::default()
                        }
                    })
            })
            .collect();
    }
    if hits.is_empty() {
        return None;
    }
    let decoder = decoder_for(f, Decoder::Text);
    // A Google Groups refusal means the group refused the sender (it does not
    // exist or the sender may not post): the sender's side, Sisimai's "rejected".
    let preset = (decoder == Decoder::GoogleGroups).then_some(Reason::Rejected);
    let action = if text_says_delayed(f.note_lower()) {
        Action::Delayed
    } else {
        Action::Failed
    };
    let drafts = hits
        .into_iter()
        .map(|h| Draft {
            recipient: h.recipient,
            action: Some(action),
            diagnostic: h.diagnostic,
            command: h.command,
            remote_mta: h.remote_mta,
            preset,
            ..Draft::default()
        })
        .collect();
    Some((drafts, decoder))
}

/// Google Workspace's notice about the sender's own setup ("** Message not
/// delivered ** You're sending this from a different address or alias using
/// the 'Send mail as' feature ..."): no delivery-status fields. When its text
/// names no address, `X-Failed-Recipients` may name a group or alias on the
/// way; the message's recipient is the returned message's `To:` (where
/// Sisimai's GoogleWorkspace decoder reads it too).
fn google_sender_notice(f: &Flat) -> bool {
    // (An empty delivery-status part may be there: no fields in it.)
    let has_fields = |t: &str| {
        let l = t.to_ascii_lowercase();
        l.contains("final-recipient:") || l.contains("diagnostic-code:")
    };
    f.from.eq_ignore_ascii_case("mailer-daemon@googlemail.com")
        && f.subject.contains("Delivery Status Notification")
        && !f.dsn.iter().any(|d| has_fields(d))
        && !has_fields(&f.text)
        && text::lines(f.note()).any(|l| l.starts_with("** "))
}

/// A warning that the MTA keeps trying, not a final failure (`note_lower`:
/// the notification in ASCII lower case).
fn text_says_delayed(note_lower: &str) -> bool {
    [
        "warning message only",
        "has been delayed",
        "message not delivered yet",
        "delivery has been delayed",
        "will continue to try",
        "will keep trying",
        "delivery attempts will continue",
        "will continue to attempt delivery",
        "message will be retried",
        "not yet been delivered",
        "this is just a warning",
    ]
    .iter()
    .any(|p| find::contains(note_lower, p))
}

/// Addresses that are never the failed recipient: the bounce's own From and
/// To, and the sender an Exim notice names.
fn excluded_addresses(f: &Flat) -> Vec<String> {
    /// Exim's words before the sender's address when its notice goes to
    /// someone other than the sender (`errors_to`, an SRS-rewritten return
    /// path): "A message sent by\n\n  <owner@...>\n\ncould not be delivered".
    static SENT_BY: LazyLock<memchr::memmem::Finder<'static>> =
        LazyLock::new(|| memchr::memmem::Finder::new("A message sent by"));
    let mut v = f.to.clone();
    if !f.from.is_empty() {
        v.push(f.from.clone());
    }
    let note = f.note();
    if let Some(at) = SENT_BY.find(note.as_bytes()) {
        let after = &note[at + SENT_BY.needle().len()..];
        let until = after.find("could not be delivered").unwrap_or(0);
        if let Some(sender) = address::first_in(&after[..until]) {
            v.push(sender.to_string());
        }
    }
    v
}

/// Signals that a text message is a delivery notification.
fn looks_like_bounce(f: &Flat) -> bool {
    let from = f.from.to_ascii_lowercase();
    let subject = f.subject.to_ascii_lowercase();
    if f.report_type == "delivery-status" {
        return true;
    }
    // "MAILER-DAEMON", "mailer_daemon", "post_master", "Mail Delivery ...".
    let squeezed: String = from
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '@')
        .collect();
    let daemon = [
        "mailerdaemon",
        "postmaster",
        "maildaemon",
        "mdaemon",
        "bounce",
        "noreply",
        "maildelivery",
    ];
    if daemon.iter().any(|d| squeezed.contains(d)) || f.from.is_empty() {
        return true;
    }
    let subjects = [
        "undeliver",
        "delivery status",
        "delivery fail",
        "delivery notification",
        "returned mail",
        "failure notice",
        "mail delivery",
        "non-deliver",
        "nondeliver",
        "not delivered",
        "could not be delivered",
        "delivery report",
        "mail system error",
        "delivery failure",
        "delayed mail",
        "warning: message",
        "mail failure",
        "bounce",
        "error",
        "rejected",
        "notice",
    ];
    if subjects.iter().any(|s| subject.contains(s)) {
        return true;
    }
    let l = f.note_lower();
    [
        "could not be delivered",
        "undeliverable",
        "delivery has failed",
        "permanent error",
        "following address(es) failed",
        "qmail-send",
        "transcript of session",
        "delivery to the following recipient",
        "was not delivered",
        "unable to deliver",
        "failed to deliver",
    ]
    .iter()
    .any(|p| find::contains(l, p))
}

/// Name the MTA family from the bounce's headers and text.
fn decoder_for(f: &Flat, default: Decoder) -> Decoder {
    /// What the MTAs write of themselves in their notices.
    const MARKS: [&str; 17] = [
        "delivery has failed",
        "microsoft exchange",
        "outlook.com",
        "groups.google.com",
        "google tried to deliver",
        "this is the dragonfly mail agent",
        "this is the mailer-daemon, please do not reply to this e-mail",
        "running the courier mail server",
        "domino directory",
        "this message was created automatically by mail delivery software",
        "has been frozen by the system filter",
        "was frozen on arrival by",
        "this is the mail system at host",
        "this is the postfix program",
        "qmail-send program",
        "this is the qmail",
        "transcript of session follows",
    ];
    /// The openings of qmail and the services that run it (Yahoo!), as
    /// Sisimai's qmail decoder knows them; they count with a qmail subject
    /// or Received: line only.
    const QMAIL_OPENINGS: [&str; 11] = [
        "sorry, we were unable to deliver your message to the following address",
        "unable to deliver your message to the following addresses",
        "he/her is not ",
        "su mensaje no pudo ser entregado",
        "this is the machine generated message from mail service",
        "this is the mail delivery agent at",
        "unable to deliver message to the following address",
        "unfortunately, your mail was not delivered to the following address:",
        "your mail message to the following address",
        "your message to the following addresses",
        "we're sorry.",
    ];
    static MARKER: LazyLock<PhraseSet> =
        LazyLock::new(|| PhraseSet::new(MARKS.iter().chain(&QMAIL_OPENINGS)));
    // Both lists in one pass: bit i of `said` is pattern i, the marks
    // first, then the qmail openings.
    let said = MARKER.found_in(f.note_lower());
    let says = |mark: &str| {
        let i = MARKS.iter().position(|m| *m == mark);
        debug_assert!(i.is_some(), "{mark:?} is not one of MARKS");
        i.is_some_and(|i| said & (1 << i) != 0)
    };
    let qmail_opening = said >> MARKS.len() != 0;
    let has = |n: &str| f.header(n).is_some();
    let from = f.from.to_ascii_lowercase();
    if has("X-MS-Exchange-Message-Is-Ndr")
        || has("X-MS-Exchange-Organization-SCL") && says("delivery has failed")
        || says("microsoft exchange")
        || says("outlook.com") && from.contains("postmaster")
    {
        return Decoder::Exchange;
    }
    let failed = f
        .header("X-Failed-Recipients")
        .unwrap_or("")
        .to_ascii_lowercase();
    if from.contains("googlegroups.com")
        || failed.contains("@googlegroups.com")
        || says("groups.google.com")
    {
        return Decoder::GoogleGroups;
    }
    // Gmail sets X-Failed-Recipients too: the sender decides first.
    if from.contains("googlemail.com")
        || from.contains("@gmail.com")
        || says("google tried to deliver")
    {
        return Decoder::Gmail;
    }
    // What each MTA says of itself in its notification (or in the
    // Received: line it wrote the bounce with).
    if says("this is the dragonfly mail agent") {
        return Decoder::DragonFly;
    }
    if says("this is the mailer-daemon, please do not reply to this e-mail") {
        return Decoder::OpenSMTPD;
    }
    if says("running the courier mail server") {
        return Decoder::Courier;
    }
    if says("domino directory") || f.received.contains("(lotus domino") {
        return Decoder::Domino;
    }
    if has("X-Failed-Recipients")
        || says("this message was created automatically by mail delivery software")
        || says("has been frozen by the system filter")
        || says("was frozen on arrival by")
    {
        // GMX, WEB.DE and Zoho Mail write Exim's words under their own
        // headers.
        return if has("X-GMX-Antispam") {
            Decoder::Gmx
        } else if has("X-ZohoMail") {
            Decoder::Zoho
        } else {
            Decoder::Exim
        };
    }
    if says("this is the mail system at host")
        || says("this is the postfix program")
        || f.header("X-Postfix-Queue-ID").is_some()
        || f.subject.contains("SMTP server: errors from")
    {
        return Decoder::Postfix;
    }
    let qmail_sent =
        f.subject.trim().eq_ignore_ascii_case("failure notice") || f.received.contains("(qmail ");
    if says("qmail-send program")
        || says("this is the qmail")
        || (f.received.contains("(qmail ") && f.received.contains("invoked for bounce"))
        || (qmail_sent && qmail_opening)
    {
        return Decoder::Qmail;
    }
    if says("transcript of session follows") {
        return Decoder::Sendmail;
    }
    if from.contains("amazonses.com") || has("X-SES-Outgoing") {
        return Decoder::AmazonSES;
    }
    default
}

/// RFC 5965 feedback reports: one record per reported recipient.
fn arf(f: &Flat) -> Vec<Draft> {
    let report = f.feedback.join("\n");
    let fields = dsn::fields(&report);
    let get = |n: &str| {
        fields
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(n))
            .map(|(_, v)| v.clone())
    };
    let orig = dsn::fields(&f.original_headers);
    let orig_get = |n: &str| orig.iter().find(|(k, _)| k.eq_ignore_ascii_case(n));
    // Microsoft's Junk Mail Reporting Program sends no feedback-report part:
    // the returned message carries the complaining recipient in
    // X-HmXmrOriginalRecipient, and every such report is a complaint.
    let microsoft = orig_get("X-HmXmrOriginalRecipient");
    let feedback_type = get("Feedback-Type")
        .map(|v| v.to_ascii_lowercase())
        .or_else(|| microsoft.map(|_| "abuse".to_string()));
    let sending_ip = get("Source-IP").and_then(|v| ip::parse(v.trim()));
    let timestamp = get("Arrival-Date")
        .or(get("Received-Date"))
        .and_then(|v| dsn::parse_date(&v))
        .or(f.date);
    let mut rcpts: Vec<String> = fields
        .iter()
        .filter(|(k, _)| {
            k.eq_ignore_ascii_case("Original-Rcpt-To")
                || k.eq_ignore_ascii_case("Removal-Recipient")
        })
        .map(|(_, v)| address::clean(v))
        .filter(|a| address::is_address(a))
        .collect();
    if rcpts.is_empty()
        && let Some((_, to)) = microsoft.or_else(|| orig_get("To"))
    {
        rcpts.extend(address::all_in(to));
    }
    if rcpts.is_empty() {
        rcpts.push("undisclosed-recipient-in-headers@libsisimai.org.invalid".to_string());
    }
    let mut seen = Vec::new();
    rcpts.retain(|r| {
        let k = r.to_ascii_lowercase();
        if seen.contains(&k) {
            false
        } else {
            seen.push(k);
            true
        }
    });
    let diagnostic = text::collapse(f.note());
    rcpts
        .into_iter()
        .map(|r| Draft {
            recipient: r,
            preset: Some(Reason::Feedback),
            feedback_type: feedback_type.clone(),
            sending_ip,
            timestamp,
            diagnostic: diagnostic.chars().take(300).collect(),
            ..Draft::default()
        })
        .collect()
}

/// Apple Mail's "Unsubscribe" button sends the list a message marked
/// `X-Apple-Unsubscribe: true` from the subscriber: an opt-out request, the
/// sender being the address to take off the list.
fn apple_unsubscribe(f: &Flat) -> Option<Draft> {
    let marked = f
        .header("X-Apple-Unsubscribe")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    if !marked || !address::is_address(&f.from) {
        return None;
    }
    Some(Draft {
        recipient: f.from.clone(),
        preset: Some(Reason::Feedback),
        feedback_type: Some("opt-out".to_string()),
        diagnostic: text::collapse(&f.text).chars().take(200).collect(),
        timestamp: f.date,
        ..Draft::default()
    })
}

/// RFC 3834 auto-replies (out-of-office): the replying person is the record.
fn auto_reply(f: &Flat) -> Option<Draft> {
    let auto = f
        .header("Auto-Submitted")
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("auto-replied"));
    let subject = f.subject.to_ascii_lowercase();
    let vacation_subject = [
        "out of office",
        "out of the office",
        "auto:",
        "automatic reply",
        "autoreply",
        "auto-reply",
        "auto reply",
        "auto-response",
        "autoresponse",
        "automatische antwort",
        "réponse automatique",
        "自動応答",
        "vacation",
        "abwesenheit",
        "absence",
    ]
    .iter()
    .any(|s| subject.contains(s));
    let header_hint = f.header("X-Autoreply").is_some()
        || f.header("X-Autorespond").is_some()
        || f.header("Precedence")
            .is_some_and(|v| v.eq_ignore_ascii_case("auto_reply"));
    let daemon = f.from.to_ascii_lowercase().contains("mailer-daemon")
        || f.from.to_ascii_lowercase().contains("postmaster");
    if !(auto || vacation_subject || header_hint) || f.from.is_empty() || daemon {
        return None;
    }
    Some(Draft {
        recipient: f.from.clone(),
        preset: Some(Reason::Vacation),
        diagnostic: text::collapse(&f.text).chars().take(200).collect(),
        timestamp: f.date,
        ..Draft::default()
    })
}

/// What the returned original message's headers tell.
#[derive(Default)]
struct OriginalHeaders {
    message_id: String,
    sender: String,
    /// The returned message's `To:`, unparsed: two rare decoders read its
    /// addresses ([`OriginalHeaders::to`]), most messages never.
    to_field: Option<String>,
    /// `X-Originating-IP`, when it holds an address.
    originating_ip: Option<IpAddr>,
    /// The first public IP of the `Received:` lines, read when first
    /// asked for (most records name their sending IP themselves).
    received_ip: std::cell::OnceCell<Option<IpAddr>>,
}

impl OriginalHeaders {
    /// The returned message's header block: the attached one, or for an
    /// inline original (qmail, Exim) the text after the notification.
    fn block(f: &Flat) -> &str {
        if !f.original_headers.is_empty() {
            return &f.original_headers;
        }
        let rest = &f.text[f.note_end..];
        let after_marker = rest.find('\n').map(|i| &rest[i + 1..]).unwrap_or("");
        let body = after_marker.trim_start();
        &body[..message::header_end(body.as_bytes())]
    }

    fn read(f: &Flat) -> OriginalHeaders {
        const READ: [&str; 5] = [
            "Message-ID",
            "Return-Path",
            "From",
            "X-Originating-IP",
            "To",
        ];
        let fields = dsn::fields_where(Self::block(f), |n| {
            READ.iter().any(|r| r.eq_ignore_ascii_case(n))
        });
        let get = |n: &str| {
            fields
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(n))
                .map(|(_, v)| v.clone())
        };
        let message_id = get("Message-ID")
            .map(|v| v.trim().trim_matches(['<', '>']).to_string())
            .unwrap_or_default();
        let sender = get("Return-Path")
            .or_else(|| get("From"))
            .and_then(|v| address::first_in(&v).map(str::to_string))
            .or_else(|| f.to.first().cloned())
            .unwrap_or_default();
        // A webmail's note of the client's address; a private or loopback
        // one ("127.0.0.1", a sending script's own) says nothing of where
        // the message came from.
        let originating_ip = get("X-Originating-IP")
            .and_then(|v| ip::parse(v.trim().trim_matches(['[', ']'])))
            .filter(|ip| ip::is_public(*ip));
        OriginalHeaders {
            message_id,
            sender,
            to_field: get("To"),
            originating_ip,
            received_ip: Default::default(),
        }
    }

    /// When the returned message was written (its `Date:`), for a bounce
    /// that says no time of its own: as Sisimai does, a failure is placed
    /// at its message's time rather than nowhere (an incident's timeline
    /// leaves out a failure without a time). Read only then: few bounces
    /// lack a time.
    fn date(f: &Flat) -> Option<i64> {
        dsn::fields_where(Self::block(f), |n| n.eq_ignore_ascii_case("Date"))
            .first()
            .and_then(|(_, v)| dsn::parse_date(v))
    }

    /// The addresses of the returned message's `To:`.
    fn to(&self) -> Vec<String> {
        self.to_field
            .as_deref()
            .map(address::all_in)
            .unwrap_or_default()
    }

    /// The originating public IP: `X-Originating-IP`, else the first
    /// public IP of the `Received:` lines. The topmost `Received:` holding
    /// one is the last hop up to the provider's outbound server, the IP
    /// it sent from.
    fn first_public_ip(&self, f: &Flat) -> Option<IpAddr> {
        self.originating_ip.or_else(|| {
            *self
                .received_ip
                .get_or_init(|| received_public_ip(Self::block(f)))
        })
    }
}

/// The first public IP in the `from` part of the `Received:` fields of a
/// header block (where the message came from; the `by` part names the
/// host that received it), read line by line where they are folded (an
/// address never spans a fold). A field is what `dsn::fields` takes for
/// one. A field from one of Exchange Online's own servers
/// (`*.prod.outlook.com`, `*.prod.exchangelabs.com`) is passed over: the
/// address there is one inside Microsoft's datacentres, never the one the
/// message came from the Internet on.
fn received_public_ip(block: &str) -> Option<IpAddr> {
    // The `from` part of the `Received:` field being read, its lines
    // joined, and whether one is being read.
    let mut from = String::new();
    let mut in_received = false;
    for line in text::lines(block) {
        let value = if line.starts_with([' ', '\t']) {
            if !in_received {
                continue;
            }
            line
        } else {
            if std::mem::take(&mut in_received)
                && let Some(ip) = connecting_ip(&from)
            {
                return Some(ip);
            }
            // A name that starts with visible ASCII starts the line (it is
            // not trimmed there): only an R can start "Received", and the
            // other lines are passed over without a look for their colon.
            if line
                .as_bytes()
                .first()
                .is_some_and(|b| b.is_ascii_graphic() && !b.eq_ignore_ascii_case(&b'r'))
            {
                continue;
            }
            match dsn::split_field(line) {
                Some((n, v)) if text::trim(n).eq_ignore_ascii_case("Received") => {
                    in_received = !from_exchange_online(v);
                    if !in_received {
                        continue;
                    }
                    from.clear();
                    v
                }
                _ => continue,
            }
        };
        // Up to the `by` part: once it starts, the rest of the field is
        // the receiving host's.
        match by_part(value) {
            Some(at) => {
                from.push_str(&value[..at]);
                in_received = false;
                if let Some(ip) = connecting_ip(&from) {
                    return Some(ip);
                }
            }
            None => {
                from.push_str(value);
                from.push(' ');
            }
        }
    }
    if in_received {
        return connecting_ip(&from);
    }
    None
}

/// The address the `from` part of a `Received:` field says the message
/// came from: the first public address in parentheses, where the
/// receiving server notes the connection (`from mail.example (mail.example
/// [192.0.2.1])`, `from [192.0.2.9] (host.example [192.0.2.1])`), unless
/// it is the client's own `HELO` (`helo=[192.0.2.9]`, `(HELO ?192.0.2.9?)`);
/// else the first public address at all (Exim's `from [192.0.2.1]
/// (port=51580 helo=...)`).
fn connecting_ip(from: &str) -> Option<IpAddr> {
    let mut first = None;
    // The parenthesis depth at `counted`, kept as the literals come in
    // order (a field of many literals stays linear).
    let (mut depth, mut counted) = (0i64, 0);
    for (start, literal) in ip::literals(from) {
        for &c in &from.as_bytes()[counted..start] {
            depth += match c {
                b'(' => 1,
                b')' => -1,
                _ => 0,
            };
        }
        counted = start;
        let Some(ip) = ip::parse(literal).filter(|ip| ip::is_public(*ip)) else {
            continue;
        };
        let before = from[..start].trim_end_matches(['[', '?']).as_bytes();
        let helo = [b"helo=", b"helo ", b"ehlo=", b"ehlo "]
            .iter()
            .any(|w| text::ends_with_ignore_case(before, *w));
        if depth > 0 && !helo {
            return Some(ip);
        }
        first = first.or(Some(ip));
    }
    first
}

/// Where the `by` part of a `Received:` line starts: the first word `by`
/// (any case) at the start of the line or after white space or a closing
/// parenthesis.
fn by_part(line: &str) -> Option<usize> {
    let b = line.as_bytes();
    memchr::memchr2_iter(b'b', b'B', b).find(|&i| {
        b.get(i + 1).is_some_and(|c| c.eq_ignore_ascii_case(&b'y'))
            && b.get(i + 2).is_none_or(u8::is_ascii_whitespace)
            && (i == 0 || matches!(b[i - 1], b' ' | b'\t' | b')' | b']'))
    })
}

/// Does a `Received:` value come from one of Exchange Online's own servers
/// (`from SN6PR01MB1234.namprd01.prod.outlook.com`, `from
/// HK2PR0101CA2025.apcprd01.prod.exchangelabs.com`)?
fn from_exchange_online(value: &str) -> bool {
    let host = text::trim(value)
        .strip_prefix("from ")
        .and_then(|rest| rest.split_ascii_whitespace().next())
        .unwrap_or("")
        .trim_end_matches('.')
        .as_bytes();
    text::ends_with_ignore_case(host, b".prod.outlook.com")
        || text::ends_with_ignore_case(host, b".prod.exchangelabs.com")
}

/// `table` with the entries of `bytes` set: the listed bytes of a
/// hand-written scanner's byte class, on top of the ranges it starts from.
const fn with_bytes(mut table: [bool; 256], bytes: &[u8]) -> [bool; 256] {
    let mut i = 0;
    while i < bytes.len() {
        table[bytes[i] as usize] = true;
        i += 1;
    }
    table
}

/// The client IP a refusing host quotes ("Client host [192.0.2.1] blocked",
/// "banned sending IP [40.107.1.2]"): a public IP whose preceding words speak
/// of the client, not of the remote host itself ("host mx.example.jp
/// [192.0.2.20]").
fn quoted_client_ip(diag: &str, remote_mta: &str) -> Option<IpAddr> {
    for (start, literal) in ip::literals(diag) {
        let Some(ip) = ip::parse(literal) else {
            continue;
        };
        if !ip::is_public(ip) || remote_mta.contains(literal) {
            continue;
        }
        let before =
            diag[diag.floor_char_boundary(start.saturating_sub(48))..start].to_ascii_lowercase();
        static CLIENT: LazyLock<PhraseSet> = LazyLock::new(|| {
            PhraseSet::new(&[
                "client",
                "sending ip",
                "your ip",
                "ip address",
                "connecting",
                // "Connection from 192.0.2.1 rejected for policy reasons".
                "connection from ",
                "from ip",
                "ip:",
                "ip ",
                "from [",
                "messages from",
                // Yahoo: "Connections will not be accepted from 192.0.2.1";
                // Trend Micro, SpamCop: "Mail from 192.0.2.1 refused".
                "accepted from",
                "mail from ",
                // GMX, WEB.DE: "postmaster.gmx.net/en/case?c=ip&i=ip&v=192.0.2.1".
                "&i=ip&v=",
                "sender ip",
                // MailMarshal's "Sender-MTA: <192.0.2.1>": who handed it the message.
                "sender-mta:",
                "banned sender",
                "mail server [",
                // Lookup links: "ipcheck.proofpoint.com/?ip=", "bl.shtml?",
                // "lookup?ip_address=", "query/ip/".
                "?ip=",
                "&ip=",
                "?ip_address=",
                // "IP=[192.0.2.1]", but not "LastAttemptedIP=" (the server).
                " ip=",
                "bl.shtml?",
                // SORBS: "lookup.shtml?192.0.2.1".
                "lookup.shtml?",
                "/ip/",
            ])
        });
        let client = CLIENT.any_in(&before);
        // "host mx.example[192.0.2.1] said": the IP right after a host name
        // is the remote server's, even when the name contains "client".
        // Once the host "said:" something, an IP in what it said is not its
        // own ("host mx.example[192.0.2.9] said: 550 5.7.1 192.0.2.1 listed
        // at ...").
        let remote_host = before.rfind("host ").is_some_and(|h| {
            if before[h..].contains(" said:") {
                return false;
            }
            let named = !before[h + 5..].contains(char::is_whitespace);
            // "Client host", "Connecting host [...]", "your host [...]": the
            // host that connected, the sender.
            !text::names_the_sender(&before[..h]) && (named || !before[h..].contains("client"))
        }) && !before.contains("client host");
        // "Rejected: 192.0.2.1 listed at zen.spamhaus.org": what a list
        // lists is the client.
        let end = start + literal.len();
        let after = diag[end..diag.ceil_char_boundary((end + 48).min(diag.len()))]
            .trim_start_matches([']', ')', '>', ' '])
            .to_ascii_lowercase();
        // Gmail writes a counter after the IP inside the brackets:
        // "[192.0.2.1      12] Gmail has detected ...".
        let after = match after.split_once(']') {
            Some((n, rest)) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => {
                rest.trim_start().to_string()
            }
            _ => after,
        };
        // ... and so is the IP a refusal is about ("[192.0.2.1] Our system
        // has detected", "[192.0.2.1] has been temporarily rate limited").
        let listed = [
            "listed",
            "is listed",
            "is blacklisted",
            "is blocklisted",
            "our system has detected",
            "gmail has detected",
            "has been temporarily rate limited",
            "has exceeded",
            "found on",
            "found in",
            "has been blocked",
            "is in a black",
            // AT&T: "DNSBL:RBL 521< 192.0.2.1 >_is_blocked".
            "_is_blocked",
            "is blocked",
        ]
        .iter()
        .any(|k| after.starts_with(k));
        if (client || listed) && !remote_host {
            return Some(ip);
        }
    }
    None
}

/// Multi-line SMTP replies arrive as "550-5.2.1 The user ... at a rate that
/// 550-5.2.1 prevents additional ...": drop the repeated prefixes so the
/// sentence reads whole.
fn unwrap_multiline(diag: &str) -> String {
    if unwraps_nothing(diag) {
        return diag.to_string();
    }
    unwrap_by_patterns(diag)
}

/// [`unwrap_multiline`] by its two patterns.
fn unwrap_by_patterns(diag: &str) -> String {
    static CONT: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"\s[245][0-9][0-9][- ][245]\.[0-9]{1,3}\.[0-9]{1,3}\s+").unwrap()
    });
    // A bare "550-" marker, but not a reply quoted after it ("550-'5.7.1 ...").
    static CONT_BARE: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r#"\s[245][0-9][0-9]-\s*([^\s'"])"#).unwrap());
    let first_end = CONT.find(diag).map(|m| m.end()).unwrap_or(0);
    if first_end == 0 && !CONT_BARE.is_match(diag) {
        return diag.to_string();
    }
    let (head, tail) = diag.split_at(first_end);
    let tail = CONT.replace_all(tail, " ");
    let tail = CONT_BARE.replace_all(&tail, " $1");
    format!("{head}{tail}")
}

/// Whether [`unwrap_multiline`] would give `text` back as it is: no bare
/// `550-` marker (white space, a reply code, `-`) and at most one place
/// where a `550 5.1.1` one starts (white space, a code, a space, a class
/// digit and a dot): the first such marker is kept, so one alone changes
/// nothing. Neither pattern has a literal for the regex engine to look
/// for first, so each ran through the whole diagnostic (about 5,000
/// instructions a record); this looks only at the bytes `2`, `4` and `5`.
/// A byte before the code that is not ASCII counts as white space (it may
/// end a Unicode space, which `\s` matches), so a doubt goes to the
/// patterns.
fn unwraps_nothing(text: &str) -> bool {
    let b = text.as_bytes();
    let mut markers = 0;
    for i in memchr::memchr3_iter(b'2', b'4', b'5', b) {
        let code = i > 0
            && (b[i - 1].is_ascii_whitespace() || b[i - 1] == 0x0B || b[i - 1] >= 0x80)
            && b.get(i + 1).is_some_and(u8::is_ascii_digit)
            && b.get(i + 2).is_some_and(u8::is_ascii_digit);
        if !code {
            continue;
        }
        match b.get(i + 3) {
            Some(b'-') => return false,
            Some(b' ')
                if matches!(b.get(i + 4), Some(b'2' | b'4' | b'5'))
                    && b.get(i + 5) == Some(&b'.') =>
            {
                markers += 1;
                if markers > 1 {
                    return false;
                }
            }
            _ => {}
        }
    }
    true
}

/// Gmail's older notifications end the quoted reply with "(state N).", the
/// stage of its SMTP session where the remote server refused, and what a
/// refusal there means when the status code does not say more.
fn gmail_state(diagnostic: &str) -> Option<(Command, Reason)> {
    static STATE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\(state ([0-9]+)\)\.").unwrap());
    if !diagnostic.contains("Google tried to deliver") {
        return None;
    }
    let state: u32 = STATE.captures(diagnostic)?[1].parse().ok()?;
    Some(match state {
        6 => (Command::Mail, Reason::SystemError),
        8 | 9 => (Command::Auth, Reason::SystemError),
        12 => (Command::Auth, Reason::NoRelaying),
        13 => (Command::Ehlo, Reason::Blocked),
        14 => (Command::Rcpt, Reason::UserUnknown),
        15 | 17 | 18 => (Command::Data, Reason::Filtered),
        _ => return None,
    })
}

/// A status code with a specific subject and detail ("5.7.1", not "5.7.0").
fn specific_status(status: &str) -> bool {
    let mut parts = status.split('.');
    let (Some(_), Some(subject), Some(detail)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    matches!(subject, "1" | "2" | "3" | "4" | "5" | "6" | "7")
        && !detail.is_empty()
        && !detail.starts_with('0')
}

fn finish(mut d: Draft, decoder: Decoder, f: &Flat, orig: &OriginalHeaders) -> Record {
    if d.diagnostic.contains('-') {
        d.diagnostic = unwrap_multiline(&d.diagnostic);
    }
    if d.diagnostic.is_empty() && d.preset.is_none() {
        // Nothing per recipient: the notification's own words are all there is.
        d.diagnostic = text::collapse_unquoted(f.note())
            .chars()
            .take(1000)
            .collect();
    }
    let gmail = gmail_state(&d.diagnostic);
    if let Some((command, _)) = gmail
        && d.command.is_none()
    {
        d.command = Some(command);
    }
    let reply = d.reply.or_else(|| {
        let diag = &d.diagnostic;
        // After the first "said:" (any case): a colon after "said".
        let after_said = memchr::memchr_iter(b':', diag.as_bytes())
            .find(|&p| p >= 4 && diag.as_bytes()[p - 4..p].eq_ignore_ascii_case(b"said"))
            .map(|p| &diag[p + 1..]);
        after_said
            .and_then(status::find_reply)
            .or_else(|| status::find_reply(diag))
    });
    let in_text = status::find_status(&d.diagnostic).unwrap_or_default();
    let mut status = status::prefer(&d.status, &in_text, reply);
    if let Some((_, meaning)) = gmail
        && d.preset.is_none()
        && !specific_status(&status)
    {
        d.preset = Some(meaning);
    }
    let class = status
        .chars()
        .next()
        .filter(|c| *c == '4' || *c == '5')
        .or_else(|| reply.and_then(|r| char::from_digit(u32::from(r / 100), 10)));
    // Postfix writes what it found itself as "Diagnostic-Code: X-Postfix;
    // host ... said: 550 ...": an SMTP reply all the same, as Sisimai's
    // Postfix decoder reads it in a returned-mail notice (the reason is then
    // probed from the text). Its delay notices go to Sisimai's plain RFC 3464
    // reader, which keeps the type.
    let returned = f.subject.trim() == "Undelivered Mail Returned to Sender"
        || f.subject.contains("SMTP server: errors from");
    if decoder == Decoder::Postfix
        && returned
        && d.diagnostic_type.eq_ignore_ascii_case("X-POSTFIX")
    {
        d.diagnostic_type = "SMTP".to_string();
    }
    let lower_diag = d.diagnostic.to_lowercase();
    // Every rule text in the diagnostic, found in one pass.
    let scan = rules::COMBINED.scan(&lower_diag);
    let rhost = rhost::find(
        &address::domain_of(&d.recipient),
        &d.remote_mta,
        &d.reporting_mta,
        &scan,
        class,
        &status,
        d.command.map(|c| c.as_str()),
    );
    let facts = Facts {
        rhost,
        // The reporting MTA's own words say what it meant (Exchange's codes);
        // Exim and qmail refused at EHLO/HELO mean the sending host was
        // refused, as Sisimai's decoders for them say.
        preset: d
            .preset
            .or_else(|| {
                (matches!(decoder, Decoder::Exim | Decoder::Qmail)
                    && matches!(d.command, Some(Command::Ehlo | Command::Helo)))
                .then_some(Reason::Blocked)
            })
            // au (KDDI)'s spam filter marks what it refused: "X-SPASIGN: NG".
            .or_else(|| {
                f.header("X-SPASIGN")
                    .is_some_and(|v| v.trim().eq_ignore_ascii_case("NG"))
                    .then_some(Reason::Filtered)
            })
            .or_else(|| scan.reporting(decoder)),
        hint: d.hint,
        status: &status,
        reply,
        command: d.command,
        diagnostic: &d.diagnostic,
        scan: &scan,
        diagnostic_type: if d.diagnostic_type.is_empty() && !d.diagnostic.is_empty() {
            "SMTP"
        } else {
            &d.diagnostic_type
        },
        action: d.action,
    };
    let reason = classify(&facts);
    let blocklist = if reason.is_failure() {
        blocklist::find(&d.diagnostic, &scan)
    } else {
        None
    };
    // A refusal that names a public DNS blocklist is a block, whatever
    // vague reason the status code alone suggested ("550 5.7.1 ... listed at
    // cbl.abuseat.org", "found on one or more DNSBLs"), or a filter or
    // policy word next to the listing ("550 5.2.1 Mailbox unavailable. Your
    // IP address ... is blacklisted using SPAMHAUS-XBL", "rejected for
    // policy reasons. Host found in DNS blacklist at dnsbl.sorbs.net").
    let reason = match blocklist {
        Some(b)
            if b.is_dnsbl()
                && matches!(
                    reason,
                    Reason::OnHold
                        | Reason::Undefined
                        | Reason::SecurityError
                        | Reason::SystemError
                        | Reason::Filtered
                        | Reason::PolicyViolation
                ) =>
        {
            Reason::Blocked
        }
        _ => reason,
    };
    // Exim gives up with "retry timeout exceeded" after temporary failures:
    // the failure was never a permanent refusal. (GMX's notices say it of
    // a delivery they gave up for good: Sisimai's GMX decoder keeps it a
    // permanent failure.)
    let gave_up = (decoder != Decoder::Gmx && lower_diag.contains("retry timeout exceeded"))
        || find::contains(&lower_diag, "have been failing for a long time")
        || find::contains(
            &lower_diag,
            "retry time not reached for any host after a long failure period",
        )
        || (reason == Reason::Expired && lower_diag.contains("frozen"));
    // Exim's own words for a full mailbox (appendfile.c) mean a retry
    // later, as Sisimai's Exim decoder reads them.
    let exim_full = decoder == Decoder::Exim
        && (lower_diag.contains("mailbox is full") || lower_diag.contains("error: quota exceed"));
    let temporary = gave_up
        || exim_full
        || d.action == Some(Action::Delayed)
        || reply.is_some_and(|c| (400..500).contains(&c))
        || status.starts_with('4');
    if status.is_empty() && reason.is_failure() {
        // Sisimai compatibility: Exim refusals at MAIL FROM without a status
        // code get the "on hold" pseudo code whatever the reason turns out to be.
        let code_reason = if decoder == Decoder::Exim && d.command == Some(Command::Mail) {
            Reason::OnHold
        } else {
            reason
        };
        status = code_reason.pseudo_status(temporary).unwrap_or_default();
    }
    // A reply code of another class than the status says nothing the
    // status does not overrule (Postfix defers a greeting's "554" with
    // status 4.0.0): keep one of the status's class from the text, if any,
    // as Sisimai does.
    let reply = match (status.as_bytes().first(), reply) {
        (Some(&c @ (b'4' | b'5')), Some(r)) if b'0' + (r / 100) as u8 != c => {
            status::find_reply_of_class(&d.diagnostic, c)
        }
        _ => reply,
    };
    let action = match reason {
        Reason::Feedback | Reason::Vacation => None,
        Reason::Delivered => Some(Action::Delivered),
        _ => d.action.or(Some(Action::Failed)),
    };
    let hard_bounce = reason.is_hard(reply, &status);
    let sending_ip = d
        .sending_ip
        .or_else(|| quoted_client_ip(&d.diagnostic, &d.remote_mta))
        .or_else(|| orig.first_public_ip(f));
    // Host names compare case-insensitively: one spelling per host, so the
    // incident engine groups "BLU004-OMC3S13.hotmail.com" with its lower case.
    let reporting_mta = if d.reporting_mta.is_empty() {
        f.received_from.clone()
    } else {
        d.reporting_mta.to_ascii_lowercase()
    };
    Record {
        recipient_domain: address::domain_of(&d.recipient),
        recipient: d.recipient,
        action,
        status,
        reply_code: reply,
        diagnostic: d.diagnostic,
        diagnostic_type: d.diagnostic_type,
        command: d.command,
        remote_mta: d.remote_mta.to_ascii_lowercase(),
        reporting_mta,
        timestamp: d.timestamp.or(f.date).or_else(|| OriginalHeaders::date(f)),
        message_id: orig.message_id.clone(),
        sender: orig.sender.clone(),
        sending_ip,
        decoded_by: decoder,
        reason,
        hard_bounce,
        feedback_type: d.feedback_type,
        blocklist,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #![proptest_config(proptest::test_runner::Config::with_cases(4096))]
        /// The check that lets a diagnostic through untouched agrees with
        /// the patterns on texts made of reply codes, status codes, dashes
        /// and the spaces (ASCII and not) around them.
        #[test]
        fn unwrapping_by_the_check_is_unwrapping_by_the_patterns(
            pieces in proptest::collection::vec(proptest::sample::select(vec![
                " ", " ", "\n", "\t", "\u{a0}", "\u{3000}", "550", "421", "250", "5500", "-",
                "5.1.1", "4.2.2", "2.0.0", "5.7", "x", "'", "\"", "user unknown", ".",
                " 550 5.1.1 ", " 550-5.1.1 ", "\n421 4.7.0 ", " 550-",
            ]), 0..14)
        ) {
            let text: String = pieces.concat();
            proptest::prop_assert_eq!(unwrap_multiline(&text), unwrap_by_patterns(&text), "{:?}", text);
        }
    }

    #[test]
    fn the_first_public_ip_of_the_received_lines() {
        let block = "Received: from laptop (unknown [192.168.1.20])\n\
\tby mail.sender.example (Postfix) with ESMTPSA id 1;\n\
\tMon, 2 Mar 2026 10:00:00 +0000\n\
X-Note: relayed via 203.0.113.99\n\
\tand 203.0.113.98\n\
Received: from mail.sender.example (mail.sender.example\n\
\x20[198.51.100.7]) by mx.customer.example with ESMTP id 2\n";
        // Not the private client, not the unrelated field and its fold:
        // the folded second Received line.
        assert_eq!(received_public_ip(block), "198.51.100.7".parse().ok());
        assert_eq!(received_public_ip("Received: from [10.0.0.1]\n"), None);
        // The name in any case, after white space that is not a fold (a
        // CR, a form feed), or spaced from its colon; never another field
        // whose name ends in it.
        for line in [
            "received: from [198.51.100.7]\n",
            "RECEIVED : from [198.51.100.7]\n",
            "\rReceived: from [198.51.100.7]\n",
            "\u{c}Received: from [198.51.100.7]\n",
        ] {
            assert_eq!(
                received_public_ip(line),
                "198.51.100.7".parse().ok(),
                "{line:?}"
            );
        }
        assert_eq!(
            received_public_ip("X-Received: from [198.51.100.7]\n"),
            None
        );
    }

    #[test]
    fn gmail_states_and_specific_codes() {
        let said = "Google tried to deliver your message, but it was rejected by the recipient domain. The error that the other server returned was: 554 554 5.7.0 Header error (state 18).";
        assert_eq!(gmail_state(said), Some((Command::Data, Reason::Filtered)));
        assert_eq!(gmail_state("554 5.7.0 Header error (state 18)."), None);
        assert!(specific_status("5.7.1") && specific_status("4.2.2"));
        assert!(!specific_status("5.7.0") && !specific_status("5.0.947") && !specific_status(""));
    }
}
