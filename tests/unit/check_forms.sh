#!/usr/bin/env bash
# Every public operation exists in every form, and a test runs each form (issue 12, item 3).
#   check_forms.sh INCLUDE_DIR PGLIFT_H TEST_FILE_OR_DIR...
# - C++: a function of include/pglift/*.hpp taking a `Context&` first is an operation. Each blocking one
#   (`name`) needs `Operation start_name(` and, in async.hpp, `auto async_name(`; each start_/async_ form
#   needs its blocking twin. The tests (the files given, and the *.cpp of the directories given) must
#   call each of the three (`name(`, `start_name(`, `async_name(`): a form nobody runs fails here too.
# - C ABI: each `pglift_<x>(pglift_ctx *ctx, ...)` of PGLIFT_H doing I/O needs `pglift_<x>_async`.
# Exemptions are listed below, each with its reason.
set -eu -o pipefail
include=$1 header=$2
shift 2
tests=()  # the files given, and the *.cpp of the directories given
for t in "$@"; do
  if [[ -d $t ]]; then tests+=("$t"/*.cpp); else tests+=("$t"); fi
done
status=0

# Operations without asynchronous forms, and why.
declare -A exempt=(
  [exec_in_instance]="replaces the calling process: no completion to deliver"
  [exec_postgres_foreground]="replaces the calling process: no completion to deliver"
  [read_instance_logs]="a stream of chunks to a callback (its asynchronous face is wt-stream's)"
)
# C entry points taking a context that are not operations (no I/O of an instance).
c_exempt='^(ctx_.*)$'

# The headers as one line each, blanks collapsed: a declaration split over lines is still seen.
flat() { for f in "$@"; do tr -s '\n\t ' '   ' <"$f"; echo; done; }
mapfile -t headers < <(ls "$include"/*.hpp)
decls=$(flat "${headers[@]}" | grep -oE '(Operation |auto )?\b[a-z_0-9]+ ?\( ?Context ?& ?[a-z_]+\b' | sed -E 's/ ?\(.*//')
all=$(sed -E 's/^(Operation|auto) //' <<<"$decls" | LC_ALL=C sort -u)
callback_forms=$(grep -E '^Operation start_' <<<"$decls" | sed -E 's/^Operation //' | LC_ALL=C sort -u)
token_forms=$(flat "$include/async.hpp" | grep -oE 'auto async_[a-z_0-9]+ ?\( ?Context ?& ?[a-z_]+\b' | sed -E 's/^auto //; s/ ?\(.*//' | LC_ALL=C sort -u)
callback=$(sed 's/^start_//' <<<"$callback_forms")
token=$(sed 's/^async_//' <<<"$token_forms")
# Blocking: every operation name that is not a start_ or async_ form (start_instance is blocking: it is
# no `Operation start_` declaration).
blocking=$(comm -23 <(echo "$all") <(printf '%s\n%s\n' "$callback_forms" "$token_forms" | LC_ALL=C sort -u))

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
      { echo "FAIL: no test runs $form (expected a call in $*)"; status=1; }
  done
done
for op in $callback $token; do
  grep -qx "$op" <<<"$blocking" || { echo "FAIL: start_/async_$op has no blocking form $op(Context& ctx, ...)"; status=1; }
done

# The C ABI.
c_ops=$(flat "$header" | grep -oE 'PGLIFT_API [^(;]*\bpglift_[a-z_0-9]+ ?\( ?pglift_ctx ?\* ?ctx\b' | sed -E 's/.*pglift_([a-z_0-9]+) ?\(.*/\1/' | LC_ALL=C sort -u)
c_count=0
for op in $c_ops; do
  [[ $op == *_async ]] && continue
  [[ $op =~ $c_exempt ]] && continue
  c_count=$((c_count + 1))
  grep -qx "${op}_async" <<<"$c_ops" || { echo "FAIL: pglift_$op has no twin pglift_${op}_async in $header"; status=1; }
done

[[ $status -eq 0 ]] && echo "$count C++ operations in three forms (but the exempt), each run by a test; $c_count C entry points with an _async twin: ok"
exit $status
