#!/usr/bin/env bash
# Every public operation exists in every form, and a test runs each form (issue 12, item 3).
#   check_forms.sh INCLUDE_DIR PGLIFT_H TEST_FILE...
# - C++: a function of include/pglift/*.hpp taking `Context& ctx` first is an operation. Each blocking one
#   (`name`) needs `Operation start_name(` and, in async.hpp, `auto async_name(`; each start_/async_ form
#   needs its blocking twin. The TEST_FILEs must call each of the three (`name(`, `start_name(`,
#   `async_name(`), so that a form nobody runs fails here too.
# - C ABI: each `pglift_<x>(pglift_ctx *ctx, ...)` of PGLIFT_H doing I/O needs `pglift_<x>_async`.
# Exemptions are listed below, each with its reason.
set -eu -o pipefail
include=$1 header=$2
shift 2
tests=("$@")
status=0

# Operations without asynchronous forms, and why.
declare -A exempt=(
  [exec_in_instance]="replaces the calling process: no completion to deliver"
  [exec_postgres_foreground]="replaces the calling process: no completion to deliver"
  [read_instance_logs]="a stream of chunks to a callback (its asynchronous face is wt-stream's)"
)
# C entry points taking a context that are not operations (no I/O of an instance).
c_exempt='^(ctx_.*)$'

names() { grep -ohE "$1" "$@" 2>/dev/null || true; }
mapfile -t headers < <(ls "$include"/*.hpp)
all=$(grep -ohE '\b[a-z_0-9]+\(Context& ctx' "${headers[@]}" | sed 's/(Context& ctx//' | LC_ALL=C sort -u)
callback=$(grep -ohE 'Operation start_[a-z_0-9]+\(Context& ctx' "${headers[@]}" | sed -E 's/^Operation start_//; s/\(.*//' | LC_ALL=C sort -u)
token=$(grep -ohE 'auto async_[a-z_0-9]+\(Context& ctx' "$include/async.hpp" | sed -E 's/^auto async_//; s/\(.*//' | LC_ALL=C sort -u)
# Blocking: every operation name that is not a start_ or async_ form (start_instance is blocking: it is
# no `Operation start_` declaration).
blocking=$(comm -23 <(echo "$all") <( { grep -ohE 'Operation start_[a-z_0-9]+\(Context& ctx' "${headers[@]}" | sed -E 's/^Operation //; s/\(.*//'
                                         grep -ohE 'auto async_[a-z_0-9]+\(Context& ctx' "$include/async.hpp" | sed -E 's/^auto //; s/\(.*//'; } | LC_ALL=C sort -u))

count=0
for op in $blocking; do
  count=$((count + 1))
  if [[ -n ${exempt[$op]:-} ]]; then
    echo "exempt: $op (${exempt[$op]})"
    continue
  fi
  grep -qx "$op" <<<"$callback" || { echo "FAIL: $op has no callback form: Operation start_$op(Context& ctx, ...)"; status=1; }
  grep -qx "$op" <<<"$token" || { echo "FAIL: $op has no token form: async_$op(Context& ctx, ..., Token&&) in async.hpp"; status=1; }
  for form in "$op" "start_$op" "async_$op"; do
    grep -qE "(^|[^a-zA-Z0-9_])$form\(" "${tests[@]}" ||
      { echo "FAIL: no test runs $form (expected a call in ${tests[*]})"; status=1; }
  done
done
for op in $callback $token; do
  grep -qx "$op" <<<"$blocking" || { echo "FAIL: start_/async_$op has no blocking form $op(Context& ctx, ...)"; status=1; }
done

# The C ABI.
c_ops=$(grep -ohE '^PGLIFT_API [^(]*\bpglift_[a-z_0-9]+\(pglift_ctx \*ctx' "$header" | sed -E 's/.*pglift_([a-z_0-9]+)\(.*/\1/' | LC_ALL=C sort -u)
c_count=0
for op in $c_ops; do
  [[ $op == *_async ]] && continue
  [[ $op =~ $c_exempt ]] && continue
  c_count=$((c_count + 1))
  grep -qx "${op}_async" <<<"$c_ops" || { echo "FAIL: pglift_$op has no twin pglift_${op}_async in $header"; status=1; }
done

[[ $status -eq 0 ]] && echo "$count C++ operations in three forms (but the exempt), each run by a test; $c_count C entry points with an _async twin: ok"
exit $status
