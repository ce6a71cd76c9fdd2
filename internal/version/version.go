// Package version holds the version string stamped into voiced at build time.
package version

// Version is set with -ldflags "-X github.com/voiced-project/voiced/internal/version.Version=...".
var Version = "dev"
