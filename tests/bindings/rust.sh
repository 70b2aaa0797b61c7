#!/usr/bin/env bash
# The Rust binding: unit and integration tests, then the example, offline, against the uninstalled
# library. CARGO_HOME and the target directory live in the build tree.
#   rust.sh CARGO RUSTC SOURCE_DIR BUILD_ROOT      (run inside tests/capi/with_prefix.sh)
set -eu -o pipefail
cargo=$1 rustc=$2 src=$3 build=$4

export CARGO_HOME=$build/rust/cargo-home CARGO_TARGET_DIR=$build/rust/target RUSTC=$rustc
export CARGO_NET_OFFLINE=true CARGO_TERM_COLOR=never
export PKG_CONFIG_PATH=$build/meson-uninstalled  # libpglift-uninstalled.pc
export LD_LIBRARY_PATH=$build/capi${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
mkdir -p "$CARGO_HOME"

"$cargo" --version
"$rustc" --version
# One test thread: each test creates its instance, and the instance list must be theirs alone.
"$cargo" test --offline --locked --manifest-path "$src/Cargo.toml" -- --test-threads=1
"$cargo" run --offline --locked --manifest-path "$src/Cargo.toml" --example example -- rsexample
