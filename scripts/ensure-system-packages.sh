#!/usr/bin/env bash
# Debian packages LedgerBridge needs: unixODBC and the SQLite ODBC driver (the
# Sage 100 simulator is reached through a real ODBC driver), and the
# distribution's Chromium for the browser tests (Playwright drives it; no
# browser is downloaded). Installed with apt when we are root; otherwise the
# missing packages are named.
set -euo pipefail

packages=(unixodbc odbcinst libsqliteodbc chromium)
missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
  echo "Please install these packages with your system's package manager: ${missing[*]}" >&2
  exit 1
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "Missing system packages: ${missing[*]}" >&2
  echo "Run: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "Installing system packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
