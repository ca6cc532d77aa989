#!/usr/bin/env python3
"""Re-wrap the corpus's refusals in other MTAs' notices and compare outcry
with Debian's Sisimai on them.

    cargo build --release
    python3 tools/rewrap_diff.py [--keep DIR] [--show N]

Every distinct refusal text of the DEV corpus (the expected rows'
`diagnosticcode`, with its status) is written into the notice of each of
seven formats (Postfix, Sendmail, Exim, qmail, Gmail, OpenSMTPD, a plain
RFC 3464 report), so a text is read in formats the corpus never shows it
in. outcry (target/release/outcry) and Sisimai (shared/tools/sisimai_run.pl,
`apt-get install libsisimai-perl`) decode all of them; the script prints,
per format, how often the two agree, and lists the disagreements with the
reason the original bounce has in the corpus. A disagreement is a lead, not
a verdict: the original's reason may hang on its context (the remote host,
the failed command), and Debian's Sisimai (4.25) is older than the Sisimai
that wrote the expected rows. Working aid for rule work, not a test: it
needs Perl and Sisimai, and reads nothing but the DEV corpus.
"""
import argparse
import collections
import json
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
EXPECTED = os.path.join(ROOT, "../shared/corpus/sisimai/dev-expected.jsonl")
SISIMAI = os.path.join(ROOT, "../shared/tools/sisimai_run.pl")
OUTCRY = os.path.join(ROOT, "target/release/outcry")

HEAD = "To: owner@sender.example\nDate: Thu, 29 Apr 2010 23:34:45 +0900\n"
ORIGINAL = "From: owner@sender.example\nTo: partner@customer.example\nSubject: x\n"

FORMATS = {
    "postfix": "From: MAILER-DAEMON@mx.sender.example (Mail Delivery System)\n" + HEAD
    + "Subject: Undelivered Mail Returned to Sender\nMIME-Version: 1.0\n"
    'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\n\n'
    "--B\nContent-Type: text/plain\n\nThis is the mail system at host mx.sender.example.\n\n"
    "<partner@customer.example>: host mx.customer.example[192.0.2.1] said: {diag}\n\n"
    "--B\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.sender.example\n"
    "X-Postfix-Queue-ID: 8B2C33F9E1\n\nFinal-Recipient: rfc822; partner@customer.example\n"
    "Action: failed\nStatus: {status}\nRemote-MTA: dns; mx.customer.example\n"
    "Diagnostic-Code: smtp; {diag}\n\n--B\nContent-Type: text/rfc822-headers\n\n" + ORIGINAL + "\n--B--\n",
    "sendmail": "From: Mail Delivery Subsystem <MAILER-DAEMON@mx.sender.example>\n" + HEAD
    + "Subject: Returned mail: see transcript for details\nMIME-Version: 1.0\n"
    'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\n\n'
    "--B\n\n   ----- The following addresses had permanent fatal errors -----\n"
    "<partner@customer.example>\n    (reason: {diag})\n\n   ----- Transcript of session follows -----\n"
    "... while talking to mx.customer.example.:\n>>> RCPT To:<partner@customer.example>\n<<< {diag}\n\n"
    "--B\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.sender.example\n\n"
    "Final-Recipient: RFC822; partner@customer.example\nAction: failed\nStatus: {status}\n"
    "Remote-MTA: DNS; mx.customer.example\nDiagnostic-Code: SMTP; {diag}\n\n"
    "--B\nContent-Type: text/rfc822-headers\n\n" + ORIGINAL + "\n--B--\n",
    "exim": "From: Mail Delivery System <Mailer-Daemon@mx.sender.example>\n" + HEAD
    + "Subject: Mail delivery failed: returning message to sender\n"
    "Message-Id: <E1P1YNN-0003AD-Ga@mx.sender.example>\nX-Failed-Recipients: partner@customer.example\n\n"
    "This message was created automatically by mail delivery software.\n\n"
    "A message that you sent could not be delivered to one or more of its\n"
    "recipients. This is a permanent error. The following address(es) failed:\n\n"
    "  partner@customer.example\n    host mx.customer.example [192.0.2.1]\n"
    "    SMTP error from remote mail server after RCPT TO:<partner@customer.example>:\n    {diag}\n\n"
    "------ This is a copy of the message, including all the headers. ------\n\n" + ORIGINAL + "\nhello\n",
    "qmail": "From: MAILER-DAEMON@mx.sender.example\n" + HEAD + "Subject: failure notice\n"
    "Received: (qmail 10000 invoked for bounce); 29 Apr 2010 23:34:45 +0900\n\n"
    "Hi. This is the qmail-send program at mx.sender.example.\n"
    "I'm afraid I wasn't able to deliver your message to the following addresses.\n"
    "This is a permanent error; I've given up. Sorry it didn't work out.\n\n"
    "<partner@customer.example>:\n192.0.2.1 does not like recipient.\nRemote host said: {diag}\n"
    "Giving up on 192.0.2.1.\n\n--- Below this line is a copy of the message.\n\n" + ORIGINAL + "\nhello\n",
    "gmail": "From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>\n" + HEAD
    + "Subject: Delivery Status Notification (Failure)\nX-Failed-Recipients: partner@customer.example\n\n"
    "Delivery to the following recipient failed permanently:\n\n     partner@customer.example\n\n"
    "Technical details of permanent failure:\nGoogle tried to deliver your message, but it was rejected "
    "by the server for the recipient domain customer.example by mx.customer.example. [192.0.2.1].\n\n"
    "The error that the other server returned was:\n{diag}\n\n----- Original message -----\n\n"
    + ORIGINAL + "\nhello\n",
    "opensmtpd": "From: Mailer Daemon <MAILER-DAEMON@mx.sender.example>\n" + HEAD
    + "Subject: Delivery status notification: error\n\n    Hi!\n\n"
    "    This is the MAILER-DAEMON, please DO NOT REPLY to this e-mail.\n\n"
    "    An error has occurred while attempting to deliver a message for\n"
    "    the following list of recipients:\n\npartner@customer.example: {diag}\n\n"
    "    Below is a copy of the original message:\n\n" + ORIGINAL + "\nhello\n",
    "rfc3464": "From: postmaster@mail.sender.example\n" + HEAD
    + "Subject: Delivery Status Notification (Failure)\nMIME-Version: 1.0\n"
    'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\n\n'
    "--B\nContent-Type: text/plain\n\nDelivery to the following recipients failed.\n\n"
    "       partner@customer.example\n\n--B\nContent-Type: message/delivery-status\n\n"
    "Reporting-MTA: dns;mail.sender.example\n\nFinal-Recipient: rfc822;partner@customer.example\n"
    "Action: failed\nStatus: {status}\nDiagnostic-Code: smtp;{diag}\n\n"
    "--B\nContent-Type: message/rfc822\n\n" + ORIGINAL + "\nhello\n--B--\n",
}


def refusals():
    """Distinct refusal texts of the DEV corpus with their status and reason."""
    seen, out = set(), []
    for line in open(EXPECTED):
        e = json.loads(line)
        text = re.sub(r"\s+", " ", e.get("diagnosticcode") or "").strip()
        if e.get("variant") != "lf" or not text or len(text) > 600 or text in seen:
            continue
        if e.get("reason") in ("feedback", "vacation", "delivered", "undefined", "onhold"):
            continue
        seen.add(text)
        status = e.get("deliverystatus") or "5.0.0"
        if re.search(r"\.9\d\d$", status):  # Sisimai's pseudo codes are no status
            status = status[0] + ".0.0"
        out.append((text, status, e["reason"], e["file"]))
    return out


def decode(cmd):
    rows = {}
    run = subprocess.run(cmd, capture_output=True, text=True, check=False)
    for line in run.stdout.splitlines():
        try:
            r = json.loads(line)
        except ValueError:
            continue
        rows.setdefault(os.path.basename(r.get("file", "")), r.get("reason"))
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--keep", help="write the notices into this folder and keep them")
    ap.add_argument("--show", type=int, default=20, help="disagreements to list per format")
    args = ap.parse_args()
    if not os.access(OUTCRY, os.X_OK):
        sys.exit(f"{OUTCRY} is missing: run `cargo build --release` first")
    folder = args.keep or tempfile.mkdtemp(prefix="rewrap-")
    os.makedirs(folder, exist_ok=True)
    meta = {}
    for k, (text, status, reason, origin) in enumerate(refusals()):
        for fmt, template in FORMATS.items():
            name = f"{fmt}-{k:03d}.eml"
            with open(os.path.join(folder, name), "w") as f:
                f.write(template.replace("{diag}", text).replace("{status}", status))
            meta[name] = (fmt, reason, origin)
    files = sorted(os.path.join(folder, n) for n in meta)
    ours = decode([OUTCRY, "analyze", "-q", "--format", "jsonl", *files])
    theirs = decode(["perl", SISIMAI, *files])
    if not theirs:
        sys.exit("Sisimai decoded nothing: is libsisimai-perl installed?")
    tally = collections.defaultdict(collections.Counter)
    listed = collections.defaultdict(list)
    for name, (fmt, reason, origin) in sorted(meta.items()):
        a, b = ours.get(name), theirs.get(name)
        if a == b:
            kind = "same"
        elif b == reason:
            kind = "sisimai = corpus"
        elif a == reason:
            kind = "outcry = corpus"
        else:
            kind = "neither"
        tally[fmt][kind] += 1
        if kind in ("sisimai = corpus", "neither"):
            listed[fmt].append(f"  {name}: corpus {reason} ({os.path.basename(origin)}), outcry {a}, sisimai {b}")
    for fmt in FORMATS:
        t = tally[fmt]
        print(f"{fmt:10} same {t['same']:4}  outcry=corpus {t['outcry = corpus']:4}  "
              f"sisimai=corpus {t['sisimai = corpus']:4}  neither {t['neither']:4}")
        for line in listed[fmt][: args.show]:
            print(line)
    print(f"notices in {folder}")


if __name__ == "__main__":
    main()
