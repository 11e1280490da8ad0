#!/usr/bin/env bash
# Install the Debian packages CreditFlow needs when they are missing.
# As root: installs them with apt-get. Otherwise: prints the exact apt line and carries on.
set -euo pipefail
missing=()
for pkg in "$@"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
  echo "CreditFlow needs these system packages (Debian names): ${missing[*]}" >&2
  exit 0
fi
if [ "$(id -u)" -eq 0 ]; then
  echo "Installing system packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "Missing system packages. Please run:" >&2
  echo "  sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
fi
