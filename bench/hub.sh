#!/usr/bin/env bash
# Load on the hub over loopback: `outcry hub serve` (SQLite, rate limits
# off) driven by wrk with realistic fingerprint submissions from 200
# registered organisations (random provider pools, local refs and hashed
# recipient domains). Prints submissions/s and p50/p99 latency on a fresh
# hub, then fills it to $TARGET stored fingerprints (default 1,000,000) and
# prints the hub's memory, the database size and the same figures again.
# Needs: wrk (apt-get install wrk), python3, curl.
set -euo pipefail
cd "$(dirname "$0")/.."
target=${TARGET:-1000000}
secs=${SECS:-20}
work=$(mktemp -d)
port=${PORT:-18490}
cleanup() { [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

cargo build --release --quiet --bin outcry
bin=$PWD/target/release/outcry
"$bin" hub serve --listen 127.0.0.1:$port --db "$work/hub.db" \
  --rate-per-ip 0 --rate-per-org 0 --registrations-per-hour 0 >"$work/serve.log" 2>&1 &
pid=$!
for _ in $(seq 50); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done

for i in $(seq 200); do
  curl -fs -X POST -H 'content-type: application/json' -d "{\"name\":\"org $i\"}" \
    "http://127.0.0.1:$port/api/v1/orgs" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])'
done >"$work/tokens"

cat >"$work/submit.lua" <<LUA
local tokens = {}
for line in io.lines("$work/tokens") do tokens[#tokens + 1] = line end
math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
wrk.method = "POST"
local function hex(n) local t = {} for i = 1, n do t[i] = string.format("%x", math.random(0, 15)) end return table.concat(t) end
request = function()
  local a, b = math.random(1, 250), math.random(0, 255)
  local first = 1793800000 + math.random(0, 86400 * 30)
  local body = string.format(
    '{"version":1,"local_ref":"h:%s","provider":"Microsoft 365 / Exchange Online Protection","family":"reputation",' ..
    '"scope":"pool:40.%d.%d.0/24","sending_ips":["40.%d.%d.%d"],"sending_ranges":["40.%d.%d.0/24"],"status_codes":["5.7.1"],' ..
    '"blocklists":["spamhaus"],"rejecting_orgs":["outlook.com","h:%s"],' ..
    '"templates":["550 5.7.1 Service unavailable; Client host [<ip>] blocked using zen.spamhaus.org"],' ..
    '"first_seen":%d,"last_seen":%d,"failures":%d,"recipient_domains":["h:%s","h:%s","h:%s"],' ..
    '"verdict":"provider","confidence":0.9,"ticket":{"number":"MS-%d","status":"open"},"claims":[]}',
    hex(16), a, b, a, b, math.random(1, 254), a, b, hex(16), first, first + math.random(0, 86400),
    math.random(1, 200), hex(16), hex(16), hex(16), math.random(100000, 999999))
  return wrk.format(nil, "/api/v1/fingerprints",
    { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. tokens[math.random(#tokens)] }, body)
end
local errors = 0
response = function(status) if status >= 300 then errors = errors + 1 end end
done = function(summary, latency, requests)
  io.write(string.format("RESULT %.0f %.2f %.2f %d %d\n", summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, summary.requests,
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
LUA

stored() { python3 -c "import sqlite3,sys; print(sqlite3.connect('file:$work/hub.db?mode=ro', uri=True).execute('select count(*) from submissions').fetchone()[0])"; }
measure() {
  local r
  r=$(wrk -t2 -c32 -d"${secs}s" -s "$work/submit.lua" "http://127.0.0.1:$port" | grep '^RESULT')
  read -r _ rps p50 p99 n errs <<<"$r"
  printf '%-34s %8s submissions/s  p50 %6s ms  p99 %6s ms  (%s requests, %s non-2xx/errors)\n' "$1" "$rps" "$p50" "$p99" "$n" "$errs"
}

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo); $(date -u +%F)"
measure "fresh hub:"
while [ "$(stored)" -lt "$target" ]; do
  wrk -t2 -c32 -d30s -s "$work/submit.lua" "http://127.0.0.1:$port" >/dev/null
  echo "  ... $(stored) fingerprints stored"
done
measure "with $(stored) stored:"
rss=$(awk '/VmRSS/ {printf "%.0f", $2/1024}' /proc/$pid/status)
hwm=$(awk '/VmHWM/ {printf "%.0f", $2/1024}' /proc/$pid/status)
size=$(du -sm "$work" | cut -f1)
echo "hub memory: ${rss} MiB resident (peak ${hwm} MiB); database ${size} MiB on disk"
joints=$(python3 -c "import sqlite3; print(sqlite3.connect('file:$work/hub.db?mode=ro', uri=True).execute('select count(*) from joint').fetchone()[0])")
echo "joint incidents: $joints"
t0=$(date +%s%N); curl -fs "http://127.0.0.1:$port/api/v1/incidents?limit=100" >/dev/null; t1=$(date +%s%N)
echo "GET /api/v1/incidents?limit=100 at this size: $(( (t1 - t0) / 1000000 )) ms"
