#!/usr/bin/env bash
# Installs the Debian packages that executing notebooks and browser tests need (`npm run setup:system`), and
# a CPU Vulkan driver for the webgpu backend (its tests run on it; see lib/backend/webgpu.ts).
# Needs root (apt-get). Takes ~45 s on a fresh machine (plus ~15 s for the Vulkan driver), well under a second
# when everything is present.
#
# The Vulkan driver is Mesa's lavapipe, version 25 or later: Debian 12's own Mesa 22.3 gives Dawn no adapter.
# On Debian 12 (bookworm) it comes from bookworm-backports, which is added to the apt sources when missing;
# it also brings Mesa 25's OpenGL libraries. PIXEL_NO_VULKAN=1 leaves Vulkan alone.
set -euo pipefail
packages=(jupyter-nbconvert python3-nbclient jupyter-client jupyter-notebook chromium g++ make libdnnl-dev) # g++, make, libdnnl-dev: the native backend's addon (scripts/build-native.js)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

MESA_MIN=25
BACKPORTS_FILE=/etc/apt/sources.list.d/bookworm-backports.sources
installed_version() { dpkg-query -W -f='${Status} ${Version}' "$1" 2>/dev/null | sed -n 's/^install ok installed //p'; }
vulkan_ok() {
  local v
  v=$(installed_version mesa-vulkan-drivers)
  [ -n "$v" ] && dpkg --compare-versions "$v" ge "$MESA_MIN~" && [ -n "$(installed_version libvulkan1)" ]
}
codename=$( (. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}") || true)
has_backports() { grep -Eqs '^[^#]*bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; }
release=()
[ "$codename" = bookworm ] && release=(-t bookworm-backports)
vulkan_install=(apt-get install -y -qq --no-install-recommends "${release[@]}" mesa-vulkan-drivers libvulkan1)

need_vulkan=0
if [ "${PIXEL_NO_VULKAN:-}" != 1 ] && ! vulkan_ok; then need_vulkan=1; fi

if [ ${#missing[@]} -eq 0 ] && [ $need_vulkan -eq 0 ]; then
  vulkan_note="Vulkan left alone (PIXEL_NO_VULKAN=1)"
  vulkan_ok && vulkan_note="CPU Vulkan: Mesa $(installed_version mesa-vulkan-drivers) lavapipe"
  echo "setup:system: all Debian packages present (${packages[*]}; $vulkan_note)"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  if [ $need_vulkan -eq 1 ]; then
    echo "setup:system: no CPU Vulkan driver (Mesa >= $MESA_MIN lavapipe) for the webgpu backend's tests" >&2
    if [ "$codename" = bookworm ] && ! has_backports; then
      echo "  add bookworm-backports: printf 'Types: deb\\nURIs: http://deb.debian.org/debian\\nSuites: bookworm-backports\\nComponents: main\\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\\n' | sudo tee $BACKPORTS_FILE" >&2
    fi
    echo "  then: sudo apt-get update && sudo ${vulkan_install[*]}   (or PIXEL_NO_VULKAN=1 to skip)" >&2
  fi
  if [ ${#missing[@]} -gt 0 ]; then
    echo "setup:system: missing Debian packages: ${missing[*]}" >&2
    echo "run as root: sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
    exit 1
  fi
  exit 0 # without Vulkan only the webgpu backend is unavailable (its tests skip, saying why)
fi

if [ $need_vulkan -eq 1 ] && [ "$codename" = bookworm ] && ! has_backports; then
  echo "setup:system: adding bookworm-backports to the apt sources ($BACKPORTS_FILE) for Mesa $MESA_MIN"
  printf 'Types: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' >"$BACKPORTS_FILE"
fi
apt-get update -qq
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup:system: installing ${missing[*]} (about a minute)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if [ $need_vulkan -eq 1 ]; then
  candidate=$(apt-cache policy "${release[@]}" mesa-vulkan-drivers 2>/dev/null | sed -n 's/^ *Candidate: //p')
  if [ -n "$candidate" ] && [ "$candidate" != "(none)" ] && dpkg --compare-versions "$candidate" ge "$MESA_MIN~"; then
    echo "setup:system: installing a CPU Vulkan driver: mesa-vulkan-drivers $candidate (lavapipe), libvulkan1 (about 15 s)"
    DEBIAN_FRONTEND=noninteractive "${vulkan_install[@]}" >/dev/null
    vulkan_ok || { echo "setup:system: mesa-vulkan-drivers >= $MESA_MIN did not install" >&2; exit 1; }
  else
    echo "setup:system: WARNING: this system offers mesa-vulkan-drivers ${candidate:-(none)}, older than $MESA_MIN: not installed;" \
      "the webgpu backend needs a GPU's Vulkan driver here (its tests skip without an adapter)" >&2
  fi
fi
echo "setup:system: done"
