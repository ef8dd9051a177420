#!/bin/sh
# Installs what bramble needs on this machine, idempotently, and says what it does.
#
#   sh scripts/setup.sh host   Debian packages the runtime and the tests need (root, Debian)
#   sh scripts/setup.sh npm    npm ci when node_modules is missing or stale, then node build.mjs
#   sh scripts/setup.sh all    host, then npm
#
# Everything is checked by presence first, so a machine that already has it all needs neither
# root nor Debian. npm's preinstall runs `host`; `npm test` runs `all` (a clean CI checkout has
# no node_modules). Set BRAMBLE_SKIP_HOST_SETUP=1 to skip `host` on a development machine that
# will never run containers (for example macOS).
set -eu

cd "$(dirname "$0")/.."

say() { printf 'setup: %s\n' "$*"; }
die() { printf 'setup: error: %s\n' "$*" >&2; exit 1; }

# `command -v` alone misses /usr/sbin for non-root users on Debian, where iptables lives.
have_cmd() {
  command -v "$1" >/dev/null 2>&1 && return 0
  for dir in /usr/sbin /sbin /usr/bin /bin; do
    [ -x "$dir/$1" ] && return 0
  done
  return 1
}

dpkg_installed() {
  have_cmd dpkg-query || return 1
  [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]
}

# Pods' images are built from /bin/busybox, so it must not depend on the host's shared libs.
# The dynamic `busybox` package also installs /bin/busybox, hence the extra check.
busybox_static_present() {
  dpkg_installed busybox-static && return 0
  [ -x /bin/busybox ] || return 1
  ldd /bin/busybox 2>&1 | grep -Eq 'not a dynamic executable|statically linked'
}

# Prints the Debian packages whose command or file is absent, space-separated.
host_missing() {
  missing=""
  have_cmd containerd && have_cmd ctr || missing="$missing containerd"
  have_cmd runc || missing="$missing runc"
  [ -x /usr/lib/cni/bridge ] && [ -x /usr/lib/cni/host-local ] && [ -x /usr/lib/cni/loopback ] \
    || missing="$missing containernetworking-plugins"
  busybox_static_present || missing="$missing busybox-static"
  have_cmd ip || missing="$missing iproute2"
  have_cmd iptables || missing="$missing iptables"
  # For the tests and the contract checks, not for the daemon itself.
  have_cmd curl || missing="$missing curl"
  have_cmd python3 || missing="$missing python3"
  # DNS conformance tests and npm run bench:dns: dig, a dnsmasq upstream/baseline, dnsperf.
  have_cmd dig || missing="$missing bind9-dnsutils"
  have_cmd dnsmasq || missing="$missing dnsmasq-base"
  have_cmd dnsperf || missing="$missing dnsperf"
  # npm run bench:l4: HAProxy as the anchor, wrk as the load.
  have_cmd haproxy || missing="$missing haproxy"
  have_cmd wrk || missing="$missing wrk"
  printf '%s' "${missing# }"
}

setup_host() {
  if [ "${BRAMBLE_SKIP_HOST_SETUP:-0}" = 1 ]; then
    say "host: skipped (BRAMBLE_SKIP_HOST_SETUP=1)"
    return 0
  fi
  missing=$(host_missing)
  if [ -z "$missing" ]; then
    say "host: all packages present (containerd, runc, CNI plugins, busybox-static, iproute2, iptables, curl, python3, dig, dnsmasq, dnsperf, haproxy, wrk)"
    return 0
  fi
  if [ ! -f /etc/debian_version ] || ! have_cmd apt-get; then
    die "host: missing: $missing. This is not a Debian system with apt-get, so install them with your distribution's package manager (or set BRAMBLE_SKIP_HOST_SETUP=1 on a machine that will not run containers), then run this again."
  fi
  if [ "$(id -u)" != 0 ]; then
    die "host: missing Debian packages: $missing. Installing them needs root: run 'sudo sh scripts/setup.sh host' (or set BRAMBLE_SKIP_HOST_SETUP=1 on a machine that will not run containers)."
  fi
  say "host: installing Debian packages: $missing"
  # Once per run, and only because something must be installed.
  DEBIAN_FRONTEND=noninteractive apt-get update -q \
    || die "host: apt-get update failed (is the network or a local mirror reachable?)"
  # $missing is a space-separated list of package names: word splitting is intended.
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing \
    || die "host: apt-get install $missing failed (see apt's message above)"
  still=$(host_missing)
  [ -z "$still" ] || die "host: still missing after apt-get install: $still (a package installed but its file is not where bramble looks: check /usr/lib/cni and /bin/busybox)"
  say "host: installed: $missing"
}

# node_modules/.package-lock.json is npm's record of what is installed; when package-lock.json
# is newer, the tree may not match the lock any more.
npm_stale() {
  [ -d node_modules ] || return 0
  [ -f node_modules/.package-lock.json ] || return 0
  [ package-lock.json -nt node_modules/.package-lock.json ] && return 0
  return 1
}

setup_npm() {
  have_cmd node || die "npm: node is not installed (bramble needs Node.js >= 20.6)"
  have_cmd npm || die "npm: npm is not installed (it ships with Node.js)"
  if npm_stale; then
    say "npm: node_modules missing or older than package-lock.json: running npm ci"
    npm ci --no-audit --no-fund || die "npm: npm ci failed (see npm's message above)"
  else
    say "npm: node_modules is up to date with package-lock.json"
  fi
  say "npm: building dist/bramble.mjs"
  node build.mjs || die "npm: node build.mjs failed (see the esbuild message above)"
}

case "${1:-}" in
  host) setup_host ;;
  npm) setup_npm ;;
  all) setup_host; setup_npm ;;
  *) die "usage: sh scripts/setup.sh host|npm|all (got '${1:-}')" ;;
esac
