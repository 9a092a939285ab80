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
