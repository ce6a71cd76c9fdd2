#!/usr/bin/env bash
# Installs the reference Socket.IO implementations (npm socket.io and
# socket.io-client) into build/node_modules for the interoperability tests of
# internal/backend/estuary and internal/backend/selam. Those tests skip, saying
# so, when node or these modules are missing.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v npm >/dev/null; then
  echo "npm-testdeps: npm not found; the Socket.IO interoperability tests will skip" >&2
  exit 0
fi
if [ -f build/node_modules/socket.io/package.json ] && [ -f build/node_modules/socket.io-client/package.json ]; then
  exit 0
fi
mkdir -p build
npm install --prefix build --no-audit --no-fund --loglevel=error socket.io@4.8.4 socket.io-client@4.8.4
