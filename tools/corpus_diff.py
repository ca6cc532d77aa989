#!/usr/bin/env python3
"""Print the Sisimai-corpus rows outcry gets wrong, with both diagnostics.

    target/release/outcry analyze --format jsonl ../shared/corpus/sisimai/maildir > /tmp/o.jsonl  # from the corpus folder
    python3 tools/corpus_diff.py /tmp/o.jsonl [REASON [ACTUAL_REASON]]

Pairs rows like shared/tools/score_against_expected.py (recipient, then
index) on the LF originals; a working aid for rule work, not a test."""
import json
import sys

import os

expected_path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../shared/corpus/sisimai/dev-expected.jsonl")
actual_path = sys.argv[1]
want = sys.argv[2] if len(sys.argv) > 2 else None
got = sys.argv[3] if len(sys.argv) > 3 else None

actual = {}
for line in open(actual_path):
    a = json.loads(line)
    actual.setdefault(a["file"], []).append(a)

for line in open(expected_path):
    e = json.loads(line)
    if e.get("variant") != "lf":
        continue
    rows = actual.get(e["file"], [])
    a = next((r for r in rows if r["recipient"].lower() == (e.get("recipient") or "").lower()), None)
    if a is None and len(rows) >= e["index"]:
        a = rows[e["index"] - 1]
    if a and a["reason"] == e["reason"] and a["deliverystatus"] == e["deliverystatus"]:
        continue
    if want and e["reason"] != want:
        continue
    if got and str(a and a["reason"]) != got:
        continue
    print(e["file"], "expected", e.get("recipient"), e["reason"], e["deliverystatus"], e["replycode"], e.get("command"))
    print("   expected diagnostic:", (e.get("diagnosticcode") or "")[:200])
    if a:
        print("   got", a["recipient"], a["reason"], a["deliverystatus"], a["replycode"], a["command"])
        print("   got diagnostic:", a["diagnosticcode"][:200])
