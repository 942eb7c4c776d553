# Sourced by .ci/lint-spec, .ci/contract and .ci/reference: every pinned tool
# version, and helpers that install each tool once under
# ${SHIHENG_TOOLS:-$HOME/.cache/shiheng-tools} (a Python venv and an npm prefix)
# or, for Debian packages, with apt-get when a file they provide is missing.
# Later runs find the pinned versions and install nothing. Only PyPI, npm and
# Debian's mirrors are contacted, and only to install.

TOOLS=${SHIHENG_TOOLS:-$HOME/.cache/shiheng-tools}
VENV=$TOOLS/venv
NODE_PREFIX=$TOOLS/node
NM=$NODE_PREFIX/node_modules
export PIP_DISABLE_PIP_VERSION_CHECK=1
export REDOCLY_TELEMETRY=off
export REDOCLY_SUPPRESS_UPDATE_NOTICE=true

# PyPI
OSV_VERSION=0.9.0                 # openapi-spec-validator
OPC_VERSION=0.29.1                # openapi-python-client
SCHEMATHESIS_VERSION=4.32.5       # schemathesis
OPENAPI_GENERATOR_VERSION=7.26.0  # openapi-generator-cli: the generator's jar ships inside the wheel
DATEUTIL_VERSION=2.9.0.post0      # python-dateutil, a dependency of openapi-generator's python client
# npm
REDOCLY_VERSION=2.77.0            # @redocly/cli (needs node >=20.19)
SPECTRAL_VERSION=6.16.3           # @stoplight/spectral-cli
OTS_VERSION=7.13.0                # openapi-typescript
TS_VERSION=5.9.3                  # typescript
LOSSLESS_VERSION=4.3.3            # lossless-json: exact 64-bit integers in JavaScript
OPENAPI_FETCH_VERSION=0.17.0      # openapi-fetch
TYPES_NODE_VERSION=20.19.25       # @types/node, for node:crypto under tsc --strict
PLAYWRIGHT_VERSION=1.65.1         # playwright-core: drives Debian's Chromium (downloads no browser)

pip_version() {
    "$VENV/bin/python" -c "import importlib.metadata as m; print(m.version('$1'))" 2>/dev/null || true
}

# ensure_pip NAME==VERSION...: installs into the venv those not already at that version.
ensure_pip() {
    local missing=() spec
    for spec in "$@"; do
        [ "$(pip_version "${spec%%==*}")" = "${spec##*==}" ] || missing+=("$spec")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        echo "tools: installing ${missing[*]} into $VENV"
        [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
        "$VENV/bin/python" -m pip install --quiet "${missing[@]}"
    fi
}

npm_version() {
    node -p 'require(process.argv[1]).version' "$NM/$1/package.json" 2>/dev/null || true
}

# ensure_npm NAME@VERSION...: installs into the npm prefix those not already at that version.
ensure_npm() {
    local missing=() spec
    for spec in "$@"; do
        [ "$(npm_version "${spec%@*}")" = "${spec##*@}" ] || missing+=("$spec")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        echo "tools: installing ${missing[*]} into $NODE_PREFIX"
        mkdir -p "$NODE_PREFIX"
        npm install --prefix "$NODE_PREFIX" --no-audit --no-fund --loglevel=error "${missing[@]}"
    fi
}

# ensure_apt FILE PACKAGE...: installs the Debian packages when FILE is missing
# (CI runs as root; elsewhere, says what to install).
ensure_apt() {
    local file=$1
    shift
    [ -e "$file" ] && return 0
    if [ "$(id -u)" != 0 ]; then
        echo "tools: $file is missing: install the Debian packages $* (apt-get install)" >&2
        return 1
    fi
    echo "tools: installing the Debian packages $*"
    if [ -z "${SHIHENG_APT_UPDATED:-}" ]; then
        apt-get update -qq
        SHIHENG_APT_UPDATED=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# Milliseconds since the epoch, for leg timings.
now_ms() { date +%s%3N; }
# seconds_since MS: "12.3 s".
seconds_since() {
    local ms=$(($(now_ms) - $1))
    printf '%d.%d s' $((ms / 1000)) $((ms % 1000 / 100))
}
