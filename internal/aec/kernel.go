package aec

// The multiply-accumulate loops of the partitioned filter: for a 128 ms tail at
// 16 kHz they run over 19 partitions of 129 bins per 8 ms block, for both
// filters in one pass and once for the update. Plain Go, written so the
// compiler drops the bounds checks inside the loops.

// cmacConj adds g·conj(x) (complex, per bin) to acc.
func cmacConj(accRe, accIm, gRe, gIm, xRe, xIm []float32) {
	n := len(accRe)
	accIm, gRe, gIm, xRe, xIm = accIm[:n], gRe[:n], gIm[:n], xRe[:n], xIm[:n]
	for i := range n {
		gr, gi, xr, xi := gRe[i], gIm[i], xRe[i], xIm[i]
		accRe[i] += gr*xr + gi*xi
		accIm[i] += gi*xr - gr*xi
	}
}

// cmac2 adds wa·x to ya and wb·x to yb (complex, per bin): both filters over
// one partition of the reference, which is read once.
func cmac2(yaRe, yaIm, ybRe, ybIm, waRe, waIm, wbRe, wbIm, xRe, xIm []float32) {
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
