//go:build !unix

package vad

import "time"

// processCPUTime is not measured here; the benchmark then reports wall time only.
func processCPUTime() time.Duration { return 0 }
