#!/usr/bin/env bash
# Load benchmark: Postfix's smtp-source against null sinks, side by side in one run.
#
#   benches/load.sh                 # 20 sessions, 20000 messages of 1 KiB each, 3 rounds
#   benches/load.sh big             # 1 session, 2000 messages of 100 KiB each
#   SESSIONS=20 MESSAGES=50000 SIZE=1024 IDLE=2000 ROUNDS=5 benches/load.sh
#   SERVERS="tokio mailin" IDLE=0 ROUNDS=2 benches/load.sh    # a subset, no idle test
#
# SERVERS picks among: tokio blocking mailin smtp-sink aiosmtpd (default: all), and
# tokio-mt, tokio-t1, tokio-t2: the tokio server with --threads 0 (one multi-threaded
# runtime), 1 and 2 (threads each with a single-threaded runtime), to compare the modes.
#
# Each round runs smtp-source against every server in turn (interleaved, so a drift in
# the machine's load hits all alike); the median round is printed with peak RSS, then
# the memory per idle connection (IDLE connections held open after their greeting,
# measured in the last round). Needs smtp-source
# (Debian: postfix) and python3; aiosmtpd and the mailin-embedded peer are measured when
# available. Numbers vary with the machine: compare ratios within one run.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = big ]; then
    SESSIONS=${SESSIONS:-1}
    MESSAGES=${MESSAGES:-2000}
    SIZE=${SIZE:-102400}
fi
SESSIONS=${SESSIONS:-20}
MESSAGES=${MESSAGES:-20000}
SIZE=${SIZE:-1024}
SERVERS=${SERVERS:-tokio blocking mailin smtp-sink aiosmtpd}
want() { case " $SERVERS " in *" $1 "*) return 0;; *) return 1;; esac; }
IDLE=${IDLE:-2000}
ROUNDS=${ROUNDS:-3}
SMTP_SOURCE=${SMTP_SOURCE:-/usr/sbin/smtp-source}
SMTP_SINK=${SMTP_SINK:-/usr/sbin/smtp-sink}

cargo build --quiet --release --example server --example blocking_server
MAILIN=benches/load-peers/target/release/load-peers
if [ ! -x "$MAILIN" ]; then
    (cd benches/load-peers && cargo build --quiet --release) || echo "note: mailin-embedded peer did not build"
fi

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() {
    for _ in $(seq 1 200); do
        python3 -c "import socket,sys; socket.create_connection(('127.0.0.1',$1),timeout=0.2)" 2>/dev/null && return 0
        sleep 0.05
    done
    return 1
}
kib() { awk -v k="$1" '/^'"$1"':/ {print $2}' "/proc/$2/status"; }

# measure NAME COMMAND... ; the command may contain PORT, replaced by a free port.
# Appends "NAME<TAB>msg/s<TAB>peak KiB<TAB>idle KiB or -<TAB>held" to $RESULTS; the idle
# connections are only opened when IDLE_NOW=1.
measure() {
    local name=$1; shift
    local port; port=$(free_port)
    local cmd=("${@//PORT/$port}")
    "${cmd[@]}" >/dev/null 2>&1 &
    local pid=$!
    if ! wait_port "$port"; then
        echo "$name: did not start"; kill "$pid" 2>/dev/null || true; return
    fi
    local t0 t1
    t0=$(date +%s.%N)
    "$SMTP_SOURCE" -d -s "$SESSIONS" -m "$MESSAGES" -l "$SIZE" -f a@example.org -t b@example.org "127.0.0.1:$port"
    t1=$(date +%s.%N)
    local hwm; hwm=$(kib VmHWM "$pid")
    local per="-" n=0
    if [ "${IDLE_NOW:-0}" = 1 ]; then
        # Idle connections: each reads its greeting, then stays open.
        local before after
        before=$(kib VmRSS "$pid")
        local held=/tmp/load-held.$$
        python3 - "$port" "$IDLE" "$held" <<'PY' &
import socket, sys, time
port, n, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
conns = []
try:
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port), timeout=2)
        s.recv(512)  # the greeting: the server has set the session up
        conns.append(s)
except OSError:
    pass  # a server with a fixed worker pool greets only so many at once
open(out, "w").write(str(len(conns)))
time.sleep(4)
PY
        local idler=$!
        for _ in $(seq 1 100); do [ -s "$held" ] && break; sleep 0.1; done
        sleep 0.5
        after=$(kib VmRSS "$pid")
        n=$(cat "$held" 2>/dev/null || echo 0)
        rm -f "$held"
        wait "$idler" 2>/dev/null || true
        [ "$n" -gt 0 ] && per=$(awk -v a="$after" -v b="$before" -v n="$n" 'BEGIN { printf "%.1f", (a-b)/n }')
    fi
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    awk -v n="$name" -v t0="$t0" -v t1="$t1" -v m="$MESSAGES" -v hwm="$hwm" -v per="$per" -v held="$n" \
        'BEGIN { printf "%s\t%.0f\t%d\t%s\t%d\n", n, m/(t1-t0), hwm, per, held }' >> "$RESULTS"
}

ulimit -n 65536 2>/dev/null || true
grep -m1 "model name" /proc/cpuinfo || true
echo "smtp-source: $SESSIONS sessions, $MESSAGES messages of $SIZE octets; $IDLE idle connections; $ROUNDS rounds"
RESULTS=$(mktemp)
for round in $(seq 1 "$ROUNDS"); do
    [ "$round" = "$ROUNDS" ] && [ "$IDLE" -gt 0 ] && export IDLE_NOW=1
    if want tokio; then measure "smtp-sansio (tokio)" target/release/examples/server --listen 127.0.0.1:PORT --discard; fi
    if want tokio-mt; then measure "smtp-sansio (tokio mt)" target/release/examples/server --listen 127.0.0.1:PORT --discard --threads 0; fi
    if want tokio-t1; then measure "smtp-sansio (tokio t1)" target/release/examples/server --listen 127.0.0.1:PORT --discard --threads 1; fi
    if want tokio-t2; then measure "smtp-sansio (tokio t2)" target/release/examples/server --listen 127.0.0.1:PORT --discard --threads 2; fi
    if want blocking; then measure "smtp-sansio (blocking)" target/release/examples/blocking_server --listen 127.0.0.1:PORT --discard; fi
    if want mailin && [ -x "$MAILIN" ]; then measure "mailin-embedded" "$MAILIN" 127.0.0.1:PORT; fi
    if want smtp-sink && [ -x "$SMTP_SINK" ]; then measure "postfix smtp-sink" "$SMTP_SINK" -u nobody 127.0.0.1:PORT 1024; fi
    if want aiosmtpd && python3 -c "import aiosmtpd" 2>/dev/null; then measure "aiosmtpd" python3 -m aiosmtpd -n -l 127.0.0.1:PORT; fi
done
# Median msg/s per server over the rounds; peak RSS and idle memory from the last round.
python3 - "$RESULTS" <<'PY'
import sys, statistics
rows = {}
for line in open(sys.argv[1]):
    name, rate, hwm, per, held = line.rstrip("\n").split("\t")
    r = rows.setdefault(name, {"rates": []})
    r["rates"].append(int(rate)); r["hwm"] = int(hwm)
    if per != "-":
        r["per"], r["held"] = per, held
for name, r in rows.items():
    rates = " ".join(str(x) for x in r["rates"])
    per = f'{r["per"]:>6} KiB per idle connection ({r["held"]} held)' if "per" in r else ""
    print(f'{name:<22} {statistics.median(r["rates"]):>8.0f} msg/s (rounds: {rates})   peak RSS {r["hwm"]/1024:6.1f} MiB   {per}')
# The target ratio, round by round (each round runs both within seconds of each other).
m = rows.get("mailin-embedded")
for name, t in rows.items():
    if not name.startswith("smtp-sansio (tokio") or not m:
        continue
    each = [a / b for a, b in zip(t["rates"], m["rates"])]
    print(f'{name[13:-1]} / mailin-embedded: {statistics.median(each):.2f} median of rounds '
          f'({" ".join(f"{x:.2f}" for x in each)}); ratio of medians '
          f'{statistics.median(t["rates"]) / statistics.median(m["rates"]):.2f}')
PY
rm -f "$RESULTS"
