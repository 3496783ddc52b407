#!/bin/sh
# bench_smoke.sh PLUGIO LOADGEN BENCH_PLUGIN - a seconds-long run of the
# benchmark load generator (tools/bench/loadgen) against plugio, so that the
# tool cannot rot: 20 clients, one acked event in flight each, for about
# 1.5 s; at least one acked event, no error, none lost, plugio still clean.
# Also a short fanout (join acked by the plugin, broadcasts to the room),
# and 200 connect/disconnect cycles (the soak's load).
. "$(dirname "$0")/lib.sh"
plugio=$1
loadgen=$2
plugin=$3
[ -x "$loadgen" ] || { fail "no load generator at $loadgen (build the loadgen target)"; finish; }

cp "$plugin" "$scratch/libbench.so"
cat >"$scratch/bench.yaml" <<YAML
server: { host: 127.0.0.1, port: 0 }
plugins: { bench: ./libbench.so }
events:
  - { name: ack, handler: "bench:ack" }
  - { name: join, handler: "bench:join" }
  - { name: fanout, handler: "bench:fanout" }
YAML

mkdir "$scratch/run"
XDG_RUNTIME_DIR=$scratch/run timeout 60 "$plugio" "$scratch/bench.yaml" 2>"$scratch/plugio.err" &
pid=$!
port=""
for _ in $(seq 100); do
    port=$(grep -o 'listening on 127\.0\.0\.1:[0-9]*' "$scratch/plugio.err" | cut -d: -f2)
    [ -n "$port" ] && break
    sleep 0.1
done
[ -n "$port" ] || { fail "plugio did not start: $(cat "$scratch/plugio.err")"; finish; }

# result KEY : the value of KEY= in the RESULT line in $out.
result() { printf '%s\n' "$out" | grep '^RESULT ' | tr ' ' '\n' | sed -n "s/^$1=//p"; }

run timeout 30 "$loadgen" --port "$port" --server-pid "$pid" --scenario ack --clients 20 \
    --inflight 1 --warmup 0.2 --duration 1.5 --drain 2
expect_rc 0 "ack: 20 clients x 1 in flight"
expect_line "$out" "RESULT scenario=ack" "ack: loadgen prints its RESULT line"
events=$(result events)
[ "${events:-0}" -gt 0 ] || { fail "ack: no event acked in the window (events=$events)"; show; }
[ "$(result errors)" = 0 ] || { fail "ack: errors=$(result errors)"; show; }
[ "$(result lost)" = 0 ] || { fail "ack: lost=$(result lost)"; show; }
[ "$(result connected)" = 20 ] || { fail "ack: connected=$(result connected), expected 20"; show; }

run timeout 30 "$loadgen" --port "$port" --server-pid "$pid" --scenario fanout --clients 20 \
    --inflight 2 --warmup 0.2 --duration 0.5 --drain 2
expect_rc 0 "fanout: 20 receivers"
deliveries=$(result events)
[ "${deliveries:-0}" -gt 0 ] || { fail "fanout: nothing delivered (events=$deliveries)"; show; }
[ "$(result errors)" = 0 ] || { fail "fanout: errors=$(result errors)"; show; }

# Connect/disconnect cycles (tools/bench/soak's load): every cycle done,
# every acked event answered, binary ones included.
run timeout 30 "$loadgen" --port "$port" --server-pid "$pid" --scenario cycle --clients 20 \
    --inflight 4 --cycles 200 --events 2000 --duration 20
expect_rc 0 "cycle: 200 cycles, 20 at a time"
expect_line "$out" "RESULT scenario=cycle" "cycle: loadgen prints its RESULT line"
[ "$(result cycles_done)" = 200 ] || { fail "cycle: cycles_done=$(result cycles_done), expected 200"; show; }
[ "$(result abrupt)" = 20 ] || { fail "cycle: abrupt=$(result abrupt), expected 1 in 10"; show; }
[ "$(result events)" = 2000 ] || { fail "cycle: events=$(result events), expected 2000"; show; }
[ "$(result acked)" = $((2000 - 200)) ] || { fail "cycle: acked=$(result acked), expected all but the fanouts"; show; }
[ "$(result binaries)" -gt 0 ] || { fail "cycle: no binary event"; show; }
[ "$(result joins)" -gt 0 ] || { fail "cycle: no join"; show; }
[ "$(result errors)" = 0 ] || { fail "cycle: errors=$(result errors)"; show; }
[ "$(result lost)" = 0 ] || { fail "cycle: lost=$(result lost)"; show; }

kill -TERM "$pid"
wait "$pid"
rc=$?
[ "$rc" -eq 0 ] || fail "plugio exited $rc after SIGTERM"
err=$(cat "$scratch/plugio.err")
expect_clean "plugio under the load generator"
expect_no "$err" " ERROR " "plugio logged no error"
finish
