# lib.sh - shared by the command-line tests: a scratch directory removed
# on exit, and checks that print what the user saw when they fail.

failures=0
scratch=$(mktemp -d "${TMPDIR:-/tmp}/plugio-cli.XXXXXX") || exit 1
trap 'rm -rf "$scratch"' EXIT

fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}

# run CMD... : runs CMD with stdout in $out, stderr in $err and the exit
# status in $rc.
run() {
    "$@" >"$scratch/stdout" 2>"$scratch/stderr"
    rc=$?
    out=$(cat "$scratch/stdout")
    err=$(cat "$scratch/stderr")
}

show() {
    echo "--- exit status: $rc" >&2
    echo "--- stdout:" >&2
    printf '%s\n' "$out" >&2
    echo "--- stderr:" >&2
    printf '%s\n' "$err" >&2
}

expect_rc() {
    [ "$rc" -eq "$1" ] || { fail "$2: expected exit status $1, got $rc"; show; }
}

# expect_line TEXT STRING WHAT : TEXT has a line that starts with STRING.
expect_line() {
    printf '%s\n' "$1" | grep -qF -- "$2" || { fail "$3: no line containing '$2'"; show; }
}

expect_no() {
    if printf '%s\n' "$1" | grep -qF -- "$2"; then
        fail "$3: unexpected '$2'"
        show
    fi
}

# Sanitizer reports never pass silently.
expect_clean() {
    expect_no "$err" "LeakSanitizer" "$1"
    expect_no "$err" "AddressSanitizer" "$1"
    expect_no "$err" "runtime error" "$1"
}

finish() {
    if [ "$failures" -ne 0 ]; then
        echo "$failures check(s) failed" >&2
        exit 1
    fi
    echo "all checks passed"
    exit 0
}
