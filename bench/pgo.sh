#!/usr/bin/env bash
# Builds target/pgo/outcry: the `release-lto` build, optimised again with
# the profile of a training run (profile-guided optimisation, PGO). The
# engine is branchy code (which MTA wrote this, which shape has this line);
# laid out for the branches real bounces take, it needs 3-5% less CPU time
# (25 paired runs on the benchmark's mbox, session 11: 3.4% on average).
# It gives the same records: only the machine code's layout and inlining
# differ.
#
#   bench/pgo.sh            # prints the path of the binary it built
#
# Training input: the bounces in samples/ (the demo's and the scenarios'
# Microsoft 365, Postfix, Exim, Gmail, qmail notices and the noise beside
# them), not the Sisimai corpus the benchmark reads, so that the benchmark
# does not measure a build trained on its own input. A profile trained on
# the corpus itself gained about as much (4.5%).
#
# Needs `llvm-profdata` of the LLVM that rustc uses (`rustc -vV`): the
# rustup component (`rustup component add llvm-tools`) or Debian's
# llvm-NN package. Takes about 10 minutes on 2 cores (two full builds).
set -euo pipefail
cd "$(dirname "$0")/.."

llvm_major=$(rustc -vV | sed -n 's/^LLVM version: \([0-9]*\).*/\1/p')
sysroot_tool="$(rustc --print sysroot)/lib/rustlib/$(rustc -vV | sed -n 's/^host: //p')/bin/llvm-profdata"
profdata=""
for candidate in "$sysroot_tool" "$(command -v "llvm-profdata-$llvm_major" || true)" \
    "/usr/lib/llvm-$llvm_major/bin/llvm-profdata"; do
    if [ -n "$candidate" ] && [ -x "$candidate" ]; then
        profdata=$candidate
        break
    fi
done
if [ -z "$profdata" ]; then
    echo "pgo: no llvm-profdata for LLVM $llvm_major (rustup component add llvm-tools," >&2
    echo "     or apt-get install llvm-$llvm_major)" >&2
    exit 1
fi

work=$PWD/target/pgo-work
rm -rf "$work/profiles"
RUSTFLAGS="-Cprofile-generate=$work/profiles" \
    cargo build --profile release-lto --quiet --target-dir "$work/generate" --bin outcry -p outcry-cli
# The build scripts of the dependencies ran instrumented too: their
# profiles are not the engine's.
rm -rf "$work/profiles"
# (The .eml files only: samples/ also holds scripts and data, which outcry
# reports as not mail, with a failing exit status.)
find samples -name '*.eml' -print0 |
    xargs -0 "$work/generate/release-lto/outcry" analyze --quiet --format jsonl >/dev/null
"$profdata" merge -o "$work/outcry.profdata" "$work/profiles"
RUSTFLAGS="-Cprofile-use=$work/outcry.profdata" \
    cargo build --profile release-lto --quiet --target-dir "$work/use" --bin outcry -p outcry-cli
mkdir -p target/pgo
cp "$work/use/release-lto/outcry" target/pgo/outcry
echo target/pgo/outcry
