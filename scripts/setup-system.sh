#!/usr/bin/env bash
# Installs the Debian packages that executing notebooks and browser tests need (`npm run setup:system`).
# Needs root (apt-get). Takes ~45 s on a fresh machine, ~2 s when everything is present.
set -euo pipefail
packages=(jupyter-nbconvert python3-nbclient jupyter-client jupyter-notebook chromium)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup:system: all Debian packages present (${packages[*]})"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "setup:system: missing Debian packages: ${missing[*]}" >&2
  echo "run as root: sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
  exit 1
fi
echo "setup:system: installing ${missing[*]} (about a minute)"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "setup:system: done"
