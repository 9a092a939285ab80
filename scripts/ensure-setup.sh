#!/usr/bin/env bash
# Finds what `npm start` / `npm test` need and is missing: npm packages (installs them) and Debian packages
# (installs them when running as root, otherwise names the command to run and stops).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -d node_modules/@tensorflow/tfjs ] || [ ! -x node_modules/.bin/tslab ]; then
  echo "ensure-setup: node_modules incomplete; running npm ci (about 30 s)"
  npm ci --no-audit --no-fund
fi
bash scripts/setup-system.sh
# `npm install` may have run before the Debian packages above were there (the Quickstart's order): the native
# backend's addon then did not build. Build it now; on failure the script says why and training uses wasm.
# A build that failed is retried only when oneDNN's header was installed after it (its change time: dpkg keeps the
# package's own modification times).
status=native/build/status.json
if [ "${PIXEL_SKIP_NATIVE:-}" != 1 ] && ! node -e "process.exit(require('./$status').ok ? 0 : 1)" 2>/dev/null \
  && { [ ! -e "$status" ] || [ "$(stat -c %Z /usr/include/dnnl.hpp 2>/dev/null || echo 0)" -gt "$(stat -c %Y "$status")" ]; }; then
  echo "ensure-setup: building the native backend's addon (native/, about 10 s)"
  node scripts/build-native.js
fi
