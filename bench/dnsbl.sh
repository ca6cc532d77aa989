#!/usr/bin/env bash
# 10,000 (IP, list) lookups against a local rbldnsd: `outcry check` beside
# Debian's rblcheck doing the same lookups in the same run.
#
# rblcheck asks the system resolver (port 53 from /etc/resolv.conf), so the
# script runs rbldnsd on 127.0.0.1:53 and gives rblcheck a private
# resolv.conf in its own mount namespace (root and `unshare` needed; nothing
# on the machine is changed). Needs: rbldnsd, rblcheck (apt-get install
# rbldnsd rblcheck). Traffic stays on loopback.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${N:-10000}
work=$(mktemp -d)
chmod 755 "$work"
cleanup() { [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

cargo build --release --quiet --bin outcry
bin=$PWD/target/release/outcry

# n addresses in 198.18.0.0/15 (benchmarking range); every third is listed.
python3 - "$n" "$work" <<'PY'
import sys, ipaddress
n, work = int(sys.argv[1]), sys.argv[2]
base = int(ipaddress.IPv4Address("198.18.0.1"))
ips = [str(ipaddress.IPv4Address(base + i)) for i in range(n)]
open(f"{work}/ips.txt", "w").write("\n".join(ips) + "\n")
open(f"{work}/zone", "w").write(":127.0.0.2:listed for the benchmark\n" + "\n".join(ips[::3]) + "\n")
open(f"{work}/catalog.json", "w").write('{"lists":[{"id":"bench","name":"Bench","zone":"bench.dnsbl.test","kind":"ip4","codes":{"127.0.0.2":{"meaning":"listed"}}}]}')
PY
chmod 644 "$work"/*

if ss -lun 2>/dev/null | grep -q '127.0.0.1:53 \|0.0.0.0:53 \|\*:53 '; then
  echo "port 53 on 127.0.0.1 is busy; stop the local DNS server first" >&2; exit 1
fi
rbldnsd -n -b 127.0.0.1/53 -r "$work" bench.dnsbl.test:ip4set:zone >/dev/null 2>&1 &
pid=$!
sleep 1
echo "nameserver 127.0.0.1" > "$work/resolv.conf"

t0=$(date +%s.%N)
"$bin" check --quiet --no-ptr --resolver 127.0.0.1:53 --catalog "$work/catalog.json" --lists bench \
  --format json --input "$work/ips.txt" > "$work/outcry.json" || true
t1=$(date +%s.%N)
listed_outcry=$(python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(sum(1 for r in d if r['lists'][0]['status']=='listed'))" "$work/outcry.json")

t2=$(date +%s.%N)
unshare -m sh -c "mount --bind '$work/resolv.conf' /etc/resolv.conf && rblcheck -q -c -s bench.dnsbl.test - < '$work/ips.txt'" > "$work/rblcheck.txt" || true
t3=$(date +%s.%N)
listed_rblcheck=$(wc -w < "$work/rblcheck.txt")

awk -v n="$n" -v a="$t0" -v b="$t1" -v c="$t2" -v d="$t3" -v lo="$listed_outcry" -v lr="$listed_rblcheck" 'BEGIN{
  so=b-a; sr=d-c;
  printf "outcry check   %6d lookups %7.2f s %9.0f lookups/s  (%d listed)\n", n, so, n/so, lo;
  printf "rblcheck       %6d lookups %7.2f s %9.0f lookups/s  (%d listed)\n", n, sr, n/sr, lr;
  printf "ratio          %.1fx rblcheck\n", sr/so }'
