#!/usr/bin/env bash
# The C example, compiled as a user of the library would: only pglift.h and `pkg-config libpglift`
# (here the uninstalled .pc of the build tree), strict C11; then run.
#   c.sh CC SOURCE BUILD_ROOT      (run inside tests/capi/with_prefix.sh)
set -eu -o pipefail
cc=$1 src=$2 build=$3
work=$(mktemp -d "${TMPDIR:-/tmp}/pglift-c.XXXXXX")
trap 'rm -rf "$work"' EXIT
export PKG_CONFIG_PATH=$build/meson-uninstalled
export LD_LIBRARY_PATH=$build/capi${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}

# shellcheck disable=SC2046  # word splitting of pkg-config's flags is wanted
"$cc" -std=c11 -Wall -Wextra -pedantic -Werror "$src" $(pkg-config --cflags --libs libpglift) -o "$work/example"
"$work/example" cexample
