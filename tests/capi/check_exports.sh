#!/usr/bin/env bash
# The dynamic symbols of libpglift.so are exactly capi/exported-symbols.txt, all pglift_*, all declared
# in pglift.h; the SONAME is libpglift.so.<major>.
#   check_exports.sh LIBRARY SYMBOLS_FILE HEADER MAJOR
set -eu -o pipefail
lib=$1 list=$2 header=$3 major=$4
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
status=0

# Every defined dynamic symbol but the version node (type A).
nm -D --defined-only "$lib" | awk '$2 != "A" { sub(/@.*/, "", $3); print $3 }' | LC_ALL=C sort >"$work/actual"
grep -v '^#' "$list" | LC_ALL=C sort >"$work/expected"
if ! diff -u "$work/expected" "$work/actual"; then
  echo "FAIL: exported symbols differ from $list (- expected, + actual)" >&2
  status=1
fi
if grep -v '^pglift_' "$work/actual"; then
  echo "FAIL: symbols above are not pglift_*" >&2
  status=1
fi
# Declared in the header: "PGLIFT_API <type> <name>(".
grep -o '^PGLIFT_API [^(]*(' "$header" | sed -E 's/.*[ *]([a-z_0-9]+)\($/\1/' | LC_ALL=C sort >"$work/declared"
if ! diff -u "$work/declared" "$work/actual"; then
  echo "FAIL: exported symbols differ from the functions declared in $header" >&2
  status=1
fi
soname=$(readelf -d "$lib" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
if [[ $soname != "libpglift.so.$major" ]]; then
  echo "FAIL: SONAME is '$soname', expected libpglift.so.$major" >&2
  status=1
fi
[[ $status -eq 0 ]] && echo "$(wc -l <"$work/actual") pglift_* symbols, SONAME $soname: ok"
exit $status
