#!/bin/sh
# check_reports_plugin_mistakes.sh PLUGIO PLUGIN_DIR - a missing plugin
# file, a symbol the plugin does not export and a plugin built for another
# ABI are each reported as file:line:column, all at once; so is a handler
# that names a data object or a function of a library the plugin links.
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

# echo:pio_plugin would be called into the descriptor, auth:puts into libc
# (or the sanitizer's puts) at the first event: neither passes --check.
cat >"$scratch/symbols.yaml" <<YAML
plugins:
  echo: $plugins/tp_symbols/libtp_symbols.so
  auth: $plugins/tp_symbols/libtp_symbols.so
events:
  - name: fine
    handler: echo:on_event
  - name: hello
    handler: echo:pio_plugin
  - name: login
    handler: auth:puts
hooks:
  init: auth:tp_per_thread
YAML

run "$plugio" --check "$scratch/symbols.yaml"
expect_rc 2 "--check with handlers that are not the plugin's functions"
expect_line "$err" "$scratch/symbols.yaml:8:14: plugin 'echo' ($plugins/tp_symbols/libtp_symbols.so): 'pio_plugin' is a data object, not a function" "data symbol"
expect_line "$err" "$scratch/symbols.yaml:10:14: plugin 'auth' ($plugins/tp_symbols/libtp_symbols.so): 'puts' is defined in lib" "a dependency's function"
expect_line "$err" ", not in the plugin" "a dependency's function is named as such"
expect_line "$err" "$scratch/symbols.yaml:12:9: plugin 'auth' ($plugins/tp_symbols/libtp_symbols.so): 'tp_per_thread' is a thread-local variable, not a function" "thread-local variable"
expect_line "$err" "3 errors" "each refused reference counts"
expect_no "$out" "OK" "nothing passes"
expect_clean "--check with handlers that are not the plugin's functions"

finish
