package aec

import (
	"math/rand/v2"
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
