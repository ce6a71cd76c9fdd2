package main

import (
	"context"
	"fmt"
	"os"
	"testing"
)

func TestZZAECCount(t *testing.T) {
	if os.Getenv("AECCOUNT") == "" {
		t.Skip()
	}
	for _, q := range []struct {
		bin string
		u   qemuUser
	}{{"/tmp/aecb.arm64", qemuUser{bin: "qemu-aarch64-static"}}, {"/tmp/aecb.arm6", qemuUser{bin: "qemu-arm-static", cpu: "arm1176"}}} {
		for _, b := range []struct {
			name string
			runs int
		}{{"BenchmarkProcess24kHz", 5}, {"BenchmarkProcessQuiet", 50}} {
			v, err := qemuInstructions(context.Background(), q.u, q.bin, b.name, b.runs)
			fmt.Printf("%s %s %.0f insn/op %.2f%% err %v\n", q.u.bin, b.name, v, v*50/1e9*100, err)
		}
	}
}
