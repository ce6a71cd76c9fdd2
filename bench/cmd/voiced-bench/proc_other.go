//go:build !linux

package main

import (
	"errors"
	"time"
)

var errNoProc = errors.New("voiced-bench: process figures need Linux /proc")

func cpuTime(int) (time.Duration, error) { return 0, errNoProc }

func memory(int) (memoryUse, error) { return memoryUse{}, errNoProc }

func mkfifo(string) error { return errNoProc }

func setPipeSize(uintptr, int) error { return errNoProc }

func openNonblockRead(string) (int, error) { return -1, errNoProc }

func readNonblock(int, []byte) (int, error) { return 0, errNoProc }

func closeFD(int) error { return errNoProc }
