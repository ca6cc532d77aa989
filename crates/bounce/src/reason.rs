//! The bounce reason taxonomy: one closed enum shared by every crate.
//!
//! The names and meanings follow Sisimai 5.x (the reference bounce analyser), so
//! results can be compared with it row for row. Each reason also knows its
//! pseudo status code, which is reported when a bounce carries no RFC 3463 code
//! of its own.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

macro_rules! reasons {
    ($( $variant:ident => $name:literal, $code:literal, $family:ident, $doc:literal; )*) => {
        /// Why a delivery failed (or what else the message reports).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "lowercase")]
        pub enum Reason {
            $( #[doc = $doc] $variant, )*
        }

        impl Reason {
            /// Every reason, in declaration order.
            pub const ALL: &'static [Reason] = &[ $( Reason::$variant, )* ];

            /// The lower-case name used in JSON output and by Sisimai.
            pub fn as_str(self) -> &'static str {
                match self { $( Reason::$variant => $name, )* }
            }

            /// The detail digits of Sisimai's pseudo status code (`5.0.9xx`), or
            /// `None` for outcomes that are not failures.
            fn pseudo_digits(self) -> Option<&'static str> {
                let code: &'static str = match self { $( Reason::$variant => $code, )* };
                if code.is_empty() { None } else { Some(code) }
            }

            /// The broad family of the reason, used to group causes.
            pub fn family(self) -> Family {
                match self { $( Reason::$variant => Family::$family, )* }
            }
        }
    };
}

reasons! {
    AuthFailure => "authfailure", "926", Sender, "Rejected for failing SPF, DKIM or DMARC.";
    BadReputation => "badreputation", "975", Reputation, "Rejected for the sending IP's bad reputation.";
    Blocked => "blocked", "971", Reputation, "Rejected because of the client IP address or host name (e.g. a blocklist).";
    ContentError => "contenterror", "960", Content, "Rejected for the format of the message's headers or content.";
    ExceedLimit => "exceedlimit", "923", Content, "The message exceeded a limit the recipient's server sets.";
    Expired => "expired", "947", Transport, "Delivery time expired, usually because the connection kept failing.";
    FailedStartTls => "failedstarttls", "976", Transport, "STARTTLS failed or was required but not offered.";
    Filtered => "filtered", "910", Recipient, "Rejected for header content after the SMTP DATA command.";
    HasMoved => "hasmoved", "916", Recipient, "The recipient's mailbox has moved and mail is not forwarded.";
    HostUnknown => "hostunknown", "912", Recipient, "The recipient's domain does not exist.";
    MailboxFull => "mailboxfull", "922", Recipient, "The recipient's mailbox is full.";
    MailerError => "mailererror", "939", RemoteSystem, "The local mailer program did not exit cleanly.";
    MesgTooBig => "mesgtoobig", "934", Content, "The message is too big for the destination server.";
    NetworkError => "networkerror", "944", Transport, "DNS lookup failure or another network problem.";
    NoRelaying => "norelaying", "909", Sender, "Rejected with \"relaying denied\".";
    NotAccept => "notaccept", "932", RemoteSystem, "The destination accepts no mail at all (e.g. null MX).";
    NotCompliantRfc => "notcompliantrfc", "974", Content, "Rejected because the message does not comply with the RFCs.";
    OnHold => "onhold", "901", Unknown, "Too little information to decide the reason.";
    PolicyViolation => "policyviolation", "972", Content, "Rejected under the destination's policy.";
    Rejected => "rejected", "918", Sender, "Rejected because of the sender (envelope-from) address.";
    RequirePtr => "requireptr", "973", Reputation, "Rejected for a missing or invalid PTR (reverse DNS) record.";
    SecurityError => "securityerror", "970", Sender, "Rejected for a security violation (e.g. authentication).";
    SpamDetected => "spamdetected", "980", Content, "Rejected as spam by the receiver's filter.";
    Speeding => "speeding", "946", Reputation, "Rejected for sending too fast (rate limit).";
    Suppressed => "suppressed", "903", Sender, "Not sent because the address is on the MTA's suppression list.";
    Suspend => "suspend", "921", Recipient, "The recipient's account is suspended.";
    SyntaxError => "syntaxerror", "902", Sender, "A syntax error in the SMTP session.";
    SystemError => "systemerror", "930", RemoteSystem, "A system error on the remote host.";
    SystemFull => "systemfull", "931", RemoteSystem, "The destination server's disk is full.";
    TooManyConn => "toomanyconn", "945", Reputation, "Temporarily refused for too many concurrent connections.";
    UserUnknown => "userunknown", "911", Recipient, "The recipient's local part does not exist.";
    VirusDetected => "virusdetected", "981", Content, "Rejected by a virus scanner.";
    Delivered => "delivered", "", NotFailure, "Delivered successfully (a positive DSN).";
    Feedback => "feedback", "", NotFailure, "An ARF complaint or feedback report, not a bounce.";
    Vacation => "vacation", "", NotFailure, "An automatic reply such as out-of-office (RFC 3834).";
    Undefined => "undefined", "900", Unknown, "The reason could not be worked out.";
}

/// Broad groups of reasons: who or what a reason points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    /// The sending IP or host is refused (blocklists, reputation, rate, PTR).
    Reputation,
    /// Something about the sender: address, authentication, relaying.
    Sender,
    /// Something about the recipient's mailbox or domain.
    Recipient,
    /// Something about the message content or size.
    Content,
    /// The connection or route failed.
    Transport,
    /// The remote system failed.
    RemoteSystem,
    /// Not a failure at all.
    NotFailure,
    /// Unknown.
    Unknown,
}

impl Reason {
    /// Sisimai's pseudo status code for this reason (`5.0.911`, or `4.0.911`
    /// when `temporary`), used when the bounce carries no code of its own.
    pub fn pseudo_status(self, temporary: bool) -> Option<String> {
        let digits = self.pseudo_digits()?;
        // Sisimai has no temporary form for these three.
        let temporary = temporary
            && !matches!(
                self,
                Reason::HasMoved | Reason::HostUnknown | Reason::UserUnknown
            );
        Some(format!("{}.0.{digits}", if temporary { 4 } else { 5 }))
    }

    /// A hard bounce: retrying will never help (Sisimai's definition).
    pub fn is_hard(self, reply_code: Option<u16>, status: &str) -> bool {
        match self {
            Reason::UserUnknown | Reason::HostUnknown | Reason::HasMoved => true,
            Reason::NotAccept => reply_code.is_some_and(|c| c >= 500) || status.starts_with('5'),
            _ => false,
        }
    }

    /// A failure (as opposed to a delivery report, complaint or auto-reply).
    pub fn is_failure(self) -> bool {
        self.family() != Family::NotFailure
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error of [`Reason::from_str`]: the name is not a known reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown bounce reason {0:?}; known reasons: authfailure, blocked, userunknown, ...")]
pub struct UnknownReason(pub String);

impl FromStr for Reason {
    type Err = UnknownReason;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.trim().to_ascii_lowercase();
        Reason::ALL
            .iter()
            .copied()
            .find(|r| r.as_str() == lower)
            .ok_or(UnknownReason(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for r in Reason::ALL {
            assert_eq!(r.as_str().parse::<Reason>().unwrap(), *r);
            let json = serde_json::to_string(r).unwrap();
            assert_eq!(json, format!("\"{}\"", r.as_str()));
        }
        assert!("nonsense".parse::<Reason>().is_err());
    }

    #[test]
    fn pseudo_codes() {
        assert_eq!(Reason::UserUnknown.pseudo_status(false).unwrap(), "5.0.911");
        assert_eq!(Reason::UserUnknown.pseudo_status(true).unwrap(), "5.0.911");
        assert_eq!(Reason::Expired.pseudo_status(true).unwrap(), "4.0.947");
        assert_eq!(Reason::Vacation.pseudo_status(false), None);
    }

    #[test]
    fn hardness() {
        assert!(Reason::UserUnknown.is_hard(None, ""));
        assert!(Reason::NotAccept.is_hard(Some(556), "5.1.10"));
        assert!(!Reason::NotAccept.is_hard(Some(421), "4.3.2"));
        assert!(!Reason::MailboxFull.is_hard(Some(552), "5.2.2"));
    }
}
