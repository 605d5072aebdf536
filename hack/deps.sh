#!/usr/bin/env bash
# Installs the Debian packages that `make test` needs (hack/deps.txt), so
# that a fresh machine runs every test instead of failing an hour in, after
# the control plane is built. When everything is there it only asks, which
# takes milliseconds. When something is missing and it cannot install it
# (not root, or no apt-get), it stops with the exact command to run.
#
#   hack/deps.sh            install what is missing (as root)
#   hack/deps.sh --dry-run  decide the same way, but print the commands instead
#   hack/deps.sh --list     print the package names, one a line
set -euo pipefail

list="$(dirname "$0")/deps.txt"
dry_run=false
case "${1:-}" in
  "") ;;
  --dry-run) dry_run=true ;;
  --list) sed -e 's/#.*//' "$list" | awk 'NF { print $1 }'; exit 0 ;;
  *) echo "usage: $0 [--dry-run | --list]" >&2; exit 2 ;;
esac

# present PACKAGE [COMMAND]: the command on PATH is enough (a browser or a
# server installed some other way serves the tests as well); without one,
# dpkg must report the package installed.
present() {
  if [ -n "${2:-}" ]; then
    command -v "$2" >/dev/null 2>&1
  else
    [ "$(dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null)" = "ii " ]
  fi
}

missing() {
  local pkg cmd
  while read -r pkg cmd _; do
    [ -n "$pkg" ] || continue
    present "$pkg" "$cmd" || echo "$pkg"
  done < <(sed -e 's/#.*//' "$list")
}

mapfile -t need < <(missing)
[ ${#need[@]} -gt 0 ] || exit 0

install=(apt-get install -y --no-install-recommends "${need[@]}")
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  why="not running as root"
  command -v apt-get >/dev/null 2>&1 || why="no apt-get on this machine"
  {
    echo "make test needs packages that are missing: ${need[*]}"
    echo "($why) install them, as root, with:"
    echo "  ${install[*]}"
  } >&2
  exit 1
fi

run() {
  if $dry_run; then echo "+ $*"; else "$@"; fi
}

echo "installing Debian packages for the tests: ${need[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# A fresh machine has no package lists; an old list may name versions the
# mirror no longer has. Either way the install would fail without this.
run apt-get update -qq
run apt-get install -y -qq --no-install-recommends "${need[@]}"
$dry_run && exit 0

mapfile -t still < <(missing)
if [ ${#still[@]} -gt 0 ]; then
  echo "installed, yet still missing (no command on PATH?): ${still[*]}" >&2
  exit 1
fi
