#!/usr/bin/env bash
# Idempotent installer for the local Bluesky reference network (PLC + PDS + AppView).
#
# node_modules is kept OUTSIDE the repo, in a cache keyed by the sha256 of
# package-lock.json, and devservers/bluesky/node_modules is a symlink to it:
#   ${RESONANZ_CACHE_DIR:-$HOME/.cache/resonanz}/bluesky-node_modules/<hash>/node_modules
# A warm run only (re)creates the symlink. A cold run does `npm ci` into the
# cache; native modules (better-sqlite3) are compiled from source against the
# system Node headers (nodedir=/usr) because prebuilt binaries cannot be
# downloaded here. CFLAGS=-O0 keeps that compile short.
#
# Needs only node + npm (and a C/C++ toolchain + python3 for node-gyp).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache_root="${RESONANZ_CACHE_DIR:-$HOME/.cache/resonanz}/bluesky-node_modules"
t0=$(date +%s.%N)

elapsed() { awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }
log() { echo "[bluesky-install +$(elapsed)s] $*" >&2; }

command -v node >/dev/null || { echo "node not found on PATH" >&2; exit 1; }
command -v npm >/dev/null || { echo "npm not found on PATH" >&2; exit 1; }
node_major="$(node -p 'process.versions.node.split(".")[0]')"
if [ "$node_major" != "20" ]; then
  log "warning: the pinned @atproto versions were chosen for Node 20 (found $(node -v))"
fi

key="$(sha256sum "$here/package-lock.json" | cut -c1-64)"
target="$cache_root/$key"
link="$here/node_modules"

# better-sqlite3 is a native module compiled for one Node ABI: a cache entry
# built by another Node version is useless, so verify it really loads.
sqlite_ok() {
  node -e 'const D = require(process.argv[1]); new D(":memory:").close()' \
    "$1/node_modules/better-sqlite3" 2>/dev/null
}

if [ -f "$target/.complete" ] && ! sqlite_ok "$target"; then
  log "cached better-sqlite3 does not load with node $(node -v); reinstalling"
  rm -rf "$target"
fi

if [ ! -f "$target/.complete" ]; then
  log "cache miss ($key): running npm ci into $target"
  mkdir -p "$cache_root"
  tmp="$(mktemp -d "$cache_root/.tmp-XXXXXX")"
  trap 'rm -rf "$tmp"' EXIT
  cp "$here/package.json" "$here/package-lock.json" "$here/.npmrc" "$tmp/"
  (
    cd "$tmp"
    export CFLAGS="${CFLAGS:--O0}" CXXFLAGS="${CXXFLAGS:--O0}"
    export npm_config_nodedir=/usr
    # Makes better-sqlite3's prebuild-install skip its (doomed) download
    # attempt and fall through to `node-gyp rebuild`. Scoped to that package
    # (prebuild-install/rc.js compares it with the package name).
    export npm_config_build_from_source=better-sqlite3
    # Never prompt (CI has no stdin).
    npm ci --no-fund --no-audit --no-update-notifier </dev/null
  )
  log "npm ci done"
  sqlite_ok "$tmp" || { echo "better-sqlite3 did not build/load" >&2; exit 1; }
  touch "$tmp/.complete"
  # Atomic-ish publish: another concurrent install may have won the race.
  if ! mv -T "$tmp" "$target" 2>/dev/null; then
    log "another install published $target first; using it"
    rm -rf "$tmp"
  fi
  trap - EXIT
else
  log "cache hit ($key)"
fi

# Replace whatever is there (old symlink, or a real directory from a manual
# `npm install`) with the symlink to the cache.
if [ -L "$link" ] || [ -e "$link" ]; then
  if [ "$(readlink "$link" 2>/dev/null || true)" != "$target/node_modules" ]; then
    rm -rf "$link"
  fi
fi
[ -L "$link" ] || ln -s "$target/node_modules" "$link"
log "node_modules -> $target/node_modules"
log "done in $(elapsed)s"
