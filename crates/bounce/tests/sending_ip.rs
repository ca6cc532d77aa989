//! Which IP a refusal names as the sender's, and which it names as the
//! refusing server's.

use outcry_bounce::analyze;
use std::net::IpAddr;

/// A minimal DSN whose diagnostic is `diag`, returned with headers that
/// show the message left through 203.0.113.80.
fn dsn(diag: &str) -> String {
    format!(
        "From: MAILER-DAEMON@mail.contoso.example\nTo: sales@contoso.example\nSubject: Undelivered Mail Returned to Sender\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\n\n--B\nContent-Type: text/plain\n\n<ap@dest.example>: {diag}\n\n--B\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mail.contoso.example\n\nFinal-Recipient: rfc822; ap@dest.example\nAction: failed\nStatus: 5.7.1\nDiagnostic-Code: smtp; {diag}\n\n--B\nContent-Type: text/rfc822-headers\n\nReceived: from pc.contoso.example (pc.contoso.example [203.0.113.80])\n\tby mail.contoso.example (Postfix) with ESMTPSA id 4Q1; Mon, 12 Oct 2026 08:30:00 +0000\nFrom: sales@contoso.example\nTo: ap@dest.example\nMessage-ID: <q1@contoso.example>\n\n--B--\n"
    )
}

fn sending_ip(diag: &str) -> Option<IpAddr> {
    let records = analyze(dsn(diag).as_bytes()).unwrap();
    assert_eq!(records.len(), 1, "{diag}");
    records[0].sending_ip
}

#[test]
fn the_client_ip_a_refusal_names() {
    let cases = [
        (
            "550 5.7.1 Service unavailable; Client host [198.51.100.7] blocked using zen.spamhaus.org",
            "198.51.100.7",
        ),
        (
            "550 5.7.1 Mail from IP 198.51.100.8 was rejected due to listing in Spamhaus SBL.",
            "198.51.100.8",
        ),
        (
            "554 5.7.1 Rejected: 198.51.100.9 listed at zen.spamhaus.org",
            "198.51.100.9",
        ),
        (
            "554 5.7.1 Rejected because 198.51.100.10 is listed by b.barracudacentral.org",
            "198.51.100.10",
        ),
        // What the refusing host said, after Postfix's "host ... said:".
        (
            "host mx.dest.example[198.51.100.12] said: 550 5.7.1 198.51.100.21 listed at dnsbl.example.org",
            "198.51.100.21",
        ),
        (
            "192.0.2.1 does not like recipient. Remote host said: 421 4.7.0 [TSS04] Messages from 198.51.100.22 temporarily deferred due to unexpected volume or user complaints",
            "198.51.100.22",
        ),
        // The host that connected, in the refusing host's words.
        (
            "550 5.7.1 Connecting host [198.51.100.23] is listed by the lookup site 'zen.spamhaus.org.'",
            "198.51.100.23",
        ),
        (
            "591 your host [198.51.100.24] is blacklisted by dnsbl.sorbs.net",
            "198.51.100.24",
        ),
        (
            "554 Connection from 198.51.100.25 rejected for policy reasons. Host found in DNS blacklist",
            "198.51.100.25",
        ),
        (
            "550 Rejected 198.51.100.26 found in dnsbl.sorbs.net",
            "198.51.100.26",
        ),
        (
            "550 5.7.1 198.51.100.27 has been blocked by zen.spamhaus.org",
            "198.51.100.27",
        ),
        (
            "550 Rejected message because 198.51.100.28 is in a black list at dnsbl.example.org",
            "198.51.100.28",
        ),
        (
            "451 Currently Sending Spam See: http://www.sorbs.net/lookup.shtml?198.51.100.29",
            "198.51.100.29",
        ),
    ];
    for (diag, ip) in cases {
        assert_eq!(sending_ip(diag), Some(ip.parse().unwrap()), "{diag}");
    }
}

#[test]
fn the_refusing_server_is_not_the_sender() {
    // The remote host's own address, even when its name contains "client":
    // the sending IP comes from the returned headers instead.
    for diag in [
        "host mx.client00.example[198.51.100.11] said: 550 5.7.1 Relaying denied (in reply to RCPT TO command)",
        "host mx.dest.example[198.51.100.12] said: 554 5.7.1 Message refused (in reply to end of DATA command)",
        "450 4.4.316 Connection refused [Message=Socket error code 10061] [LastAttemptedServerName=mx.dest.example] [LastAttemptedIP=198.51.100.13:25]",
    ] {
        assert_eq!(
            sending_ip(diag),
            Some("203.0.113.80".parse().unwrap()),
            "{diag}"
        );
    }
}

#[test]
fn a_version_number_is_not_an_address() {
    // "Messaging Server 7.0.5.33.0" in a Received header holds no IP 7.0.5.33;
    // the client address further down is the sender's.
    let raw = "From: MAILER-DAEMON@mail.contoso.example\nTo: sales@contoso.example\nSubject: Undelivered Mail Returned to Sender\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\n\n--B\nContent-Type: text/plain\n\nDelivery failed.\n\n--B\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mail.contoso.example\n\nFinal-Recipient: rfc822; ap@dest.example\nAction: failed\nStatus: 5.1.1\nDiagnostic-Code: smtp; 550 5.1.1 unknown user (version 8.0.1.2.0)\n\n--B\nContent-Type: text/rfc822-headers\n\nReceived: from mr21.contoso.example\n (Oracle Communications Messaging Server 7.0.5.33.0 64bit (built Aug 27 2014))\n by mail.contoso.example; Mon, 12 Oct 2026 08:30:00 +0000\nReceived: from pc.contoso.example ([203.0.113.80])\n by mr21.contoso.example; Mon, 12 Oct 2026 08:29:59 +0000\nFrom: sales@contoso.example\nTo: ap@dest.example\n\n--B--\n";
    let records = analyze(raw.as_bytes()).unwrap();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].sending_ip, Some("203.0.113.80".parse().unwrap()));
}

#[test]
fn mailmarshal_names_the_mta_that_handed_it_the_message() {
    // Trustwave MailMarshal's "Additional Information": Sender-MTA is the
    // client that gave it the message (the sender's outbound IP), Remote-MTA
    // the server it could not deliver to.
    let raw = "From: postmaster@relay.customer.example\nTo: owner@sender.example\n\
Subject: Undeliverable Mail: \"hello\"\n\n\
Your message:\n   From:    owner@sender.example\n   Subject: hello\n\n\
Could not be delivered because of\n\n554 5.7.1 Message rejected: spam content detected\n\n\
The following recipients were affected:\n    partner@customer.example\n\n\
Additional Information\n======================\n\
Original Sender:    <owner@sender.example>\n\
Sender-MTA:         <198.51.100.44>\n\
Remote-MTA:         <203.0.113.2>\n\
Reporting-MTA:      <relay.customer.example>\n";
    let records = analyze(raw.as_bytes()).unwrap();
    assert_eq!(records.len(), 1, "{records:#?}");
    assert_eq!(records[0].sending_ip, "198.51.100.44".parse().ok());
}

/// The sending IP of a report whose returned header block is `headers`
/// (before its From and To) and whose diagnostic names no IP: what those
/// headers say, if anything.
fn from_returned_headers(headers: &str) -> Option<IpAddr> {
    let raw = format!(
        "From: MAILER-DAEMON@mail.contoso.example\nTo: sales@contoso.example\n\
         Subject: Undelivered Mail Returned to Sender\n\
         Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\n\n\
         --B\nContent-Type: text/plain\n\nDelivery failed.\n\n\
         --B\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mail.contoso.example\n\n\
         Final-Recipient: rfc822; ap@dest.example\nAction: failed\nStatus: 5.1.1\n\
         Diagnostic-Code: smtp; 550 5.1.1 unknown user\n\n\
         --B\nContent-Type: text/rfc822-headers\n\n{headers}From: sales@contoso.example\n\
         To: ap@dest.example\n\n--B--\n"
    );
    let records = analyze(raw.as_bytes()).unwrap();
    assert_eq!(records.len(), 1, "{headers}");
    records[0].sending_ip
}

#[test]
fn the_returned_headers_name_the_sender_only_in_a_from_part() {
    let ip = |s: &str| Some(s.parse::<IpAddr>().unwrap());
    // Google's "Received: by <its own address> with HTTP": the receiving
    // host alone, no sender; the hop below it is the sender's.
    assert_eq!(
        from_returned_headers(
            "Received: by 2002:ac9:6610:0:0:0:0:0 with HTTP; Wed, 23 May 2018 01:44:05 -0700\n\
             Received: from pc.contoso.example (pc.contoso.example [203.0.113.80])\n\
             \tby mail.contoso.example with ESMTPSA id 4Q1; Wed, 23 May 2018 01:44:00 -0700\n"
        ),
        ip("203.0.113.80")
    );
    assert_eq!(
        from_returned_headers("Received: by 198.51.100.80 with SMTP id mf39.31452\n"),
        None
    );
    // The `by` part of a folded field is the receiving host's.
    assert_eq!(
        from_returned_headers(
            "Received: from mail.contoso.example (unknown [10.0.0.5])\n\
             \tby mx.dest.example (198.51.100.81) with ESMTP id 9; Mon, 12 Oct 2026 08:30:00 +0000\n"
        ),
        None
    );
    // A hop inside Exchange Online: a Microsoft datacentre address, never
    // the one the message came from.
    assert_eq!(
        from_returned_headers(
            "Received: from HK2PR0101CA2025.apcprd01.prod.exchangelabs.com\n \
             (2603:1096:201:1::37) by NEKO0022.apcprd01.prod.exchangelabs.com\n \
             (2a01:111:e400:a40f::24) with Microsoft SMTP Server; Thu, 29 Apr 2017 23:34:45 +0000\n"
        ),
        None
    );
    assert_eq!(
        from_returned_headers(
            "Received: from SN6PR01MB1234.namprd01.prod.outlook.com (2603:10b6:805:1::1) by\n \
             SN6PR01MB5678.namprd01.prod.outlook.com with HTTPS; Mon, 12 Oct 2026 08:30:00 +0000\n\
             Received: from pc.contoso.example ([203.0.113.82]) by SN6PR01MB1234.namprd01.prod.outlook.com\n \
             with Microsoft SMTP Server; Mon, 12 Oct 2026 08:29:59 +0000\n"
        ),
        ip("203.0.113.82")
    );
    // A webmail's note of a loopback client says nothing.
    assert_eq!(
        from_returned_headers(
            "X-Originating-IP: 127.0.0.1\n\
             Received: from neko (c135.contoso.example [203.0.113.83])\n\
             \tby mi1.relay.example (SG) with HTTP id 13fb; Fri, 05 Jul 2013 23:34:45 -0500\n"
        ),
        ip("203.0.113.83")
    );
    // A webmail's public one does.
    assert_eq!(
        from_returned_headers(
            "X-Originating-IP: [203.0.113.84]\n\
             Received: from neko (c135.contoso.example [203.0.113.83])\n\
             \tby mi1.relay.example (SG) with HTTP id 13fb; Fri, 05 Jul 2013 23:34:45 -0500\n"
        ),
        ip("203.0.113.84")
    );
}

#[test]
fn a_received_field_names_the_connection_not_the_clients_helo() {
    // The receiving server notes the connection's address in parentheses;
    // a bracketed address before them, or after HELO, is what the client
    // called itself.
    let cases = [
        // Sendmail, Gmail, Messaging Server: `from [HELO] (rDNS [address])`.
        (
            "Received: from [192.0.2.65] (c54.kyoto.example.ne.jp [198.51.100.22])\n\
             \t(authenticated bits=128)\n\tby nijo.example.co.jp (V8/cf) with ESMTP id v66B\n",
            "198.51.100.22",
        ),
        // qmail: `(HELO ?address?)`, then the client's address.
        (
            "Received: from unknown (HELO ?192.0.2.129?) (shironeko@198.51.100.23 with plain)\n  by smtp05.relay.example with SMTP; 31 Mar 2010 13:59:43 -0000\n",
            "198.51.100.23",
        ),
        // Yahoo: `(EHLO [address]) ([address])`.
        (
            "Received: from p225.kyoto.example.ne.jp (EHLO [192.0.2.225]) ([198.51.100.24])\n  by smtp.mail.example.com with SMTP; 29 Apr 2014 23:34:45 -0700\n",
            "198.51.100.24",
        ),
        // Exim with a reverse name: `([address] helo=[address])`.
        (
            "Received: from a198-51-100-25.example.de ([198.51.100.25] helo=[203.0.113.136])\n\tby nekochan.example.net with esmtps id 1\n",
            "198.51.100.25",
        ),
        // Exim without one: the address first, the HELO in parentheses.
        (
            "Received: from [198.51.100.26] (port=51580 helo=[192.0.2.203])\n\tby smtp23.mail.example with esmtpa id 1\n",
            "198.51.100.26",
        ),
        // A host name made of digits is no address.
        (
            "Received: from 222.2.0.192.neko.example.co.th ([198.51.100.27])\n\tby mx.example.jp with ESMTP id 1\n",
            "198.51.100.27",
        ),
    ];
    for (headers, want) in cases {
        assert_eq!(
            from_returned_headers(headers),
            want.parse().ok(),
            "{headers}"
        );
    }
}
