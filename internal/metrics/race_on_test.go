//go:build race

package metrics

const raceEnabledMetrics = true
