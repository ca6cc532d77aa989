#!/usr/bin/env python3
"""Writes the incident scenarios: one folder of bounces per story, with
`expect.json` saying what `outcry incidents` must find (the test is
crates/cli/tests/scenarios.rs, run on SQLite and PostgreSQL). Run from
samples/scenarios: `python3 ../make_scenarios.py`; the files are committed.
Bounces come in two real formats: Exchange Online NDRs (from make_demo.py)
and Postfix DSNs from the organisation's own server. Everything is
fictitious (example domains, documentation addresses) apart from the
Microsoft 365 outbound range of the provider story."""
import datetime
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_demo import ndr  # noqa: E402

UTC = datetime.timezone.utc
T0 = datetime.datetime(2026, 10, 12, 8, 30, tzinfo=UTC)  # a Monday
OWN = "contoso.example"
OWN_MTA = "mail.contoso.example"
OWN_IP = "203.0.113.25"

POSTFIX = """Return-Path: <>
Received: by {own_mta} (Postfix)
\tid {qid}; {date}
Date: {date}
From: MAILER-DAEMON@{own_mta} (Mail Delivery System)
Subject: {subject}
To: sales@{own}
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
\tboundary="{qid}.{epoch}/{own_mta}"
Message-Id: <{qid}.{epoch}@{own_mta}>

This is a MIME-encapsulated message.

--{qid}.{epoch}/{own_mta}
Content-Description: Notification
Content-Type: text/plain; charset=us-ascii

This is the mail system at host {own_mta}.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients. It's attached below.

For further assistance, please send mail to postmaster.

If you do so, please include this problem report. You can
delete your own text from the attached returned message.

                   The mail system

<{rcpt}>: {said}

--{qid}.{epoch}/{own_mta}
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; {own_mta}
X-Postfix-Queue-ID: {qid}
X-Postfix-Sender: rfc822; sales@{own}
Arrival-Date: {date}

Final-Recipient: rfc822; {rcpt}
Original-Recipient: rfc822;{rcpt}
Action: failed
Status: {status}
Remote-MTA: dns; {mx}
Diagnostic-Code: smtp; {reply}

--{qid}.{epoch}/{own_mta}
Content-Description: Undelivered Message Headers
Content-Type: text/rfc822-headers

Return-Path: <sales@{own}>
Received: from workstation.contoso.example (workstation.contoso.example [203.0.113.80])
\tby {own_mta} (Postfix) with ESMTPSA id {qid}
\tfor <{rcpt}>; {date}
From: Sales <sales@{own}>
To: <{rcpt}>
Subject: Quote {n:03d}
Date: {date}
Message-ID: <quote-{n:03d}@{own}>

--{qid}.{epoch}/{own_mta}--
"""


def postfix(n, when, rcpt, mx, reply, stage="end of DATA command"):
    """One Postfix DSN from the organisation's own server."""
    date = when.strftime("%a, %d %b %Y %H:%M:%S +0000")
    said = f"host {mx}[192.0.2.{10 + n % 200}] said: {reply} (in reply to {stage})"
    return POSTFIX.format(own_mta=OWN_MTA, own=OWN, qid=f"4Q{n:04X}BC{n:02d}Z", epoch=int(when.timestamp()),
                          date=date, subject="Undelivered Mail Returned to Sender", rcpt=rcpt, said=said,
                          status=reply.split()[1], mx=mx, reply=reply, n=n)


def at(hours):
    return T0 + datetime.timedelta(hours=hours)


def write(name, bounces, expect):
    os.makedirs(name, exist_ok=True)
    for n, (when, text) in enumerate(bounces, 1):
        with open(os.path.join(name, f"{n:02d}-{when:%Y%m%d-%H%M}.eml"), "w", newline="\n") as fh:
            fh.write(text)
    with open(os.path.join(name, "expect.json"), "w") as fh:
        json.dump(expect, fh, indent=2)
        fh.write("\n")


def epoch(hours):
    return int(at(hours).timestamp())


# 1. The provider's shared pool refused by many unrelated recipients, and a
# vendor "fixed" claim at hour 20 followed by more refusals.
LISTS = [
    "550 5.7.1 Service unavailable; Client host [{ip}] blocked using bl.spamcop.net; Blocked - see https://www.spamcop.net/bl.shtml?{ip}",
    "554 5.7.1 Service unavailable; Client host [{ip}] blocked using b.barracudacentral.org",
    "550 5.7.1 Mail from IP {ip} was rejected due to listing in Spamhaus SBL. For details please see http://www.spamhaus.org/query/bl?ip={ip}",
]
DOMAINS = ["litware.example", "proseware.example", "woodgrove.example", "lucerne.example", "margie.example"]
bounces = []
for i in range(11):
    ip = ["52.100.5.20", "52.100.5.21"][i % 2]
    d = DOMAINS[i % 5]
    when = at(i * 3.5)
    bounces.append((when, ndr(i + 1, when, OWN, f"orders@{d}", f"mx.{d}", LISTS[i % 3].format(ip=ip), "scn")))
write("provider-pool", bounces, {
    "story": "Microsoft 365's shared outbound IPs refused by five unrelated customers; Microsoft says fixed at hour 20",
    "now": epoch(40), "important": ["woodgrove.example"],
    "incidents": [{"verdict": "provider", "state": "open", "failures": 11, "recipient_domains": 5}],
    "claim": {"at": epoch(20), "failures_after": 5},
})

# 2. The organisation's own SPF/DMARC failing at several recipients.
AUTH = [
    ("gmail-like.example", "550 5.7.26 Unauthenticated email from contoso.example is not accepted due to domain's DMARC policy. Please contact the administrator of contoso.example domain."),
    ("fabrikam.example", "550 5.7.23 The message was rejected because of Sender Policy Framework violation"),
    ("tailspin.example", "550 5.7.1 Sender Policy Framework (SPF) fail: 203.0.113.25 is not permitted to send for contoso.example"),
]
bounces = []
for i in range(8):
    d, reply = AUTH[i % 3]
    when = at(i * 2)
    bounces.append((when, postfix(i + 1, when, f"info@{d}", f"mx.{d}", reply)))
write("own-auth", bounces, {
    "story": "the organisation's own SPF and DMARC fail at several recipients",
    "now": epoch(16), "own_networks": ["203.0.113.0/24"],
    "incidents": [{"verdict": "own", "state": "open", "failures": 8, "recipient_domains": 3}],
})

# 3. One recipient's server out of storage for a day.
bounces = []
for i in range(6):
    when = at(i * 3)
    bounces.append((when, postfix(i + 1, when, ["orders", "billing", "ap"][i % 3] + "@wingtip.example",
                                  "mx.wingtip.example", "452 4.3.1 Insufficient system storage", "MAIL FROM command")))
write("recipient-full", bounces, {
    "story": "one recipient's mail server is out of storage",
    "now": epoch(16),
    "incidents": [{"verdict": "recipient", "state": "open", "failures": 6, "recipient_domains": 1}],
})

# 4. A stale mailing list: a burst of unknown users at many domains.
bounces = []
for i in range(30):
    d = f"client{i % 18:02d}.example"
    when = at(i / 30)
    bounces.append((when, postfix(i + 1, when, f"contact{i}@{d}", f"mx.{d}",
                                  f"550 5.1.1 <contact{i}@{d}>: Recipient address rejected: User unknown in local recipient table",
                                  "RCPT TO command")))
write("stale-list", bounces, {
    "story": "a newsletter to a stale list: many unknown users, list hygiene rather than an outage",
    "now": epoch(2),
    "incidents": [{"verdict": "own", "failures": 30, "sending_ips": ["203.0.113.80"]}],
})

# 5. Plain noise: nothing to open.
NOISE = [
    (0, "old.employee@litware.example", "550 5.1.1 <old.employee@litware.example>: Recipient address rejected: User unknown in virtual mailbox table", "RCPT TO command"),
    (9, "maria@proseware.example", "552 5.2.2 <maria@proseware.example>: Mailbox full", "RCPT TO command"),
    (30, "sales@woodgrove.example", "550 5.7.1 Message rejected as spam by Content Filtering.", "end of DATA command"),
    (55, "typo@lucernne.example", "550 5.1.1 <typo@lucernne.example>: Recipient address rejected: User unknown", "RCPT TO command"),
]
bounces = []
for i, (h, rcpt, reply, stage) in enumerate(NOISE):
    when = at(h)
    d = rcpt.split("@")[1]
    bounces.append((when, postfix(i + 1, when, rcpt, f"mx.{d}", reply, stage)))
write("noise", bounces, {"story": "ordinary noise over three days", "now": epoch(60), "incidents": []})
