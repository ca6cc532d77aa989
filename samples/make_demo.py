#!/usr/bin/env python3
"""Writes the demo bounces: a small bakery (contoso-bakery.example) on
Microsoft 365 whose shared outbound IPs get refused for their reputation by
several customers over three days, mixed with ordinary noise (an unknown
user, a full mailbox). Run from samples/demo: `python3 ../make_demo.py`; the
.eml files are committed.
Everything is fictitious: example domains, documentation addresses aside
from the Microsoft 365 outbound range the story is about."""
import datetime

TENANT = "contoso-bakery.example"
START = datetime.datetime(2026, 11, 4, 14, 2, tzinfo=datetime.timezone.utc)  # Wednesday 14:02

# (hours after START, recipient, remote MX, sending IP, refusal)
EVENTS = [
    (0.0, "accounts@fabrikam-foods.example", "mx1.fabrikam-foods.example", "40.107.22.93",
     "550 5.7.1 Service unavailable; Client host [40.107.22.93] blocked using zen.spamhaus.org; https://www.spamhaus.org/query/ip/40.107.22.93"),
    (1.5, "orders@northwind-traders.example", "mail.northwind-traders.example", "40.107.22.93",
     "554 5.7.1 Service unavailable; Client host [40.107.22.93] blocked using zen.spamhaus.org"),
    (3.2, "buyer@adventure-works.example", "mx.adventure-works.example", "40.107.22.94",
     "550 5.7.1 Mail from IP 40.107.22.94 was rejected due to listing in Spamhaus SBL. For details please see http://www.spamhaus.org/query/bl?ip=40.107.22.94"),
    (5.0, "chef@wingtip-restaurants.example", "mx01.wingtip-restaurants.example", "40.107.22.93",
     "554 5.7.1 Service unavailable; Client host [40.107.22.93] blocked using b.barracudacentral.org; http://www.barracudanetworks.com/reputation/?pr=1&ip=40.107.22.93"),
    (8.5, "accounts@fabrikam-foods.example", "mx1.fabrikam-foods.example", "40.107.22.94",
     "550 5.7.1 Service unavailable; Client host [40.107.22.94] blocked using zen.spamhaus.org"),
    (20.0, "purchasing@tailspin-toys.example", "mx.tailspin-toys.example", "40.107.22.93",
     "550 5.7.1 Service unavailable; Client host [40.107.22.93] blocked using zen.spamhaus.org"),
    (23.0, "orders@northwind-traders.example", "mail.northwind-traders.example", "40.107.22.94",
     "554 5.7.1 Service unavailable; Client host [40.107.22.94] blocked using zen.spamhaus.org"),
    (26.0, "events@fourth-coffee.example", "mx.fourth-coffee.example", "40.107.22.93",
     "550 5.7.1 Your IP address 40.107.22.93 is listed in the RBL. Blocked using zen.spamhaus.org"),
    (30.0, "buyer@adventure-works.example", "mx.adventure-works.example", "40.107.22.93",
     "550 5.7.1 Mail from IP 40.107.22.93 was rejected due to listing in Spamhaus SBL."),
    (44.0, "accounts@fabrikam-foods.example", "mx1.fabrikam-foods.example", "40.107.22.93",
     "550 5.7.1 Service unavailable; Client host [40.107.22.93] blocked using zen.spamhaus.org"),
    (47.5, "chef@wingtip-restaurants.example", "mx01.wingtip-restaurants.example", "40.107.22.94",
     "554 5.7.1 Service unavailable; Client host [40.107.22.94] blocked using b.barracudacentral.org"),
    (52.0, "purchasing@tailspin-toys.example", "mx.tailspin-toys.example", "40.107.22.94",
     "550 5.7.1 Service unavailable; Client host [40.107.22.94] blocked using zen.spamhaus.org"),
    (60.0, "orders@northwind-traders.example", "mail.northwind-traders.example", "40.107.22.93",
     "554 5.7.1 Service unavailable; Client host [40.107.22.93] blocked using zen.spamhaus.org"),
    (68.0, "accounts@fabrikam-foods.example", "mx1.fabrikam-foods.example", "40.107.22.94",
     "550 5.7.1 Service unavailable; Client host [40.107.22.94] blocked using zen.spamhaus.org"),
    # Noise: an address that no longer exists, a full mailbox.
    (10.0, "j.smith@litware.example", "mx.litware.example", "40.107.22.93",
     "550 5.1.1 <j.smith@litware.example>: Recipient address rejected: User unknown in virtual mailbox table"),
    (35.0, "maria@proseware.example", "mx.proseware.example", "40.107.22.94",
     "552 5.2.2 <maria@proseware.example>: Mailbox full"),
]

NDR = """Received: from DB8PR02MB5867.eurprd02.prod.outlook.com (2603:10a6:10:1::1)
 by AM0PR02MB4450.eurprd02.prod.outlook.com with HTTPS; {date}
MIME-Version: 1.0
From: Microsoft Outlook <postmaster@{tenant}>
To: <sales@{tenant}>
Date: {date}
Content-Type: multipart/report; report-type=delivery-status;
\tboundary="{boundary}"
X-MS-Exchange-Message-Is-Ndr:
Content-Language: en-US
Message-ID: <{mid}-ndr@DB8PR02MB5867.eurprd02.prod.outlook.com>
Subject: Undeliverable: {subject}

--{boundary}
Content-Type: text/plain; charset="us-ascii"

Your message to {rcpt} couldn't be delivered.

{rdomain} suspects your message is spam and rejected it.

Diagnostic information for administrators:

Generating server: DB8PR02MB5867.eurprd02.prod.outlook.com

{rcpt}
{mx}
Remote Server returned '{refusal}'

--{boundary}
Content-Type: message/delivery-status

Reporting-MTA: dns;DB8PR02MB5867.eurprd02.prod.outlook.com
Received-From-MTA: dns;DB8PR02MB5867.eurprd02.prod.outlook.com
Arrival-Date: {date}

Final-Recipient: rfc822;{rcpt}
Action: failed
Status: {status}
Diagnostic-Code: smtp;{refusal}
Remote-MTA: dns;{mx}

--{boundary}
Content-Type: text/rfc822-headers

Received: from DB8PR02MB5867.eurprd02.prod.outlook.com ([fe80::1]) by
 DB8PR02MB5867.eurprd02.prod.outlook.com with mapi id 15.20.8000.001;
 {date}
From: Sales <sales@{tenant}>
To: <{rcpt}>
Subject: {subject}
Date: {date}
Message-ID: <{mid}@DB8PR02MB5867.eurprd02.prod.outlook.com>
MIME-Version: 1.0

--{boundary}--
"""

def ndr(n, when, tenant, rcpt, mx, refusal, tag="demo"):
    """One Exchange Online NDR, as it arrives in the sender's mailbox."""
    date = when.strftime("%a, %d %b %Y %H:%M:%S +0000")
    return NDR.format(date=date, tenant=tenant, boundary=f"b{n:03d}-{tag}", mid=f"DB8PR02MB5867{n:04d}",
                      subject=f"Order confirmation {n:03d}", rcpt=rcpt, rdomain=rcpt.split("@")[1], mx=mx,
                      refusal=refusal, status=refusal.split()[1])


if __name__ == "__main__":
    for n, (hours, rcpt, mx, ip, refusal) in enumerate(EVENTS, 1):
        when = START + datetime.timedelta(hours=hours)
        with open(f"{n:02d}-{when:%Y%m%d-%H%M}.eml", "w", newline="\n") as fh:
            fh.write(ndr(n, when, TENANT, rcpt, mx, refusal))
