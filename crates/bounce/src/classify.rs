//! Deciding the [`Reason`] of one failed delivery from its facts.
//!
//! The order of checks mirrors the reference analyser (Sisimai 5) so results
//! agree with it: first reasons whose evidence is strong and specific (a full
//! mailbox, a size limit, an unknown user given the status code), then
//! blocklist and policy texts, then the status code alone, then fallbacks.

use crate::Reason;
use crate::record::{Action, Command};
use crate::rules::{ReasonSet, Scan};
use crate::status;

/// What classification looks at.
#[derive(Debug, Clone)]
pub(crate) struct Facts<'a> {
    /// Reason already known from the format (ARF, auto-reply, a module rule).
    pub preset: Option<Reason>,
    /// The reporting MTA's own category of the failure: used when the text
    /// and the status code decide nothing.
    pub hint: Option<Reason>,
    /// Enhanced status code, may be empty.
    pub status: &'a str,
    /// SMTP reply code.
    pub reply: Option<u16>,
    /// The SMTP command that failed.
    pub command: Option<Command>,
    /// The diagnostic text.
    pub diagnostic: &'a str,
    /// The rule texts found in the diagnostic lower-cased
    /// (`str::to_lowercase`).
    pub scan: &'a Scan<'a>,
    /// `SMTP`, `X-UNIX`, ... from `Diagnostic-Code:`; empty when unknown.
    pub diagnostic_type: &'a str,
    /// The DSN action.
    pub action: Option<Action>,
    /// The reason a rule of the receiving service gives (see `rhost`).
    pub rhost: Option<Reason>,
}

/// Reasons that a later, more specific check may overturn.
fn retriable(r: Option<Reason>) -> bool {
    use Reason::*;
    match r {
        None => true,
        Some(r) => matches!(
            r,
            Undefined
                | OnHold
                | SystemError
                | SecurityError
                | Expired
                | NetworkError
                | HostUnknown
                | UserUnknown
        ),
    }
}

fn explicit(r: Option<Reason>) -> bool {
    !matches!(r, None | Some(Reason::Undefined) | Some(Reason::OnHold))
}

/// "<a@b>: User unknown" or "<a@b>... User unknown": the text names the
/// address it refuses. (Mobile carriers' filters blank it out: "550 : User
/// unknown" is a filter's answer, not an unknown user.)
fn names_the_address(diagnostic: &str) -> bool {
    let lower = diagnostic.to_ascii_lowercase();
    lower.match_indices("user unknown").any(|(at, _)| {
        let before = lower[..at].trim_end().trim_end_matches(['.', ':']);
        before
            .strip_suffix('>')
            .is_some_and(|b| b.rsplit('<').next().is_some_and(|a| a.contains('@')))
    })
}

fn before_data(c: Option<Command>) -> bool {
    matches!(
        c,
        Some(Command::Conn | Command::Ehlo | Command::Helo | Command::Mail | Command::Rcpt)
    )
}

/// Decide the reason.
pub(crate) fn classify(f: &Facts<'_>) -> Reason {
    if let Some(p) = f.preset
        && !retriable(Some(p))
    {
        return p;
    }
    if f.status.starts_with("2.") {
        return Reason::Delivered;
    }
    if let Some(r) = f.rhost {
        return r;
    }
    if let Some(r) = f.scan.vendor() {
        return r;
    }
    let hits = f.scan.reasons();
    let by_status = status::reason_of(f.status);
    let dtype = f.diagnostic_type.to_ascii_uppercase();

    let mut found = None;
    if dtype.is_empty() || dtype == "SMTP" {
        found = probe_in_order(f, hits, by_status);
    }
    if let Some(r) = found
        && r != Reason::Undefined
    {
        return r;
    }
    if let Some(h) = f.hint {
        return h;
    }
    if let Some(p) = f.preset
        && p != Reason::Undefined
        && p != Reason::OnHold
    {
        return p;
    }
    if let Some(r) = another_one(f, hits, by_status, &dtype) {
        return r;
    }
    if f.action == Some(Action::Delayed) {
        return Reason::Expired;
    }
    if hits.has(Reason::Vacation) {
        return Reason::Vacation;
    }
    if !f.diagnostic.trim().is_empty() {
        return Reason::OnHold;
    }
    f.preset.unwrap_or(Reason::Undefined)
}

/// The first pass: specific evidence, in a fixed order.
fn probe_in_order(f: &Facts<'_>, hits: ReasonSet, st: Option<Reason>) -> Option<Reason> {
    use Reason::*;
    let is = |r: Reason| st == Some(r);
    let order = [
        MailboxFull,
        MesgTooBig,
        ExceedLimit,
        Suspend,
        HasMoved,
        NoRelaying,
        AuthFailure,
        UserUnknown,
        Filtered,
        RequirePtr,
        NotCompliantRfc,
        BadReputation,
        ContentError,
        Rejected,
        HostUnknown,
        SpamDetected,
        Speeding,
        TooManyConn,
        Blocked,
    ];
    let spam = || {
        !f.status.is_empty()
            && (is(SpamDetected) || (!before_data(f.command) && hits.has(SpamDetected)))
    };
    for r in order {
        let yes = match r {
            MailboxFull | AuthFailure | RequirePtr | TooManyConn | ExceedLimit => {
                is(r) || hits.has(r)
            }
            // A status code alone (4.2.1) does not make a block of what the
            // reporting MTA itself calls a system error (qmail's "Unable to
            // chdir to maildir. (#4.2.1)").
            Blocked => (is(r) && f.preset != Some(SystemError)) || hits.has(r),
            MesgTooBig => {
                if is(MesgTooBig) {
                    true
                } else if is(ExceedLimit) || f.status == "5.2.3" {
                    false
                } else {
                    hits.has(MesgTooBig)
                }
            }
            Suspend => f.reply == Some(525) || hits.has(Suspend),
            HasMoved | NotCompliantRfc | BadReputation | Speeding => hits.has(r),
            NoRelaying => {
                !matches!(
                    f.command,
                    Some(Command::Conn | Command::Ehlo | Command::Helo)
                ) && hits.has(NoRelaying)
            }
            UserUnknown => {
                if is(UserUnknown) {
                    ![
                        NoRelaying,
                        Blocked,
                        MailboxFull,
                        HasMoved,
                        Rejected,
                        NotAccept,
                    ]
                    .iter()
                    .any(|o| hits.has(*o))
                } else {
                    // Without the status code, only a refusal at RCPT TO is
                    // about the address; later, a filter may have spoken.
                    // With no command known, a text that names the refused
                    // address ("<a@b>: User unknown") is about the address;
                    // one whose address was blanked ("550 : User unknown",
                    // as carriers' filters answer) is a filter's.
                    hits.has(UserUnknown)
                        && (f.command == Some(Command::Rcpt)
                            || (f.command.is_none()
                                && !explicit(st)
                                && names_the_address(f.diagnostic)))
                }
            }
            Filtered => {
                if is(Filtered) {
                    hits.has(UserUnknown) || hits.has(Filtered)
                } else if before_data(f.command)
                    || f.hint == Some(UserUnknown)
                    || f.preset == Some(UserUnknown)
                {
                    // The refusal came at or before RCPT, or the reporting
                    // MTA itself says the mailbox is bad: no filter spoke.
                    false
                } else {
                    hits.has(Filtered) || hits.has(UserUnknown)
                }
            }
            ContentError => !spam() && (is(ContentError) || hits.has(ContentError)),
            Rejected => {
                // A sender-address text counts when refused at MAIL FROM, at
                // DATA (unless the code says the user is unknown), or when
                // the code itself is vague.
                is(Rejected)
                    || (hits.has(Rejected)
                        && (f.command == Some(Command::Mail)
                            || (f.command == Some(Command::Data) && !is(UserUnknown))
                            || !explicit(st)
                            || is(SecurityError)
                            || is(SystemError)))
            }
            HostUnknown => {
                if is(HostUnknown) {
                    !hits.has(NetworkError)
                } else {
                    hits.has(HostUnknown)
                }
            }
            SpamDetected => spam(),
            _ => false,
        };
        if yes {
            return Some(r);
        }
    }
    None
}

/// The fallback pass: message patterns of the remaining reasons, then the
/// status code, then structural hints.
fn another_one(f: &Facts<'_>, hits: ReasonSet, st: Option<Reason>, dtype: &str) -> Option<Reason> {
    use Reason::*;
    if retriable(st) || dtype != "SMTP" {
        let order = [
            MailboxFull,
            AuthFailure,
            BadReputation,
            Speeding,
            SpamDetected,
            VirusDetected,
            PolicyViolation,
            NoRelaying,
            SystemError,
            NetworkError,
            Suspend,
            ContentError,
            SystemFull,
            NotAccept,
            Expired,
            FailedStartTls,
            SecurityError,
            Suppressed,
            MailerError,
        ];
        if let Some(r) = order.into_iter().find(|r| hits.has(*r)) {
            return Some(r);
        }
        if st.is_some() {
            return st;
        }
        let subject = f.status.get(..3).unwrap_or("");
        if subject == "5.6" || subject == "4.6" {
            return Some(ContentError);
        }
        if subject == "5.7" || subject == "4.7" {
            return Some(SecurityError);
        }
        if dtype.starts_with("X-UNIX") {
            return Some(MailerError);
        }
        if f.reply
            .is_some_and(|c| (500..=507).contains(&c) || (400..=407).contains(&c))
        {
            return Some(SyntaxError);
        }
        if matches!(f.action, Some(Action::Delayed)) {
            return Some(Expired);
        }
        if matches!(f.command, Some(Command::Ehlo | Command::Helo)) {
            return Some(Blocked);
        }
    }
    st
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(status: &'static str, diag: &'static str) -> Facts<'static> {
        // (Leaked: a few short strings, once per test.)
        let lower: &'static str = Box::leak(diag.to_lowercase().into_boxed_str());
        Facts {
            preset: None,
            hint: None,
            status,
            reply: None,
            command: None,
            diagnostic: diag,
            scan: Box::leak(Box::new(crate::rules::COMBINED.scan(lower))),
            diagnostic_type: "SMTP",
            action: None,
            rhost: None,
        }
    }

    #[test]
    fn status_code_alone() {
        assert_eq!(
            classify(&facts("5.1.1", "550 5.1.1 no")),
            Reason::UserUnknown
        );
        assert_eq!(classify(&facts("5.2.2", "")), Reason::MailboxFull);
        assert_eq!(classify(&facts("2.1.5", "250 ok")), Reason::Delivered);
    }

    #[test]
    fn text_beats_vague_code() {
        let f = facts(
            "5.0.0",
            "554 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org",
        );
        assert_eq!(classify(&f), Reason::Blocked);
        let f = facts("5.0.0", "552 Requested mail action aborted: mailbox full");
        assert_eq!(classify(&f), Reason::MailboxFull);
    }

    #[test]
    fn a_blocked_text_overrides_a_user_unknown_code() {
        let f = facts("5.1.1", "550 5.1.1 relaying denied");
        assert_eq!(classify(&f), Reason::NoRelaying);
    }

    #[test]
    fn nothing_known_is_onhold_or_undefined() {
        assert_eq!(
            classify(&facts("", "something odd happened")),
            Reason::OnHold
        );
        assert_eq!(classify(&facts("", "")), Reason::Undefined);
        let f = Facts {
            action: Some(Action::Delayed),
            ..facts("", "")
        };
        assert_eq!(classify(&f), Reason::Expired);
    }
}

#[cfg(test)]
mod address_tests {
    #[test]
    fn a_named_address_or_a_blanked_one() {
        assert!(super::names_the_address(
            "550 <neko@example.jp>: User unknown"
        ));
        assert!(super::names_the_address(
            "550 5.1.1 <neko@example.jp>... User Unknown"
        ));
        assert!(!super::names_the_address("550 : User unknown"));
        assert!(!super::names_the_address("550: : User unknown"));
        assert!(!super::names_the_address("550 <>: User unknown"));
    }
}
