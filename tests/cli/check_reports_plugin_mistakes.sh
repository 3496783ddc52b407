#!/bin/sh
# check_reports_plugin_mistakes.sh PLUGIO PLUGIN_DIR - a missing plugin
# file, a symbol the plugin does not export and a plugin built for another
# ABI are each reported as file:line:column, all at once.
. "$(dirname "$0")/lib.sh"
plugio=$1
plugins=$2

cat >"$scratch/bad.yaml" <<YAML
plugins:
  good: $plugins/tp_good/libtp_good.so
  gone: $scratch/libgone.so
  future: $plugins/tp_abi_major/libtp_abi_major.so
events:
  - name: hello
    handler: good:on_event
  - name: typo
    handler: good:on_evnt
  - name: lost
    handler: gone:on_event
YAML

run "$plugio" --check "$scratch/bad.yaml"
expect_rc 2 "--check with plugin mistakes"
expect_line "$err" "$scratch/bad.yaml:3:9: plugin 'gone': cannot open $scratch/libgone.so" "missing plugin file"
expect_line "$err" "$scratch/bad.yaml:4:11: plugin 'future'" "ABI mismatch"
expect_line "$err" "does not export 'on_evnt'" "missing symbol"
expect_line "$err" "$scratch/bad.yaml:9:14: plugin 'good'" "missing symbol at its handler"
expect_line "$err" "3 errors" "the summary counts every mistake"
expect_no "$err" "'gone' (" "a plugin that failed to load is not reported again per handler"
expect_clean "--check with plugin mistakes"

finish
