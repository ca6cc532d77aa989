//! # outcry-logs
//!
//! How much mail an organisation sends to each recipient domain, from its
//! delivery logs: the Postfix mail log (`postfix/smtp ... to=<...>`
//! lines) and Exchange Online message-trace exports (PowerShell
//! `Get-MessageTrace | Export-Csv`, and the admin centre's summary and
//! extended CSV reports, UTF-8 or UTF-16). Pure: bytes in, counts out.
//! Only recipient domains are kept; local parts are dropped as soon as a
//! line is read.
//!
//! The volume ranks the organisation's key correspondents: the domains an
//! outage hurts most.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::collections::{BTreeMap, HashSet};

/// Messages per recipient domain.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Volume {
    /// Domain (lower case) to message count.
    pub by_domain: BTreeMap<String, u64>,
    /// Lines that looked like deliveries but named no usable recipient.
    pub skipped: u64,
}

impl Volume {
    /// Add another log's counts.
    pub fn merge(&mut self, other: Volume) {
        for (d, n) in other.by_domain {
            *self.by_domain.entry(d).or_insert(0) += n;
        }
        self.skipped += other.skipped;
    }

    /// The `n` domains with the most messages, biggest first (ties by name).
    pub fn top(&self, n: usize) -> Vec<(String, u64)> {
        let mut v: Vec<(String, u64)> = self
            .by_domain
            .iter()
            .map(|(d, c)| (d.clone(), *c))
            .collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        v.truncate(n);
        v
    }
}

/// The format of a log, as sniffed from its content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A Postfix (syslog) mail log.
    Postfix,
    /// An Exchange Online message-trace CSV export.
    MessageTrace,
}

/// A log could not be read.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    /// Neither a Postfix log nor a message-trace CSV.
    #[error(
        "not a Postfix mail log (no `postfix/... to=<...>` line) nor a message-trace CSV (no RecipientAddress / recipient_status column)"
    )]
    Unknown,
    /// A CSV without a recipient column, or broken CSV.
    #[error("message-trace CSV, line {line}: {what}")]
    Csv {
        /// 1-based line of the problem.
        line: u64,
        /// What is wrong.
        what: String,
    },
}

/// Count the messages per recipient domain in one log file's bytes.
pub fn volume(bytes: &[u8]) -> Result<(Format, Volume), LogError> {
    let text = decode(bytes);
    let head: &str = &text[..text.len().min(4096)];
    let first = head.lines().next().unwrap_or("");
    let lower = first.to_ascii_lowercase();
    if lower.contains("recipientaddress")
        || lower.contains("recipient_address")
        || lower.contains("recipient_status")
    {
        return Ok((Format::MessageTrace, message_trace(&text)?));
    }
    if head.contains("postfix/") || head.contains(" to=<") {
        return Ok((Format::Postfix, postfix(&text)));
    }
    Err(LogError::Unknown)
}

/// UTF-16 (with or without a BOM: the admin centre's extended report has
/// none) or UTF-8 (invalid bytes replaced) to text.
fn decode(bytes: &[u8]) -> String {
    if let Some((enc, bom)) = encoding_rs::Encoding::for_bom(bytes) {
        return enc
            .decode_without_bom_handling(&bytes[bom..])
            .0
            .into_owned();
    }
    // ASCII text in UTF-16LE: every odd byte of the first few is zero.
    let probe = &bytes[..bytes.len().min(64)];
    if probe.len() >= 4 && probe.iter().skip(1).step_by(2).all(|b| *b == 0) {
        return encoding_rs::UTF_16LE
            .decode_without_bom_handling(bytes)
            .0
            .into_owned();
    }
    String::from_utf8_lossy(bytes).into_owned()
}

/// The lower-case domain of an address, if it has one.
fn domain_of(addr: &str) -> Option<String> {
    let a = addr.trim().trim_matches(['<', '>', '"']);
    let (local, domain) = a.rsplit_once('@')?;
    let domain = domain.trim_end_matches('.');
    (!local.is_empty() && domain.contains('.') && !domain.contains(char::is_whitespace))
        .then(|| domain.to_ascii_lowercase())
}

/// Postfix: one message per (queue id, recipient), however many times a
/// deferred delivery is retried. Hand-written: the line shape is fixed by
/// Postfix's `log_adhoc.c`, and a split on two markers is all it takes.
fn postfix(text: &str) -> Volume {
    let mut seen: HashSet<(&str, String)> = HashSet::new();
    let mut v = Volume::default();
    for line in text.lines() {
        let Some(at) = memchr::memmem::find(line.as_bytes(), b": to=<") else {
            continue;
        };
        // Local deliveries and address verification are not mail sent out.
        if !line.contains("postfix/smtp[") && !line.contains("postfix/lmtp[") {
            continue;
        }
        let qid = line[..at].rsplit(' ').next().unwrap_or("");
        let rest = &line[at + 6..];
        let Some(end) = rest.find('>') else {
            v.skipped += 1;
            continue;
        };
        let rcpt = &rest[..end];
        if !seen.insert((qid, rcpt.to_ascii_lowercase())) {
            continue;
        }
        match domain_of(rcpt) {
            Some(d) => *v.by_domain.entry(d).or_insert(0) += 1,
            None => v.skipped += 1,
        }
    }
    v
}

/// Message trace: one row per message and recipient (PowerShell export),
/// one row per message with `;`-separated recipients (summary report), or
/// one row per transport event (extended report, collapsed by message id).
fn message_trace(text: &str) -> Result<Volume, LogError> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| LogError::Csv {
            line: 1,
            what: e.to_string(),
        })?
        .clone();
    let col = |names: &[&str]| {
        headers
            .iter()
            .position(|h| names.iter().any(|n| h.trim().eq_ignore_ascii_case(n)))
    };
    let rcpt = col(&["RecipientAddress", "recipient_address"]);
    let status = col(&["recipient_status"]);
    let id = col(&["MessageId", "message_id", "network_message_id"]);
    if rcpt.is_none() && status.is_none() {
        return Err(LogError::Csv {
            line: 1,
            what: "no RecipientAddress, recipient_address or recipient_status column".into(),
        });
    }
    let mut seen: HashSet<(String, String)> = HashSet::new();
    let mut v = Volume::default();
    for row in reader.records() {
        let row = row.map_err(|e| LogError::Csv {
            line: e.position().map(|p| p.line()).unwrap_or(0),
            what: e.to_string(),
        })?;
        let message = id.and_then(|i| row.get(i)).unwrap_or("").to_string();
        // The summary report: `addr##Receive, Send;addr2##Receive, Fail`.
        let addrs: Vec<&str> = match (rcpt.and_then(|i| row.get(i)), status) {
            (Some(a), _) if !a.trim().is_empty() => a.split(';').collect(),
            (_, Some(s)) => row
                .get(s)
                .unwrap_or("")
                .split(';')
                .map(|r| r.split("##").next().unwrap_or(""))
                .collect(),
            _ => Vec::new(),
        };
        for a in addrs {
            match domain_of(a) {
                Some(d) => {
                    let fresh = message.is_empty()
                        || seen.insert((message.clone(), a.trim().to_ascii_lowercase()));
                    if fresh {
                        *v.by_domain.entry(d).or_insert(0) += 1;
                    }
                }
                None if a.trim().is_empty() => {}
                None => v.skipped += 1,
            }
        }
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    const POSTFIX: &str = "\
Oct 22 10:15:10 mx1 postfix/smtp[24066]: D0988339C: to=<a@example.net>, relay=mx.example.net[192.0.2.13]:25, delay=0.43, delays=0.07/0.03/0.09/0.23, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 02EAED6155)
Sep 19 14:53:03 s1 postfix/smtp[892943]: 476822CFB: to=<b@Outlook.com>, relay=outlook-com.olc.protection.outlook.com[198.51.100.47]:25, delay=0.98, delays=0.04/0.01/0.87/0.06, dsn=4.4.4, status=deferred (host said: 451 4.4.4 Temporary server error)
Sep 19 15:53:03 s1 postfix/smtp[892944]: 476822CFB: to=<b@outlook.com>, relay=outlook-com.olc.protection.outlook.com[198.51.100.47]:25, delay=3600, delays=0.04/0.01/0.87/0.06, dsn=2.0.0, status=sent (250 2.0.0 OK)
Sep 19 15:53:04 s1 postfix/local[892945]: 476822CFD: to=<root@s1.example.org>, relay=local, status=sent (delivered to mailbox)
Apr 11 08:59:10 app1 postfix/smtp[31378]: 0B1FD90A21: to=<c@example.net>, relay=mail.example.org[203.0.113.1]:25, dsn=5.7.606, status=bounced (host said: 550 5.7.606 Access denied)
Apr 11 08:59:11 app1 postfix/qmgr[31379]: 0B1FD90A21: removed
";

    #[test]
    fn postfix_counts_each_message_once_and_skips_local_delivery() {
        let (f, v) = volume(POSTFIX.as_bytes()).unwrap();
        assert_eq!(f, Format::Postfix);
        assert_eq!(v.by_domain.get("example.net"), Some(&2));
        assert_eq!(
            v.by_domain.get("outlook.com"),
            Some(&1),
            "a retry is one message"
        );
        assert!(!v.by_domain.contains_key("s1.example.org"));
        assert_eq!(v.top(1), vec![("example.net".to_string(), 2)]);
    }

    #[test]
    fn powershell_export_utf16_and_summary_report() {
        let ps = "\"Received\",\"SenderAddress\",\"RecipientAddress\",\"Subject\",\"Status\",\"MessageId\"\n\
\"11/4/2026 2:02:11 PM\",\"orders@contoso.example\",\"buyer@fabrikam.example\",\"PO, 7\",\"Failed\",\"<1@contoso.example>\"\n\
\"11/4/2026 2:02:11 PM\",\"orders@contoso.example\",\"ap@fabrikam.example\",\"PO, 7\",\"Delivered\",\"<1@contoso.example>\"\n\
\"11/4/2026 2:03:00 PM\",\"orders@contoso.example\",\"x@tailspin.example\",\"Hi\",\"Delivered\",\"<2@contoso.example>\"\n";
        let mut utf16 = vec![0xff, 0xfe];
        for u in ps.encode_utf16() {
            utf16.extend(u.to_le_bytes());
        }
        for bytes in [ps.as_bytes().to_vec(), utf16.clone(), utf16[2..].to_vec()] {
            let (f, v) = volume(&bytes).unwrap();
            assert_eq!(f, Format::MessageTrace);
            assert_eq!(v.by_domain.get("fabrikam.example"), Some(&2));
            assert_eq!(v.by_domain.get("tailspin.example"), Some(&1));
        }
        let summary = "origin_timestamp_utc,sender_address,recipient_status,message_subject,message_id\n\
2026-11-04T14:02:11Z,orders@contoso.example,\"buyer@fabrikam.example##Receive, Send;ap@tailspin.example##Receive, Fail\",PO 7,<1@contoso.example>\n";
        let (_, v) = volume(summary.as_bytes()).unwrap();
        assert_eq!(v.by_domain.get("fabrikam.example"), Some(&1));
        assert_eq!(v.by_domain.get("tailspin.example"), Some(&1));
    }

    #[test]
    fn garbage_is_a_clear_error() {
        assert!(matches!(volume(b"\x00\x01hello"), Err(LogError::Unknown)));
        let err = volume(b"RecipientAddresses,Status\nx@y.example,Sent\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "message-trace CSV, line 1: no RecipientAddress, recipient_address or recipient_status column"
        );
    }
}
