#!/usr/bin/env bash
# Install code-server (VS Code in the browser) and playwright-core, the versions pinned in
# package.json / package-lock.json next to this script, into a cache folder for
# tests/editors/test_vscode_real.py. Idempotent: a finished install (same lock file) is kept.
#
#   bash tests/editors/code_server/install.sh        # prints the folder it installed into
#
# Folder: $QVR_CODE_SERVER_HOME, else ${XDG_CACHE_HOME:-~/.cache}/qvr-tools/code-server.
# Needs node 20 and npm, a C++ toolchain and the Debian packages python3 pkg-config
# libkrb5-dev libx11-dev libxkbfile-dev libsecret-1-dev ripgrep (the test also needs chromium).
# Only the npm registry is contacted: code-server's own install would download ripgrep from
# GitHub, so Debian's rg is put where that download is cached.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
DEST="${QVR_CODE_SERVER_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/qvr-tools/code-server}"
STAMP="$DEST/.installed"
WANT="$(cat "$HERE/package.json" "$HERE/package-lock.json" | sha256sum | cut -d' ' -f1)"

if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$WANT" && -x "$DEST/node_modules/.bin/code-server" ]]; then
  echo "$DEST"
  exit 0
fi

need() { command -v "$1" >/dev/null 2>&1 || { echo "install.sh: $1 is missing ($2)" >&2; exit 1; }; }
need node "node 20"
need npm "npm"
need rg "apt-get install ripgrep"
need c++ "apt-get install build-essential"
major="$(node -p 'process.versions.node.split(".")[0]')"
if [[ "$major" != 20 ]]; then
  echo "install.sh: code-server 4.100 needs node 20, found $(node --version)" >&2
  exit 1
fi
# Native modules (node-pty, @parcel/watcher, kerberos, argon2, ...) build against the installed
# node's headers instead of downloading them.
nodedir=""
for d in /usr /usr/local "$(dirname "$(dirname "$(command -v node)")")"; do
  if [[ -f "$d/include/node/node.h" ]]; then nodedir="$d"; break; fi
done
[[ -n "$nodedir" ]] || { echo "install.sh: no node headers (include/node/node.h) found" >&2; exit 1; }

rm -rf "$DEST"
mkdir -p "$DEST/tmp"
cp "$HERE/package.json" "$HERE/package-lock.json" "$DEST/"
cd "$DEST"
export TMPDIR="$DEST/tmp" npm_config_nodedir="$nodedir" npm_config_yes=true npm_config_unsafe_perm=true
export npm_config_audit=false npm_config_fund=false npm_config_update_notifier=false
# npm's `-g` would leak npm_config_global into the nested installs of code-server's
# postinstall.sh (ENOTEMPTY); a local project and running that script ourselves avoids it.
unset npm_config_global
npm ci --ignore-scripts --loglevel=error

# @vscode/ripgrep's postinstall downloads rg from GitHub unless its cache
# ($TMPDIR/vscode-ripgrep-cache-<package version>) holds the release tarball: give it Debian's rg.
cs="$DEST/node_modules/code-server"
rg_version="$(node -p 'require(process.argv[1]).packages["node_modules/@vscode/ripgrep"].version' "$cs/lib/vscode/npm-shrinkwrap.json")"
rg_cache="$TMPDIR/vscode-ripgrep-cache-$rg_version"
mkdir -p "$rg_cache/stage"
cp "$(command -v rg)" "$rg_cache/stage/rg"
tar -czf "$rg_cache/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz" -C "$rg_cache/stage" rg
rm -rf "$rg_cache/stage"

# code-server's postinstall: npm install in lib/vscode and lib/vscode/extensions (each pinned by
# its npm-shrinkwrap.json), compiling the native modules.
(cd "$cs" && npm run postinstall --loglevel=error)
# argon2 (password hashing, unused with --auth none) has no prebuilt binary here: compile it.
npm rebuild argon2 --loglevel=error

"$DEST/node_modules/.bin/code-server" --version >/dev/null
rm -rf "$DEST/tmp"
echo "$WANT" > "$STAMP"
echo "$DEST"
