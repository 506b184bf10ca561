#!/usr/bin/env bash
# Install the Debian packages that `make test` (and, with `bench`, `make bench`) needs, when missing.
#
#   tools/install_system_packages.sh [test] [bench]     (default: test)
#
# test:  chromium (browser tests, driven by Playwright; no browser download), fonts-noto-cjk (Korean
#        glyphs in browser screenshots), postgresql-client (pg_dump/pg_restore in the PostgreSQL
#        backup test; psql in .ci/run)
# bench: wrk (the load generator of `make bench`)
#
# Runs as root, or through sudo when not root. Non-interactive. When everything is present it only
# checks files and exits: no apt, no network.
set -euo pipefail

groups=("$@")
[ ${#groups[@]} -eq 0 ] && groups=(test)

need=()
want() { # want PACKAGE CHECK-COMMAND...
  local package=$1
  shift
  if ! "$@" >/dev/null 2>&1; then need+=("$package"); fi
}
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "ok installed"; }

for group in "${groups[@]}"; do
  case $group in
    test)
      want chromium command -v chromium
      want fonts-noto-cjk installed fonts-noto-cjk
      want postgresql-client command -v pg_dump
      ;;
    bench)
      want wrk command -v wrk
      ;;
    *)
      echo "usage: $0 [test] [bench]" >&2
      exit 2
      ;;
  esac
done

[ ${#need[@]} -eq 0 ] && exit 0

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo -n)
  else
    echo "missing Debian packages: ${need[*]}; run as root: apt-get install ${need[*]}" >&2
    exit 1
  fi
fi

echo "== installing Debian packages: ${need[*]} =="
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
  -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${need[@]}" >/dev/null
