#!/usr/bin/env python3
"""outcry on the refusal texts ZoneMTA's bounce rules were written from.

    cargo build --release
    python3 tools/zonemta_diff.py [--show] [--dir DIR]

ZoneMTA (an outbound MTA on npm) classifies remote servers' replies with
`config/bounces.txt`: one regex per rule with a category (blacklist, spam,
recipient, capacity, ...), and above most rules, as comments, the replies
the rule was written for: about a hundred real refusals, most of them
blocklist and reputation refusals, the texts this product exists for.

The script fetches the package with `npm pack zone-mta` unless --dir points
at an unpacked copy, wraps each quoted reply in a Postfix-style report (the
text part says "host ... said: <reply>", the DSN carries the same reply and
the status code Postfix would give), runs outcry over them, and prints, per
ZoneMTA category, our reasons, how many name a blocklist, and how many
replies that quote an IP give a sending IP. --show lists the replies whose
category is `blacklist` but whose record is not `blocked`/`badreputation`
with a named list, or that quote an IP we do not report. A lead, not a
verdict: ZoneMTA's categories are about what its queue should do (retry,
slow down), Sisimai's reasons about why. Working aid, not a test: it needs
npm once.
"""
import argparse
import collections
import glob
import json
import os
import re
import subprocess
import sys
import tarfile
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
IP = re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}\b")


def examples(bounces_txt):
    """(reply, category) for each reply quoted above a rule."""
    pending, out = [], []
    for line in open(bounces_txt, encoding="utf-8"):
        s = line.strip()
        if not s:
            continue
        if s.startswith("#"):
            t = s.lstrip("#").strip()
            if re.match(r"^[245]\d\d[ \-]", t):
                pending.append(t)
            continue
        parts = s.split(",")
        out.extend((t, parts[2] if len(parts) > 2 else "") for t in pending)
        pending = []
    return out


def report(i, reply):
    m = re.match(r"^[245]\d\d[ \-]#?([245]\.\d{1,3}\.\d{1,3})\b", reply)
    status = m.group(1) if m else reply[0] + ".0.0"
    return f"""From MAILER-DAEMON Thu Jan  1 00:00:00 2026
From: MAILER-DAEMON@mx.sender.example (Mail Delivery System)
To: owner@sender.example
Subject: Undelivered Mail Returned to Sender
Date: Thu, 1 Jan 2026 00:00:00 +0000
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B{i}"

--B{i}
Content-Type: text/plain

This is the mail system at host mx.sender.example.

<user{i}@dest.example>: host mx.dest.example[192.0.2.9] said: {reply}

--B{i}
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.sender.example

Final-Recipient: rfc822; user{i}@dest.example
Action: failed
Status: {status}
Remote-MTA: dns; mx.dest.example
Diagnostic-Code: smtp; {reply}

--B{i}--

"""


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dir", help="an unpacked zone-mta package (holding config/bounces.txt)")
    ap.add_argument("--show", action="store_true", help="list the replies to look at")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = a.dir
        if not root:
            subprocess.run(["npm", "pack", "zone-mta", "--silent"], cwd=tmp, check=True, stdout=subprocess.DEVNULL)
            with tarfile.open(glob.glob(os.path.join(tmp, "zone-mta-*.tgz"))[0]) as t:
                t.extractall(tmp, filter="data")
            root = os.path.join(tmp, "package")
        cases = examples(os.path.join(root, "config", "bounces.txt"))
        mbox = os.path.join(tmp, "replies.mbox")
        with open(mbox, "w", encoding="utf-8") as fh:
            for i, (reply, _) in enumerate(cases):
                fh.write(report(i, reply))
        run = subprocess.run([os.path.join(REPO, "target", "release", "outcry"), "analyze", "-q",
                              "--format", "jsonl", mbox], capture_output=True, text=True)
    records = {}
    for line in run.stdout.splitlines():
        o = json.loads(line)
        m = re.match(r"user(\d+)@", o.get("recipient", ""))
        if m:
            records[int(m.group(1))] = o
    by = collections.defaultdict(collections.Counter)
    quoted = found = 0
    look = []
    for i, (reply, category) in enumerate(cases):
        o = records.get(i, {})
        by[category][(o.get("reason", "<none>"), bool(o.get("blocklist")))] += 1
        ips = IP.findall(reply)
        if ips:
            quoted += 1
            found += o.get("sending_ip") in ips
        listed = o.get("reason") in ("blocked", "badreputation") and o.get("blocklist")
        if (category == "blacklist" and not listed) or (ips and o.get("sending_ip") not in ips):
            look.append(f"  {o.get('reason')} {o.get('blocklist')} {o.get('sending_ip')} | {reply[:140]}")
    print(f"{len(cases)} quoted replies, {len(records)} records")
    for category, c in sorted(by.items()):
        shown = ", ".join(f"{r}{' +list' if b else ''} {n}" for (r, b), n in c.most_common())
        print(f"  {category:10s} {sum(c.values()):3d}: {shown}")
    print(f"sending IP: {found} of the {quoted} replies that quote an IP")
    if a.show:
        print("\n".join(look))
    return 0 if run.returncode in (0, 1) else run.returncode


if __name__ == "__main__":
    sys.exit(main())
