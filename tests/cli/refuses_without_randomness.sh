#!/bin/sh
# refuses_without_randomness.sh PLUGIO PLUGIN_DIR PRELOAD - when the kernel
# gives no random bytes (getrandom and getentropy fail: PRELOAD, built from
# fail_getrandom.c, is LD_PRELOADed), plugio refuses to start instead of
# drawing session ids and its hash key from something guessable: a
# non-zero exit, the reason on stderr, never listening.  The same
# configuration without the preload starts, so the refusal is the
# randomness and nothing else.
. "$(dirname "$0")/lib.sh"
plugio=$1
plugins=$2
preload=$3
[ -f "$preload" ] || { fail "no preload library at $preload (build the fail_getrandom target)"; finish; }

cat >"$scratch/plugio.yaml" <<YAML
server: { host: 127.0.0.1, port: 0 }
plugins:
  good: $plugins/tp_good/libtp_good.so
events:
  - { name: ping, handler: "good:on_event" }
YAML
mkdir "$scratch/run"
# An ASan build wants its runtime first in the link order; the preload
# comes before it on purpose.
asan="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"

for reason in ENOSYS EIO; do
    case $reason in
    ENOSYS) text="Function not implemented" ;;
    EIO) text="Input/output error" ;;
    esac
    XDG_RUNTIME_DIR=$scratch/run ASAN_OPTIONS=$asan FAIL_GETRANDOM_ERRNO=$reason \
        LD_PRELOAD=$preload run timeout 10 "$plugio" "$scratch/plugio.yaml"
    [ "$rc" -ne 124 ] || fail "$reason: plugio kept running without random bytes"
    [ "$rc" -ne 0 ] || { fail "$reason: plugio exited 0 without random bytes"; show; }
    expect_line "$err" "plugio: no random bytes from the kernel (getrandom: $text); refusing to start, as session ids would be guessable" \
        "$reason: the refusal names its reason"
    expect_no "$err" "listening on" "$reason: the server never listens"
    expect_clean "$reason: refusing to start"
done

# The same configuration, the kernel answering: it starts, and stops on SIGTERM.
XDG_RUNTIME_DIR=$scratch/run timeout 10 "$plugio" "$scratch/plugio.yaml" 2>"$scratch/plugio.err" &
pid=$!
started=no
for _ in $(seq 100); do
    grep -q 'listening on 127\.0\.0\.1:' "$scratch/plugio.err" && { started=yes; break; }
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
done
[ "$started" = yes ] || fail "the same configuration did not start normally: $(cat "$scratch/plugio.err")"
kill -TERM "$pid" 2>/dev/null
wait "$pid"
rc=$?
[ "$rc" -eq 0 ] || fail "the normal run exited $rc after SIGTERM: $(cat "$scratch/plugio.err")"
err=$(cat "$scratch/plugio.err")
expect_no "$err" "no random bytes" "the normal run has its random bytes"
expect_clean "the normal run"
finish
