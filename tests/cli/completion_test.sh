#!/usr/bin/env bash
# Shell completion: `pglift --completion=bash|zsh|fish` prints a script, and the hidden entry it calls back
# (`pglift --complete-words=SHELL -- WORD...`) offers subcommands, options, choices and instance names.
# In a throw-away prefix with one instance: bash's script is sourced in a fresh bash and its function
# driven with COMP_WORDS/COMP_CWORD as bash sets them; zsh's and fish's are checked for form (`zsh -n`,
# `fish -n` when those shells are installed); the hidden entry is checked in each shell's format.
# Usage: completion_test.sh PGLIFT_EXE      (as an unprivileged user)
set -u -o pipefail

if [[ $# -ne 1 ]]; then
  echo "usage: $0 PGLIFT_EXE" >&2
  exit 2
fi
PGLIFT=$(realpath "$1")
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require_unprivileged

start_transcript
NAME=alpha
trap 'pglift --non-interactive instance drop "$NAME"; stop_postmasters; rm -rf "$PREFIX"' EXIT
PORT=$(free_port)
echo "# prefix $PREFIX, port $PORT"
TAB=$'\t'

# complete_bash WORD...: what bash offers for the command line `pglift WORD...` whose last word is being
# typed (bash splits `--name=VALUE` into "--name" "=" "VALUE", so give those words). A fresh bash sources
# the script, finds the function that `complete -p pglift` names and calls it as bash would, running the
# pglift on its PATH. OUT: the candidates, one per line.
mkdir -p "$SCRATCH/bin"
ln -s "$PGLIFT" "$SCRATCH/bin/pglift"
complete_bash() {
  COMMAND="(bash) pglift $*<TAB>"
  # shellcheck disable=SC2016 # expanded by the inner bash
  OUT=$(PATH="$SCRATCH/bin:$PATH" timeout 60 bash --norc --noprofile -c '
    source "$1" || exit 1
    shift
    function=$(complete -p pglift | sed -n "s/.* -F \([^ ]*\) .*/\1/p")
    [[ -n $function ]] || { echo "no completion function for pglift" >&2; exit 1; }
    COMP_WORDS=(pglift "$@")
    COMP_CWORD=$#
    COMP_LINE="pglift $*"
    COMP_POINT=${#COMP_LINE}
    COMPREPLY=()
    "$function" pglift "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
    ((${#COMPREPLY[@]} == 0)) || printf "%s\n" "${COMPREPLY[@]}"' \
    complete_bash "$SCRATCH/pglift.bash" "$@" 2>"$SCRATCH/stderr")
  STATUS=$?
  ERR=$(cat "$SCRATCH/stderr")
}

# offers EXPECTED WORD...: bash offers exactly EXPECTED (lines) for `pglift WORD...<TAB>`.
offers() {
  local expected=$1
  shift
  complete_bash "$@"
  if [[ $STATUS -ne 0 ]]; then fail "$COMMAND: runs" "exit status $STATUS"; return; fi
  local shown=nothing
  [[ -z $expected ]] || shown=$(tr '\n' ' ' <<<"$expected")
  expect_equal "offers $shown" "$expected" "$OUT"
}

# --- the scripts -------------------------------------------------------------------------------------

pglift --completion=bash
expect_status 0
printf '%s\n' "$OUT" >"$SCRATCH/pglift.bash"
expect_match "bash: registers a function for pglift" '^complete .*-F [_a-z]+ pglift$' "$OUT"
expect_match "bash: calls back the hidden entry" '--complete-words=bash -- ' "$OUT"
bash -n "$SCRATCH/pglift.bash" 2>"$SCRATCH/stderr"
STATUS=$? ERR=$(cat "$SCRATCH/stderr")
expect_status 0

pglift --completion=zsh
expect_status 0
printf '%s\n' "$OUT" >"$SCRATCH/_pglift"
expect_match "zsh: a #compdef file" '^#compdef pglift$' "$(head -1 <<<"$OUT")"
expect_match "zsh: registers itself when sourced" '^ +compdef _pglift_completion pglift$' "$OUT"
expect_match "zsh: calls back the hidden entry" '--complete-words=zsh -- ' "$OUT"
if command -v zsh >/dev/null; then
  zsh -n "$SCRATCH/_pglift" 2>"$SCRATCH/stderr"
  STATUS=$? ERR=$(cat "$SCRATCH/stderr")
  expect_status 0
else
  echo "# zsh is not installed: zsh -n skipped"
fi

pglift --completion fish
expect_status 0
printf '%s\n' "$OUT" >"$SCRATCH/pglift.fish"
expect_match "fish: completes pglift with the function" "^complete -c pglift -f -a '\(__pglift_complete\)'$" "$OUT"
expect_match "fish: calls back the hidden entry" '--complete-words=fish -- ' "$OUT"
if command -v fish >/dev/null; then
  fish -n "$SCRATCH/pglift.fish" 2>"$SCRATCH/stderr"
  STATUS=$? ERR=$(cat "$SCRATCH/stderr")
  expect_status 0
else
  echo "# fish is not installed: fish -n skipped"
fi

pglift --completion=tcsh
expect_status 2
expect_match "an unknown shell is a usage error" '^Error: --completion: tcsh not in \{bash,fish,zsh\}$' "$ERR"
expect_equal "nothing on stdout" "" "$OUT"

pglift --help
expect_match "--help shows --completion" '^ +--completion ' "$OUT"
expect_no_match "--help hides the hidden entry" 'complete-words' "$OUT"

# --- before any instance; unusable settings give no candidate and no error ---------------------------

offers "instance" ins
offers "" instance get ''
SETTINGS='{"prefix": ' pglift --complete-words=bash -- instance get ''
expect_status 0
expect_equal "broken settings: no candidate" "" "$OUT"
expect_equal "broken settings: nothing on stderr" "" "$ERR"
SETTINGS='{"prefix": ' pglift --complete-words=bash -- ins
expect_equal "broken settings: the command tree still completes" "instance" "$OUT"
SETTINGS="{\"prefix\": \"$PREFIX/none\", \"run_prefix\": \"$PREFIX/none/run\"}" \
  pglift --complete-words=zsh -- pgconf -i ''
expect_status 0
expect_equal "no prefix: no candidate" "" "$OUT"
expect_equal "no prefix: nothing on stderr" "" "$ERR"
pglift --complete-words
expect_status 0

# --- with an instance --------------------------------------------------------------------------------

pglift instance create "$NAME" --port "$PORT"
expect_status 0

offers "instance" ins
offers "$NAME" instance get ''
offers "$NAME" instance get a
offers "" instance get b
offers "15/$NAME" instance get 15/
offers "" instance get "$NAME" ''  # INSTANCE is taken
offers "$NAME" instance stop "$NAME" ''  # INSTANCE... takes several
offers "$NAME" pgconf -i ''
offers "$NAME" pgconf --instance =  # `--instance=<TAB>`: bash's current word is "="
offers "show
set
remove
edit" pgconf -i "$NAME" ''
offers "status
start
stop" instance st
offers "-h
--help
-o
--output-format" instance get -
offers "json" instance get -o ''
offers "DEBUG
INFO
WARNING
ERROR
CRITICAL" -L ''
offers "WARNING" --log-level = W  # `--log-level=W<TAB>`
offers "bash
fish
zsh" --completion ''
offers "--interactive" --int
offers "--non-interactive" -L INFO --n
offers "" instance exec "$NAME" -- ''  # the command's own words: nothing (bash then completes files)

# --- the hidden entry, in each shell's format --------------------------------------------------------

pglift --complete-words=bash -- instance get ''
expect_status 0
expect_equal "bash: values only" "$NAME" "$OUT"
for shell in zsh fish; do
  pglift --complete-words=$shell -- instance get ''
  expect_status 0
  expect_equal "$shell: the instance with its port" "$NAME${TAB}port=$PORT" "$OUT"
  pglift --complete-words=$shell -- ins
  expect_equal "$shell: a subcommand with its help" "instance${TAB}Manage instances" "$OUT"
  pglift --complete-words=$shell -- instance get --o
  expect_equal "$shell: an option with its help" "--output-format${TAB}Specify the output format" "$OUT"
  pglift --complete-words=$shell -- --log-level=W
  expect_equal "$shell: --name=VALUE keeps the option's name" "--log-level=WARNING" "$OUT"
  pglift --complete-words=$shell -- pgconf -ia
  expect_equal "$shell: -iVALUE" "-i$NAME${TAB}port=$PORT" "$OUT"
done

echo "$PASSED passed, $FAILED failed"
[[ $FAILED -eq 0 ]]
