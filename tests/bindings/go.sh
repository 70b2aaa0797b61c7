#!/usr/bin/env bash
# The Go binding: vet, test, then build and run the example, offline, against the uninstalled library.
#   go.sh GO SOURCE_DIR BUILD_ROOT      (run inside tests/capi/with_prefix.sh)
set -eu -o pipefail
go=$1 src=$2 build=$3
work=$(mktemp -d "${TMPDIR:-/tmp}/pglift-go.XXXXXX")
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT  # the module cache is read-only

export GOCACHE=$work/cache GOPATH=$work/path GOTMPDIR=$work GOENV=off
export GOFLAGS="-mod=mod -buildvcs=false" GOPROXY=off GOSUMDB=off GO111MODULE=on CGO_ENABLED=1
export PKG_CONFIG_PATH=$build/meson-uninstalled  # libpglift-uninstalled.pc
export LD_LIBRARY_PATH=$build/capi${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}

cd "$src"
"$go" version
"$go" vet ./...
# -race checks the binding's Go side (its map, channels, locks). It is blind to a call using the C
# context while Close frees it (for it, every cgo call synchronizes with every other one): that race
# shows as a crash, which TestCloseWhileCallsInFlight provokes.
"$go" test -race -count=1 -v ./...
"$go" build -o "$work/example" ./cmd/example
"$work/example" -name goexample
