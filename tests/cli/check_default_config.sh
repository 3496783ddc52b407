#!/bin/sh
# check_default_config.sh PLUGIO SOURCE_DIR BUILD_DIR - the repository's
# default configuration (config/plugio.yaml) checks clean against the
# plugins of this build.  The file points at ../build/plugins; the test
# checks the same file with those paths made absolute into BUILD_DIR, so it
# tests this build whatever other build trees exist, and its ../web/
# directories (the demo page, the Admin UI) made absolute into SOURCE_DIR.
. "$(dirname "$0")/lib.sh"
plugio=$1
src=$2
build=$3

sed -e "s|\\.\\./build/|$build/|g" -e "s|\\.\\./web/|$src/web/|g" "$src/config/plugio.yaml" >"$scratch/plugio.yaml"
grep -qF "$build/plugins/" "$scratch/plugio.yaml" || fail "config/plugio.yaml no longer names ../build/plugins"

mkdir "$scratch/run"
XDG_RUNTIME_DIR=$scratch/run run "$plugio" --check "$scratch/plugio.yaml"
expect_rc 0 "--check config/plugio.yaml"
expect_line "$out" "$scratch/plugio.yaml: OK (4 plugins, 13 events)" "--check reports what it loaded"
expect_clean "--check config/plugio.yaml"
[ -z "$(ls -A "$scratch/run")" ] || fail "--check left its private plugin copies behind: $(ls -R "$scratch/run")"

run "$plugio" -c "$scratch/plugio.yaml"
expect_rc 0 "-c config/plugio.yaml"

finish
