#!/usr/bin/env python3
"""outcry and Sisimai on real bounces from outside the Sisimai corpus.

    cargo build --release
    python3 tools/flufl_diff.py [--show] [--dir DIR]

GNU Mailman's bounce detector, flufl.bounce, ships 117 real bounces from
2001-2023 (Exchange 5.5, GroupWise, Netscape Messaging, SMTP32, MDaemon,
qmail, Postfix, Exim, Yahoo!, AOL, Vade Secure, ...) and, in its tests, the
addresses each one should yield. None of them is in the Sisimai corpus, so
they test what the corpus cannot: rules that only fit the corpus.

The script fetches the flufl.bounce 6.0.0 source from PyPI (pip download)
unless --dir points at an unpacked copy, runs outcry and Debian's Sisimai
(`apt-get install libsisimai-perl`) over the bounces, and prints how many
expected recipients each misses and how often their reasons agree; --show
lists every file where they differ. Sisimai 4.25 is older than the Sisimai 5
the corpus was written with, so a reason it disagrees on is a lead, not a
verdict. Working aid, not a test: it needs the network once and Perl.
"""
import argparse
import ast
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
OUTCRY = os.path.join(ROOT, "target/release/outcry")
SISIMAI = os.path.join(ROOT, "../shared/tools/sisimai_run.pl")
VERSION = "6.0.0"


def fetch(cache):
    """The unpacked flufl.bounce source, downloaded once into `cache`."""
    src = os.path.join(cache, "flufl_bounce-" + VERSION)
    if not os.path.isdir(src):
        os.makedirs(cache, exist_ok=True)
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:",
             "--dest", cache, "flufl.bounce==" + VERSION],
            check=True,
        )
        with tarfile.open(glob.glob(os.path.join(cache, "flufl_bounce-*.tar.gz"))[0]) as t:
            t.extractall(cache, filter="data")
    return src


def expected(src):
    """file name -> the addresses flufl.bounce's tests expect from it."""
    text = open(os.path.join(src, "tests", "test_detectors.py")).read()
    start = text.index("DETECTORS = [")
    end = text.index("\n]\n", start)
    table = ast.literal_eval(text[start + len("DETECTORS = "):end + 2])
    want = collections.defaultdict(set)
    for _module, name, addresses, _temporary in table:
        want[name].update(a.decode().lower() for a in addresses)
    return want


def records(lines):
    out = collections.defaultdict(list)
    for line in lines:
        if line.startswith("{"):
            d = json.loads(line)
            out[os.path.basename(d["file"])].append((d["recipient"].lower(), d["reason"], d["deliverystatus"]))
    return {k: sorted(v) for k, v in out.items()}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--show", action="store_true", help="list the files where outcry and Sisimai differ")
    ap.add_argument("--dir", help="an unpacked flufl.bounce source (default: download it)")
    args = ap.parse_args()
    src = args.dir or fetch(os.path.join(tempfile.gettempdir(), "outcry-flufl"))
    data = os.path.join(src, "tests", "data")
    files = sorted(glob.glob(os.path.join(data, "*.txt")))
    ours = records(subprocess.run([OUTCRY, "analyze", "-q", "--format", "jsonl", *files],
                                  capture_output=True, text=True).stdout.splitlines())
    theirs = records(subprocess.run(["perl", SISIMAI, *files],
                                    capture_output=True, text=True).stdout.splitlines())
    want = expected(src)
    missed = {"outcry": 0, "sisimai": 0}
    agree = both = 0
    for name in sorted(os.path.basename(f) for f in files):
        o, s, w = ours.get(name, []), theirs.get(name, []), want.get(name, set())
        for who, got in (("outcry", o), ("sisimai", s)):
            if w and not w <= {r[0] for r in got}:
                missed[who] += 1
        if o and s:
            both += 1
            agree += [r[1] for r in o] == [r[1] for r in s]
        if args.show and (o != s or (w and not w <= {r[0] for r in o})):
            print("%s  expected %s\n   outcry  %s\n   sisimai %s" % (name, sorted(w), o, s))
    print("%d bounces, %d with expected recipients; recipients missed: outcry %d, Sisimai %d; "
          "reasons agree on %d of the %d both decode"
          % (len(files), sum(1 for f in files if want.get(os.path.basename(f))), missed["outcry"],
             missed["sisimai"], agree, both))


if __name__ == "__main__":
    main()
