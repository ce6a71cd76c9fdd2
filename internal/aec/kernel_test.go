package aec

import (
	"math/rand/v2"
	"runtime"
	"testing"
)

// The kernels against complex64 arithmetic, the plain way.
func TestKernels(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	const n = 37
	vec := func() ([]float32, []float32, []complex64) {
		re, im, c := make([]float32, n), make([]float32, n), make([]complex64, n)
		for i := range c {
			re[i], im[i] = float32(rng.NormFloat64()), float32(rng.NormFloat64())
			c[i] = complex(re[i], im[i])
		}
		return re, im, c
	}
	yaR, yaI, ya := vec()
	ybR, ybI, yb := vec()
	waR, waI, wa := vec()
	wbR, wbI, wb := vec()
	xR, xI, x := vec()
	cmac2(yaR, yaI, ybR, ybI, waR, waI, wbR, wbI, xR, xI)
	gR, gI, g := vec()
	accR, accI, acc := vec()
	cmacConj(accR, accI, gR, gI, xR, xI)
	near := func(a complex64, re, im float32) bool {
		d := a - complex(re, im)
		return real(d)*real(d)+imag(d)*imag(d) < 1e-10
	}
	for i := range n {
		if w := ya[i] + wa[i]*x[i]; !near(w, yaR[i], yaI[i]) {
			t.Fatalf("cmac2 a[%d] = %v%+vi, want %v", i, yaR[i], yaI[i], w)
		}
		if w := yb[i] + wb[i]*x[i]; !near(w, ybR[i], ybI[i]) {
			t.Fatalf("cmac2 b[%d] = %v%+vi, want %v", i, ybR[i], ybI[i], w)
		}
		xc := complex(real(x[i]), -imag(x[i]))
		if w := acc[i] + g[i]*xc; !near(w, accR[i], accI[i]) {
			t.Fatalf("cmacConj[%d] = %v%+vi, want %v", i, accR[i], accI[i], w)
		}
	}
}

// TestKernelsMatchGo holds the assembly kernels (with their Go tails) to the Go
// loops: equal on amd64, to rounding where the kernels fuse multiply-adds.
func TestKernelsMatchGo(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	tol := float32(1e-5)
	if runtime.GOARCH == "amd64" {
		tol = 0 // the same operations in the same order
	}
	for _, n := range []int{1, 4, 7, 36, 129} {
		v := func() []float32 {
			s := make([]float32, n)
			for i := range s {
				s[i] = float32(rng.NormFloat64())
			}
			return s
		}
		dup := func(s []float32) []float32 { return append([]float32(nil), s...) }
		in := make([][]float32, 10)
		for i := range in {
			in[i] = v()
		}
		got, want := make([][]float32, 4), make([][]float32, 4)
		for i := range got {
			got[i], want[i] = dup(in[i]), dup(in[i])
		}
		cmac2(got[0], got[1], got[2], got[3], in[4], in[5], in[6], in[7], in[8], in[9])
		cmac2Go(want[0], want[1], want[2], want[3], in[4], in[5], in[6], in[7], in[8], in[9])
		for j := range got {
			for i := range got[j] {
				if d := got[j][i] - want[j][i]; d > tol || d < -tol {
					t.Fatalf("n %d: cmac2 output %d [%d] = %v, Go loop %v", n, j, i, got[j][i], want[j][i])
				}
			}
		}
		cmacConj(got[0], got[1], in[4], in[5], in[8], in[9])
		cmacConjGo(want[0], want[1], in[4], in[5], in[8], in[9])
		for j := range 2 {
			for i := range got[j] {
				if d := got[j][i] - want[j][i]; d > tol || d < -tol {
					t.Fatalf("n %d: cmacConj output %d [%d] = %v, Go loop %v", n, j, i, got[j][i], want[j][i])
				}
			}
		}
	}
}
