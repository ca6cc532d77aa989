#!/usr/bin/env bash
# Compare the records two outcry binaries give on the same inputs: the
# safety net for engine refactors (a faster path must give the same answers).
#
#   git stash -u; cargo build --release; cp target/release/outcry /tmp/outcry-before; git stash pop
#   cargo build --release
#   tools/records_diff.sh /tmp/outcry-before target/release/outcry ../shared/corpus/sisimai/maildir samples ...
#
# For each input (file or folder) it prints how many records each binary
# gives, how many lines differ and how many inputs each could not read; with
# SHOW=n it prints the first n differing records of each input. Useful
# inputs besides the corpus: ../shared/corpus/sisimai/mailbox, samples/, the
# notices `tools/rewrap_diff.py --keep DIR` writes, fuzz/corpus/analyze (the
# fuzzer's inputs), flufl.bounce's bounces (see tools/flufl_diff.py).
# Working aid, not a test. Exit status 1 when anything differs.
set -uo pipefail
if [ $# -lt 3 ]; then
    echo "usage: $0 OLD-BINARY NEW-BINARY INPUT..." >&2
    exit 2
fi
old=$1 new=$2
shift 2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
status=0
for input in "$@"; do
    "$old" analyze -q --format jsonl "$input" 2>"$work/old.err" | sort >"$work/old.jsonl"
    "$new" analyze -q --format jsonl "$input" 2>"$work/new.err" | sort >"$work/new.jsonl"
    diff "$work/old.jsonl" "$work/new.jsonl" >"$work/diff"
    differ=$(grep -c '^[<>]' "$work/diff")
    printf '%s: records %s -> %s, differing lines %s, unreadable %s -> %s\n' "$input" \
        "$(wc -l <"$work/old.jsonl")" "$(wc -l <"$work/new.jsonl")" "$differ" \
        "$(grep -c . "$work/old.err")" "$(grep -c . "$work/new.err")"
    if [ "$differ" -gt 0 ]; then
        status=1
        grep '^[<>]' "$work/diff" | head -n "${SHOW:-0}"
    fi
done
exit $status
