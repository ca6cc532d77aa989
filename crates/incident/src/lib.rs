//! # outcry-incident
//!
//! From many delivery failures to a few incidents with a verdict: whose
//! fault is it? Pure: records in, incidents out, no I/O.
//!
//! - [`Failure`]: the part of a bounce record detection needs (never the
//!   local part of an address, never a body or subject).
//! - [`detect()`]: groups failures by a cause [`Signature`] and opens an
//!   [`Incident`] when a group crosses the [`Thresholds`]; closes it after a
//!   quiet period. Ordinary noise (a few unknown users, one full mailbox)
//!   opens nothing.
//! - Each incident carries a [`Verdict`] with a confidence and the evidence
//!   for and against it (rules in `docs/attribution.md`).
//! - [`check_claim`]: did failures of the same signature continue after a
//!   vendor said "fixed at T"?
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod attribute;
mod detect;
mod standing;

pub use attribute::{Evidence, Verdict};
pub use detect::{
    ClaimCheck, Context, Incident, IpOwner, Scope, Signature, State, Thresholds, check_claim,
    detect,
};
pub use standing::{Listing, Standing};

use outcry_bounce::{Blocklist, Family, Reason, Record};
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

/// One failed delivery, as detection sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Failure {
    /// When (Unix seconds, UTC).
    pub at: i64,
    /// The recipient's domain (never the local part).
    pub recipient_domain: String,
    /// Why.
    pub reason: Reason,
    /// The enhanced status code.
    pub status: String,
    /// The sending IP the bounce reveals.
    pub sending_ip: Option<IpAddr>,
    /// The blocklist the rejection names.
    pub blocklist: Option<Blocklist>,
    /// The organisation that refused: the registrable domain of the remote
    /// MTA, else of the recipient domain.
    pub rejecting_org: String,
    /// The diagnostic text with addresses, IPs and ids masked.
    pub template: String,
}

impl Failure {
    /// The failure a record describes; `None` for records that are not
    /// failures (delivered, feedback, auto-replies) or carry no time.
    pub fn from_record(r: &Record) -> Option<Failure> {
        if !r.reason.is_failure() {
            return None;
        }
        let host = if r.remote_mta.contains('.') {
            r.remote_mta.as_str()
        } else {
            r.recipient_domain.as_str()
        };
        Some(Failure {
            at: r.timestamp?,
            recipient_domain: r.recipient_domain.clone(),
            reason: r.reason,
            status: r.status.clone(),
            sending_ip: r.sending_ip,
            blocklist: r.blocklist,
            rejecting_org: registrable(host),
            template: mask_local_parts(
                &mask(&r.diagnostic),
                &[local_part(&r.recipient), local_part(&r.sender)],
            ),
        })
    }

    /// The reason's family; a refusal that names a blocklist or reputation
    /// service is about the sending IP's standing even when its words read
    /// as a sender-address refusal ("Your access to submit messages to this
    /// e-mail system has been rejected", Cisco's stock answer to a poor
    /// SenderBase score, is Sisimai's `rejected`) or say too little
    /// (`onhold`).
    pub fn family(&self) -> Family {
        match self.reason.family() {
            Family::Sender | Family::Unknown if self.blocklist.is_some() => Family::Reputation,
            f => f,
        }
    }
}

/// The registrable domain (`mx1.eu.example.co.uk` -> `example.co.uk`).
pub fn registrable(host: &str) -> String {
    let h = host.trim().trim_end_matches('.').to_ascii_lowercase();
    psl::domain_str(&h).map(str::to_string).unwrap_or(h)
}

/// Mask what identifies people or messages in a diagnostic text: e-mail
/// addresses become `<address>` (domain kept), IPs `<ip>`, long hex or
/// digit runs `<id>`. Hand-written: a character walk is simpler than a
/// regex set and never allocates per match.
pub fn mask(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(512));
    let words: Vec<&str> = text.split_whitespace().take(80).collect();
    let named = names_beside_addresses(&words);
    for (i, &word) in words.iter().enumerate() {
        // A name of several words is one `<name>`.
        if named[i] && i > 0 && named[i - 1] {
            continue;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        if named[i] {
            out.push_str("<name>");
            continue;
        }
        let trimmed = word.trim_matches(|c: char| "<>()[],;:'\"".contains(c));
        if let Some((_, domain)) = trimmed.split_once('@') {
            out.push_str(&word.replace(trimmed, &format!("<address@{domain}>")));
        } else if trimmed.parse::<IpAddr>().is_ok() {
            out.push_str(&word.replace(trimmed, "<ip>"));
        } else {
            let mut masked = String::new();
            mask_embedded_ips(word, &mut masked);
            if masked == word
                && trimmed.len() >= 8
                && trimmed.chars().filter(|c| c.is_ascii_digit()).count() * 2 >= trimmed.len()
            {
                masked = word.replace(trimmed, "<id>");
            }
            out.push_str(&masked);
        }
    }
    out
}

/// Which of `words` name a person or a mailbox beside an address, as a
/// display name or an alias: a quoted name before `<address>` ("\"Neko
/// Nyaan\" <a@b>"), and the word before `(address)` ("User some.name
/// (a@b) not listed", "Kijitora Neko (a@b)"), unless that word is plainly
/// not a name (all lower-case letters, or a label ending in a colon).
fn names_beside_addresses(words: &[&str]) -> Vec<bool> {
    let mut named = vec![false; words.len()];
    for i in 0..words.len().saturating_sub(1) {
        let (word, next) = (words[i], words[i + 1]);
        if !next.contains('@') {
            continue;
        }
        if next.starts_with('(') {
            let plain = word.ends_with(':') || word.chars().all(|c| c.is_ascii_lowercase());
            named[i] = !plain && word.chars().any(char::is_alphanumeric);
        } else if next.starts_with('<')
            && word.ends_with('"')
            && let Some(start) = (0..=i).rev().find(|&j| words[j].starts_with('"'))
        {
            named[start..=i].iter_mut().for_each(|n| *n = true);
        }
    }
    named
}

/// The local part of `address` ("" when it has none).
fn local_part(address: &str) -> &str {
    address
        .rsplit_once('@')
        .map_or("", |(l, _)| l.trim_matches('"'))
}

/// Mask `names` (the recipient's and the sender's local parts) where a text
/// names them without their domain, as `mask` cannot see: Sendmail's
/// "kijitora... User unknown", Postfix's `unknown user: "kijitora"`. A
/// name counts as a whole word (compared without ASCII case); a longer word
/// that merely contains it stays.
pub(crate) fn mask_local_parts(text: &str, names: &[&str]) -> String {
    let mut out = text.to_string();
    for name in names.iter().map(|n| n.to_ascii_lowercase()) {
        if name.is_empty() {
            continue;
        }
        let word_char = |c: char| c.is_alphanumeric() || "_-+=".contains(c);
        let lower = out.to_ascii_lowercase();
        let mut masked = String::with_capacity(out.len());
        let (mut at, mut from) = (0, 0);
        // Every occurrence, overlapping ones too: "xa.a.a" holds "a.a" as a
        // word only from its second "a".
        while let Some(found) = lower[from..].find(name.as_str()) {
            let i = from + found;
            let end = i + name.len();
            let alone = !out[..i].chars().next_back().is_some_and(word_char)
                && !out[end..].chars().next().is_some_and(word_char);
            if alone {
                masked.push_str(&out[at..i]);
                masked.push_str("<local-part>");
                at = end;
                from = end;
            } else {
                from = i + out[i..].chars().next().map_or(1, char::len_utf8);
            }
        }
        masked.push_str(&out[at..]);
        out = masked;
    }
    out
}

/// Copy `word` to `out` with IPs inside it (in URLs, `[ip]:port`, `ip=...`)
/// replaced by `<ip>`.
fn mask_embedded_ips(word: &str, out: &mut String) {
    let is_ip_char = |c: char| c.is_ascii_hexdigit() || c == '.' || c == ':';
    let mut rest = word;
    while let Some(start) = rest.find(is_ip_char) {
        out.push_str(&rest[..start]);
        let run = &rest[start..];
        let len = run.find(|c| !is_ip_char(c)).unwrap_or(run.len());
        let token = &run[..len];
        // `1.2.3.4:25` and `1.2.3.4.` end in a port or a full stop.
        let bare = token.trim_end_matches('.');
        let (ip, tail) = match bare.rsplit_once(':') {
            Some((a, p)) if a.contains('.') && p.bytes().all(|b| b.is_ascii_digit()) => {
                (a, &token[a.len()..])
            }
            _ => (bare, &token[bare.len()..]),
        };
        if ip.parse::<IpAddr>().is_ok() && (ip.contains('.') || ip.matches(':').count() >= 2) {
            out.push_str("<ip>");
            out.push_str(tail);
        } else {
            out.push_str(token);
        }
        rest = &run[len..];
    }
    out.push_str(rest);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_and_aliases_beside_an_address_are_masked() {
        for (text, want) in [
            (
                "550 User some.name (kijitora@example.jp) not listed",
                "550 User <name> (<address@example.jp>) not listed",
            ),
            (
                "Delivery to \"Neko Nyaan\" <kijitora@example.jp> failed",
                "Delivery to <name> <<address@example.jp>> failed",
            ),
            // Ordinary words and labels stay.
            (
                "error delivering to (kijitora@example.jp)",
                "error delivering to (<address@example.jp>)",
            ),
            (
                "Recipient: (kijitora@example.jp)",
                "Recipient: (<address@example.jp>)",
            ),
        ] {
            assert_eq!(mask(text), want, "{text}");
        }
    }

    #[test]
    fn local_parts_named_without_their_domain_are_masked() {
        for (text, want) in [
            (
                "550 5.1.1 Kijitora... User unknown",
                "550 5.1.1 <local-part>... User unknown",
            ),
            (
                "<address@example.jp>: unknown user: \"kijitora\"",
                "<address@example.jp>: unknown user: \"<local-part>\"",
            ),
            // A longer word that contains the name is another word.
            ("kijitoranet refused", "kijitoranet refused"),
            // The sender's own mailbox too.
            ("sales: sender rejected", "<local-part>: sender rejected"),
        ] {
            assert_eq!(mask_local_parts(text, &["kijitora", "sales"]), want);
        }
        // A word that starts inside an earlier, longer one.
        assert_eq!(mask_local_parts("xa.a.a", &["a.a"]), "xa.<local-part>");
    }

    proptest::proptest! {
        /// Whatever surrounds it, no name is left as a word of its own.
        #[test]
        fn no_masked_name_is_left_standing(
            before in "[a-zA-Z0-9 .:<>\"é]{0,20}",
            // (No '-': a name "local-part" would find the mask's own word.)
            name in "[a-z][a-z0-9._]{0,8}",
            after in "[a-zA-Z0-9 .:<>\"é]{0,20}",
            upper in proptest::bool::ANY,
        ) {
            let shown = if upper { name.to_ascii_uppercase() } else { name.clone() };
            let text = format!("{before} {shown} {after}");
            let masked = mask_local_parts(&text, &[name.as_str()]);
            let word_char = |c: char| c.is_alphanumeric() || "_-+=".contains(c);
            let lower = masked.to_ascii_lowercase();
            for (i, _) in lower.char_indices().filter(|(i, _)| lower[*i..].starts_with(name.as_str())) {
                let end = i + name.len();
                let alone = !masked[..i].chars().next_back().is_some_and(word_char)
                    && !masked[end..].chars().next().is_some_and(word_char);
                proptest::prop_assert!(!alone, "{text:?} -> {masked:?}");
            }
        }
    }

    #[test]
    fn a_named_reputation_service_makes_a_sender_refusal_a_reputation_one() {
        let raw = "From: MAILER-DAEMON@mail.sender.example\nTo: owner@sender.example\n\
Subject: Undelivered Mail Returned to Sender\nDate: Tue, 3 Nov 2026 10:00:00 +0000\n\
Content-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\n\n\
--b\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mail.sender.example\n\n\
Final-Recipient: rfc822; ap@dest.example\nAction: failed\nStatus: 5.0.0\n\
Remote-MTA: dns; esa1.dest.example\n\
Diagnostic-Code: smtp; 554 Your access to submit messages to this e-mail system has been rejected.\n\n--b--\n";
        let records = outcry_bounce::analyze(raw.as_bytes()).unwrap();
        assert_eq!(records.len(), 1, "{records:#?}");
        // Sisimai's reason stays; the service is named, and the incident
        // engine files it under reputation.
        assert_eq!(records[0].reason, Reason::Rejected);
        assert_eq!(records[0].blocklist, Some(Blocklist::CiscoTalos));
        let f = Failure::from_record(&records[0]).unwrap();
        assert_eq!(f.family(), Family::Reputation);
    }

    #[test]
    fn a_failure_keeps_no_local_part_of_its_record() {
        // Sendmail names the local mailbox without its domain.
        let raw = "From: MAILER-DAEMON@mx.dest.example\nTo: Sales@sender.example\n\
Subject: Returned mail: see transcript for details\nDate: Tue, 3 Nov 2026 10:00:00 +0000\n\n\
   ----- The following addresses had permanent fatal errors -----\n<ap@dest.example>\n\n\
   ----- Transcript of session follows -----\n550 5.1.1 ap... User unknown (sales asked)\n";
        let records = outcry_bounce::analyze(raw.as_bytes()).unwrap();
        assert_eq!(records.len(), 1, "{records:#?}");
        let f = Failure::from_record(&records[0]).unwrap();
        assert!(!f.template.contains(" ap..."), "{}", f.template);
        assert!(
            !f.template.to_lowercase().contains("sales"),
            "{}",
            f.template
        );
        assert!(
            f.template.contains("<local-part>... User unknown"),
            "{}",
            f.template
        );
    }

    #[test]
    fn masking_keeps_no_local_part_and_no_ip() {
        let m = mask(
            "550 5.7.1 <kijitora@example.jp>: Client host [203.0.113.77] blocked, id=20260105123456",
        );
        assert!(!m.contains("kijitora"));
        assert!(m.contains("<address@example.jp>"));
        assert!(!m.contains("203.0.113.77"));
        assert!(m.contains("<id>"));
        assert_eq!(
            mask(
                "see https://www.spamhaus.org/query/ip/40.107.22.93 or [2001:db8::25]:25, deadbeef."
            ),
            "see https://www.spamhaus.org/query/ip/<ip> or [<ip>]:25, deadbeef."
        );
    }

    #[test]
    fn registrable_domains() {
        assert_eq!(registrable("mx1.eu.example.co.uk"), "example.co.uk");
        assert_eq!(
            registrable("example-com.mail.protection.outlook.com"),
            "outlook.com"
        );
        assert_eq!(registrable("localhost"), "localhost");
    }
}
