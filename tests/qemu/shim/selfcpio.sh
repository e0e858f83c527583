#!/bin/sh
# selfcpio.sh IMAGE OUT - writes OUT, a cpio archive ("newc") holding
# IMAGE at its root under its own name: booted with it (scripts/run
# --files OUT), a program image finds its own file in the tree, where
# /proc/self/exe leads (docs/shim.md).
set -eu
dir=$(dirname "$1")
name=$(basename "$1")
out=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
cd "$dir"
echo "$name" | cpio -o -H newc --quiet >"$out"
