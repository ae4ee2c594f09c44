#!/usr/bin/env bash
# Checks the Prometheus alert rules (deploy/prometheus/alerts.yml) with `promtool check rules` and runs
# their unit tests (deploy/prometheus/alerts.test.yml) with `promtool test rules`. Installs promtool
# (Debian's prometheus package) when missing, and leaves no Prometheus server running after the install.
# Prints one line per result; exits non-zero on any failure.
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

rules=deploy/prometheus/alerts.yml
tests=deploy/prometheus/alerts.test.yml

if ! command -v promtool >/dev/null; then
  echo "installing: prometheus (for promtool)"
  before=$(pgrep -x prometheus || true)
  # The package's maintainer scripts would start a prometheus service: a policy-rc.d that answers 101
  # forbids it (where the machine has none of its own), and any server that starts anyway is stopped below.
  policy=/usr/sbin/policy-rc.d
  made_policy=0
  if [[ ! -e "$policy" ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    made_policy=1
  fi
  trap 'if ((made_policy)); then rm -f "$policy"; fi' EXIT
  apt_install prometheus
  if ((made_policy)); then rm -f "$policy"; fi
  trap - EXIT
  # Stop only servers that the install started (not one that ran before it).
  for pid in $(pgrep -x prometheus || true); do
    if ! grep -qx "$pid" <<<"$before"; then
      echo "stopping the prometheus server the package started (pid $pid)"
      kill "$pid" 2>/dev/null || true
    fi
  done
fi
version=$(promtool --version 2>&1 | sed -n 's/^promtool, version \([^ ]*\).*/\1/p')

status=0
if output=$(promtool check rules "$rules" 2>&1); then
  count=$(sed -n 's/.*SUCCESS: \([0-9]*\) rules found.*/\1/p' <<<"$output")
  echo "promtool $version check rules $rules: ok ($count rules)"
else
  printf '%s\n' "$output"
  echo "promtool $version check rules $rules: FAILED"
  status=1
fi

if output=$(promtool test rules "$tests" 2>&1); then
  echo "promtool $version test rules $tests: ok"
else
  printf '%s\n' "$output"
  echo "promtool $version test rules $tests: FAILED"
  status=1
fi
exit "$status"
