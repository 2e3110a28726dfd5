#!/usr/bin/env bash
# Serves web/dist/ on http://127.0.0.1:${PORT:-8080}/ (build it first: web/build.sh).
set -euo pipefail
cd "$(dirname "$0")/dist" 2>/dev/null || { echo "web/dist/ is missing: run web/build.sh first"; exit 2; }
port="${PORT:-8080}"
echo "Bottleneck on http://127.0.0.1:$port/  (Ctrl-C to stop)"
exec python3 -m http.server --bind 127.0.0.1 "$port"
