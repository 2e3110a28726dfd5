#!/usr/bin/env bash
# Builds the browser sandbox into web/dist/ (index.html, .js, .wasm): a
# self-contained static site any static host serves. One command on a fresh
# machine: it installs what it needs (the wasm32 target or, when rustup cannot
# download it, the Debian toolchain from ../shared/tools/; wasm-bindgen-cli at
# the version Cargo.lock pins).
#
#   web/build.sh            # build
#   web/serve.sh            # serve web/dist on http://127.0.0.1:8080/ (builds it first if needed)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/cache/bottleneck/target}"
TOOLS="${WASM_TOOLS_ROOT:-/opt/wasm-tools}"
OUT=web/dist
sudo_=""; [ "$(id -u)" = 0 ] || sudo_="sudo"
say() { echo "== web/build.sh: $*"; }

# 1. A Rust toolchain that targets wasm32.
cargo_flags=()
if ! rustup target list --installed 2>/dev/null | grep -q '^wasm32-unknown-unknown$'; then
  say "adding rustup's wasm32 target"
  timeout 180 rustup target add wasm32-unknown-unknown || true
fi
if ! rustup target list --installed 2>/dev/null | grep -q '^wasm32-unknown-unknown$'; then
  say "rustup could not add wasm32-unknown-unknown: using the Debian toolchain (../shared/tools/wasm-toolchain.sh)"
  bash ../shared/tools/wasm-toolchain.sh
  eval "$(bash ../shared/tools/wasm-toolchain.sh --env)"
  cargo_flags=(--ignore-rust-version -Zbuild-std=std,panic_abort)
fi

# 2. wasm-bindgen-cli, exactly the version of the wasm-bindgen crate in Cargo.lock.
version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
if ! "$TOOLS/bin/wasm-bindgen" --version 2>/dev/null | grep -q " $version\$"; then
  say "installing wasm-bindgen-cli $version into $TOOLS (a few minutes, once)"
  # Not --locked: the CLI's own lock pins a crate that crates.io has since yanked.
  cargo install wasm-bindgen-cli --version "$version" --root "$TOOLS"
fi

# 4. Build (profile `web`: opt-level z, LTO, one codegen unit, no debug info).
say "building the app for wasm32"
cargo build --locked -p bottleneck-app --profile web --target wasm32-unknown-unknown "${cargo_flags[@]}"
wasm="$CARGO_TARGET_DIR/wasm32-unknown-unknown/web/bottleneck-app.wasm"

# 5. Bindings and the page.
rm -rf "$OUT"
mkdir -p "$OUT"
"$TOOLS/bin/wasm-bindgen" --target web --no-typescript --remove-name-section --remove-producers-section \
  --out-dir "$OUT" --out-name bottleneck-app "$wasm"
# No wasm-opt: Debian's binaryen (108) breaks wasm-bindgen's externref table,
# and npm's (132) takes 8 minutes here to save 0.2% of the gzipped size.
cp web/index.html "$OUT/"
raw=$(stat -c %s "$OUT/bottleneck-app_bg.wasm")
gz=$(gzip -9 -c "$OUT/bottleneck-app_bg.wasm" | wc -c)
say "done: $OUT/ (.wasm $((raw / 1024)) KiB, $((gz / 1024)) KiB gzipped). Serve it: web/serve.sh"
