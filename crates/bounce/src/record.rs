//! The delivery record: one per recipient of one bounce, shared by every crate.

use crate::{Blocklist, Reason};
use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use serde::{Deserialize, Serialize};
use std::sync::LazyLock;

/// Phrases that name the SMTP command a server refused.
/// Besides the generic "in reply to X" forms: qmail-remote's own texts
/// ("Connected to h but sender was rejected", "h does not like recipient",
/// "h failed on DATA command"), DragonFly's dma ("h did not like our DATA:")
/// Postfix's session states ("while performing the HELO handshake"), and
/// the wordings of 1&1 and m-FILTER below.
const COMMAND_TABLE: &[(&str, Command)] = &[
    ("refused to talk to me", Command::Helo),
    ("but greeting failed", Command::Conn),
    ("but my name was rejected", Command::Ehlo),
    ("but sender was rejected", Command::Mail),
    ("does not like recipient", Command::Rcpt),
    ("failed on data command", Command::Data),
    ("failed after i sent the message", Command::Data),
    ("did not like our data", Command::Data),
    ("did not like our final data", Command::Data),
    ("did not like our mail from", Command::Mail),
    ("did not like our ehlo", Command::Ehlo),
    ("did not like our helo", Command::Helo),
    ("while receiving the initial server greeting", Command::Conn),
    ("while performing the helo handshake", Command::Helo),
    ("while performing the ehlo handshake", Command::Ehlo),
    ("while sending mail from", Command::Mail),
    ("while sending data command", Command::Data),
    ("while sending message body", Command::Data),
    // 1&1 (einsundeins): "SMTP error from remote server for TEXT command".
    ("for text command", Command::Data),
    ("for data command", Command::Data),
    ("for rcpt command", Command::Rcpt),
    ("for mail command", Command::Mail),
    // m-FILTER: "-------SMTP command\nDATA".
    ("smtp command data", Command::Data),
    ("smtp command rcpt", Command::Rcpt),
    ("smtp command mail", Command::Mail),
    ("smtp:rcpt", Command::Rcpt),
    ("smtp:mail", Command::Mail),
    ("smtp:data", Command::Data),
    ("[rcpt_to]", Command::Rcpt),
    ("in reply to rcpt to", Command::Rcpt),
    ("after rcpt to", Command::Rcpt),
    ("rcpt to", Command::Rcpt),
    ("after rcpt command", Command::Rcpt),
    ("in reply to mail from", Command::Mail),
    ("after mail from", Command::Mail),
    ("mail from:", Command::Mail),
    ("after mail command", Command::Mail),
    ("in reply to end of data", Command::Data),
    ("after end of data", Command::Data),
    ("in reply to data", Command::Data),
    ("after data", Command::Data),
    ("end of data", Command::Data),
    ("in reply to ehlo", Command::Ehlo),
    ("after ehlo", Command::Ehlo),
    ("in reply to helo", Command::Helo),
    ("after helo", Command::Helo),
    ("after initial connection", Command::Conn),
];

/// The table's texts, matched in a lower-cased text (an automaton that
/// folds case itself gets no SIMD prefilter).
static COMMAND_MATCHER: LazyLock<AhoCorasick> = LazyLock::new(|| {
    AhoCorasickBuilder::new()
        .match_kind(MatchKind::LeftmostLongest)
        .build(COMMAND_TABLE.iter().map(|(k, _)| k.to_ascii_lowercase()))
        .expect("command table builds")
});
use std::net::IpAddr;

/// What happened to the delivery (RFC 3464 `Action:`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Delivery failed permanently.
    Failed,
    /// Delivery is delayed; the sending MTA keeps trying.
    Delayed,
    /// Delivered (positive DSN).
    Delivered,
    /// Relayed to a system that sends no DSNs.
    Relayed,
    /// Delivered to an alias or list that expanded it.
    Expanded,
}

impl Action {
    /// Parse an `Action:` value (case-insensitive, tolerant of trailing text).
    pub fn parse(s: &str) -> Option<Action> {
        let w = s
            .trim()
            .split(|c: char| !c.is_ascii_alphabetic())
            .next()?
            .to_ascii_lowercase();
        Some(match w.as_str() {
            "failed" | "failure" | "expired" => Action::Failed,
            "delayed" => Action::Delayed,
            "delivered" | "deliverable" => Action::Delivered,
            "relayed" => Action::Relayed,
            "expanded" => Action::Expanded,
            _ => return None,
        })
    }

    /// The lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Failed => "failed",
            Action::Delayed => "delayed",
            Action::Delivered => "delivered",
            Action::Relayed => "relayed",
            Action::Expanded => "expanded",
        }
    }
}

/// The SMTP command at which the remote server refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Command {
    /// The connection or greeting.
    Conn,
    /// `HELO`.
    Helo,
    /// `EHLO`.
    Ehlo,
    /// `STARTTLS`.
    Starttls,
    /// `AUTH`.
    Auth,
    /// `MAIL FROM`.
    Mail,
    /// `RCPT TO`.
    Rcpt,
    /// `DATA` or the end of data.
    Data,
    /// `BDAT`.
    Bdat,
    /// `QUIT`.
    Quit,
}

impl Command {
    /// The upper-case name, as Sisimai prints it.
    pub fn as_str(self) -> &'static str {
        match self {
            Command::Conn => "CONN",
            Command::Helo => "HELO",
            Command::Ehlo => "EHLO",
            Command::Starttls => "STARTTLS",
            Command::Auth => "AUTH",
            Command::Mail => "MAIL",
            Command::Rcpt => "RCPT",
            Command::Data => "DATA",
            Command::Bdat => "BDAT",
            Command::Quit => "QUIT",
        }
    }

    /// Find the command named in an error text such as "after RCPT TO:" or
    /// "(in reply to end of DATA command)": the leftmost mention wins. A bare
    /// "MAIL FROM:" together with a bare "RCPT TO" is the envelope echoed
    /// back ("Message details: MAIL FROM: a RCPT TO: b"), not the failed
    /// command, so neither counts then.
    pub fn find_in(text: &str) -> Option<Command> {
        Command::find_in_lower(&text.to_ascii_lowercase())
    }

    /// [`Command::find_in`] on a text already ASCII-lower-cased.
    pub(crate) fn find_in_lower(lower: &str) -> Option<Command> {
        const BARE: [&str; 2] = ["mail from:", "rcpt to"];
        let found: Vec<usize> = COMMAND_MATCHER
            .find_iter(lower)
            .map(|m| m.pattern().as_usize())
            .collect();
        let echoed = BARE
            .iter()
            .all(|b| found.iter().any(|&i| COMMAND_TABLE[i].0 == *b));
        found
            .into_iter()
            .find(|&i| !(echoed && BARE.contains(&COMMAND_TABLE[i].0)))
            .map(|i| COMMAND_TABLE[i].1)
    }
}

/// Which decoder recognised the message: the MTA or provider family that wrote it,
/// or the generic standard it follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Decoder {
    /// RFC 3464 delivery status notification (any MTA).
    RFC3464,
    /// RFC 5965 Abuse Reporting Format.
    ARF,
    /// RFC 3834 automatic reply.
    RFC3834,
    /// Postfix.
    Postfix,
    /// Sendmail.
    Sendmail,
    /// Exim.
    Exim,
    /// GMX and WEB.DE: Exim's notices under their own headers.
    #[serde(rename = "GMX")]
    Gmx,
    /// Zoho Mail: Exim's notices under its own headers.
    Zoho,
    /// qmail and its descendants.
    #[serde(rename = "qmail")]
    Qmail,
    /// Microsoft Exchange (on premises) and Exchange Online / Office 365.
    Exchange,
    /// Gmail / Google Workspace.
    Gmail,
    /// Google Groups.
    GoogleGroups,
    /// Amazon SES.
    AmazonSES,
    /// The fml mailing-list manager.
    #[serde(rename = "FML")]
    Fml,
    /// DragonFly BSD's mail agent (dma).
    DragonFly,
    /// OpenSMTPD.
    OpenSMTPD,
    /// The Courier mail server.
    Courier,
    /// HCL (Lotus) Domino / Notes.
    Domino,
    /// Any other text notification, decoded by the generic text reader.
    Text,
}

impl Decoder {
    /// The name as printed in `decodedby`.
    pub fn as_str(self) -> &'static str {
        match self {
            Decoder::RFC3464 => "RFC3464",
            Decoder::ARF => "ARF",
            Decoder::RFC3834 => "RFC3834",
            Decoder::Postfix => "Postfix",
            Decoder::Sendmail => "Sendmail",
            Decoder::Exim => "Exim",
            Decoder::Gmx => "GMX",
            Decoder::Zoho => "Zoho",
            Decoder::Qmail => "qmail",
            Decoder::Exchange => "Exchange",
            Decoder::Gmail => "Gmail",
            Decoder::GoogleGroups => "GoogleGroups",
            Decoder::AmazonSES => "AmazonSES",
            Decoder::Fml => "FML",
            Decoder::DragonFly => "DragonFly",
            Decoder::OpenSMTPD => "OpenSMTPD",
            Decoder::Courier => "Courier",
            Decoder::Domino => "Domino",
            Decoder::Text => "Text",
        }
    }
}

/// One delivery outcome for one recipient. Holds no message body or subject.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// The recipient address the bounce is about.
    pub recipient: String,
    /// The domain part of the recipient, lower-cased.
    pub recipient_domain: String,
    /// What happened (`None` for feedback reports and auto-replies).
    pub action: Option<Action>,
    /// RFC 3463 enhanced status code, or a `x.0.9xx` pseudo code when the
    /// bounce carries none; empty for feedback and auto-replies.
    pub status: String,
    /// The SMTP reply code, when the bounce quotes one.
    pub reply_code: Option<u16>,
    /// The error text, unfolded and decoded.
    pub diagnostic: String,
    /// The type of the diagnostic (`SMTP`, `X-UNIX`, ...), when given.
    pub diagnostic_type: String,
    /// The SMTP command that failed.
    pub command: Option<Command>,
    /// The host that refused (or accepted) the message.
    pub remote_mta: String,
    /// The host that wrote the bounce.
    pub reporting_mta: String,
    /// When the failure happened, Unix seconds UTC.
    pub timestamp: Option<i64>,
    /// The original message's Message-ID.
    pub message_id: String,
    /// The original sender (envelope or header From).
    pub sender: String,
    /// The sending IP the bounce reveals: quoted by the refusing host, or the
    /// first public IP in the returned headers.
    pub sending_ip: Option<IpAddr>,
    /// What decoded the bounce.
    pub decoded_by: Decoder,
    /// Why.
    pub reason: Reason,
    /// Whether retrying can never help.
    pub hard_bounce: bool,
    /// ARF feedback type (`abuse`, `opt-out`, ...).
    pub feedback_type: Option<String>,
    /// The blocklist or reputation service the text names.
    pub blocklist: Option<Blocklist>,
}

#[cfg(test)]
mod tests {
    use super::Command;

    #[test]
    fn finds_the_failed_command_not_an_echoed_envelope() {
        assert_eq!(
            Command::find_in("550 5.1.1 unknown (in reply to RCPT TO command)"),
            Some(Command::Rcpt)
        );
        assert_eq!(
            Command::find_in("553 sender refused after MAIL FROM: <a@b.example>"),
            Some(Command::Mail)
        );
        // The envelope quoted back in "Message details" names no command...
        assert_eq!(
            Command::find_in(
                "550 no such user. Details: MAIL FROM: a@b.example RCPT TO: c@d.example"
            ),
            None
        );
        // ...but a specific mention beside it still does.
        assert_eq!(
            Command::find_in("MAIL FROM: a@b.example RCPT TO: c@d.example 554 after end of data"),
            Some(Command::Data)
        );
    }
}
