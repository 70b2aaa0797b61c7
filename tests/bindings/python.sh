#!/usr/bin/env bash
# The Python binding (standard library only): unittest, then the example.
#   python.sh PYTHON SOURCE_DIR LIBRARY      (run inside tests/capi/with_prefix.sh)
set -eu -o pipefail
python=$1 src=$2 lib=$3
export LIBPGLIFT_PATH=$lib PYTHONPATH=$src PYTHONDONTWRITEBYTECODE=1  # the source tree is read-only
"$python" --version
"$python" -m unittest discover -v -s "$src/tests" -t "$src/tests"
"$python" "$src/example.py" --name pyexample
