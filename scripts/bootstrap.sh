#!/usr/bin/env bash
# Sourced by the other scripts. Installs the pinned toolchain and dependencies when the lockfile changed, then puts
# node_modules/.bin first on PATH so every command runs on Node 24 (pinned as the `node` package in
# package.json; the machine's own Node may be older).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# The engine's build compiles its native addon (engine/native, ADR 0013) with `cc`: install one when it is missing.
if ! command -v "${CC:-cc}" >/dev/null && command -v apt-get >/dev/null; then
  echo "strata: no C compiler, installing gcc…" >&2
  apt_gcc() { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends gcc libc6-dev >/dev/null; }
  apt_gcc || { apt-get update -qq && apt_gcc; } || echo "strata: could not install gcc; the engine build will fail" >&2
fi
want="$(sha256sum package-lock.json | cut -d' ' -f1)"
stamp=node_modules/.strata-install-stamp
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "strata: installing dependencies from package-lock.json…" >&2
  # `npm install`, not `npm ci`: npm 11 writes lockfiles without other platforms' optional binaries (@swc/core-*)
  # and its `npm ci` then refuses them as out of sync. With an up-to-date lockfile `npm install` installs exactly the
  # locked versions; the check below proves it did not have to change the lockfile.
  npm install --no-audit --no-fund --loglevel=error
  if [ "$(sha256sum package-lock.json | cut -d' ' -f1)" != "$want" ]; then
    echo "strata: npm install changed package-lock.json: commit the new lockfile (generated with Node 24)" >&2
    exit 1
  fi
  echo "$want" >"$stamp"
fi
export PATH="$PWD/node_modules/.bin:$PATH"
if ! node --version | grep -q '^v24\.'; then
  echo "strata: expected Node 24 from node_modules/.bin, got $(node --version)" >&2
  exit 1
fi
