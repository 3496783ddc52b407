#!/bin/sh
# check_reports_all_mistakes_at_once.sh PLUGIO PLUGIN_DIR - SPEC: "plugio
# --check FILE loads everything, reports every error it finds (not only the
# first)".  One file with four kinds of mistake - an unknown key, an
# unknown plugin in a handler, a symbol the plugin does not export, a
# missing plugin file - gets four file:line:column lines in one run.
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
  gone: $scratch/libgone.so
events:
  - name: hello
    handler: good:on_event
  - name: typo
    handler: good:on_evnt
  - name: lost
    handler: nosuch:on_event
YAML

run "$plugio" --check "$scratch/bad.yaml"
expect_rc 2 "--check with four mistakes"
expect_line "$err" "$scratch/bad.yaml:4:3: unknown server key 'colour'" "unknown key"
expect_line "$err" "$scratch/bad.yaml:14:14: unknown plugin 'nosuch'" "unknown plugin in a handler"
expect_line "$err" "$scratch/bad.yaml:12:14: plugin 'good'" "symbol the plugin does not export"
expect_line "$err" "$scratch/bad.yaml:7:9: plugin 'gone': cannot open" "missing plugin file"
expect_line "$err" "4 errors" "the summary counts every mistake"
expect_clean "--check with four mistakes"

finish
