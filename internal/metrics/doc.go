// Package metrics keeps voiced's counters, gauges and latency histograms and writes them
// in the Prometheus text format for GET /metrics. Updates are single atomic operations,
// so the audio paths can count without locks or allocation.
package metrics
