#!/bin/sh
# check_reports_schema_mistakes.sh PLUGIO PLUGIN_DIR - mistakes in the
# file's own structure are each reported as file:line:column, all at once.
. "$(dirname "$0")/lib.sh"
plugio=$1
plugins=$2

cat >"$scratch/bad.yaml" <<YAML
server:
  host: 127.0.0.1
  port: 0
  colour: blue
plugins:
  good: $plugins/tp_good/libtp_good.so
events:
  - name: hello
    handler: good:on_event
  - name: lost
    handler: nosuch:on_event
  - name: hello
    handler: good:on_event
YAML

run "$plugio" --check "$scratch/bad.yaml"
expect_rc 2 "--check with schema mistakes"
expect_line "$err" "$scratch/bad.yaml:4:3: unknown server key 'colour'" "unknown key"
expect_line "$err" "$scratch/bad.yaml:11:14: unknown plugin 'nosuch'" "unknown plugin in a handler"
expect_line "$err" "$scratch/bad.yaml:12:" "duplicate (namespace, event)"
expect_line "$err" "3 errors" "the summary counts every mistake"
expect_no "$out" "OK" "no OK on stdout"
expect_clean "--check with schema mistakes"

finish
