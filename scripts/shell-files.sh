#!/usr/bin/env bash
# Lists the shell scripts of the tree, one per line, for make lint: the *.sh
# files and every file whose first line runs a shell (sh, bash, busybox sh).
set -euo pipefail
cd "$(dirname "$0")/.."
{
  git ls-files -co --exclude-standard '*.sh'
  # shellcheck disable=SC2016 # $0 is awk's
  git ls-files -co --exclude-standard -z |
    xargs -0 awk 'FNR == 1 { if ($0 ~ /^#!.*(\/|env |busybox )(ba|da)?sh$/) print FILENAME; nextfile }'
} | sort -u | while read -r f; do
  if [ -f "$f" ]; then echo "$f"; fi
done
