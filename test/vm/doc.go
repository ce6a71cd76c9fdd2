// Package vm holds voiced's system tests: they boot Debian's own kernel under QEMU for
// amd64 and arm64 guests, with a loopback sound card (snd-aloop) and simulated GPIO lines
// (gpio-sim), run the scenario scripts in scenarios/ inside the guest and report each
// scenario as a subtest, TestVM/ARCH/SCENARIO, with its log. One more amd64 guest boots a
// Debian root with systemd as PID 1 and the voiced .deb installed, and reports the
// packaged unit's checks as TestVM/amd64/systemd.
//
// The tests boot only when VOICED_VM=1 (make test-vm sets it); otherwise TestVM skips at
// once. See README.md for how the guest is built and how to add a scenario.
package vm
