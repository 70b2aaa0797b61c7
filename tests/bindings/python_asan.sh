#!/usr/bin/env bash
# The Python binding on an ASan+UBSan libpglift: python3 gets the sanitizer runtime preloaded (it must
# come first), and drops LD_PRELOAD from its environment before anything runs, so that initdb, postgres
# and Patroni, which inherit the environment, run uninstrumented (preloaded, they hang or abort).
#   python_asan.sh PYTHON SOURCE_DIR LIBRARY     (run inside tests/capi/with_prefix.sh)
set -eu -o pipefail
python=$1 src=$2 lib=$3
export LIBPGLIFT_PATH=$lib PYTHONPATH=$src PYTHONDONTWRITEBYTECODE=1
# CPython itself keeps memory until exit: leak detection would only report the interpreter.
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
preload="$(gcc -print-file-name=libasan.so) $(gcc -print-file-name=libubsan.so) $(gcc -print-file-name=libstdc++.so)"
run() {  # run MODULE_OR_SCRIPT ARGS...: under the preloaded runtime, children without it
  LD_PRELOAD=$preload "$python" -c '
import os, runpy, sys
os.environ.pop("LD_PRELOAD", None)
target, sys.argv = sys.argv[1], sys.argv[1:]
if target.endswith(".py"):
    runpy.run_path(target, run_name="__main__")
else:
    runpy.run_module(target, run_name="__main__", alter_sys=True)
' "$@"
}
run unittest discover -v -s "$src/tests" -t "$src/tests"
run "$src/example.py" --name pyexample
