#!/bin/sh
# options.sh PLUGIO - the command line itself: --help, --version, and the
# exit status 2 for a command line that names no configuration.
. "$(dirname "$0")/lib.sh"
plugio=$1

run "$plugio" --help
expect_rc 0 "--help"
expect_line "$out" "Usage: plugio" "--help prints usage on stdout"
expect_line "$out" "--check" "--help documents --check"
expect_clean "--help"

run "$plugio" -h
expect_rc 0 "-h"
expect_line "$out" "Usage: plugio" "-h"

run "$plugio" --version
expect_rc 0 "--version"
expect_line "$out" "plugio 0.1.0" "--version names the release"
# The ABI the SDK header declares, so the test follows every minor bump.
hdr=$(dirname "$0")/../../sdk/include/plugio/plugio.h
abi=$(sed -n 's/^#define PIO_ABI_MAJOR \([0-9]*\)$/\1/p' "$hdr").$(sed -n 's/^#define PIO_ABI_MINOR \([0-9]*\)$/\1/p' "$hdr")
expect_line "$out" "SDK ABI $abi" "--version names the SDK ABI"

run "$plugio" -V
expect_rc 0 "-V"
expect_line "$out" "plugio 0.1.0" "-V"

run "$plugio"
expect_rc 2 "no arguments"
expect_line "$err" "missing configuration FILE" "no arguments says what is missing"
expect_line "$err" "--help" "no arguments points to --help"
expect_no "$out" "Usage" "no arguments keeps stdout clean"

run "$plugio" --check
expect_rc 2 "--check without FILE"

run "$plugio" a.yaml b.yaml
expect_rc 2 "two files"
expect_line "$err" "too many arguments" "two files"

run "$plugio" --no-such-option x.yaml
expect_rc 2 "unknown option"
expect_line "$err" "--help" "unknown option points to --help"

run "$plugio" --log-level loud x.yaml
expect_rc 2 "invalid log level"
expect_line "$err" "invalid log level 'loud'" "invalid log level is named"

run "$plugio" --check "$scratch/absent.yaml"
expect_rc 2 "missing configuration file"
expect_line "$err" "$scratch/absent.yaml" "missing configuration file is named"
expect_clean "missing configuration file"

finish
