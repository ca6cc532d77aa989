#!/usr/bin/env python3
"""Metamorphic check: does outcry say the same of a bounce written differently?

    cargo build --release
    python3 tools/metamorphic.py [--show N] [--only NAME]

Every DEV corpus e-mail is rewritten in ways that change its bytes but not
its meaning, and outcry's records of the rewrite (recipient, reason, status,
reply code) are compared with its records of the original:

  identity   parsed and written back by Python's e-mail package (the baseline:
             what the writer alone changes)
  base64     every text part re-encoded in base64
  qp         every text part re-encoded in quoted-printable
  case       header names lower-cased, in the message and in its MIME parts
  noise      five Received:, a DKIM-Signature: and spam-filter headers added
             on top, as a relay on the way back would add them
  boundary   new MIME boundary strings
  dsn-order  the fields of each recipient's delivery-status block in reverse
             order (RFC 3464 sets no order)
  dsn-fold   each Diagnostic-Code: folded at 40 columns

A difference is a fragility the held-out part of the corpus may hit in a
form the DEV part never shows. Needs no ground truth and reads nothing but
the DEV corpus. Working aid for rule work, not a test.
"""
import argparse
import base64
import collections
import copy
import email
import email.generator
import email.policy
import io
import json
import os
import quopri
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CORPUS = os.path.join(ROOT, "../shared/corpus/sisimai")
OUTCRY = os.path.join(ROOT, "target/release/outcry")
POLICY = email.policy.compat32


def parts(msg):
    """Every part, but not the field blocks of a delivery-status part (which
    Python's e-mail package models as headers-only messages)."""
    yield msg
    if msg.get_content_type() == "message/delivery-status":
        return
    if msg.is_multipart():
        for sub in msg.get_payload():
            yield from parts(sub)


def leaves(msg):
    for part in parts(msg):
        if not part.is_multipart() and part.get_content_maintype() == "text":
            yield part


def dsn_blocks(msg):
    """The per-recipient field blocks of every delivery-status part."""
    for part in parts(msg):
        if part.get_content_type() == "message/delivery-status" and part.is_multipart():
            yield from part.get_payload()[1:]


def dsn_reorder(msg):
    for block in dsn_blocks(msg):
        block._headers = list(reversed(block._headers))
    return msg


def dsn_fold(msg):
    for block in dsn_blocks(msg):
        folded = []
        for k, v in block._headers:
            if k.lower() == "diagnostic-code":
                words = " ".join(v.split()).split(" ")
                lines, line = [], ""
                for w in words:
                    if line and len(line) + len(w) > 40:
                        lines.append(line)
                        line = w
                    else:
                        line = (line + " " + w).strip()
                lines.append(line)
                v = "\n    ".join(lines)
            folded.append((k, v))
        block._headers = folded
    return msg


def reencode(msg, how):
    for part in leaves(msg):
        raw = part.get_payload(decode=True)
        if raw is None:
            continue
        if how == "base64":
            body = base64.encodebytes(raw).decode("ascii")
            cte = "base64"
        else:
            body = quopri.encodestring(raw).decode("ascii")
            cte = "quoted-printable"
        part.set_payload(body)
        del part["Content-Transfer-Encoding"]
        part["Content-Transfer-Encoding"] = cte
        if "MIME-Version" not in msg:
            msg["MIME-Version"] = "1.0"
    return msg


def lower_names(msg):
    for part in parts(msg):
        items = part._headers
        part._headers = [(k.lower(), v) for k, v in items]
    return msg


def noise(msg):
    items = list(msg._headers)
    extra = [
        ("Received", "from relay%d.example.net (relay%d.example.net [192.0.2.%d])\n\tby mx%d.example.org with ESMTP id X%d;\n\tThu, 1 Jan 2026 00:00:0%d +0000" % (i, i, i + 10, i, i, i))
        for i in range(5)
    ]
    extra += [
        ("DKIM-Signature", "v=1; a=rsa-sha256; d=example.net; s=s1;\n\tb=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
        ("X-Spam-Status", "No, score=-0.1 required=5.0"),
        ("X-Virus-Scanned", "clamav-milter 0.103 at relay0"),
    ]
    msg._headers = extra + items
    return msg


def new_boundaries(msg):
    n = 0
    for part in parts(msg):
        if part.is_multipart() and part.get_boundary():
            n += 1
            part.set_boundary("=_outcry_metamorphic_%d_=" % n)
    return msg


TRANSFORMS = {
    "identity": lambda m: m,
    "base64": lambda m: reencode(m, "base64"),
    "qp": lambda m: reencode(m, "qp"),
    "case": lower_names,
    "noise": noise,
    "boundary": new_boundaries,
    "dsn-order": dsn_reorder,
    "dsn-fold": dsn_fold,
}


def write(msg):
    out = io.BytesIO()
    email.generator.BytesGenerator(out, mangle_from_=False, maxheaderlen=0, policy=POLICY).flatten(msg)
    return out.getvalue()


def analyze(root):
    out = subprocess.run([OUTCRY, "analyze", "-q", "--format", "jsonl", root], capture_output=True, cwd=root)
    got = collections.defaultdict(list)
    for line in out.stdout.decode("utf-8", "replace").splitlines():
        d = json.loads(line)
        rel = os.path.relpath(os.path.join(root, d["file"]), root)
        got[rel].append((d.get("recipient"), d.get("reason"), d.get("deliverystatus"), d.get("replycode")))
    return {k: sorted(v, key=lambda r: tuple(str(x) for x in r)) for k, v in got.items()}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--show", type=int, default=15)
    ap.add_argument("--only")
    args = ap.parse_args()
    # One message per file, LF line endings (the CRLF and bare-CR copies are
    # twins of these, and Python's writer would mix line endings in them).
    files = [
        d["file"]
        for d in map(json.loads, open(os.path.join(CORPUS, "dev-files.jsonl")))
        if d["variant"] == "lf" and not d["file"].startswith("mailbox/")
    ]
    work = tempfile.mkdtemp(prefix="outcry-meta-")
    names = [args.only] if args.only else list(TRANSFORMS)
    for name in ["original"] + names:
        os.makedirs(os.path.join(work, name))
    skipped = 0
    for f in files:
        raw = open(os.path.join(CORPUS, f), "rb").read()
        if raw.count(b"\nFrom ") + raw.startswith(b"From ") > 1:
            skipped += 1  # two messages in one file; Python reads one
            continue
        key = f.replace("/", "__")
        try:
            parsed = email.message_from_bytes(raw, policy=POLICY)
            outs = {n: write(TRANSFORMS[n](copy.deepcopy(parsed))) for n in names}
        except Exception:
            skipped += 1
            continue
        open(os.path.join(work, "original", key), "wb").write(raw)
        for n, b in outs.items():
            open(os.path.join(work, n, key), "wb").write(b)
    base = analyze(os.path.join(work, "original"))
    print("%d files, %d skipped (two messages in one file, or Python could not rewrite them); work in %s" % (len(files) - skipped, skipped, work))
    for n in names:
        got = analyze(os.path.join(work, n))
        diffs = [k for k in base if got.get(k) != base[k]]
        print("%-9s %3d files differ" % (n, len(diffs)))
        for k in diffs[: args.show]:
            print("   %s\n     was %s\n     now %s" % (k, base[k], got.get(k)))


if __name__ == "__main__":
    main()
