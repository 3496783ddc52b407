# Shared set-up for tools/run and tools/test (sourced, not run).
# Installs the Debian packages plugio needs when any is missing, then
# configures and builds into the directory given to plugio_build.
set -euo pipefail

PLUGIO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PLUGIO_PACKAGES=(cmake make gcc pkg-config libwebsockets-dev libyaml-dev libjson-c-dev
                 libcriterion-dev libmsgpack-dev libhiredis-dev zlib1g-dev libpcre2-dev
                 libsodium-dev libcrypt-dev libssl-dev libcurl4-openssl-dev libev-dev libwebsockets-evlib-ev nodejs npm)

# plugio_install_packages [more packages...] (tools/test adds what only the
# tests need, such as haproxy)
plugio_install_packages() {
    local missing=()
    for p in "${PLUGIO_PACKAGES[@]}" "$@"; do
        # nodejs may come from elsewhere than Debian: a working node and npm will do.
        if [[ $p == nodejs || $p == npm ]] && command -v "${p/nodejs/node}" >/dev/null; then
            continue
        fi
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
            missing+=("$p")
    done
    [[ ${#missing[@]} -eq 0 ]] && return 0
    echo "plugio: installing ${missing[*]}" >&2
    local sudo=()
    [[ $(id -u) -ne 0 ]] && sudo=(sudo)
    "${sudo[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends \
        "${missing[@]}"
}

# plugio_build DIR [cmake options...]
plugio_build() {
    local dir=$1
    shift
    cmake -S "$PLUGIO_ROOT" -B "$PLUGIO_ROOT/$dir" "$@" >/dev/null
    cmake --build "$PLUGIO_ROOT/$dir" -j"$(nproc)"
}

# plugio_web_install - the npm packages whose files plugio serves (web/:
# the Socket.IO client bundles of serveClient, the Admin UI), installed
# exactly as web/package-lock.json pins them when web/node_modules is
# missing or older than the lockfile.
plugio_web_install() {
    local web="$PLUGIO_ROOT/web"
    if [[ ! -d $web/node_modules || $web/package-lock.json -nt $web/node_modules ]]; then
        echo "plugio: installing web/ packages (npm ci)" >&2
        (cd "$web" && npm ci --no-audit --no-fund --silent)
        touch "$web/node_modules"
    fi
}
