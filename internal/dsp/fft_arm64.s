//go:build !purego

#include "textflag.h"

// The assembler has no vector float add, subtract or multiply: they are
// written as words. Each takes Vm, Vn, Vd (Vd = Vn op Vm, four float32 lanes).
#define VFADD4(m, n, d) WORD $(0x4E20D400 | (m)<<16 | (n)<<5 | (d))
#define VFSUB4(m, n, d) WORD $(0x4EA0D400 | (m)<<16 | (n)<<5 | (d))
#define VFMUL4(m, n, d) WORD $(0x6E20DC00 | (m)<<16 | (n)<<5 | (d))

// func fftStage(re, im, wRe, wIm []float32)
//
// tr = wr·xr - wi·xi and ti = wr·xi + wi·xr take a multiply and a fused
// multiply-subtract (add), as the compiled Go loop does on arm64.
TEXT ·fftStage(SB), NOSPLIT, $0-96
	MOVD re_base+0(FP), R0
	MOVD re_len+8(FP), R1
	MOVD im_base+24(FP), R2
	MOVD wRe_base+48(FP), R3
	MOVD wRe_len+56(FP), R4
	MOVD wIm_base+72(FP), R5
	LSL  $2, R4, R4          // half, in bytes
	ADD  R1<<2, R0, R6       // end of re

block:
	ADD  R4, R0, R7          // second halves
	ADD  R4, R2, R8
	MOVD R3, R9
	MOVD R5, R10
	MOVD R4, R11

inner:
	VLD1.P 16(R9), [V0.S4]   // wr
	VLD1.P 16(R10), [V1.S4]  // wi
	VLD1   (R7), [V2.S4]     // xr
	VLD1   (R8), [V3.S4]     // xi
	VFMUL4(2, 0, 4)          // V4 = wr*xr
	VFMLS  V1.S4, V3.S4, V4.S4 // tr = V4 - wi*xi
	VFMUL4(3, 0, 5)          // V5 = wr*xi
	VFMLA  V1.S4, V2.S4, V5.S4 // ti = V5 + wi*xr
	VLD1   (R0), [V6.S4]     // ur
	VLD1   (R2), [V7.S4]     // ui
	VFADD4(4, 6, 16)
	VFSUB4(4, 6, 17)
	VFADD4(5, 7, 18)
	VFSUB4(5, 7, 19)
	VST1.P [V16.S4], 16(R0)
	VST1.P [V18.S4], 16(R2)
	VST1.P [V17.S4], 16(R7)
	VST1.P [V19.S4], 16(R8)
	SUBS   $16, R11, R11
	BNE    inner

	MOVD R7, R0              // the next block starts where the second half ended
	MOVD R8, R2
	CMP  R6, R0
	BLO  block
	RET
