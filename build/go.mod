// build/ holds generated outputs (demo WAVs, the benchmark table, Debian test roots).
// This file makes it a module of its own, so `go ... ./...` never walks into them.
module voiced.invalid/build

go 1.26
