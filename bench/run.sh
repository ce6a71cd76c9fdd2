#!/usr/bin/env bash
# make bench: build voiced, voiced-sim, the reference client and the benchmark driver,
# then measure (see bench/cmd/voiced-bench). Extra arguments go to the driver, e.g.
#   bench/run.sh --minutes 2 --skip qemu,valgrind
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
out=build/bench
mkdir -p "$out/bin"
for c in voiced voiced-sim; do
  CGO_ENABLED=0 $GO build -trimpath -o "$out/bin/$c" "./cmd/$c"
done
CGO_ENABLED=0 $GO build -trimpath -o "$out/reference" ./bench/reference
CGO_ENABLED=0 $GO build -trimpath -o "$out/voiced-bench" ./bench/cmd/voiced-bench
exec "$out/voiced-bench" --bin "$out/bin" --reference "$out/reference" --work "$out" --out build/bench.json "$@"
