#!/usr/bin/env bash
# Installs what Vigil needs to build, run and test, and only what is missing. Safe to run again.
# Usage: scripts/install-deps.sh [--runtime-only]
set -euo pipefail
runtime_only=0
[ "${1:-}" = "--runtime-only" ] && runtime_only=1

# Debian packages, by name.
build_pkgs=(libvips-dev libturbojpeg0-dev libqrencode-dev libsqlite3-dev libmaxminddb-dev libavformat-dev libavcodec-dev libswscale-dev libavutil-dev pkg-config)
test_pkgs=(postgresql chromium chromium-driver hashdeep python3-pip unbound squid bind9-utils ffmpeg libavdevice-dev libavfilter-dev libswresample-dev)
want=("${build_pkgs[@]}")
[ $runtime_only = 1 ] || want+=("${test_pkgs[@]}")

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v swift >/dev/null 2>&1; then
  if [ -x /opt/swift/usr/bin/swift ]; then
    echo "install-deps: Swift is at /opt/swift/usr/bin; add it to PATH" >&2
  else
    echo "install-deps: Swift 6 is required (https://www.swift.org/install/linux/)" >&2
    exit 1
  fi
fi

# Python tools for end-to-end tests and side-by-side benchmarks.
if [ $runtime_only = 0 ]; then
  if ! python3 - <<'PY' 2>/dev/null
import importlib.util, sys
mods = ["pytest", "selenium", "pdqhash", "PIL", "numpy", "faiss", "schemathesis", "openapi_spec_validator", "aiosmtpd", "mmdb_writer", "dnslib", "vpdq"]
sys.exit(0 if all(importlib.util.find_spec(m) for m in mods) else 1)
PY
  then
    echo "install-deps: installing Python test tools (requirements-dev.txt)"
    python3 -m pip install -q -r "$(dirname "$0")/../requirements-dev.txt" 2>/dev/null \
      || python3 -m pip install -q --break-system-packages -r "$(dirname "$0")/../requirements-dev.txt"
  fi
fi
