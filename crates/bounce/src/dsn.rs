//! RFC 3464 delivery status notifications: the machine-readable
//! `message/delivery-status` part, or the same fields found in plain text.

use crate::record::Action;
use crate::status;

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
}

/// Parse the fields of DSN text into the per-message part and one entry per
/// recipient. Tolerates missing blank lines between groups: a new
/// `Final-Recipient`/`Original-Recipient` starts a new recipient.
pub(crate) fn parse(text: &str) -> (MessageFields, Vec<RecipientFields>) {
    let mut msg = MessageFields::default();
    let mut out: Vec<RecipientFields> = Vec::new();
    let mut cur: Option<RecipientFields> = None;
    let mut original: Option<String> = None;

    for (name, value) in fields(text) {
        let lname = name.to_ascii_lowercase();
        match lname.as_str() {
            "reporting-mta" => msg.reporting_mta = strip_type(&value),
            "arrival-date" => msg.arrival_date = parse_date(&value),
            "final-recipient" | "original-recipient" | "x-actual-recipient" => {
                let addr = crate::address::clean(&strip_type(&value));
                if lname == "original-recipient" {
                    if cur
                        .as_ref()
                        .is_some_and(|c| !c.recipient.is_empty() && c.action.is_some())
                    {
                        out.extend(cur.take());
                    }
                    original = Some(addr);
                    continue;
                }
                if lname == "x-actual-recipient" {
                    if let Some(c) = cur.as_mut()
                        && !crate::address::is_address(&c.recipient)
                        && crate::address::is_address(&addr)
                    {
                        c.recipient = addr;
                    }
                    continue;
                }
                if let Some(c) = cur.take() {
                    out.push(c);
                }
                let mut r = RecipientFields {
                    recipient: addr,
                    ..Default::default()
                };
                if let Some(o) = original.take()
                    && !crate::address::is_address(&r.recipient)
                {
                    r.recipient = o;
                }
                cur = Some(r);
            }
            "action" => {
                if let Some(c) = cur.as_mut() {
                    c.action = Action::parse(&value);
                }
            }
            "status" => {
                if let Some(c) = cur.as_mut() {
                    c.status = status::find_status(&value).unwrap_or_default();
                }
            }
            "remote-mta" => {
                if let Some(c) = cur.as_mut() {
                    // "dns; mx.example.jp. (192.0.2.1, the server for ...)"
                    let v = strip_type(&value);
                    let host = v
                        .split_whitespace()
                        .next()
                        .unwrap_or("")
                        .trim_matches(['[', ']']);
                    c.remote_mta = host.trim_end_matches('.').to_ascii_lowercase();
                }
            }
            "diagnostic-code" => {
                if let Some(c) = cur.as_mut() {
                    let (t, v) = split_type(&value);
                    c.diagnostic_type = t.to_ascii_uppercase();
                    c.diagnostic = v.trim().to_string();
                }
            }
            "last-attempt-date" => {
                if let Some(c) = cur.as_mut() {
                    c.last_attempt = parse_date(&value);
                }
            }
            _ => {}
        }
    }
    if let Some(c) = cur {
        out.push(c);
    }
    if out.is_empty()
        && let Some(o) = original
    {
        out.push(RecipientFields {
            recipient: o,
            ..Default::default()
        });
    }
    out.retain(|r| !r.recipient.is_empty());
    (msg, out)
}

/// `name: value` pairs with continuation lines unfolded.
pub(crate) fn fields(text: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        if line.starts_with([' ', '\t']) {
            if let Some(last) = out.last_mut()
                && !line.trim().is_empty()
            {
                last.1.push(' ');
                last.1.push_str(line.trim());
            }
            continue;
        }
        if let Some((n, v)) = line.split_once(':') {
            let n = n.trim();
            if !n.is_empty()
                && n.len() < 40
                && n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            {
                out.push((n.to_string(), v.trim().to_string()));
                continue;
            }
        }
        // A line that is neither a field nor a continuation ends folding.
        out.push((String::new(), String::new()));
    }
    out.retain(|(n, _)| !n.is_empty());
    out
}

/// `rfc822; user@example.jp` -> `user@example.jp`.
fn strip_type(v: &str) -> String {
    split_type(v).1.trim().to_string()
}

/// `smtp; 550 ...` -> (`smtp`, `550 ...`). Without a `;`, the type is empty.
fn split_type(v: &str) -> (&str, &str) {
    match v.split_once(';') {
        Some((t, rest)) if !t.trim().is_empty() && t.trim().len() <= 16 && !t.contains(' ') => {
            (t.trim(), rest)
        }
        _ => ("", v),
    }
}

/// An RFC 5322 date to Unix seconds.
pub(crate) fn parse_date(v: &str) -> Option<i64> {
    mail_parser::DateTime::parse_rfc822(v.trim()).map(|d| d.to_timestamp())
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

    const SAMPLE: &str = "Reporting-MTA: dns; mx.example.jp\nArrival-Date: Thu, 29 Apr 2010 23:34:45 +0900 (JST)\n\nFinal-Recipient: rfc822; kijitora@example.jp\nOriginal-Recipient: rfc822;kijitora@example.jp\nAction: failed\nStatus: 5.1.1\nRemote-MTA: dns; mx.example.jp\nDiagnostic-Code: smtp; 550 5.1.1 <kijitora@example.jp>... User\n    Unknown\n\nFinal-Recipient: rfc822; neko@example.jp\nAction: delayed\nStatus: 4.4.7\n";

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
    }
}
