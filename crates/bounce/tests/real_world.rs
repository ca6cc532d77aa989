//! The refusals this product exists for, as providers and filters word them
//! (texts from Microsoft's NDR documentation, Cisco, Barracuda, Spamhaus,
//! Google, Yahoo, ... as collected in `../shared/research`): each one wrapped
//! in a plain RFC 3464 report must give the right reason, the blocklist or
//! reputation service it names, and the sending IP it quotes.

use outcry_bounce::{Blocklist, Reason, analyze};
use std::net::IpAddr;

struct Case {
    remote: &'static str,
    recipient: &'static str,
    said: &'static str,
    reason: Reason,
    blocklist: Option<Blocklist>,
    sending_ip: Option<&'static str>,
}

const IP: Option<&str> = Some("198.51.100.45");
const EOP: &str = "example-org.mail.protection.outlook.com";
const OLC: &str = "outlook-com.olc.protection.outlook.com";

fn cases() -> Vec<Case> {
    use Blocklist as B;
    use Reason as R;
    let c = |remote, recipient, said, reason, blocklist, sending_ip| Case {
        remote,
        recipient,
        said,
        reason,
        blocklist,
        sending_ip,
    };
    vec![
        // Gmail puts a counter after the client IP inside the brackets.
        c(
            "gmail-smtp-in.l.google.com",
            "partner@gmail.com",
            "550-5.7.1 [198.51.100.45      12] Gmail has detected that this message is likely unsolicited mail. To reduce the amount of spam sent to Gmail, this message has been blocked. - gsmtp",
            R::SpamDetected,
            Some(B::Google),
            IP,
        ),
        c(
            "gmail-smtp-in.l.google.com",
            "partner@gmail.com",
            "421-4.7.28 [198.51.100.45      15] Gmail has detected an unusual rate of unsolicited mail originating from your IP address. To protect our users from spam, mail sent from your IP address has been temporarily rate limited. - gsmtp",
            R::Blocked,
            Some(B::Google),
            IP,
        ),
        // Yahoo, Trend Micro, GMX and WEB.DE, T-Online.
        c(
            "mta7.am0.yahoodns.net",
            "partner@yahoo.com",
            "553 5.7.1 [BL21] Connections will not be accepted from 198.51.100.45, because the ip is in Spamhaus's list; see https://postmaster.yahooinc.com/error-codes",
            R::Blocked,
            Some(B::Spamhaus),
            IP,
        ),
        c(
            "mx.example.com",
            "partner@example.com",
            "550 5.7.1 Mail from 198.51.100.45 refused, see http://www.mail-abuse.com/cgi-bin/lookup?198.51.100.45",
            R::Blocked,
            Some(B::TrendMicro),
            IP,
        ),
        c(
            "mx00.emig.gmx.net",
            "partner@gmx.net",
            "554-gmx.net (mxgmx110) Nemesis ESMTP Service not available 554-No SMTP service 554-IP address is block listed. 554 For explanation visit https://postmaster.gmx.net/en/case?c=ip&i=ip&v=198.51.100.45&r=1ABCDEF",
            R::Blocked,
            None,
            IP,
        ),
        c(
            "mx00.t-online.de",
            "partner@t-online.de",
            "554 IP=198.51.100.45 - A problem occurred. (Ask your postmaster for help or to contact tosa@rx.t-online.de to clarify.) (BL)",
            R::Blocked,
            None,
            IP,
        ),
        c(
            EOP,
            "c@example.org",
            "550 5.7.606 Access denied, banned sending IP [198.51.100.45]. To request removal from this list please visit https://sender.office.com/ and follow the directions. (AS16012609)",
            R::Blocked,
            Some(B::Microsoft),
            IP,
        ),
        c(
            EOP,
            "c@example.org",
            "550 5.7.1 Service unavailable, Client host [198.51.100.45] blocked using Spamhaus. To request removal from this list see https://www.spamhaus.org/query/ip/198.51.100.45 (AS3130)",
            R::Blocked,
            Some(B::Spamhaus),
            IP,
        ),
        c(
            EOP,
            "c@example.org",
            "550 5.7.511 Access denied, banned sender[198.51.100.45]. To request removal from this list, forward this message to delist@microsoft.com. (AS16012607)",
            R::Blocked,
            Some(B::Microsoft),
            IP,
        ),
        // The recipient's own list: blocked, but by no public service.
        c(
            EOP,
            "c@example.org",
            "550 5.7.513 Service unavailable, Client host [198.51.100.45] blocked by example.org using Customer Block list (AS16012607)",
            R::Blocked,
            None,
            IP,
        ),
        c(
            OLC,
            "b@outlook.com",
            "550 5.7.1 Unfortunately, messages from [198.51.100.45] weren't sent. Please contact your Internet service provider since part of their network is on our block list (S3150).",
            R::Blocked,
            Some(B::Microsoft),
            IP,
        ),
        c(
            OLC,
            "b@outlook.com",
            "451 4.7.650 The mail server [198.51.100.45] has been temporarily rate limited due to IP reputation. For e-mail delivery information, see https://postmaster.live.com (S775)",
            R::BadReputation,
            Some(B::Microsoft),
            IP,
        ),
        c(
            EOP,
            "c@example.org",
            "550 5.7.705 Access denied, tenant has exceeded threshold. For more information please go to https://go.microsoft.com/fwlink/?linkid=2159410",
            R::Rejected,
            None,
            None,
        ),
        // Microsoft restricting the sending tenant itself: the sender's side.
        c(
            EOP,
            "c@example.org",
            "550 5.7.708 Service unavailable. Access denied, traffic not accepted from this IP.",
            R::Rejected,
            None,
            None,
        ),
        c(
            EOP,
            "c@example.org",
            "550 5.1.8 Access denied, bad outbound sender.",
            R::Rejected,
            None,
            None,
        ),
        c(
            EOP,
            "c@example.org",
            "550 5.7.750 Service unavailable. Client blocked from sending from unregistered domains.",
            R::Rejected,
            None,
            None,
        ),
        c(
            EOP,
            "c@example.org",
            "550 5.7.509 Access denied, sending domain example.net does not pass DMARC verification and has a DMARC policy of reject.",
            R::AuthFailure,
            None,
            None,
        ),
        c(
            EOP,
            "c@example.org",
            "550 5.4.1 Recipient address rejected: Access denied. AS(201806281)",
            R::UserUnknown,
            None,
            None,
        ),
        c(
            "mx1.example.com",
            "d@example.com",
            "554 mx1.example.com Your access to this mail system has been rejected due to the sending MTA's poor reputation. If you believe that this failure is in error, please contact the intended recipient via alternate means.",
            R::BadReputation,
            Some(B::CiscoTalos),
            None,
        ),
        c(
            "mx.example.net",
            "e@example.net",
            "554 Service unavailable; Client host [198.51.100.45] blocked using Barracuda Reputation; http://www.barracudanetworks.com/reputation/?r=1&ip=198.51.100.45",
            R::Blocked,
            Some(B::Barracuda),
            IP,
        ),
        c(
            "mx.example.net",
            "e@example.net",
            "554 5.7.1 Service unavailable; Client host [198.51.100.45] blocked using zen.spamhaus.org; https://www.spamhaus.org/query/ip/198.51.100.45",
            R::Blocked,
            Some(B::Spamhaus),
            IP,
        ),
        c(
            "mx.example.net",
            "e@example.net",
            "521-5.7.1 Service unavailable; client [198.51.100.45] blocked using dnsbl.sorbs.net",
            R::Blocked,
            Some(B::Sorbs),
            IP,
        ),
        c(
            "mx.example.de",
            "i@example.de",
            "550 5.7.1 Service unavailable; Client host [198.51.100.45] blocked using dnsbl-2.uceprotect.net; IP=198.51.100.45 is UCEPROTECT-Level2 listed because 198.51.100.0/24 hosts at least 12 abusers.",
            R::Blocked,
            Some(B::Uceprotect),
            IP,
        ),
        c(
            "mx.example.de",
            "i@example.de",
            "554 5.7.1 Service unavailable; Client host [198.51.100.45] blocked using bl.spamcop.net; Blocked - see https://www.spamcop.net/bl.shtml?198.51.100.45",
            R::Blocked,
            Some(B::SpamCop),
            IP,
        ),
        c(
            "gmail-smtp-in.l.google.com",
            "f@gmail.com",
            "421-4.7.0 [198.51.100.45] Our system has detected an unusual rate of unsolicited mail originating from your IP address. To protect our users from spam, mail sent from your IP address has been temporarily rate limited. - gsmtp",
            R::Blocked,
            Some(B::Google),
            IP,
        ),
        c(
            "mta7.am0.yahoodns.net",
            "g@yahoo.com",
            "421 4.7.0 [TSS04] Messages from 198.51.100.45 temporarily deferred due to unexpected volume or user complaints - 4.16.55.1; see https://postmaster.yahooinc.com/error-codes",
            R::BadReputation,
            Some(B::Yahoo),
            IP,
        ),
        // Lookup links name the refused IP; a named DNSBL makes a vague code a block.
        c(
            "mx0a-001.pphosted.com",
            "a@corp.example",
            "554 5.7.0 Blocked - see https://ipcheck.proofpoint.com/?ip=198.51.100.45",
            R::Blocked,
            Some(B::Proofpoint),
            IP,
        ),
        c(
            "mx.example.net",
            "b@example.net",
            "550 5.7.1 Mail from 198.51.100.45 blocked using Trend Micro RBL+. Please see http://www.mail-abuse.com/cgi-bin/lookup?ip_address=198.51.100.45",
            R::Blocked,
            Some(B::TrendMicro),
            IP,
        ),
        c(
            "mx.example.org",
            "d@example.org",
            "554 5.7.1 Blocked - see https://www.spamcop.net/bl.shtml?198.51.100.45",
            R::Blocked,
            Some(B::SpamCop),
            IP,
        ),
        c(
            "mx.example.org",
            "d@example.org",
            "550 5.7.1 Rejected: 198.51.100.45 listed at cbl.abuseat.org",
            R::Blocked,
            Some(B::Cbl),
            IP,
        ),
        c(
            "mx1.comcast.net",
            "f@comcast.net",
            "554 resimta-ch2-18v.sys.comcast.net resimta-ch2-18v.sys.comcast.net 198.51.100.45 found on one or more DNSBLs, see http://postmaster.comcast.net/smtp-error-codes.php#BL000001",
            R::Blocked,
            Some(B::Other),
            IP,
        ),
        // Hotmail's older refusal of dynamic IP ranges.
        c(
            "mx1.hotmail.com",
            "h@hotmail.com",
            "550 SC-001 (BAY004-MC1F15) Unfortunately, messages from 198.51.100.45 weren't sent. Please contact your Internet service provider. You can tell them that Hotmail does not relay dynamically-assigned IP ranges.",
            R::Blocked,
            Some(B::Microsoft),
            IP,
        ),
        // AT&T quotes the IP between angle brackets.
        c(
            "ff-ip4-mx-vip1.prodigy.net",
            "g@att.net",
            "553 5.3.0 flpd575 DNSBL:RBL 521< 198.51.100.45 >_is_blocked.For assistance forward this error to abuse_rbl@abuse-att.net",
            R::Blocked,
            Some(B::Other),
            IP,
        ),
        // The listing decides the reason, not a filter or policy word
        // around it, nor a status code that says something else.
        c(
            "mx.example.net",
            "i@example.net",
            "550 5.2.1 Mailbox unavailable. Your IP address 198.51.100.45 is blacklisted using SPAMHAUS-XBL. Details: https://www.spamhaus.org/query/ip/198.51.100.45",
            R::Blocked,
            Some(B::Spamhaus),
            IP,
        ),
        c(
            "mx.example.net",
            "j@example.net",
            "554 Connection from 198.51.100.45 rejected for policy reasons. Host found in DNS blacklist at dnsbl.sorbs.net",
            R::Blocked,
            Some(B::Sorbs),
            IP,
        ),
        // A list nobody has heard of is still a list.
        c(
            "mx.example.net",
            "k@example.net",
            "550 Rejected: 198.51.100.45 is listed at rbl.lists.example.org",
            R::Blocked,
            Some(B::Other),
            IP,
        ),
        // Microsoft's banned-sender refusal relayed by a host that is not
        // Microsoft's (a gateway, a smarthost).
        c(
            "smtp.relay.example.net",
            "l@example.net",
            "550 5.7.511 Access denied, banned sender[198.51.100.45]. To request removal from this list please forward this message to delist@messaging.microsoft.com.",
            R::Blocked,
            Some(B::Microsoft),
            IP,
        ),
        // Reputation, not a listing: a score kept by the filter's vendor.
        c(
            "mx.example.net",
            "m@example.net",
            "554 5.5.4 Your IP 198.51.100.45 address has a bad reputation. To unblock visit http://filter.example.com/unblock",
            R::BadReputation,
            None,
            IP,
        ),
        c(
            "us-smtp-inbound-1.mimecast.com",
            "n@example.net",
            "550 csi.mimecast.org Poor Reputation Sender. - https://community.mimecast.com/docs/DOC-1369#550 [Xq3Ns8biNg-p6EfZ0QaVMQ.us149]",
            R::BadReputation,
            Some(B::Mimecast),
            None,
        ),
        // Not a reputation problem at all: nothing is named.
        c(
            "mx.example.net",
            "e@example.net",
            "550 5.1.1 <e@example.net>: Recipient address rejected: User unknown in virtual mailbox table",
            R::UserUnknown,
            None,
            None,
        ),
    ]
}

fn report(c: &Case) -> String {
    let status = c
        .said
        .split_whitespace()
        .nth(1)
        .filter(|s| s.chars().next().is_some_and(|d| d.is_ascii_digit()) && s.contains('.'))
        .unwrap_or(if c.said.starts_with('4') {
            "4.0.0"
        } else {
            "5.0.0"
        });
    format!(
        "From: MAILER-DAEMON@mail.sender.example\nTo: owner@sender.example\n\
         Subject: Undelivered Mail Returned to Sender\n\
         Content-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\n\n\
         --b\nContent-Type: text/plain\n\nYour message could not be delivered.\n\n\
         --b\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mail.sender.example\n\n\
         Final-Recipient: rfc822; {}\nAction: failed\nStatus: {status}\nRemote-MTA: dns; {}\n\
         Diagnostic-Code: smtp; {}\n\n--b--\n",
        c.recipient, c.remote, c.said
    )
}

#[test]
fn provider_and_blocklist_refusals() {
    let mut wrong = Vec::new();
    for c in cases() {
        let got = analyze(report(&c).as_bytes()).unwrap();
        assert_eq!(got.len(), 1, "one record for: {}", c.said);
        let r = &got[0];
        let ip = c.sending_ip.map(|s| s.parse::<IpAddr>().unwrap());
        if (r.reason, r.blocklist, r.sending_ip) != (c.reason, c.blocklist, ip) {
            wrong.push(format!(
                "{}\n   got {:?} {:?} {:?}, want {:?} {:?} {:?}",
                c.said, r.reason, r.blocklist, r.sending_ip, c.reason, c.blocklist, ip
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// A report: `text` as the human-readable part, `fields` as the
/// delivery-status part, `original` as the returned headers.
fn shaped(text: &str, fields: &str, original: &str) -> Vec<outcry_bounce::Record> {
    let raw = format!(
        "From: MAILER-DAEMON@mail.sender.example\nTo: owner@sender.example\n\
         Subject: Returned mail\n\
         Content-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\n\n\
         --b\nContent-Type: text/plain\n\n{text}\n\n\
         --b\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; Mail.Sender.Example\n\n{fields}\n\n\
         --b\nContent-Type: text/rfc822-headers\n\n{original}\n--b--\n"
    );
    analyze(raw.as_bytes()).unwrap()
}

#[test]
fn report_shapes() {
    // ...but two addressees and no recipient fields leave the failed one
    // unknown: no record.
    let r = shaped(
        "--- Delivery report unavailable ---",
        "X-Postfix-Queue-ID: B1C79423C925",
        "From: owner@sender.example\nTo: a@customer.example, b@customer.example",
    );
    assert!(r.is_empty(), "{r:?}");

    // (text, delivery-status fields, returned headers) and what they give:
    // recipient, reason, diagnostic, reply code and status.
    type Want = (
        &'static str,
        Reason,
        &'static str,
        Option<u16>,
        &'static str,
    );
    let cases: [(&str, &str, &str, Want); 4] = [
        // Postfix's "Delivery report unavailable": no recipient fields at all,
        // the returned message's only addressee failed, nobody says why.
        (
            "--- Delivery report unavailable ---",
            "X-Postfix-Queue-ID: B1C79423C925",
            "From: owner@sender.example\nTo: buyer@customer.example\nSubject: x",
            (
                "buyer@customer.example",
                Reason::Undefined,
                "",
                None,
                "5.0.900",
            ),
        ),
        // A local mailer's exit status, explained by the text.
        (
            "DBI connect failed: too many clients\n554 5.3.0 unknown mailer error 255",
            "Final-Recipient: rfc822; k@dest.example\nAction: failed\nStatus: 5.0.0\nDiagnostic-Code: X-Unix; 255",
            "To: k@dest.example",
            (
                "k@dest.example",
                Reason::MailerError,
                "554 5.3.0 unknown mailer error 255",
                Some(554),
                "5.3.0",
            ),
        ),
        // The Status comment is the only explanation.
        (
            "The following addresses had delivery problems",
            "Final-Recipient: rfc822; s@cat.example\nAction: delayed\nStatus: 4.0.0 (cat.example: host name lookup failure)",
            "To: s@cat.example",
            (
                "s@cat.example",
                Reason::NetworkError,
                "cat.example: host name lookup failure",
                None,
                "4.0.0",
            ),
        ),
        // A quoted local part keeps its quotes.
        (
            "<\"neko..nyaan\"@dest.example>: host mx.dest.example[192.0.2.2] said: 550 5.1.1 User Unknown (in reply to RCPT TO command)",
            "Final-Recipient: rfc822; \"neko..nyaan\"@dest.example\nAction: failed\nStatus: 5.1.1",
            "To: \"neko..nyaan\"@dest.example",
            (
                "\"neko..nyaan\"@dest.example",
                Reason::UserUnknown,
                "550 5.1.1 User Unknown",
                Some(550),
                "5.1.1",
            ),
        ),
    ];
    for (text, fields, original, want) in cases {
        let r = shaped(text, fields, original);
        assert_eq!(r.len(), 1, "{text}");
        let got = &r[0];
        assert_eq!(
            (
                got.recipient.as_str(),
                got.reason,
                got.reply_code,
                got.status.as_str()
            ),
            (want.0, want.1, want.3, want.4),
            "{text}"
        );
        assert!(
            got.diagnostic.contains(want.2),
            "{text}: {}",
            got.diagnostic
        );
    }
}

#[test]
fn x_failed_recipients_and_the_text() {
    let exim = |header: &str, listed: &str| {
        let raw = format!(
            "From: Mail Delivery System <Mailer-Daemon@mx.sender.example>\nTo: owner@sender.example\n\
             Subject: Mail delivery failed: returning message to sender\nX-Failed-Recipients: {header}\n\n\
             This message was created automatically by mail delivery software.\n\n\
             A message that you sent could not be delivered to one or more of its\n\
             recipients. This is a permanent error. The following address(es) failed:\n\n  {listed}\n    \
             SMTP error from remote mail server after RCPT TO:<{listed}>:\n    \
             host mx.dest.example [192.0.2.20]: 550 5.1.1 User unknown\n"
        );
        analyze(raw.as_bytes()).unwrap()
    };
    // The same mailbox under a rewritten domain: the text's address.
    let r = exim("kijitora@example.jp", "kijitora@example.or.jp");
    assert_eq!(r[0].recipient, "kijitora@example.or.jp");
    // Another mailbox altogether: the header names the recipient.
    let r = exim("kijitora@example.jp", "postmaster@relay.example");
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].recipient, "kijitora@example.jp");
}

#[test]
fn a_recipient_field_may_name_any_domain() {
    // A delivery report's recipient field is the address the server tried:
    // an internal or anonymised domain (one-letter last label, one label)
    // is still the recipient, not a reason to drop the record.
    for rcpt in ["john.smith@eu.a.b.c", "root@localhost"] {
        let r = shaped(
            "Delivery has failed to these recipients or distribution lists:",
            &format!(
                "Final-Recipient: rfc822;{rcpt}\nAction: failed\nStatus: 5.2.2\n\
                 Diagnostic-Code: smtp;552 5.2.2 mailbox full"
            ),
            "To: someone@customer.example",
        );
        assert_eq!(r.len(), 1, "{rcpt}: {r:?}");
        assert_eq!(r[0].recipient, rcpt);
        assert_eq!(r[0].reason, Reason::MailboxFull, "{rcpt}");
    }
    // Not an address at all: no record from the field.
    let r = shaped(
        "Delivery has failed",
        "Final-Recipient: rfc822;/var/mail/neko\nAction: failed\nStatus: 5.2.2",
        "To: a@customer.example, b@customer.example",
    );
    assert!(r.is_empty(), "{r:?}");
}

#[test]
fn a_text_with_no_code_does_not_replace_the_reports_diagnostic() {
    // Postfix's local delivery: the recipient's line in the text carries no
    // reply or status code, so the text alone would stand for the whole
    // notice ("This is the mail system at host ..."); the report's own
    // Diagnostic-Code says what failed, without the greeting.
    let r = shaped(
        "This is the mail system at host mx.customer.example.\n\n\
         I'm sorry to have to inform you that your message could not\n\
         be delivered to one or more recipients. It's attached below.\n\n\
                            The mail system\n\n\
         <buyer@customer.example>: maildir delivery failed: Sorry, the user's maildir has\n    \
         overdrawn his diskspace quota, please try again later.",
        "Final-Recipient: rfc822; buyer@customer.example\nAction: failed\nStatus: 5.2.2\n\
         Diagnostic-Code: X-Postfix; maildir delivery failed: Sorry, the user's maildir\n    \
         has overdrawn his diskspace quota, please try again later.",
        "To: buyer@customer.example",
    );
    assert_eq!(r.len(), 1, "{r:?}");
    assert_eq!(
        r[0].diagnostic,
        "maildir delivery failed: Sorry, the user's maildir has overdrawn his diskspace quota, please try again later."
    );
    assert_eq!(r[0].reason, Reason::MailboxFull);
}

#[test]
fn a_returned_message_glued_to_its_parts_fields_stays_the_returned_message() {
    // No blank line between "Content-Type: message/rfc822" and the
    // returned message's own header: its `Content-Type` must not become
    // the part's, nor its body the notice's text (a body is never kept).
    let glued = |fields: &str| {
        let raw = format!(
            "From: MAILER-DAEMON@mx.customer.example\nTo: owner@sender.example\n\
             Subject: Undeliverable mail\n\
             Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\n\n\
             --B\nContent-Type: text/plain\n\n\
             Failed to deliver to '<buyer@customer.example>'\n\
             Messages without To: fields are not accepted here\n\n\
             --B\nContent-Type: message/delivery-status\n\n\
             Reporting-MTA: dns; mx.customer.example\n\n\
             Original-Recipient: rfc822;<buyer@customer.example>\n\
             Final-Recipient: system;<>\nAction: failed\nStatus: 5.0.0\n\n\
             --B\nContent-Type: message/rfc822\n{fields}\
             Message-ID: <1234@sender.example>\nFrom: Owner <owner@sender.example>\n\
             Subject: quarterly prices\nContent-Type: multipart/alternative; boundary=\"A\"\n\n\
             --A\nContent-Type: text/plain\n\nConfidential body words\n\
             --A--\n\n--B--\n"
        );
        analyze(raw.as_bytes()).unwrap()
    };
    // Glued, glued after another MIME field, and Exchange Online's own
    // fields before the blank line (not glued: the message follows it).
    for fields in [
        "",
        "Content-Description: returned\n",
        "X-Microsoft-Antispam-Mailbox-Delivery:\n\tabwl:0;wl:0;\n\n",
    ] {
        let r = glued(fields);
        assert_eq!(r.len(), 1, "{r:?}");
        assert_eq!(r[0].recipient, "buyer@customer.example");
        assert!(
            !r[0].diagnostic.contains("Confidential"),
            "{}",
            r[0].diagnostic
        );
        assert_eq!(r[0].message_id, "1234@sender.example");
    }
}

#[test]
fn a_bounce_with_no_time_of_its_own_takes_its_messages() {
    // No Date on the bounce, no Arrival-Date or Last-Attempt-Date in the
    // report: the failure is placed at the returned message's Date (as
    // Sisimai does), not left without a time for the incident timeline to
    // drop.
    let fields = "Final-Recipient: rfc822; buyer@customer.example\nAction: failed\nStatus: 5.1.1";
    let r = shaped(
        "Delivery has failed",
        fields,
        "From: owner@sender.example\nTo: buyer@customer.example\nDate: Thu, 29 Apr 2021 23:34:45 +0900",
    );
    assert_eq!(r[0].timestamp, Some(1_619_706_885));
    // A zone name RFC 5322 lacks, read all the same.
    let r = shaped(
        "Delivery has failed",
        fields,
        "From: owner@sender.example\nTo: buyer@customer.example\nDate: Thu, 29 Apr 2021 23:34:45 JST",
    );
    assert_eq!(r[0].timestamp, Some(1_619_706_885));
    let r = shaped(
        "Delivery has failed",
        fields,
        "From: owner@sender.example\nTo: buyer@customer.example",
    );
    assert_eq!(r[0].timestamp, None);
    // The bounce's own Date, with such a zone name.
    let raw = format!(
        "From: MAILER-DAEMON@mail.sender.example\nTo: owner@sender.example\n\
         Date: Thu, 29 Apr 2021 23:34:45 JST\nSubject: Returned mail\n\
         Content-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\n\n\
         --b\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mail.sender.example\n\n{fields}\n\n--b--\n"
    );
    let r = analyze(raw.as_bytes()).unwrap();
    assert_eq!(r[0].timestamp, Some(1_619_706_885));
}

#[test]
fn x_failed_recipients_may_name_any_domain() {
    // Exim names the sender in its text ("A message sent by <x>") and the
    // failed address in X-Failed-Recipients: the header's address is the
    // recipient, whatever its domain, and never the sender.
    let raw = "From: Mail Delivery System <Mailer-Daemon@mx.sender.example>\n\
               To: SRS0+ab12+sender.example+owner@relay.example\n\
               Subject: Mail delivery failed\nX-Failed-Recipients: john.b@b.c\n\n\
               This message was created automatically by mail delivery software.\n\n\
               A message sent by\n\n  <owner@sender.example>\n\n\
               could not be delivered to one or more of its recipients. The following\n\
               address(es) failed:\n\n  john.b@b.c\n    \
               all hosts have been failing for a long time and were last tried after this message arrived\n";
    let r = analyze(raw.as_bytes()).unwrap();
    assert_eq!(r.len(), 1, "{r:?}");
    assert_eq!(r[0].recipient, "john.b@b.c");
    assert_eq!(r[0].reason, Reason::Expired);
    // Without the header the text alone names the recipient; the sender
    // Exim names above it is no recipient.
    let raw = raw
        .replace("X-Failed-Recipients: john.b@b.c\n", "")
        .replace("john.b@b.c", "john.b@customer.example");
    let r = analyze(raw.as_bytes()).unwrap();
    assert_eq!(r.len(), 1, "{r:?}");
    assert_eq!(r[0].recipient, "john.b@customer.example");
}

#[test]
fn an_address_listed_after_a_double_dash_is_the_recipient() {
    // Mimecast lists the failed address, the problem and the server's
    // words each after "-- " (no delivery-status part in this one).
    let raw = "From: Postmaster <postmaster@gateway.example>\nTo: owner@sender.example\n\
               Subject: [Postmaster] Email Delivery Failure\n\n\
               An email that you attempted to send to the following address could not be delivered:\n\n\
               -- partner@customer.example\n\n\
               The problem appears to be :\n\n\
               -- Recipient email address is possibly incorrect\n\n\
               Additional information follows :\n\n\
               -- 5.1.1 <partner@customer.example>: Recipient address rejected: User unknown\n";
    let r = the_one(raw, "partner@customer.example");
    assert_eq!(r.reason, Reason::UserUnknown);
    assert_eq!(r.status, "5.1.1");
}

#[test]
fn a_trend_micro_transcript_in_english_or_japanese() {
    // InterScan / Trend Micro writes "Sent <<< RCPT TO:<a>" and
    // "Received >>> 550 ..."; its Japanese notices say 送信 and 受信.
    let notice = |sent: &str, received: &str| {
        let raw = format!(
            "From: \"InterScan MSS\" <postmaster@gateway.example>\nTo: owner@sender.example\n\
             Subject: Undeliverable\nContent-Type: text/plain; charset=utf-8\n\n\
             ...\n\n{sent} <<< RCPT TO:<partner@customer.example>\n\
             {received} >>> 550 5.1.1 <partner@customer.example>... user unknown\n\n...\n"
        );
        analyze(raw.as_bytes()).unwrap()
    };
    for (sent, received) in [("Sent", "Received"), ("送信", "受信")] {
        let r = notice(sent, received);
        assert_eq!(r.len(), 1, "{sent}: {r:#?}");
        assert_eq!(r[0].recipient, "partner@customer.example");
        assert_eq!(r[0].reason, Reason::UserUnknown);
        assert_eq!(r[0].status, "5.1.1");
        assert_eq!(r[0].command, Some(outcry_bounce::Command::Rcpt));
    }
}

#[test]
fn a_trend_micro_refusal_for_a_whole_domain_is_an_unknown_user() {
    // "Unable to deliver message to <a> (and other recipients in the same
    // domain)." is InterScan's word for addresses it would not deliver to,
    // with or without the "Please check if address is correct." after it.
    for tail in ["", " Please check if address is correct."] {
        let raw = format!(
            "From: \"InterScan MSS for SMTP\" <postmaster@gateway.example>\n\
             To: owner@sender.example\nSubject: Mail could not be delivered\n\n\
             The message could not be delivered to the following address(es):\n\
             Unable to deliver message to <partner@customer.example> (and other \
             recipients in the same domain).{tail}\n"
        );
        let r = the_one(&raw, "partner@customer.example");
        assert_eq!(r.reason, Reason::UserUnknown, "{tail:?}");
    }
}

#[test]
fn an_imail_server_that_gave_up_after_its_attempts_is_expired() {
    // Progress iMail Server: "Delivery failed N attempts: <address>".
    let raw = "From: MAILER-DAEMON@mail.customer.example\nTo: owner@sender.example\n\
Subject: Undeliverable Mail\nX-Mailer: <SMTP32 v8.22>\n\n\
Delivery failed 3 attempts: partner@customer.example\n\n\
Original message follows.\n\n\
From: owner@sender.example\nTo: partner@customer.example\nSubject: hi\n\nhello\n";
    let r = the_one(raw, "partner@customer.example");
    assert_eq!(r.reason, Reason::Expired);
}

#[test]
fn gmx_gives_up_for_good_where_exim_retries() {
    // The same words from Exim mean "tried for days, may still come"
    // (4.0.947); GMX and WEB.DE say them when they give up: a permanent
    // failure, as Sisimai's GMX decoder reads it.
    let notice = |gmx: bool| {
        let raw = format!(
            "From: \"Mail Delivery System\" <mailer-daemon@gmx.net>\nTo: owner@gmx.example\n\
Subject: Mail delivery failed: returning message to sender\n{}\n\
This message was created automatically by mail delivery software.\n\n\
A message that you sent could not be delivered to one or more of\n\
its recipients. This is a permanent error. The following address\nfailed:\n\n\
<partner@customer.example>\n\nReason:\ndelivery retry timeout exceeded\n",
            if gmx {
                "X-GMX-Antispam: 0 (Mail was not recognized as spam); Detail=V3;\n"
            } else {
                ""
            }
        );
        the_one(&raw, "partner@customer.example")
    };
    let r = notice(true);
    assert_eq!(r.decoded_by, outcry_bounce::Decoder::Gmx);
    assert_eq!((r.reason, r.status.as_str()), (Reason::Expired, "5.0.947"));
    let r = notice(false);
    assert_eq!(r.decoded_by, outcry_bounce::Decoder::Exim);
    assert_eq!((r.reason, r.status.as_str()), (Reason::Expired, "4.0.947"));
}

#[test]
fn zoho_mail_gave_up_on_an_unreachable_host() {
    // Zoho Mail's Exim-style notice: "Host not reachable" after a 421 is
    // a delivery it gave up on (Sisimai's Zoho decoder), not a vague hold.
    let raw = "From: mailer-daemon@mail.zoho.com\nTo: owner@sender.example\n\
Subject: Undelivered Mail Returned to Sender\nX-ZohoMail: Si CHF_MF_NL SS_10 UW48 UB48\n\n\
This message was created automatically by mail delivery software.\n\
A message that you sent could not be delivered to one or more of its recipients.\n\n\
[Status: Error, Address: <partner@customer.example>, ResponseCode 421, , Host not reachable.]\n";
    let r = the_one(raw, "partner@customer.example");
    assert_eq!(r.decoded_by, outcry_bounce::Decoder::Zoho);
    assert_eq!((r.reason, r.status.as_str()), (Reason::Expired, "4.0.947"));
}

#[test]
fn verizon_has_no_such_recipient() {
    // Verizon's picture and text gateways: "No valid recipients" (with or
    // without " for this MM") is an unknown phone-number address.
    for error in ["No valid recipients", "No valid recipients for this MM"] {
        let raw = format!(
            "From: sysadmin@vma.vzwpix.com\nTo: owner@sender.example\nSubject: Undeliverable Message\n\n\
Error: {error}\n\nOriginal Message:\nFrom: owner@sender.example\nTo: 2125550100@vzwpix.com\nSubject: hi\n"
        );
        let r = the_one(&raw, "2125550100@vzwpix.com");
        assert_eq!(r.reason, Reason::UserUnknown, "{error}");
    }
}

#[test]
fn exims_own_words_for_an_unknown_user_and_a_full_mailbox() {
    // Exim's router says "user not found" of a local user it cannot find
    // (no filter spoke); its appendfile transport says "mailbox is full",
    // which it retries: 4.0.922 without a code of the server's.
    let notice = |said: &str| {
        let raw = format!(
            "From: Mail Delivery System <Mailer-Daemon@mx.sender.example>\nTo: owner@sender.example\n\
Subject: Mail delivery failed: returning message to sender\n\n\
This message was created automatically by mail delivery software.\n\n\
A message that you sent could not be delivered to one or more of its\n\
recipients. This is a permanent error. The following address(es) failed:\n\n\
  partner@customer.example\n    {said}\n"
        );
        the_one(&raw, "partner@customer.example")
    };
    let r = notice("user not found");
    assert_eq!(
        (r.reason, r.status.as_str()),
        (Reason::UserUnknown, "5.0.911")
    );
    let r = notice("mailbox is full");
    assert_eq!(
        (r.reason, r.status.as_str()),
        (Reason::MailboxFull, "4.0.922")
    );
    let r = notice("error: quota exceeded");
    assert_eq!(
        (r.reason, r.status.as_str()),
        (Reason::MailboxFull, "4.0.922")
    );
}

#[test]
fn qmail_ldap_says_why_it_could_not_deliver() {
    // qmail-ldap's own failures (its patch's error strings, as Sisimai's
    // qmail decoder lists them).
    let notice = |said: &str| {
        let raw = format!(
            "From: MAILER-DAEMON@mx.sender.example\nTo: owner@sender.example\nSubject: failure notice\n\n\
Hi. This is the qmail-send program at mx.sender.example.\n\
I'm afraid I wasn't able to deliver your message to the following addresses.\n\
This is a permanent error; I've given up. Sorry it didn't work out.\n\n\
<partner@customer.example>:\n{said}\n"
        );
        the_one(&raw, "partner@customer.example").reason
    };
    assert_eq!(
        notice("The message exeeded the maximum size the user accepts"),
        Reason::ExceedLimit
    );
    for said in [
        "Temporary failure in LDAP lookup",
        "Timeout while performing search on LDAP server",
        "Automatic homedir creator crashed",
    ] {
        assert_eq!(notice(said), Reason::SystemError, "{said}");
    }
}

#[test]
fn au_marks_what_its_spam_filter_refused() {
    // au (KDDI) EZweb: "X-SPASIGN: NG" on the notice means its filter
    // refused the message, whatever the reply said (Sisimai's EZweb decoder).
    let notice = |spasign: &str| {
        let raw = format!(
            "From: <Postmaster@ezweb.ne.jp>\nTo: owner@sender.example\n\
Subject: Mail System Error - Returned Mail\n{spasign}\n\
<kijitora@ezweb.ne.jp>: 550 user unknown (in reply to RCPT TO command)\n"
        );
        the_one(&raw, "kijitora@ezweb.ne.jp").reason
    };
    assert_eq!(notice("X-SPASIGN: NG\n"), Reason::Filtered);
    assert_eq!(notice(""), Reason::UserUnknown);
}

/// Every `(text, reason)` case, made into a bounce by `make`, gives one
/// record for `recipient` with that reason.
fn each_gives(
    make: impl Fn(&str) -> Vec<outcry_bounce::Record>,
    recipient: &str,
    cases: &[(&str, Reason)],
) {
    for (text, reason) in cases {
        let r = make(text);
        assert_eq!(r.len(), 1, "{text}: {r:#?}");
        assert_eq!(r[0].recipient, recipient, "{text}");
        assert_eq!(r[0].reason, *reason, "{text}");
    }
}

#[test]
fn exchange_ndr_codes_say_what_the_server_meant() {
    // Exchange Server's own codes give the reason (Sisimai's Exchange2007 and
    // Exchange2003 tables): final for a refusal, a too-big message or too
    // many recipients; checked against the text first for system errors and
    // the like, as Sisimai does.
    let ndr = |line: &str| {
        let raw = format!(
            "From: postmaster@sender.example\nTo: owner@sender.example\nSubject: Undeliverable: hello\n\
             Content-Language: en-US\n\n\
             Delivery has failed to these recipients or groups:\n\n\
             partner@customer.example\n\n\
             Diagnostic information for administrators:\n\n\
             Generating server: mx.sender.example\n\n\
             partner@customer.example\n{line}\n\n\
             Original message headers:\n\nFrom: owner@sender.example\nTo: partner@customer.example\n"
        );
        analyze(raw.as_bytes()).unwrap()
    };
    each_gives(
        ndr,
        "partner@customer.example",
        &[
            ("#550 5.2.0 RESOLVER.ADR.BadPrimary ##", Reason::SystemError),
            (
                "#550 5.1.1 RESOLVER.ADR.ExRecipNotFound; not found ##",
                Reason::UserUnknown,
            ),
            (
                "#550 5.5.3 RESOLVER.ADR.RecipLimit; too many recipients ##",
                Reason::TooManyConn,
            ),
            ("#550 5.1.4 RESOLVER.ADR.Ambiguous ##", Reason::SystemError),
            (
                "#550 5.7.1 RESOLVER.RST.AuthRequired; authentication required ##",
                Reason::SecurityError,
            ),
            (
                "#550 5.7.1 RESOLVER.RST.NotAuthorized; not authorized ##",
                Reason::Rejected,
            ),
            (
                "#550 5.2.3 RESOLVER.RST.RecipSizeLimit; message too large for this recipient ##",
                Reason::ExceedLimit,
            ),
            (
                "#550 4.4.7 QUEUE.Expired; message expired ##",
                Reason::Expired,
            ),
            (
                "MSEXCH:IMS:NEKO:EXAMPLE:EXCHANGE 0 (00050311) Conversion to Internet format failed",
                Reason::ContentError,
            ),
            (
                "MSEXCH:IMS:NEKO:EXAMPLE:EXCHANGE 0 (00120270) Too Many Hops",
                Reason::NetworkError,
            ),
        ],
    );
}

/// A qmail-send failure notice for partner@customer.example with `text`
/// as its account of the failure.
fn qmail_notice(text: &str) -> Vec<outcry_bounce::Record> {
    let raw = format!(
        "From: MAILER-DAEMON@mx.sender.example\nTo: owner@sender.example\nSubject: failure notice\n\n\
         Hi. This is the qmail-send program at mx.sender.example.\n\
         I'm afraid I wasn't able to deliver your message to the following addresses.\n\
         This is a permanent error; I've given up. Sorry it didn't work out.\n\n\
         <partner@customer.example>:\n{text}\n\n\
         --- Below this line is a copy of the message.\n\n\
         Return-Path: <owner@sender.example>\nTo: partner@customer.example\nSubject: x\n\nhello\n"
    );
    analyze(raw.as_bytes()).unwrap()
}

/// An Exim failure notice for partner@customer.example: `headers` added to
/// its own, `text` (lines after the first indented by four) under the
/// address.
fn exim_notice(headers: &str, text: &str) -> Vec<outcry_bounce::Record> {
    let raw = format!(
        "From: Mail Delivery System <Mailer-Daemon@mx.sender.example>\nTo: owner@sender.example\n\
         Subject: Mail delivery failed: returning message to sender\n{headers}\n\
         This message was created automatically by mail delivery software.\n\n\
         A message that you sent could not be delivered to one or more of its\n\
         recipients. This is a permanent error. The following address(es) failed:\n\n\
         \x20 partner@customer.example\n    {text}\n\n\
         ------ This is a copy of the message, including all the headers. ------\n\n\
         Return-path: <owner@sender.example>\nTo: partner@customer.example\nSubject: x\n\nhello\n"
    );
    analyze(raw.as_bytes()).unwrap()
}

#[test]
fn qmail_and_qmail_ldap_texts() {
    // qmail's own texts (qmail-send, qmail-remote, qmail-local) and the
    // qmail-ldap patch's, as Sisimai's qmail decoder reads them.
    each_gives(
        qmail_notice,
        "partner@customer.example",
        &[
            (
                "Mailaddress is administrativly disabled. (#5.2.1)",
                Reason::Suspend,
            ),
            (
                "The message exeeded the maximum size the user accepts (#5.2.3)",
                Reason::ExceedLimit,
            ),
            (
                "Unable to contact LDAP server (#4.4.3)",
                Reason::SystemError,
            ),
            (
                "Sorry, I couldn't find any host named example.invalid. (#5.1.2)",
                Reason::HostUnknown,
            ),
            ("disk quota exceeded (#5.2.2)", Reason::MailboxFull),
            (
                "Message size exceeds fixed maximum message size: 10485760 (#5.3.4)",
                Reason::MesgTooBig,
            ),
            (
                "Sorry, I wasn't able to establish an SMTP connection. (#4.4.1)",
                Reason::NetworkError,
            ),
            (
                "Sorry. Although I'm listed as a best-preference MX or A for that host,\n\
             it isn't in my control/locals file, so I don't treat it as local. (#5.4.6)",
                Reason::NetworkError,
            ),
            (
                "Sorry, I couldn't find a mail exchanger or IP address. (#5.4.4)",
                Reason::NotAccept,
            ),
            (
                "Remote host said: 452 Requested action not taken: mailbox unavailable (not enough free space)",
                Reason::SystemFull,
            ),
            (
                "Sorry, no mailbox here by that name. (#5.1.1)",
                Reason::UserUnknown,
            ),
            // qmail-local's own failures.
            (
                "Unable to switch to /home/partner. (#4.3.0)",
                Reason::SystemError,
            ),
            (
                "/usr/local/bin/filter: bad interpreter: No such file or directory",
                Reason::SystemError,
            ),
            (
                "Connected to 192.0.2.135 but my name was rejected.\nRemote host said: 550 go away",
                Reason::Blocked,
            ),
            (
                "Connected to 192.0.2.225 but sender was rejected.\nRemote host said: 550 no",
                Reason::Rejected,
            ),
            (
                "I'm not going to try again; this message has been in the queue too long.",
                Reason::Expired,
            ),
        ],
    );
}

#[test]
fn exim_internal_error_texts() {
    // Exim's own error texts (router, transport and address parser), as
    // Sisimai's Exim decoder reads them.
    let bounce = |text: &str| exim_notice("", text);
    each_gives(
        bounce,
        "partner@customer.example",
        &[
            (
                "all host address lookups failed permanently",
                Reason::HostUnknown,
            ),
            (
                "all relevant MX records point to non-existent hosts",
                Reason::HostUnknown,
            ),
            ("Unrouteable address", Reason::HostUnknown),
            ("error: quota exceed", Reason::MailboxFull),
            (
                "no host found for existing SMTP connection",
                Reason::NotAccept,
            ),
            (
                "an MX or SRV record indicated no SMTP service",
                Reason::NotAccept,
            ),
            ("angle-brackets nested too deep", Reason::SyntaxError),
            ("malformed address: x may not follow y", Reason::SyntaxError),
            ("delivery to pipe forbidden", Reason::SystemError),
            ("local delivery failed", Reason::SystemError),
            (
                "Too many \"Received\" headers - suspected mail loop",
                Reason::ContentError,
            ),
            ("retry timeout exceeded", Reason::Expired),
        ],
    );
    // Refused at EHLO: the sending host was refused, whatever the words.
    let r = bounce(
        "SMTP error from remote mail server after EHLO mx.sender.example:\n    \
         host mx.customer.example [192.0.2.1]: 550 Administrative prohibition",
    );
    assert_eq!(r[0].reason, Reason::Blocked);
    // Given up after a long run of temporary failures: expired, and a
    // temporary status, not a permanent refusal.
    for text in [
        "retry timeout exceeded",
        "retry time not reached for any host after a long failure period",
        "all hosts have been failing for a long time and were last tried after this message arrived",
    ] {
        let r = bounce(text);
        assert_eq!(r[0].reason, Reason::Expired, "{text}");
        assert!(r[0].status.starts_with("4."), "{text}: {}", r[0].status);
    }
    // A message frozen in the queue (Exim's notice to the postmaster).
    let frozen = "From: Mail Delivery System <Mailer-Daemon@mx.sender.example>\n\
                  To: postmaster@sender.example\nSubject: Message frozen\n\n\
                  Message 1P1YNN-0003AD-Ga has been frozen by the system filter.\n\
                  The sender is <owner@sender.example>.\n\n\
                  The following address(es) have yet to be delivered:\n\
                  \x20 partner@customer.example\n\n\
                  ------ This is a copy of the message, including all the headers. ------\n\n\
                  From: owner@sender.example\nTo: partner@customer.example\nSubject: x\n\nhello\n";
    let r = analyze(frozen.as_bytes()).unwrap();
    assert_eq!(r.len(), 1, "{r:#?}");
    assert_eq!(r[0].recipient, "partner@customer.example");
    assert_eq!(r[0].reason, Reason::Expired);
    assert_eq!(r[0].decoded_by, outcry_bounce::Decoder::Exim);
    // The refusal quotes another address (the mailbox a forward led to):
    // the header names the recipient, and the quoted address must not cut
    // the recipient's text short.
    let with_x_failed = |text: &str| {
        exim_notice(
            "X-Failed-Recipients: partner@customer.example\n",
            &format!(
                "host mx.customer.example [192.0.2.1]\n    \
                 SMTP error from remote mail server after RCPT TO:<partner@customer.example>:\n    {text}"
            ),
        )
    };
    for (text, reason) in [
        (
            "Unknown user: forwarded@elsewhere.example",
            Reason::UserUnknown,
        ),
        (
            "<forwarded@elsewhere.example>: mailbox is full",
            Reason::MailboxFull,
        ),
    ] {
        let r = with_x_failed(text);
        assert_eq!(r.len(), 1, "{text}: {r:#?}");
        assert_eq!(r[0].recipient, "partner@customer.example");
        assert_eq!(r[0].reason, reason, "{text}");
        assert!(
            r[0].diagnostic.contains(text),
            "{text}: {}",
            r[0].diagnostic
        );
    }
}

#[test]
fn spectrum_numbered_refusal_codes() {
    // Spectrum (charter.net) numbers its refusals AUP#I.... (incoming) and
    // AUP#O.... (outgoing); ranges of numbers share a meaning.
    let refusal = |code: &str, reply: &str| {
        let raw = format!(
            "From: MAILER-DAEMON@mail.sender.example\nTo: owner@sender.example\nSubject: Undelivered Mail Returned to Sender\n\
             Content-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\n\n\
             --b\nContent-Type: text/plain\n\nThe mail system\n\n\
             <partner@charter.net>: host mx.charter.net[192.0.2.9] said: {reply} {code} (in reply to RCPT TO command)\n\n\
             --b\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mail.sender.example\n\n\
             Final-Recipient: rfc822; partner@charter.net\nAction: failed\nStatus: 5.0.0\n\
             Diagnostic-Code: smtp; {reply} {code}\n\n--b--\n"
        );
        analyze(raw.as_bytes()).unwrap()
    };
    for (code, reason) in [
        (
            "AUP#I1000 Your IP address has been blocked",
            Reason::Blocked,
        ),
        (
            "AUP#O1030 This account has limited access",
            Reason::Rejected,
        ),
        ("AUP#I1120 DNS issue with your IP", Reason::RequirePtr),
        ("AUP#I1320 Too many connections", Reason::TooManyConn),
        ("AUP#O1400 Too many messages", Reason::Speeding),
        ("AUP#O1530 Message too large", Reason::MesgTooBig),
    ] {
        let r = refusal(code, "554");
        assert_eq!(r.len(), 1, "{code}: {r:#?}");
        assert_eq!(r[0].reason, reason, "{code}");
    }
}

#[test]
fn i_ua_and_cloudflare_refusals() {
    let refusal = |rcpt: &str, mx: &str, text: &str| {
        let raw = format!(
            "From: MAILER-DAEMON@mail.sender.example\nTo: owner@sender.example\nSubject: Undelivered Mail Returned to Sender\n\
             Content-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\n\n\
             --b\nContent-Type: text/plain\n\nThe mail system\n\n\
             <{rcpt}>: host {mx}[192.0.2.9] said: {text} (in reply to RCPT TO command)\n\n\
             --b\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mail.sender.example\n\n\
             Final-Recipient: rfc822; {rcpt}\nAction: failed\nStatus: 5.0.0\nRemote-MTA: dns; {mx}\n\
             Diagnostic-Code: smtp; {text}\n\n--b--\n"
        );
        analyze(raw.as_bytes()).unwrap()
    };
    // i.ua numbers its refusals in a help link: https://mail.i.ua/err/N/.
    for (n, reason) in [
        ("2", Reason::UserUnknown),
        ("4", Reason::MailboxFull),
        ("9", Reason::Blocked),
    ] {
        let text = format!("550 Message was not accepted -- http://mail.i.ua/err/{n}/");
        let r = refusal("partner@i.ua", "mx.email.ua", &text);
        assert_eq!(r[0].reason, reason, "{text}");
    }
    // Cloudflare Email Routing.
    let r = refusal(
        "partner@customer.example",
        "route1.mx.cloudflare.net",
        "554 5.7.1 Upstream error, try again later",
    );
    assert_eq!(r[0].reason, Reason::SystemError);
    // Zoho Mail's own refusal texts.
    for (text, reason) in [
        (
            "550 5.1.1 User does not exist - <partner@zoho.example>",
            Reason::UserUnknown,
        ),
        (
            "554 5.7.1 Email cannot be delivered. Reason: Email flagged as Spam.",
            Reason::Rejected,
        ),
        (
            "554 5.7.7 Email policy violation detected",
            Reason::PolicyViolation,
        ),
        (
            "550 5.7.1 Email rejected per DMARC policy for zoho.com",
            Reason::AuthFailure,
        ),
    ] {
        let r = refusal("partner@zoho.example", "mx.zoho.com", text);
        assert_eq!(r[0].reason, reason, "{text}");
    }
    // KDDI (au): a blanked address is a filter's answer, a named one an
    // unknown user.
    let r = refusal("partner@au.com", "msmx.au.com", "550 : User unknown");
    assert_eq!(r[0].reason, Reason::Filtered);
    let r = refusal(
        "partner@au.com",
        "msmx.au.com",
        "550 <partner@au.com>: User unknown",
    );
    assert_eq!(r[0].reason, Reason::UserUnknown);
}

#[test]
fn courier_own_texts() {
    // Courier's own verdicts (module.esmtp), whatever the diagnostic type.
    let dsn = |text: &str| {
        let raw = format!(
            "From: Courier mail server at mx.sender.example <@>\nTo: owner@sender.example\n\
             Subject: NOTICE: mail delivery status.\n\
             Content-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\n\n\
             --b\nContent-Type: text/plain\n\n\x20                         UNDELIVERABLE MAIL\n\n\
             Your message to the following recipients cannot be delivered:\n\n\
             <partner@customer.example>:\n    {text}\n\n\
             --b\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.sender.example\n\n\
             Final-Recipient: rfc822; partner@customer.example\nAction: failed\nStatus: 5.0.0\n\
             Diagnostic-Code: unknown; {text}\n\n--b--\n"
        );
        analyze(raw.as_bytes()).unwrap()
    };
    each_gives(
        dsn,
        "partner@customer.example",
        &[
            ("No such domain.", Reason::HostUnknown),
            ("This domain's DNS violates RFC 1035.", Reason::SystemError),
            ("DNS lookup failed.", Reason::NetworkError),
        ],
    );
}

#[test]
fn opensmtpd_own_texts() {
    // OpenSMTPD's own failure strings (smtpd/mta.c, smtpd/queue.c).
    let bounce = |text: &str| {
        let raw = format!(
            "From: Mailer Daemon <MAILER-DAEMON@mx.sender.example>\nTo: owner@sender.example\n\
             Subject: Delivery status notification: error\n\n\
             \x20   Hi!\n\n\
             \x20   This is the MAILER-DAEMON, please DO NOT REPLY to this e-mail.\n\n\
             \x20   An error has occurred while attempting to deliver a message for\n\
             \x20   the following list of recipients:\n\n\
             partner@customer.example: {text}\n\n\
             \x20   Below is a copy of the original message:\n\n\
             From: owner@sender.example\nTo: partner@customer.example\nSubject: x\n\nhello\n"
        );
        analyze(raw.as_bytes()).unwrap()
    };
    each_gives(
        bounce,
        "partner@customer.example",
        &[
            ("Envelope expired", Reason::Expired),
            ("Could not retrieve credentials", Reason::SecurityError),
            ("Invalid domain name", Reason::HostUnknown),
            ("Temporary failure in MX lookup", Reason::NetworkError),
            ("No valid route to remote MX", Reason::NetworkError),
            ("Destination seem to reject all mails", Reason::NotAccept),
            ("No MX found for domain", Reason::NotAccept),
        ],
    );
    assert_eq!(
        bounce("Envelope expired")[0].decoded_by,
        outcry_bounce::Decoder::OpenSMTPD
    );
}

#[test]
fn domino_in_its_languages() {
    // HCL Domino's "was not delivered to: ... because:" notice.
    let notice = |text: &str| {
        let raw = format!(
            "From: Postmaster <postmaster@domino.customer.example>\nTo: owner@sender.example\n\
             Subject: DELIVERY FAILURE: x\nContent-Type: text/plain; charset=utf-8\n\n\
             Your message\n\n  Subject: Test Bounce\n\nwas not delivered to:\n\n\
             \x20 partner@customer.example\n\nbecause:\n\n  {text}\n"
        );
        analyze(raw.as_bytes()).unwrap()
    };
    each_gives(
        notice,
        "partner@customer.example",
        &[
            (
                "Cannot route mail to user (partner@customer.example)",
                Reason::Filtered,
            ),
            (
                "Several matches found in Domino Directory",
                Reason::SystemError,
            ),
            (
                "User partner (partner@customer.example) not listed in Domino Directory",
                Reason::UserUnknown,
            ),
            (
                "El usuario partner no se encuentra en el Directorio de Domino",
                Reason::UserUnknown,
            ),
            (
                "Utilisateur partner non répertorié dans l'annuaire Domino",
                Reason::UserUnknown,
            ),
            (
                "ユーザー partner は Domino ディレクトリには見つかりません",
                Reason::UserUnknown,
            ),
        ],
    );
}

#[test]
fn a_google_workspace_notice_about_the_sender_names_the_returned_recipient() {
    // Google's notice that the sender's 'Send mail as' setup is broken names
    // no address in its text and has no delivery-status fields; its
    // X-Failed-Recipients may name a group on the way. The recipient of the
    // message is the returned message's To: (as Sisimai reads it).
    let notice = |text: &str| {
        let raw = format!(
            "From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>\n\
             To: owner@sender.example\n\
             Subject: Delivery Status Notification (Failure)\n\
             X-Failed-Recipients: team-list@groups.sender.example\n\
             Content-Type: multipart/report; boundary=\"b\"; report-type=delivery-status\n\n\
             --b\nContent-Type: text/plain; charset=\"UTF-8\"\n\n{text}\n\
             --b\nContent-Type: message/delivery-status\n\n\n\
             --b\nContent-Type: message/rfc822\n\n\
             From: <owner@sender.example>\nTo: <partner@customer.example>\nSubject: x\n\nhello\n--b--\n"
        );
        analyze(raw.as_bytes()).unwrap()
    };
    let r = notice(
        "** Message not delivered **\n\nYou're sending this from a different address or alias \
         using the 'Send mail as' feature. The settings for your 'Send mail as' account are \
         misconfigured or out of date.\n\nThe response was:\n\nUnspecified Error \
         (SENT_SECOND_EHLO): Smtp server does not advertise AUTH capability",
    );
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].recipient, "partner@customer.example");
    // When the text names the failed address, that address it is.
    let r = notice(
        "** Address not found **\n\nYour message wasn't delivered to \
         team-list@groups.sender.example because the address couldn't be found.",
    );
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].recipient, "team-list@groups.sender.example");
}

#[test]
fn a_sendmail_transcript_gives_each_recipient_its_own_session() {
    // The summary line "554 <a>... text" ends its recipient's part of the
    // transcript: the session lines before it are its own, and must not end
    // up with the recipient listed above it.
    let raw = "From: Mail Delivery Subsystem <MAILER-DAEMON@mx.sender.example>\n\
               To: owner@sender.example\nSubject: Returned mail: Host unknown\n\n\
               \x20  ----- Transcript of session follows -----\n\
               While talking to mx.first.example:\n\
               >>> DATA\n\
               <<< 554 5.7.1 Message refused by local policy\n\
               554 <a@first.example>... Service unavailable\n\
               550 second.example (smtp)... 550 Host unknown\n\
               554 <b@second.example>... 550 Host unknown (Authoritative answer from name server)\n\n\
               \x20  ----- Unsent message follows -----\n\
               From: owner@sender.example\nTo: a@first.example, b@second.example\nSubject: x\n\nhello\n";
    let r = analyze(raw.as_bytes()).unwrap();
    let get = |a: &str| r.iter().find(|x| x.recipient == a).unwrap();
    assert_eq!(r.len(), 2, "{r:#?}");
    assert_ne!(get("a@first.example").reason, Reason::HostUnknown);
    assert!(
        get("a@first.example")
            .diagnostic
            .contains("refused by local policy")
    );
    assert_eq!(
        get("a@first.example").command,
        Some(outcry_bounce::Command::Data)
    );
    assert_eq!(get("b@second.example").reason, Reason::HostUnknown);
}

#[test]
fn the_failed_command_in_each_mta_wording() {
    use outcry_bounce::Command;
    // qmail-remote's texts name the command they were refused at.
    let qmail = qmail_notice;
    let r = qmail(
        "192.0.2.1 does not like recipient.\nRemote host said: 550 5.1.1 User unknown\nGiving up on 192.0.2.1.",
    );
    assert_eq!(
        r[0].remote_mta, "192.0.2.1",
        "qmail names the host it gave up on"
    );
    for (text, command) in [
        (
            "Connected to 192.0.2.1 but greeting failed.\nRemote host said: 554 go away",
            Command::Conn,
        ),
        (
            "Connected to 192.0.2.1 but my name was rejected.\nRemote host said: 550 no",
            Command::Ehlo,
        ),
        (
            "Connected to 192.0.2.1 but sender was rejected.\nRemote host said: 553 no",
            Command::Mail,
        ),
        (
            "192.0.2.1 does not like recipient.\nRemote host said: 550 5.1.1 User unknown",
            Command::Rcpt,
        ),
        (
            "192.0.2.1 failed on DATA command.\nRemote host said: 554 no",
            Command::Data,
        ),
        (
            "192.0.2.1 failed after I sent the message.\nRemote host said: 554 5.7.1 spam",
            Command::Data,
        ),
    ] {
        let r = qmail(text);
        assert_eq!(r.len(), 1, "{text}: {r:#?}");
        assert_eq!(r[0].command, Some(command), "{text}");
    }

    // DragonFly's dma: "host [ip] did not like our DATA:".
    let dma = "From: MAILER-DAEMON <>\nTo: owner@sender.example\nSubject: Mail delivery failed\n\
               Received: from MAILER-DAEMON\n\tid e070f\n\tby df.sender.example (DragonFly Mail Agent v0.13);\n\
               \tSun, 16 Jun 2024 18:15:07 +0900\n\n\
               This is the DragonFly Mail Agent v0.13 at df.sender.example.\n\n\
               There was an error delivering your mail to <partner@customer.example>.\n\n\
               mx.customer.example [192.0.2.25] did not like our DATA:\n\
               550 5.7.1 Message rejected as spam\n\n\
               Original message follows.\n\nTo: partner@customer.example\nSubject: x\n\nhello\n";
    let r = analyze(dma.as_bytes()).unwrap();
    assert_eq!(r.len(), 1, "{r:#?}");
    assert_eq!(r[0].recipient, "partner@customer.example");
    assert_eq!(r[0].command, Some(Command::Data));
    assert_eq!(r[0].decoded_by, outcry_bounce::Decoder::DragonFly);
    // The host that refused, as dma names it.
    assert_eq!(r[0].remote_mta, "mx.customer.example");
    // dma's own DNS failure.
    let r = analyze(
        dma.replace(
            "mx.customer.example [192.0.2.25] did not like our DATA:\n550 5.7.1 Message rejected as spam",
            "DNS lookup failure: host customer.example not found",
        )
        .as_bytes(),
    )
    .unwrap();
    assert_eq!(r[0].reason, Reason::HostUnknown);

    // A Sendmail transcript that was deferred by one host (no command of
    // its own) and refused at DATA by the next: the refusal's command.
    let sendmail = "From: Mail Delivery Subsystem <MAILER-DAEMON@mx.sender.example>\n\
                    To: owner@sender.example\nSubject: Returned mail: see transcript for details\n\n\
                    \x20  ----- The following addresses had permanent fatal errors -----\n\
                    <partner@customer.example>\n    (reason: 551 not our user)\n\n\
                    \x20  ----- Transcript of session follows -----\n\
                    ... while talking to mx1.customer.example.:\n\
                    <<< 450 busy - please try later\n\
                    ... while talking to mx2.customer.example.:\n\
                    >>> DATA\n\
                    <<< 551 not our user\n\
                    550 5.1.1 <partner@customer.example>... User unknown\n\n\
                    \x20  ----- Unsent message follows -----\n\
                    To: partner@customer.example\nSubject: x\n\nhello\n";
    let r = analyze(sendmail.as_bytes()).unwrap();
    assert_eq!(r.len(), 1, "{r:#?}");
    assert_eq!(r[0].command, Some(Command::Data));

    // Only a reply, no command: refused at the greeting (EHLO, as Sisimai).
    let greeting = sendmail
        .replace(
            "... while talking to mx2.customer.example.:\n>>> DATA\n",
            "",
        )
        .replace("<<< 551 not our user\n", "<<< 554 no SMTP service here\n");
    let r = analyze(greeting.as_bytes()).unwrap();
    assert_eq!(r.len(), 1, "{r:#?}");
    assert_eq!(r[0].command, Some(Command::Ehlo));

    // Postfix's server-side transcript prints the whole session: the refused
    // command is the one before the 5xx, not the first.
    let smtpd = "From: MAILER-DAEMON@mx.sender.example (Mail Delivery System)\n\
                 To: postmaster@mx.sender.example\n\
                 Subject: Postfix SMTP server: errors from client.example[192.0.2.9]\n\n\
                 Transcript of session follows.\n\n\
                 \x20Out: 220 mx.sender.example ESMTP Postfix\n\
                 \x20In:  EHLO client.example\n\
                 \x20Out: 250 mx.sender.example\n\
                 \x20In:  MAIL FROM:<owner@client.example>\n\
                 \x20Out: 250 2.1.0 Ok\n\
                 \x20In:  RCPT TO:<partner@sender.example>\n\
                 \x20Out: 550 5.1.1 <partner@sender.example>: Recipient address rejected: User unknown in local recipient table\n\
                 \x20In:  QUIT\n\
                 \x20Out: 221 2.0.0 Bye\n\n\
                 For other details, see the local mail logfile\n";
    let r = analyze(smtpd.as_bytes()).unwrap();
    assert_eq!(r.len(), 1, "{r:#?}");
    assert_eq!(r[0].recipient, "partner@sender.example");
    assert_eq!(r[0].command, Some(Command::Rcpt));
    assert_eq!(r[0].reason, Reason::UserUnknown);
}

#[test]
fn a_microsoft_complaint_report_names_the_complainer() {
    // Microsoft's Junk Mail Reporting Program returns the message with the
    // complaining mailbox in X-HmXmrOriginalRecipient, and no
    // feedback-report part: the record is that mailbox's abuse complaint.
    let raw = "From: staff@hotmail.com\nTo: abuse-report@sender.example\n\
               Subject: complaint about message from 192.0.2.222\nMIME-Version: 1.0\n\
               Content-Type: multipart/mixed; boundary=\"b\"\n\n\
               --b\nContent-Type: message/rfc822\nContent-Disposition: inline\n\n\
               X-HmXmrOriginalRecipient: complainer@outlook.example\n\
               Received: from smtp.sender.example ([203.0.113.245]) by mx.outlook.example;\n\
               \x20Thu, 29 Apr 2016 23:34:45 +0000\n\
               Date: Thu, 29 Apr 2016 23:34:45 +0200\n\
               To: newsletter-list@sender.example\nFrom: News <news@sender.example>\n\
               Subject: Offers\nMessage-ID: <1@sender.example>\n\nhello\n\n--b--\n";
    let r = the_one(raw, "complainer@outlook.example");
    assert_eq!(r.reason, Reason::Feedback);
    assert_eq!(r.feedback_type.as_deref(), Some("abuse"));
}

#[test]
fn a_reply_code_of_another_class_than_the_status_is_dropped() {
    // Postfix defers a greeting's 554 with status 4.0.0: the record keeps
    // no reply code of the wrong class (as Sisimai), and stays temporary.
    let r = shaped(
        "<partner@customer.example>: host mx.customer.example[192.0.2.1] refused to talk to me: 554 Blocked",
        "Final-Recipient: rfc822; partner@customer.example\nAction: delayed\nStatus: 4.0.0\n\
         Diagnostic-Code: X-Postfix; host mx.customer.example[192.0.2.1] refused to talk to me: 554 Blocked",
        "From: owner@sender.example\nTo: partner@customer.example",
    );
    assert_eq!(r.len(), 1, "{r:#?}");
    assert_eq!(r[0].status, "4.0.0");
    assert_eq!(r[0].reply_code, None);
    // One of the status's class in the text is kept.
    let r = shaped(
        "<partner@customer.example>: host mx.customer.example[192.0.2.1] said: 421 busy, then 554 no",
        "Final-Recipient: rfc822; partner@customer.example\nAction: failed\nStatus: 5.0.0\n\
         Diagnostic-Code: smtp; 421 busy, then 554 no",
        "From: owner@sender.example\nTo: partner@customer.example",
    );
    assert_eq!(r[0].reply_code, Some(554));
}

#[test]
fn host_names_come_out_in_one_spelling() {
    // Host names are case-insensitive; the records spell them in lower case
    // so that one host is one group downstream.
    let r = shaped(
        "The message could not be delivered.",
        "Final-Recipient: rfc822; partner@customer.example\nAction: failed\nStatus: 5.1.1\n\
         Remote-MTA: dns; MX1.Customer.Example\nDiagnostic-Code: smtp; 550 5.1.1 User unknown",
        "From: owner@sender.example\nTo: partner@customer.example",
    );
    assert_eq!(r.len(), 1, "{r:#?}");
    assert_eq!(r[0].remote_mta, "mx1.customer.example");
    assert_eq!(r[0].reporting_mta, "mail.sender.example");
    let r = shaped(
        "The message could not be delivered.",
        "Final-Recipient: rfc822; partner@customer.example\nAction: failed\nStatus: 5.1.1",
        "From: owner@sender.example\nTo: partner@customer.example",
    );
    assert_eq!(r[0].reporting_mta, "mail.sender.example");
}

#[test]
fn an_apple_mail_unsubscribe_is_an_opt_out_of_its_sender() {
    let raw = "From: subscriber@icloud.example\nTo: unsubscribe+list@sender.example\n\
               Subject: Unsubscribe\nX-Apple-Unsubscribe: true\nMIME-Version: 1.0\n\
               Content-Type: text/plain; charset=us-ascii\n\n\
               This message was automatically generated by Mail.\n";
    let r = the_one(raw, "subscriber@icloud.example");
    assert_eq!(r.reason, Reason::Feedback);
    assert_eq!(r.feedback_type.as_deref(), Some("opt-out"));
    // Without the mark it is just a message.
    let plain = raw.replace("X-Apple-Unsubscribe: true\n", "");
    assert!(analyze(plain.as_bytes()).unwrap().is_empty());
}

#[test]
fn gmail_own_dns_texts() {
    // Gmail's notices when it could not even find the recipient's server.
    let bounce = |text: &str| {
        let raw = format!(
            "From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>\nTo: owner@sender.example\n\
             Subject: Delivery Status Notification (Failure)\nX-Failed-Recipients: partner@customer.example\n\n\
             Delivery to the following recipient failed permanently:\n\n     partner@customer.example\n\n\
             Technical details of permanent failure:\n{text}\n\n----- Original message -----\n\n\
             From: owner@sender.example\nTo: partner@customer.example\nSubject: x\n\nhello\n"
        );
        analyze(raw.as_bytes()).unwrap()
    };
    each_gives(
        bounce,
        "partner@customer.example",
        &[
            ("DNS Error: Domain name not found", Reason::HostUnknown),
            (
                "DNS Error: DNS server returned answer with no data",
                Reason::HostUnknown,
            ),
            ("DNS Error: Could not contact DNS servers", Reason::Expired),
        ],
    );
}

#[test]
fn an_ses_notification_inside_an_sns_envelope() {
    // SNS e-mail subscriptions without raw delivery send the SES
    // notification as a JSON string in the envelope's "Message", followed
    // by an unsubscribe footer.
    let ses = r#"{"notificationType":"Bounce","bounce":{"bounceType":"Permanent","bounceSubType":"General","bouncedRecipients":[{"emailAddress":"partner@customer.example","action":"failed","status":"5.1.1","diagnosticCode":"smtp; 550 5.1.1 user unknown"}],"timestamp":"2016-10-21T06:58:02.245Z","reportingMTA":"dsn; a27-33.smtp-out.us-west-2.amazonses.com"},"mail":{"source":"owner@sender.example","destination":["partner@customer.example"]}}"#;
    let envelope = serde_json::json!({
        "Type": "Notification",
        "MessageId": "02f86d9b-eecf-573d-b47d-3d1850750c30",
        "TopicArn": "arn:aws:sns:us-west-2:123456789012:SES",
        "Message": ses,
    });
    let raw = format!(
        "From: AWS Notifications <no-reply@sns.amazonaws.com>\nTo: owner@sender.example\n\
         Subject: AWS Notification Message\nContent-Type: text/plain; charset=UTF-8\n\n\
         {}\n\n--\nIf you wish to stop receiving notifications from this topic, please click or visit the link below to unsubscribe:\n\
         https://sns.us-west-2.amazonaws.com/unsubscribe.html?SubscriptionArn=x\n",
        serde_json::to_string_pretty(&envelope).unwrap()
    );
    let r = the_one(&raw, "partner@customer.example");
    assert_eq!(r.reason, Reason::UserUnknown);
    assert_eq!(r.status, "5.1.1");
    assert_eq!(r.decoded_by, outcry_bounce::Decoder::AmazonSES);
}

#[test]
fn qmail_own_connection_text_holds_in_qmail_notices_only() {
    // qmail-remote's "Sorry, I wasn't able to establish an SMTP connection"
    // is its network error; a qmail-like notice from another MTA that adds
    // "in the queue too long" has given up: expired (as Sisimai reads both).
    let text = "<partner@customer.example>:\n\
                Sorry, I wasn't able to establish an SMTP connection. (#4.4.1)\n\
                I'm not going to try again; this message has been in the queue too long.\n";
    let other = format!(
        "From: MAILER-DAEMON@mx.sender.example\nTo: owner@sender.example\nSubject: Permanent Delivery Failure\n\n\
         Message from sender.example.\nUnable to deliver message to the following address(es).\n\n\
         {text}\n--- Original message follows.\n\nTo: partner@customer.example\nSubject: x\n\nhello\n"
    );
    let r = analyze(other.as_bytes()).unwrap();
    assert_eq!(r.len(), 1, "{r:#?}");
    assert_eq!(r[0].reason, Reason::Expired);
    let qmail = other
        .replace(
            "Message from sender.example.\nUnable to deliver message to the following address(es).",
            "Hi. This is the qmail-send program at mx.sender.example.",
        )
        .replace("Permanent Delivery Failure", "failure notice");
    let r = analyze(qmail.as_bytes()).unwrap();
    assert_eq!(r[0].decoded_by, outcry_bounce::Decoder::Qmail);
    assert_eq!(r[0].reason, Reason::NetworkError);
    // Yahoo!'s qmail: a "Failure Notice" with qmail's opening is qmail's,
    // and its "Unable to deliver message after multiple retries" is qmail's
    // own system error, not the notice's "we were unable to deliver".
    let yahoo = "From: MAILER-DAEMON@yahoo.example\nTo: owner@sender.example\nSubject: Failure Notice\n\n\
                 Sorry, we were unable to deliver your message to the following address.\n\n\
                 <partner@customer.example>:\n\
                 Unable to deliver message after multiple retries, giving up.\n\n\
                 --- Below this line is a copy of the message.\n\nTo: partner@customer.example\nSubject: x\n\nhello\n";
    let r = analyze(yahoo.as_bytes()).unwrap();
    assert_eq!(r.len(), 1, "{r:#?}");
    assert_eq!(r[0].decoded_by, outcry_bounce::Decoder::Qmail);
    assert_eq!(r[0].reason, Reason::SystemError);
    let r = analyze(
        yahoo
            .replace(
                "Unable to deliver message after multiple retries, giving up.",
                "No mx record found for domain=customer.example",
            )
            .as_bytes(),
    )
    .unwrap();
    assert_eq!(r[0].reason, Reason::NotAccept);
}

#[test]
fn the_status_comment_says_what_the_code_meant() {
    // PowerMTA explains its status code in a comment; the refusal text
    // alone says "User Unknown", the comment says the mailbox is disabled.
    let r = shaped(
        "The message could not be delivered.",
        "Final-Recipient: rfc822; partner@customer.example\nAction: failed\n\
         Status: 5.2.1 (mailbox disabled, not accepting messages)\n\
         Diagnostic-Code: smtp;550 5.2.1 <partner@customer.example>... User Unknown",
        "From: owner@sender.example\nTo: partner@customer.example",
    );
    assert_eq!(r.len(), 1, "{r:#?}");
    assert_eq!(r[0].reason, Reason::Suspend);
    assert!(
        r[0].diagnostic
            .ends_with("(mailbox disabled, not accepting messages)")
    );
}

#[test]
fn reporting_mtas_own_words_in_a_plain_report() {
    // Texts that Google Workspace, KDDI (au) and Lotus Notes write of their
    // own decisions, as Sisimai's decoders for them read them; they hold in
    // a plain delivery report too.
    let report = |text: &str| {
        shaped(
            "The message could not be delivered.",
            &format!(
                "Final-Recipient: rfc822; partner@customer.example\nAction: failed\nStatus: 5.0.0\n\
                 Diagnostic-Code: smtp; {text}"
            ),
            "From: owner@sender.example\nTo: partner@customer.example",
        )
    };
    each_gives(
        report,
        "partner@customer.example",
        &[
            (
                "DNS Error: DNS type 'mx' lookup of customer.example responded with code NXDOMAIN",
                Reason::NetworkError,
            ),
            (
                "DNS Error: DNS type 'mx' lookup of customer.example had no relevant answers.",
                Reason::NetworkError,
            ),
            (
                "The domain customer.example has a Null MX and does not accept mail",
                Reason::NotAccept,
            ),
            (
                "Due to the following SMTP relay error, the message was not delivered",
                Reason::NoRelaying,
            ),
            (
                "As the remote domain doesnt exist, the message was not delivered",
                Reason::HostUnknown,
            ),
            (
                "Message has exceeded maximum hop count (25)",
                Reason::NetworkError,
            ),
            (
                "The user(s) account is temporarily limited.",
                Reason::Suspend,
            ),
            (
                "The user(s) account is disabled. <partner@customer.example>: user unknown",
                Reason::Suspend,
            ),
            (
                "The user(s) account is temporarily over quota.",
                Reason::MailboxFull,
            ),
        ],
    );
}

#[test]
fn utf8_text_labelled_with_a_7bit_charset_is_read_as_utf8() {
    // au EZweb writes UTF-8 Japanese in a part it labels iso-2022-jp (a 7-bit
    // charset): decoded as labelled, every Japanese line is replacement
    // characters.
    let raw = "From: Mail Administrator <Postmaster@ezweb.ne.jp>\nTo: owner@sender.example\n\
Subject: Mail System Error - Returned Mail\nMIME-Version: 1.0\n\
Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\n\n\
--B\nContent-Type: text/plain; charset=iso-2022-jp\nContent-Transfer-Encoding: 7bit\n\n\
次のあて先へのメッセージはエラーのため送信できませんでした。\n\n\
The user(s) account is disabled.\n\n<partner@ezweb.ne.jp>: user unknown\n\n\
--B\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; lsean.ezweb.ne.jp\n\n\
Final-Recipient: rfc822; partner@ezweb.ne.jp\nAction: failed\nStatus: 5.0.0\n\n--B--\n";
    let r = outcry_bounce::analyze(raw.as_bytes()).unwrap();
    assert_eq!(r.len(), 1, "{r:#?}");
    assert!(
        r[0].diagnostic.contains("次のあて先へのメッセージ"),
        "{}",
        r[0].diagnostic
    );
    assert!(!r[0].diagnostic.contains('\u{FFFD}'), "{}", r[0].diagnostic);
    assert_eq!(r[0].reason, Reason::Suspend);
}

#[test]
fn postfix_reads_its_own_x_postfix_diagnostics_as_smtp_replies() {
    // Postfix (older ones sign "This is the Postfix program") writes the
    // remote server's reply as "Diagnostic-Code: X-Postfix; host ... said:",
    // with a bare Status 5.0.0: the text decides, as for an SMTP reply.
    let notice = |subject: &str| {
        format!(
            "From: MAILER-DAEMON@mx.sender.example (Mail Delivery System)\n\
To: owner@sender.example\nSubject: {subject}\nMIME-Version: 1.0\n\
Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\n\n\
--B\nContent-Type: text/plain\n\nThis is the Postfix program at host mx.sender.example.\n\n\
<partner@customer.example>: host mx.customer.example[192.0.2.1] said: 550\n    \
<partner@customer.example>... User unknown or not available (in reply to RCPT TO\n    command)\n\n\
--B\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.sender.example\n\n\
Final-Recipient: rfc822; partner@customer.example\nAction: failed\nStatus: 5.0.0\n\
Diagnostic-Code: X-Postfix; host mx.customer.example[192.0.2.1] said: 550\n    \
<partner@customer.example>... User unknown or not available (in reply to RCPT TO\n    command)\n\n\
--B--\n"
        )
    };
    let r =
        outcry_bounce::analyze(notice("Undelivered Mail Returned to Sender").as_bytes()).unwrap();
    assert_eq!(r.len(), 1, "{r:#?}");
    assert_eq!(r[0].decoded_by, outcry_bounce::Decoder::Postfix);
    assert_eq!(r[0].diagnostic_type, "SMTP");
    assert_eq!(r[0].reason, Reason::UserUnknown);
    // Its delay notices keep the type, as Sisimai's plain RFC 3464 reader
    // (which decodes them) keeps it.
    let r =
        outcry_bounce::analyze(notice("Delayed Mail (still being retried)").as_bytes()).unwrap();
    assert_eq!(r[0].diagnostic_type, "X-POSTFIX");
}

#[test]
fn exchange_2003_names_the_recipient_inside_an_x400_address() {
    // "c=US;a= ;p=ORG;o=Site;dda:SMTP=addr; on <date>": the SMTP address is
    // the recipient, not the "To:" of the returned message quoted above it.
    let raw = "From: System Administrator <postmaster@sender.example>\n\
To: list-bounces@sender.example\nSubject: Undeliverable: RE: draft\n\
X-Mailer: Internet Mail Service (5.5.2656.59)\nX-MS-Embedded-Report: \n\
MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"B\"\n\n\
--B\nContent-Type: text/plain\n\nYour message\n\n  To:      list@sender.example\n\
  Subject: RE: draft\n  Sent:    Fri, 4 Oct 2002 17:10:56 -0400\n\n\
did not reach the following recipient(s):\n\n\
c=US;a= ;p=ORG;o=Site;dda:SMTP=partner@customer.example; on Fri, 4 Oct 2002\n\
17:12:28 -0400\n    The recipient name is not recognized\n\
    MSEXCH:IMS:ORG:Site:SERVER 0 (000C05A6) Unknown Recipient\n\n\
--B\nContent-Type: message/rfc822\n\nMessage removed\n\n--B--\n";
    let r = outcry_bounce::analyze(raw.as_bytes()).unwrap();
    assert_eq!(r.len(), 1, "{r:#?}");
    assert_eq!(r[0].recipient, "partner@customer.example");
    assert_eq!(r[0].reason, Reason::UserUnknown);
}

#[test]
fn exim_names_the_original_address_of_an_undisclosed_expansion() {
    let notice = |failed: &str| {
        let raw = format!(
            "From: Mail Delivery System <Mailer-Daemon@mx.sender.example>\n\
To: owner@sender.example\nSubject: Mail delivery failed: returning message to sender\n\n\
This message was created automatically by mail delivery software.\n\n\
A message that you sent could not be delivered to one or more of its\n\
recipients. This is a permanent error. The following address(es) failed:\n\n\
{failed}\n    (generated from partner@customer.example)\n\n\
------ This is a copy of the message, including all the headers. ------\n\nMessage removed\n"
        );
        analyze(raw.as_bytes()).unwrap()
    };
    // The forward's target is not shown: the address it came from is all
    // there is.
    let r = notice("  an undisclosed address");
    assert_eq!(r.len(), 1, "{r:#?}");
    assert_eq!(r[0].recipient, "partner@customer.example");
    // Shown: that is the failed address, and the line under it is no second
    // recipient.
    let r = notice("  forwarded@elsewhere.example");
    assert_eq!(r.len(), 1, "{r:#?}");
    assert_eq!(r[0].recipient, "forwarded@elsewhere.example");
}

#[test]
fn an_address_then_no_such_user_is_the_recipient() {
    // MDaemon: "addr - no such user here."
    let raw = "From: MDaemon@mx.customer.example\nTo: owner@sender.example\n\
Subject: Permanent Delivery Failure\nMIME-Version: 1.0\n\
Content-Type: multipart/mixed; boundary=\"B\"\n\n--B\nContent-Type: text/plain\n\n\
partner@customer.example - no such user here.\n\n\
There is no user by that name at this server.\n\n--B\n\
Content-Type: message/rfc822\n\nMessage removed\n\n--B--\n";
    the_one(raw, "partner@customer.example");
}

#[test]
fn one_recipients_notice_text_and_dsn_diagnostic_are_read_together() {
    // An X.400 gateway: the DSN's diagnostic is its own code, the text says
    // what the remote MTA answered. With one recipient, both count (as
    // Sisimai reads the text before the report with the report's fields).
    let raw = "From: postmaster@gw.sender.example\nTo: owner@sender.example\n\
Subject: Delivery Report (failure) for partner@customer.example\nMIME-Version: 1.0\n\
Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\n\n\
--B\n\nYour message was not delivered to:\n        partner@customer.example\n\
for the following reason:\nDiagnostic was Unable to transfer, -1\n\
Information MTA '192.0.2.1' gives error message 5.7.1 Unable to relay for partner@customer.example\n\n\
--B\nContent-Type: message/delivery-status\n\nReporting-MTA: x400; mta gw1\n\n\
Original-Recipient: rfc822; partner@customer.example\nFinal-Recipient: rfc822; partner@customer.example\n\
Action: failed\nDiagnostic-Code: Reason 1 (Unable-To-Transfer); Diagnostic -1 (Unknown)\n\
Status: 5.0.0\n\n--B--\n";
    let r = the_one(raw, "partner@customer.example");
    assert_eq!(r.reason, Reason::NoRelaying, "{}", r.diagnostic);
    assert!(
        r.diagnostic.contains("Unable-To-Transfer"),
        "{}",
        r.diagnostic
    );
}

#[test]
fn a_version_number_in_the_quoted_subject_is_no_status_code() {
    // The notice quotes the returned message's fields; its subject is not
    // the notice's to keep, and "2.0.12" in it is no delivery status.
    let raw = "From: System Administrator <postmaster@customer.example>\n\
To: list-bounces@sender.example\nSubject: Undeliverable: RELEASED Mailman 2.0.12\n\
MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"B\"\n\n\
--B\nContent-Type: text/plain\n\nYour message\n\n  To:      list@sender.example\n\
  Subject: RELEASED Mailman 2.0.12\n  Sent:    Thu, 11 Jul 2002 16:52:33 -0300\n\n\
did not reach the following recipient(s):\n\n\
partner@customer.example on Thu, 11 Jul 2002 16:54:54 -0300\n\
    The recipient name is not recognized\n\
    MSEXCH:IMS:ORG:CENTRAL:SERVER 0 (000C05A6) Unknown Recipient\n\n\
--B\nContent-Type: message/rfc822\n\nMessage removed\n\n--B--\n";
    let r = analyze(raw.as_bytes()).unwrap();
    assert_eq!(r.len(), 1, "{r:#?}");
    assert_eq!(r[0].reason, Reason::UserUnknown);
    assert!(!r[0].status.starts_with('2'), "{}", r[0].status);
    assert!(!r[0].diagnostic.contains("Mailman"), "{}", r[0].diagnostic);
}

#[test]
fn a_report_forwarded_inside_a_report_type_mixed_message_is_decoded() {
    // A filter re-wraps the DSN as an attachment of a multipart/mixed that
    // keeps the report-type parameter: the attached report's recipient
    // counts, not the attached message's To: (the list's bounce address).
    let raw = "From: postmaster@customer.example\nTo: list-bounces@sender.example\n\
Subject: Delivery Status Notification (Failure)\nMIME-Version: 1.0\n\
Content-Type: multipart/mixed; report-type=delivery-status; boundary=\"OUTER\"\n\n\
--OUTER\nContent-Type: message/rfc822\n\n\
From: postmaster@customer.example\nTo: list-bounces@sender.example\n\
Subject: Delivery Status Notification (Failure)\nMIME-Version: 1.0\n\
Content-Type: multipart/report; report-type=delivery-status; boundary=\"INNER\"\n\n\
--INNER\nContent-Type: text/plain\n\nDelivery to the following recipients failed.\n\n\
       partner@customer.example\n\n\
--INNER\nContent-Type: message/delivery-status\n\nReporting-MTA: dns;mx.customer.example\n\n\
Final-Recipient: rfc822;partner@customer.example\nAction: failed\nStatus: 5.1.1\n\n\
--INNER--\n\n--OUTER--\n";
    let r = the_one(raw, "partner@customer.example");
    assert_eq!(r.reason, Reason::UserUnknown);
}

#[test]
fn a_contact_address_in_the_notice_is_no_recipient() {
    let raw = "From: MAILER-DAEMON@customer.example (Mail Delivery System)\n\
To: owner@sender.example\nSubject: Undelivered Mail Returned to Sender\n\n\
Undeliverable Address: partner@customer.example\n\n\
Reason: The email you sent to the address specified\nabove has been returned because the \
recipient is over disk quota.\n\n\nSystem Contact: postmaster@customer.example\n";
    let r = the_one(raw, "partner@customer.example");
    assert_eq!(r.reason, Reason::MailboxFull);
}

#[test]
fn a_bulleted_bracketed_recipient_line_names_the_recipient() {
    // Vade Secure writes "* [addr]: 550 ..." and then lists the returned
    // message's details, its To: among them.
    let raw = "From: MAILER-DAEMON <mailer-daemon@filter.customer.example>\n\
To: list-bounces@sender.example\nSubject: Undeliverable: some subject\n\n\
Delivery has failed to these recipients or distribution lists:\n\n\
Server \"192.0.2.1:25\" returned an error:\n\n\
\t* [partner@customer.example]: 550 partner@customer.example...User account is overquota\n\n\n\
Original message details:\n\n\t* Received on: 2023-04-03 01:25:40 +0000 UTC\n\
\t* From: owner@sender.example\n\t* To: list@sender.example\n\t* Subject: some subject\n";
    let r = the_one(raw, "partner@customer.example");
    assert!(!r.diagnostic.contains("some subject"), "{}", r.diagnostic);
}

#[test]
fn a_multiline_reply_that_starts_with_the_address_is_no_second_recipient() {
    // "550-addr is not ...": the reply code's hyphen glued to the address
    // made "550-partner@..." a recipient of its own, which cut the real
    // one's text (and its "in reply to RCPT TO command") short.
    let raw = "From: MAILER-DAEMON@mx.sender.example (Mail Delivery System)\n\
To: owner@sender.example\nSubject: Undelivered Mail Returned to Sender\n\n\
This is the mail system at host mx.sender.example.\n\n\
<partner@customer.example>: host mx.customer.example[192.0.2.1] said:\n\
    550-partner@customer.example is not an active address at this host (invalid\n\
    550 username) (in reply to RCPT TO command)\n";
    let r = the_one(raw, "partner@customer.example");
    assert_eq!(r.command, Some(outcry_bounce::Command::Rcpt));
    assert_eq!(r.reason, Reason::UserUnknown);
}

#[test]
fn mailenable_and_mail_ru_name_the_recipient_their_way() {
    let notice = |from: &str, text: &str| {
        let raw = format!(
            "From: {from}\nTo: owner@sender.example\nSubject: Message Delivery Failure\n\n{text}"
        );
        analyze(raw.as_bytes()).unwrap()
    };
    // MailEnable: "Recipient: [SMTP:addr]".
    let r = notice(
        "\"Delivery Subsystem\" <POSTMASTER@customer.example>",
        "MailEnable: Message could not be delivered to some recipients.\n\
The following recipient(s) could not be reached:\n\n\
\tRecipient: [SMTP:partner@customer.example]\n\
\tReason: Remote SMTP Server Returned: 550 Requested action not taken: mailbox unavailable or not local.\n",
    );
    assert_eq!(r.len(), 1, "{r:#?}");
    assert_eq!(r[0].recipient, "partner@customer.example");
    // Mail.ru (Exim): "Local mailbox addr is unavailable: user not found".
    let r = notice(
        "Mail Delivery System <Mailer-Daemon@mx1.mail.example>",
        "A message that you sent was rejected by the local scanning code that\n\
checks incoming messages on this system. The following error was given:\n\n\
  Message was not accepted -- invalid mailbox.\n \
Local mailbox partner@customer.example is unavailable: user not found\n",
    );
    assert_eq!(r.len(), 1, "{r:#?}");
    assert_eq!(r[0].recipient, "partner@customer.example");
}

/// The one record `raw` gives, which must be for `recipient`.
fn the_one(raw: &str, recipient: &str) -> outcry_bounce::Record {
    let mut r = analyze(raw.as_bytes()).unwrap();
    assert_eq!(r.len(), 1, "{r:#?}");
    assert_eq!(r[0].recipient, recipient);
    r.remove(0)
}

#[test]
fn several_recipients_share_the_reason_told_before_their_list() {
    // Netscape Messaging Server: the reason once, then each recipient in a
    // list of its own with no text of its own.
    let raw = "From: Mail Delivery Subsystem <MAILER-DAEMON@nsmail.customer.example>\n\
To: owner@sender.example\nSubject: Delivery Status Notification (Failure)\n\n\
This Message was undeliverable due to the following reason:\n\n\
Your message was not delivered because the destination computer was\n\
not reachable within the allowed queue period.\n\n\
Your message was not delivered within 2 days.\nHost customer.example is not responding.\n\n\
The following recipients did not receive your message:\n\n     <partner@customer.example>\n\
The following recipients did not receive your message:\n\n     <other@customer.example>\n\n\
Please reply to Postmaster@nsmail.customer.example\nif you feel this message to be in error.\n";
    let r = analyze(raw.as_bytes()).unwrap();
    assert_eq!(r.len(), 2, "{r:#?}");
    for rec in &r {
        assert_eq!(
            rec.reason,
            Reason::Expired,
            "{}: {}",
            rec.recipient,
            rec.diagnostic
        );
    }
}

#[test]
fn a_warning_that_the_message_is_not_yet_delivered_is_a_delay() {
    let raw = "From: MAILER-DAEMON@mx.sender.example (Mail Delivery System)\n\
To: owner@sender.example\nSubject: Warning: message has not yet been delivered\n\n\
This is an automated message created by mail delivery software.\n\nYour message to:\n\
\tpartner@customer.example\n\n\
has not yet been delivered because the recipient server did not respond.\n\n\
This is just a warning, you do not need to take any action. We will continue to attempt \
delivery of this message for 5 days.\n";
    let r = the_one(raw, "partner@customer.example");
    assert_eq!(r.action, Some(outcry_bounce::Action::Delayed));
    assert_eq!(r.reason, Reason::Expired);
}

#[test]
fn a_returned_message_cut_short_still_gives_its_message_id_and_sender() {
    // The attached original ends with its header block: no blank line, no
    // closing boundary (an MTA that returns headers only, or a truncated
    // file). Its Message-ID and sender are still read from it.
    let raw = "From: MAILER-DAEMON@mx.sender.example (Mail Delivery System)\n\
To: owner@sender.example\nSubject: Undelivered Mail Returned to Sender\n\
Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\n\n\
--B\nContent-Type: text/plain\n\nThis is the mail system at host mx.sender.example.\n\n\
<partner@customer.example>: host mx.customer.example said: 550 5.1.1 User unknown\n\
--B\nContent-Type: message/delivery-status\n\n\
Reporting-MTA: dns; mx.sender.example\n\n\
Final-Recipient: rfc822; partner@customer.example\nAction: failed\nStatus: 5.1.1\n\
Diagnostic-Code: smtp; 550 5.1.1 User unknown\n\n\
--B\nContent-Type: message/rfc822\n\n\
Message-ID: <order-1234@sender.example>\nFrom: Owner <owner@sender.example>\n\
To: partner@customer.example";
    let r = the_one(raw, "partner@customer.example");
    assert_eq!(r.reason, Reason::UserUnknown);
    assert_eq!(r.message_id, "order-1234@sender.example");
    assert_eq!(r.sender, "owner@sender.example");
}

#[test]
fn an_internationalised_report_returns_its_headers_in_message_global_headers() {
    // RFC 6533: an SMTPUTF8 message's DSN carries message/global-delivery-status
    // and the returned header block as message/global-headers.
    let raw = "From: MAILER-DAEMON@mx.sender.example\nTo: owner@sender.example\n\
Subject: Undelivered Mail Returned to Sender\n\
Content-Type: multipart/report; report-type=global-delivery-status; boundary=\"G\"\n\n\
--G\nContent-Type: text/plain; charset=utf-8\n\nYour message could not be delivered.\n\n\
--G\nContent-Type: message/global-delivery-status\n\n\
Reporting-MTA: dns; mx.sender.example\n\n\
Final-Recipient: utf-8; partner@customer.example\nAction: failed\nStatus: 5.1.1\n\
Diagnostic-Code: smtp; 550 5.1.1 User unknown\n\n\
--G\nContent-Type: message/global-headers\n\n\
Message-ID: <order-77@sender.example>\nFrom: Owner <owner@sender.example>\n\
To: partner@customer.example\nSubject: Bestellung\n\n--G--\n";
    let r = the_one(raw, "partner@customer.example");
    assert_eq!(r.reason, Reason::UserUnknown);
    assert_eq!(r.message_id, "order-77@sender.example");
}

#[test]
fn a_returned_header_block_that_does_not_decode_is_still_the_returned_headers() {
    // Labelled base64 but sent as it is: read as text, the block is still
    // the returned message's headers (it was read as a second report).
    let raw = "From: MAILER-DAEMON@mx.sender.example\nTo: owner@sender.example\n\
Subject: Undelivered Mail Returned to Sender\n\
Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\n\n\
--B\nContent-Type: text/plain\n\nYour message could not be delivered.\n\n\
--B\nContent-Type: message/delivery-status\n\n\
Reporting-MTA: dns; mx.sender.example\n\n\
Final-Recipient: rfc822; kijitora@example.jp\nAction: failed\nStatus: 5.1.1\n\
Diagnostic-Code: smtp; 550 5.1.1 User unknown\n\n\
--B\nContent-Type: message/global-headers\nContent-Transfer-Encoding: base64\n\n\
Message-ID: <orig-1@sender.example>\nFrom: owner@sender.example\n\
To: kijitora@example.jp\nSubject: hello\n--B--\n";
    let r = the_one(raw, "kijitora@example.jp");
    assert_eq!(r.reason, Reason::UserUnknown);
    assert_eq!(r.message_id, "orig-1@sender.example");
}

#[test]
fn a_t_online_notice_ends_at_its_framed_header_banner() {
    // Deutsche Telekom's Smail-style notice frames its banners in bars:
    // "|--- Message header follows: ---|" starts the returned headers, so
    // the refusal stops there and the returned Received line gives the IP
    // the message was sent from.
    let raw = "From: Mail Delivery System <Mailer-Daemon@t-online.de>\n\
To: owner@sender.example\nSubject: mail failed, returning to sender\n\
Date: Mon, 2 Mar 2026 10:00:05 +0100\n\n\
|------------------------- Failed addresses follow: ---------------------|\n\
 <kunde@t-online.de>\n\
   552 5.2.2 <kunde@t-online.de> Quota exceeded (mailbox for user is full)\n\n\
|------------------------- Message header follows: ----------------------|\n\
Received: from mail.sender.example ([198.51.100.7]) by mailin41.mgt.mul.t-online.de\n\
\twith (TLSv1.3:TLS_AES_256_GCM_SHA384 encrypted) esmtp id 1abcde-0001\n\
From: Owner <owner@sender.example>\nTo: kunde@t-online.de\nSubject: Angebot\n\
Message-ID: <20260302.abc@sender.example>\n";
    let r = the_one(raw, "kunde@t-online.de");
    assert_eq!(r.reason, Reason::MailboxFull);
    assert_eq!(r.status, "5.2.2");
    assert_eq!(
        r.diagnostic,
        "552 5.2.2 <kunde@t-online.de> Quota exceeded (mailbox for user is full)"
    );
    assert_eq!(r.message_id, "20260302.abc@sender.example");
    assert_eq!(r.sending_ip, "198.51.100.7".parse().ok());
}

#[test]
fn an_internationalised_recipient_is_a_record_not_a_non_bounce() {
    // SMTPUTF8 (RFC 6531/6533): the recipient's address is Unicode. It was
    // not taken for an address, and the whole bounce read as "not a bounce";
    // an accented local part lost its start (`josé.garcia@` -> `garcia@`).
    for address in [
        "用户@例子.广告",
        "josé.garcia@example.com",
        "info@müller.de",
    ] {
        let raw = format!(
            "From: MAILER-DAEMON@mx.sender.example\nTo: owner@sender.example\n\
Subject: Undelivered Mail Returned to Sender\n\
Content-Type: multipart/report; report-type=global-delivery-status; boundary=\"G\"\n\n\
--G\nContent-Type: text/plain; charset=utf-8\n\nYour message could not be delivered.\n\n\
--G\nContent-Type: message/global-delivery-status\n\n\
Reporting-MTA: dns; mx.sender.example\n\n\
Final-Recipient: utf-8; {address}\nAction: failed\nStatus: 5.1.1\n\
Diagnostic-Code: smtp; 550 5.1.1 User unknown\n\n--G--\n"
        );
        let r = the_one(&raw, address);
        assert_eq!(r.reason, Reason::UserUnknown, "{address}");
        assert_eq!(
            r.recipient_domain,
            address.rsplit_once('@').unwrap().1.to_lowercase()
        );
    }
}

#[test]
fn an_accented_recipient_named_by_exim_keeps_its_whole_local_part() {
    // Exim names the failed addresses in X-Failed-Recipients; the ASCII
    // pattern found only ".garcia@example.com" in "josé.garcia@example.com".
    let raw = "From: Mail Delivery System <Mailer-Daemon@mx.sender.example>\n\
To: owner@sender.example\nSubject: Mail delivery failed: returning message to sender\n\
X-Failed-Recipients: josé.garcia@example.com\nAuto-Submitted: auto-replied\n\n\
This message was created automatically by mail delivery software.\n\n\
A message that you sent could not be delivered to one or more of its\n\
recipients. This is a permanent error. The following address(es) failed:\n\n\
  josé.garcia@example.com\n    host mx.example.com [192.0.2.1]\n\
    SMTP error from remote mail server after RCPT TO:<josé.garcia@example.com>:\n\
    550 5.1.1 User unknown\n\n\
------ This is a copy of the message, including all the headers. ------\n\n\
From: owner@sender.example\nTo: josé.garcia@example.com\nSubject: x\n\nhello\n";
    let r = the_one(raw, "josé.garcia@example.com");
    assert_eq!(r.reason, Reason::UserUnknown);
}

#[test]
fn an_internationalised_sender_is_no_recipient_whatever_its_case() {
    // The notice quotes the sender's address in capitals; the bounce went to
    // it in lower case. Excluded addresses compare without case, ASCII or not.
    let raw = "From: MAILER-DAEMON@mx.sender.example\nTo: josé.müller@absender.example\nSubject: failure notice\n\n\
Hi. This is the qmail-send program at mx.sender.example.\n\
Your message from\n\n<JOSÉ.MÜLLER@absender.example>:\nwas not delivered to the following addresses.\n\n\
<用户@例子.广告>:\n192.0.2.1 does not like recipient.\n\
Remote host said: 550 5.1.1 User unknown\nGiving up on 192.0.2.1.\n";
    let records = analyze(raw.as_bytes()).unwrap();
    let recipients: Vec<&str> = records.iter().map(|r| r.recipient.as_str()).collect();
    assert_eq!(recipients, ["用户@例子.广告"], "{records:#?}");
}

#[test]
fn an_internationalised_recipient_written_in_two_cases_is_one_recipient() {
    // As `Kijitora@` and `kijitora@` are one recipient in a Sendmail notice,
    // so are `José.Garcia@` and `josé.garcia@`: one record, the first spelling.
    let raw = "From: MAILER-DAEMON@mx.sender.example\nTo: owner@sender.example\n\
Subject: Returned mail: see transcript for details\n\n\
   ----- The following addresses had permanent fatal errors -----\n\
<José.Garcia@example.com>\n    (reason: 550 5.1.1 User unknown)\n\n\
   ----- Transcript of session follows -----\n\
... while talking to mx.example.com.:\n\
>>> RCPT To:<josé.garcia@example.com>\n<<< 550 5.1.1 User unknown\n\
550 5.1.1 <josé.garcia@example.com>... User unknown\n";
    let records = analyze(raw.as_bytes()).unwrap();
    let recipients: Vec<&str> = records.iter().map(|r| r.recipient.as_str()).collect();
    assert_eq!(recipients, ["José.Garcia@example.com"], "{records:#?}");
    assert_eq!(records[0].reason, Reason::UserUnknown);
}

#[test]
fn an_internationalised_recipient_in_a_text_only_notice() {
    // qmail writes no DSN: the address in angle brackets is the recipient.
    for address in ["用户@例子.广告", "josé.garcia@example.com"] {
        let raw = format!(
            "From: MAILER-DAEMON@mx.sender.example\nTo: owner@sender.example\nSubject: failure notice\n\n\
Hi. This is the qmail-send program at mx.sender.example.\n\
I'm afraid I wasn't able to deliver your message to the following addresses.\n\
This is a permanent error; I've given up. Sorry it didn't work out.\n\n\
<{address}>:\n192.0.2.1 does not like recipient.\n\
Remote host said: 550 5.1.1 <{address}>... User unknown\nGiving up on 192.0.2.1.\n\n\
--- Below this line is a copy of the message.\n\n\
From: owner@sender.example\nTo: {address}\nSubject: x\n\nhello\n"
        );
        let r = the_one(&raw, address);
        assert_eq!(r.reason, Reason::UserUnknown, "{address}");
        assert!(
            r.diagnostic
                .contains(&format!("<{address}>... User unknown")),
            "{}",
            r.diagnostic
        );
    }
    // Japanese words against an ASCII address stay words.
    let raw = "From: MAILER-DAEMON@mx.sender.example\nTo: owner@sender.example\nSubject: failure notice\n\n\
Hi. This is the qmail-send program at mx.sender.example.\n\
I'm afraid I wasn't able to deliver your message to the following addresses.\n\
This is a permanent error; I've given up. Sorry it didn't work out.\n\n\
<宛先kijitora@example.jp>:\n192.0.2.1 does not like recipient.\n\
Remote host said: 550 5.1.1 User unknown\nGiving up on 192.0.2.1.\n";
    let r = analyze(raw.as_bytes()).unwrap();
    assert!(r.iter().all(|r| !r.recipient.contains('宛')), "{r:#?}");
}

#[test]
fn qmail_failing_to_reach_its_own_maildir_is_a_system_error_not_a_block() {
    // The status code 4.2.1 alone would read as a block (Sisimai's table);
    // qmail's own words say its delivery agent failed, which is no verdict on
    // the sender.
    let raw = "From: MAILER-DAEMON@mx.dest.example\nTo: owner@sender.example\nSubject: failure notice\n\
Received: (qmail 4242 invoked for bounce); 29 Apr 2025 10:00:00 -0000\n\n\
Hi. This is the qmail-send program at mx.dest.example.\n\
I'm afraid I wasn't able to deliver your message to the following addresses.\n\
This is a permanent error; I've given up. Sorry it didn't work out.\n\n\
<ap@dest.example>:\nUnable to chdir to maildir. (#4.2.1)\n\n\
--- Below this line is a copy of the message.\n\n\
From: owner@sender.example\nTo: ap@dest.example\nSubject: x\n\nhello\n";
    let r = the_one(raw, "ap@dest.example");
    assert_eq!(r.reason, Reason::SystemError, "{r:#?}");
    assert_eq!(r.status, "4.2.1");
}

#[test]
fn imail_names_the_recipient_after_requested_action_not_taken() {
    // iMail Server (SMTP32) writes its verdict and the address on one line,
    // after RFC 5321's "Requested action not taken:".
    let raw = "From: postmaster@mail.dest.example\nTo: owner@sender.example\n\
Subject: Undeliverable Mail\nX-Mailer: <SMTP32 v8.22>\n\n\
Requested action not taken: virus detected: ap@dest.example\n\n\n\
Original message follows.\n\n\
From: owner@sender.example\nTo: ap@dest.example\nSubject: x\n\nhello\n";
    let r = the_one(raw, "ap@dest.example");
    assert_eq!(r.reason, Reason::VirusDetected, "{r:#?}");
}
