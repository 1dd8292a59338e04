#!/usr/bin/env bash
# One-time set-up on Debian/Ubuntu as root (or with sudo): system packages, then npm packages and the build.
#   ffmpeg            video frames for prepare and predict
#   chromium          browser tests and report screenshots (driven by playwright-core)
#   libdnnl-dev       oneDNN, for the native training backend (visemo falls back to wasm without it)
#   fonts-dejavu-core text in rendered charts
#   redis-server      the job queue's server (visemo queue / visemo worker, BullMQ) and its test
# Pass --bench to add python3-torch, the PyTorch reference of `npm run bench`.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(ffmpeg chromium libdnnl-dev fonts-dejavu-core build-essential redis-server)
[[ " $* " == *" --bench "* ]] && packages+=(python3-torch)

missing=()
for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if ((${#missing[@]})); then
  sudo=""; [[ $(id -u) -ne 0 ]] && sudo="sudo"
  echo "setup: installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm ci runs the package's install script (the native addon, best effort) and prepare (the TypeScript build).
# onnxruntime-node ships its CPU library; its install script would fetch CUDA libraries from
# nuget.org (and fails offline). package.json's allowScripts skips it on npm >= 11.16, this on older npm.
ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund
echo "setup: done"
