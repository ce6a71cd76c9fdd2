//go:build !linux

package wakeword

func cpuTime() int64 { return 0 }
