//go:build !race

package metrics

const raceEnabledMetrics = false
