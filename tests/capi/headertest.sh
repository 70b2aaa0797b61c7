#!/usr/bin/env bash
# Compiles pglift.h alone, twice in one unit (include guard), as strict C11 and as C++20:
#   headertest.sh CC CXX HEADER      (HEADER: capi/pglift.h, included as installed: <pglift/pglift.h>)
set -eu -o pipefail
cc=$1 cxx=$2 header=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/pglift"
cp "$header" "$work/pglift/pglift.h"
cat >"$work/unit.c" <<'UNIT'
#include <pglift/pglift.h>
#include <pglift/pglift.h>
int headertest_dummy(void);
UNIT
cp "$work/unit.c" "$work/unit.cpp"
strict=(-Wall -Wextra -pedantic -Werror -fsyntax-only -I "$work")
"$cc" -std=c11 "${strict[@]}" -Wstrict-prototypes -Wmissing-prototypes -Wshadow -Wconversion "$work/unit.c"
echo "C11: ok"
"$cxx" -std=c++20 "${strict[@]}" -Wshadow -Wconversion -Wold-style-cast "$work/unit.cpp"
echo "C++20: ok"
