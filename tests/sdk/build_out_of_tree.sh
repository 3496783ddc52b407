#!/bin/sh
# build_out_of_tree.sh PLUGIO BUILD_DIR - the SDK as a plugin author gets
# it: install plugio to a prefix, build tests/sdk/hello.c against that
# prefix with pkg-config and with CMake's find_package, and have
# `plugio --check` load both builds.
here=$(cd "$(dirname "$0")" && pwd)
plugio=$1
build=$2
cc=${CC:-cc}

scratch=$(mktemp -d "${TMPDIR:-/tmp}/plugio-sdk.XXXXXX") || exit 1
trap 'rm -rf "$scratch"' EXIT
prefix=$scratch/prefix

failures=0
fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}
die() {
    fail "$*"
    exit 1
}

cmake --install "$build" --prefix "$prefix" >"$scratch/install.log" 2>&1 ||
    { cat "$scratch/install.log" >&2; die "cmake --install failed"; }

# GNUInstallDirs picks lib, lib64 or lib/<multiarch> depending on the
# platform and prefix: find the files rather than guess.
pc=$(find "$prefix" -name plugio.pc | head -n 1)
[ -n "$pc" ] || die "no plugio.pc installed under $prefix"
config=$(find "$prefix" -name plugioConfig.cmake | head -n 1)
[ -n "$config" ] || die "no plugioConfig.cmake installed under $prefix"
[ -f "$prefix/include/plugio/plugio.h" ] || die "plugio.h not installed in include/plugio"

# (a) pkg-config
pcdir=$(dirname "$pc")
cflags=$(PKG_CONFIG_PATH=$pcdir pkg-config --cflags plugio) || die "pkg-config --cflags plugio failed"
# The -I directory must be the prefix's include directory, however the .pc
# spells it (a literal path or one relative to ${pcfiledir}).
incdir=$(printf '%s\n' $cflags | sed -n 's/^-I//p' | head -n 1)
want=$(cd "$prefix/include" && pwd -P)
got=$( [ -n "$incdir" ] && cd "$incdir" 2>/dev/null && pwd -P)
[ "$got" = "$want" ] ||
    fail "plugio.pc installed to $pcdir points outside the prefix: cflags '$cflags' (want -I$prefix/include)"
version=$(PKG_CONFIG_PATH=$pcdir pkg-config --modversion plugio)
[ "$version" = "0.1.0" ] || fail "pkg-config --modversion plugio says '$version'"
# shellcheck disable=SC2086
$cc -std=c11 -Wall -Wextra -Werror -shared -fPIC $cflags "$here/hello.c" -o "$scratch/hello_pc.so" ||
    fail "building with pkg-config flags failed"

# (b) CMake find_package
cmake -S "$here" -B "$scratch/build" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_C_COMPILER="$cc" \
    >"$scratch/configure.log" 2>&1 || { cat "$scratch/configure.log" >&2; die "cmake configure failed"; }
cmake --build "$scratch/build" >"$scratch/build.log" 2>&1 ||
    { cat "$scratch/build.log" >&2; die "cmake build failed"; }
cmake_so=$(find "$scratch/build" -name 'libhello.so' | head -n 1)
target_so=$(find "$scratch/build" -name 'libhello_target.so' | head -n 1)
[ -n "$cmake_so" ] || die "plugio_add_plugin built no libhello.so"
[ -n "$target_so" ] || die "plugio::sdk built no libhello_target.so"

# Only what PIO_EXPORT marks is visible.
if command -v nm >/dev/null 2>&1; then
    for so in "$scratch/hello_pc.so" "$cmake_so"; do
        [ -f "$so" ] || continue
        syms=$(nm -D --defined-only "$so")
        for want in pio_plugin on_hello hello_init; do
            echo "$syms" | grep -qw "$want" || fail "$so does not export $want"
        done
        ! echo "$syms" | grep -qw hello_helper || fail "$so exports hello_helper: visibility is not hidden"
    done
fi

# The pkg-config build is checked on its own, so a broken .pc does not
# hide how the CMake builds fare.
check() {
    "$plugio" --check "$1" >"$scratch/check.out" 2>&1
    rc=$?
    cat "$scratch/check.out"
    [ "$rc" -eq 0 ] || fail "plugio --check exited $rc for $2"
    grep -qF "OK ($3 plugin" "$scratch/check.out" || fail "plugio --check did not report OK for $2"
    if grep -qE "LeakSanitizer|AddressSanitizer|runtime error" "$scratch/check.out"; then
        fail "sanitizer report for $2"
    fi
}

cat >"$scratch/pc.yaml" <<YAML
plugins:
  by_pkgconfig: $scratch/hello_pc.so
events:
  - name: hello
    handler: by_pkgconfig:on_hello
YAML
check "$scratch/pc.yaml" "the pkg-config build" 1

cat >"$scratch/cmake.yaml" <<YAML
plugins:
  by_cmake: $cmake_so
  by_target: $target_so
events:
  - name: hello
    handler: by_cmake:on_hello
  - name: hello
    namespace: /target
    handler: by_target:on_hello
hooks:
  init: by_cmake:hello_init
YAML
check "$scratch/cmake.yaml" "the CMake builds" 2

cat >"$scratch/plugio.yaml" <<YAML
plugins:
  by_pkgconfig: $scratch/hello_pc.so
  by_cmake: $cmake_so
  by_target: $target_so
events:
  - name: hello
    handler: by_pkgconfig:on_hello
  - name: hello
    namespace: /cmake
    handler: by_cmake:on_hello
  - name: hello
    namespace: /target
    handler: by_target:on_hello
hooks:
  init: by_cmake:hello_init
YAML

check "$scratch/plugio.yaml" "all three builds" 3
if [ "$failures" -ne 0 ]; then
    echo "$failures check(s) failed" >&2
    exit 1
fi
echo "all checks passed"
