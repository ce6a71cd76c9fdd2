package aec

// The multiply-accumulate loops of the partitioned filter: for a 128 ms tail at
// 24 kHz they run over 27 partitions of 129 bins per 5.3 ms block, for both
// filters in one pass and once for the update. Whole groups of four bins go to
// the kernels in assembly (kernel_*.s, with a Go fallback), the rest to the Go
// loops, which are also the reference the kernels are tested against.

// cmacConj adds g·conj(x) (complex, per bin) to acc.
func cmacConj(accRe, accIm, gRe, gIm, xRe, xIm []float32) {
	n := len(accRe)
	accIm, gRe, gIm, xRe, xIm = accIm[:n], gRe[:n], gIm[:n], xRe[:n], xIm[:n]
	v := n &^ 3
	if v > 0 {
		cmacConj4(&accRe[0], &accIm[0], &gRe[0], &gIm[0], &xRe[0], &xIm[0], v)
	}
	cmacConjGo(accRe[v:], accIm[v:], gRe[v:], gIm[v:], xRe[v:], xIm[v:])
}

// cmac2 adds wa·x to ya and wb·x to yb (complex, per bin): both filters over
// one partition of the reference, which is read once.
func cmac2(yaRe, yaIm, ybRe, ybIm, waRe, waIm, wbRe, wbIm, xRe, xIm []float32) {
	n := len(xRe)
	yaRe, yaIm, ybRe, ybIm = yaRe[:n], yaIm[:n], ybRe[:n], ybIm[:n]
	waRe, waIm, wbRe, wbIm, xIm = waRe[:n], waIm[:n], wbRe[:n], wbIm[:n], xIm[:n]
	v := n &^ 3
	if v > 0 {
		cmac2x4(&yaRe[0], &yaIm[0], &ybRe[0], &ybIm[0], &waRe[0], &waIm[0], &wbRe[0], &wbIm[0], &xRe[0], &xIm[0], v)
	}
	cmac2Go(yaRe[v:], yaIm[v:], ybRe[v:], ybIm[v:], waRe[v:], waIm[v:], wbRe[v:], wbIm[v:], xRe[v:], xIm[v:])
}

// cmacConjGo is the portable cmacConj.
func cmacConjGo(accRe, accIm, gRe, gIm, xRe, xIm []float32) {
	n := len(accRe)
	accIm, gRe, gIm, xRe, xIm = accIm[:n], gRe[:n], gIm[:n], xRe[:n], xIm[:n]
	for i := range n {
		gr, gi, xr, xi := gRe[i], gIm[i], xRe[i], xIm[i]
		accRe[i] += gr*xr + gi*xi
		accIm[i] += gi*xr - gr*xi
	}
}

// cmac2Go is the portable cmac2.
func cmac2Go(yaRe, yaIm, ybRe, ybIm, waRe, waIm, wbRe, wbIm, xRe, xIm []float32) {
	n := len(xRe)
	yaRe, yaIm, ybRe, ybIm = yaRe[:n], yaIm[:n], ybRe[:n], ybIm[:n]
	waRe, waIm, wbRe, wbIm, xIm = waRe[:n], waIm[:n], wbRe[:n], wbIm[:n], xIm[:n]
	for i, xr := range xRe {
		xi := xIm[i]
		r, q := waRe[i], waIm[i]
		yaRe[i] += r*xr - q*xi
		yaIm[i] += r*xi + q*xr
		r, q = wbRe[i], wbIm[i]
		ybRe[i] += r*xr - q*xi
		ybIm[i] += r*xi + q*xr
	}
}
