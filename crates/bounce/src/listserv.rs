//! Notices from the fml mailing-list manager: not an MTA's bounce, but the
//! list refusing or dropping a post (not a member, a mail loop, a security
//! alert), sent from `<list>-admin@` with an `X-MLServer: fml` header.
//!
//! Hand-written because no crate knows these notices; the phrase tables are
//! the whole of the knowledge, in the order they are tried.

use crate::{Draft, Reason, address, message::Flat, text};

/// Phrases of the notice's text and the reason each means.
const BODY: &[(&str, Reason)] = &[
    (" header may cause mail loop", Reason::Rejected),
    ("not member article from ", Reason::Rejected),
    ("reject mail from ", Reason::Rejected),
    ("reject spammers:", Reason::Rejected),
    (
        "you are not a member of this mailing list",
        Reason::Rejected,
    ),
    ("security alert:", Reason::SecurityError),
    (
        " has detected a loop condition so that",
        Reason::SystemError,
    ),
    ("loop back warning:", Reason::SystemError),
];

/// Phrases of the notice's subject, tried when the text says nothing known.
const SUBJECT: &[(&str, Reason)] = &[
    (" are not member", Reason::Rejected),
    ("not member article from ", Reason::Rejected),
    ("reject mail ", Reason::Rejected),
    ("spam mail from a spammer is rejected", Reason::Rejected),
    ("fml system error message", Reason::SystemError),
    ("loop alert: ", Reason::SystemError),
    ("loop back warning: ", Reason::SystemError),
    ("warning: unix from loop", Reason::SystemError),
    ("security alert", Reason::SecurityError),
];

/// The end of the notice: the refused post follows, quoted.
const ORIGINAL: &str = "original mail as follows:";

/// One draft per address the notice names in angle brackets, or `None` when
/// the message is not an fml notice.
pub(crate) fn parse(f: &Flat) -> Option<Vec<Draft>> {
    let server = f.header("X-MLServer")?.to_ascii_lowercase();
    if !server.starts_with("fml") || !f.from.to_ascii_lowercase().contains("-admin@") {
        return None;
    }
    let lower = f.text.to_ascii_lowercase();
    let notice = &f.text[..lower.find(ORIGINAL).unwrap_or(f.text.len())];
    let mut drafts: Vec<Draft> = Vec::new();
    // Lines before the first address belong to the first recipient.
    let mut preface = String::new();
    for line in crate::text::lines(notice)
        .map(str::trim)
        .filter(|l| !l.is_empty())
    {
        let named = line
            .split_once('<')
            .and_then(|(_, rest)| rest.split_once('>'))
            .map(|(inside, _)| address::clean(inside))
            .filter(|a| address::is_address(a));
        match (named, drafts.last_mut()) {
            (Some(recipient), _) => drafts.push(Draft {
                recipient,
                diagnostic: format!("{} {line}", std::mem::take(&mut preface)),
                ..Draft::default()
            }),
            (None, Some(d)) => {
                d.diagnostic.push(' ');
                d.diagnostic.push_str(line);
            }
            (None, None) => {
                preface.push(' ');
                preface.push_str(line);
            }
        }
    }
    let subject = f.subject.to_ascii_lowercase();
    for d in &mut drafts {
        d.diagnostic = text::collapse(&d.diagnostic);
        let said = d.diagnostic.to_ascii_lowercase();
        d.preset = BODY
            .iter()
            .find(|(p, _)| said.contains(p))
            .or_else(|| SUBJECT.iter().find(|(p, _)| subject.contains(p)))
            .map(|(_, r)| *r);
    }
    (!drafts.is_empty()).then_some(drafts)
}

#[cfg(test)]
mod tests {
    use crate::{Reason, analyze};

    fn notice(subject: &str, text: &str) -> Vec<crate::Record> {
        let raw = format!(
            "From: neko-admin@example.org\nTo: sender@example.net\nSubject: {subject}\n\
             Message-Id: <20240101.FML1234.neko@example.org>\nX-MLServer: fml [fml 4.0.3]\n\n\
             {text}\n\nOriginal mail as follows:\n\n   From: <someone@example.com>\n   To: <neko@example.org>\n"
        );
        analyze(raw.as_bytes()).unwrap()
    }

    #[test]
    fn the_text_decides_then_the_subject() {
        let r = notice(
            "NOT MEMBER article from sender@example.net",
            "You are not a member of this mailing list <neko@example.org>.\nIf you know the guide, ...",
        );
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].recipient, "neko@example.org");
        assert_eq!(r[0].reason, Reason::Rejected);
        assert!(r[0].diagnostic.contains("If you know the guide"));

        let r = notice(
            "Loop Alert: Duplicated Message-ID (neko ML)",
            "Duplicated Message-ID in <neko@example.org>.",
        );
        assert_eq!(r[0].reason, Reason::SystemError);
        assert_eq!(r[0].status, "5.0.930");
    }

    #[test]
    fn without_the_list_server_header_it_is_not_a_notice() {
        let raw = "From: neko-admin@example.org\nSubject: Loop Alert: x\n\n\
                   Duplicated Message-ID in <neko@example.org>.\n";
        assert!(super::parse(&crate::message::flatten(raw.as_bytes()).unwrap()).is_none());
    }
}
