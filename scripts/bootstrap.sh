#!/usr/bin/env bash
# Installs, with apt-get, only the Debian packages Kiln needs that are missing. Safe to re-run.
# Extra package names as arguments are installed too (scripts/fuzz.sh adds clang and libFuzzer).
set -euo pipefail
pkgs=(cmake g++ make pkg-config llvm-19-dev libdnnl-dev nlohmann-json3-dev libgtest-dev
      zlib1g-dev dataset-fashion-mnist graphviz "$@")
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "bootstrap: installing ${missing[*]}"
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
