#!/usr/bin/env bash
# Builds the browser sandbox into web/dist/ (index.html, .js, .wasm): a
# self-contained static site any static host serves. One command on a fresh
# machine: it installs what it needs (the wasm32 target or, when rustup cannot
# download it, the Debian toolchain from ../shared/tools/; wasm-bindgen-cli at
# the version Cargo.lock pins).
#
#   web/build.sh            # build
#   web/serve.sh            # serve web/dist on http://127.0.0.1:8080/ (builds it first if needed)
#
# Where things go: cargo's target directory is CARGO_TARGET_DIR when set, else
# /var/cache/bottleneck/target when it exists and is writable (the project's
# machines, so CI reuses what a session built), else the workspace's own
# target/. wasm-bindgen-cli goes to WASM_TOOLS_ROOT when set, else
# /opt/wasm-tools when writable (root), else ~/.cache/bottleneck/wasm-tools.
# Nothing here needs root unless rustup cannot add the wasm32 target.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${CARGO_TARGET_DIR:-}" ]; then
  if [ -d /var/cache/bottleneck/target ] && [ -w /var/cache/bottleneck/target ]; then
    CARGO_TARGET_DIR=/var/cache/bottleneck/target
  else
    CARGO_TARGET_DIR="$PWD/target"
  fi
fi
export CARGO_TARGET_DIR
root_tools=/opt/wasm-tools
if [ -n "${WASM_TOOLS_ROOT:-}" ]; then
  TOOLS="$WASM_TOOLS_ROOT"
elif [ -x "$root_tools/bin/wasm-bindgen" ] || { mkdir -p "$root_tools" 2>/dev/null && [ -w "$root_tools" ]; }; then
  TOOLS="$root_tools"
else
  TOOLS="${XDG_CACHE_HOME:-$HOME/.cache}/bottleneck/wasm-tools"
fi
OUT=web/dist
say() { echo "== web/build.sh: $*"; }
say "target directory $CARGO_TARGET_DIR"

# 1. A Rust toolchain that targets wasm32.
cargo_flags=()
if ! rustup target list --installed 2>/dev/null | grep -q '^wasm32-unknown-unknown$'; then
  say "adding rustup's wasm32 target"
  timeout 180 rustup target add wasm32-unknown-unknown || true
fi
if ! rustup target list --installed 2>/dev/null | grep -q '^wasm32-unknown-unknown$'; then
  if [ "$(id -u)" != 0 ] && [ ! -x /opt/rust-web/usr/bin/cargo ]; then
    say "rustup could not add the wasm32-unknown-unknown target, and the fallback toolchain needs root."
    say "Install the target (\`rustup target add wasm32-unknown-unknown\` where rustup can download),"
    say "or ask root to run ../shared/tools/wasm-toolchain.sh (Debian's rustc-web into /opt/rust-web), then run this again."
    exit 1
  fi
  say "rustup could not add wasm32-unknown-unknown: using the Debian toolchain (../shared/tools/wasm-toolchain.sh)"
  bash ../shared/tools/wasm-toolchain.sh
  eval "$(bash ../shared/tools/wasm-toolchain.sh --env)"
  cargo_flags=(--ignore-rust-version -Zbuild-std=std,panic_abort)
fi

# 2. wasm-bindgen-cli, exactly the version of the wasm-bindgen crate in Cargo.lock.
version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
if ! "$TOOLS/bin/wasm-bindgen" --version 2>/dev/null | grep -q " $version\$"; then
  if [ -z "${WASM_TOOLS_ROOT:-}" ] && ! { mkdir -p "$TOOLS" 2>/dev/null && [ -w "$TOOLS" ]; }; then
    TOOLS="${XDG_CACHE_HOME:-$HOME/.cache}/bottleneck/wasm-tools"   # not root: a place of our own
  fi
fi
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
