#!/bin/sh
# Side by side: vigie's has_any, go-away and obscenity on the same obfuscated
# insults (obfuscated.tsv) and innocent sentences (innocent.txt).
# Needs Go and Node (npm ci fetches obscenity once). ./run.sh -v lists every
# miss and false alarm.
set -eu
cd "$(dirname "$0")"
[ -d node_modules/obscenity ] || npm ci --silent --no-audit --no-fund
out=$(mktemp)
trap 'rm -f "$out"' EXIT
node obscenity.mjs ../../../lists 3000 >"$out"
go run . -time 3s -with "$out" "$@"
