#!/usr/bin/env bash
# The installed package, as its users get it: `meson install --destdir` of the build, then
# examples/c/example.c against libpglift (`pkg-config --cflags --libs libpglift`, strict C11) and
# consumer.cpp against libpglift++ (`pkg-config --static --cflags --libs libpglift++`), with nothing but
# the installed headers and .pc files: no -I or -L into the source or build tree, and every pglift header
# the compiler reads (-H) is an installed one. Then both run on the installed library (LD_LIBRARY_PATH,
# checked with ldd); the C example creates, restarts and drops an instance.
#   installed_package.sh MESON PKG_CONFIG BUILD_ROOT SOURCE_ROOT CC CXX EXAMPLE_C CONSUMER_CPP
# (run inside tests/capi/with_prefix.sh, which gives the C example its throw-away prefix)
set -eu -o pipefail
meson=$1 pkg_config=$2 build=$(realpath "$3") src=$(realpath "$4") cc=$5 cxx=$6 example_c=$7 consumer_cpp=$8
work=$(mktemp -d "${TMPDIR:-/tmp}/pglift-install.XXXXXX")
trap 'rm -rf "$work"' EXIT
destdir=$work/destdir

fail() {
  echo "FAIL: $*" >&2
  exit 1
}
step() {
  echo "== $* (at ${SECONDS}s)"
}

step "meson install --destdir $destdir"
"$meson" install -C "$build" --no-rebuild --quiet --destdir "$destdir"

# The .pc files say prefix=<the configured prefix>: point them at its copy under DESTDIR.
pcdir=$(dirname "$(find "$destdir" -name libpglift.pc -print -quit)")
[[ -f $pcdir/libpglift.pc && -f $pcdir/libpglift++.pc ]] || fail "no libpglift.pc and libpglift++.pc under $destdir"
prefix=$(sed -n 's/^prefix=//p' "$pcdir/libpglift.pc")
sed -i "s|^prefix=.*|prefix=$destdir$prefix|" "$pcdir/libpglift.pc" "$pcdir/libpglift++.pc"
export PKG_CONFIG_PATH=$pcdir
unset PKG_CONFIG_LIBDIR PKG_CONFIG_SYSROOT_DIR
libdir=$("$pkg_config" --variable=libdir libpglift)
includedir=$("$pkg_config" --variable=includedir libpglift)
[[ $libdir == "$destdir"/* && $includedir == "$destdir"/* ]] ||
  fail "libdir $libdir or includedir $includedir is not under $destdir"

c_flags=$("$pkg_config" --cflags --libs libpglift)
cxx_flags=$("$pkg_config" --static --cflags --libs libpglift++)
echo "libpglift $("$pkg_config" --modversion libpglift): $c_flags"
echo "libpglift++ (requires: $("$pkg_config" --print-requires libpglift++ | paste -sd ' ')): $cxx_flags"
for flag in $c_flags $cxx_flags; do
  case $flag in
    -I* | -L*)
      dir=$(realpath -m -- "${flag:2}")
      case $dir/ in "$src"/* | "$build"/*) fail "$flag points into the source or build tree" ;; esac
      ;;
  esac
done

# FILE: the compiler's messages in its stderr, without -H's list of headers.
compiler_errors() {
  grep -vE '^\.+ ' "$1" >&2 || true
}

# FILE LABEL: the compiler's -H output in FILE names pglift headers, all under the installed includedir.
check_headers() {
  local path count=0
  while IFS= read -r path; do
    [[ $path == "$includedir"/pglift/* ]] || fail "$2 read $path, not an installed header"
    count=$((count + 1))
  done < <(sed -nE 's/^\.+ //p' "$1" | grep -E '/pglift/[^/]+$' || true)
  [[ $count -gt 0 ]] || fail "$2 read no pglift header"
  echo "$2: $count pglift headers read, all from $includedir/pglift"
}

step "C: examples/c/example.c"
# shellcheck disable=SC2086  # word splitting of pkg-config's flags is wanted
"$cc" -std=c11 -Wall -Wextra -pedantic -Werror -H "$example_c" $c_flags -o "$work/example" 2>"$work/example.H" ||
  { compiler_errors "$work/example.H"; fail "the C example does not build"; }
check_headers "$work/example.H" "example.c"

step "C++: consumer.cpp"
# shellcheck disable=SC2086
"$cxx" -std=c++20 -Wall -Wextra -Werror -H "$consumer_cpp" $cxx_flags -o "$work/consumer" 2>"$work/consumer.H" ||
  { compiler_errors "$work/consumer.H"; fail "the C++ program does not build"; }
check_headers "$work/consumer.H" "consumer.cpp"

export LD_LIBRARY_PATH=$libdir
loaded=$(ldd "$work/example" | awk '$1 ~ /^libpglift\.so/ { print $3 }')
[[ $loaded == "$libdir"/* ]] || fail "the C example would load libpglift from '${loaded}', not from $libdir"
step "running the C example (libpglift from $loaded)"
"$work/example" installed_c
step "running the C++ program"
"$work/consumer"
step "done"
