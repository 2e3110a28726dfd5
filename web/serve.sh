#!/usr/bin/env bash
# Serves the browser sandbox on http://127.0.0.1:${PORT:-8080}/, building it
# first (web/build.sh) when web/dist/ is missing or --build is given.
set -euo pipefail
cd "$(dirname "$0")"
if [ "${1:-}" = "--build" ] || [ ! -f dist/index.html ]; then
  bash ./build.sh
fi
port="${PORT:-8080}"
echo "Bottleneck on http://127.0.0.1:$port/  (Ctrl-C to stop)"
exec python3 -m http.server --bind 127.0.0.1 "$port" --directory dist
