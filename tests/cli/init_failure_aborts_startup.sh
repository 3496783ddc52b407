#!/bin/sh
# init_failure_aborts_startup.sh PLUGIO PLUGIN_DIR - a hooks.init that
# returns an error stops start-up: plugio exits 1 with the plugin's message
# and never starts listening.
. "$(dirname "$0")/lib.sh"
plugio=$1
plugins=$2

cat >"$scratch/init.yaml" <<YAML
server:
  host: 127.0.0.1
  port: 0
plugins:
  db: $plugins/tp_init_fail/libtp_init_fail.so
events:
  - name: connection
    handler: db:on_event
hooks:
  init: db:init
YAML

# --check does not run hooks: the file itself is fine.
run "$plugio" --check "$scratch/init.yaml"
expect_rc 0 "--check of a config whose init fails at run time"

mkdir "$scratch/run"
XDG_RUNTIME_DIR=$scratch/run run timeout 30 "$plugio" "$scratch/init.yaml"
[ "$rc" -ne 124 ] || fail "plugio kept running after its init hook failed"
expect_rc 1 "serving with a failing init hook"
expect_line "$err" "database unreachable" "the plugin's message is shown"
expect_line "$err" "db:init" "the hook is named"
expect_no "$err" "listening on" "the server never listens"
expect_no "$out" "listening on" "the server never listens"
expect_clean "serving with a failing init hook"
[ -z "$(ls -A "$scratch/run")" ] || fail "plugio left its private plugin copies behind: $(ls -R "$scratch/run")"

finish
