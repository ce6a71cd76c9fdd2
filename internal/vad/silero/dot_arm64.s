//go:build !purego

#include "textflag.h"

// func dot4(w *float32, stride int, x *float32, n int, out *[4]float32)
//
// NEON: one accumulator of four lanes a row, sixteen values of each row a
// turn (a load of x serves four rows), then a 4x4 transpose and add.
TEXT ·dot4(SB), NOSPLIT, $0-40
	MOVD w+0(FP), R1
	MOVD stride+8(FP), R5
	LSL  $2, R5, R5
	MOVD x+16(FP), R0
	MOVD n+24(FP), R6
	ADD  R5, R1, R2
	ADD  R5, R2, R3
	ADD  R5, R3, R4
	VEOR V0.B16, V0.B16, V0.B16
	VEOR V1.B16, V1.B16, V1.B16
	VEOR V2.B16, V2.B16, V2.B16
	VEOR V3.B16, V3.B16, V3.B16

loop:
	VLD1.P 64(R0), [V16.S4, V17.S4, V18.S4, V19.S4]
	VLD1.P 64(R1), [V20.S4, V21.S4, V22.S4, V23.S4]
	VLD1.P 64(R2), [V24.S4, V25.S4, V26.S4, V27.S4]
	VLD1.P 64(R3), [V4.S4, V5.S4, V6.S4, V7.S4]
	VLD1.P 64(R4), [V8.S4, V9.S4, V10.S4, V11.S4]
	VFMLA  V16.S4, V20.S4, V0.S4
	VFMLA  V16.S4, V24.S4, V1.S4
	VFMLA  V16.S4, V4.S4, V2.S4
	VFMLA  V16.S4, V8.S4, V3.S4
	VFMLA  V17.S4, V21.S4, V0.S4
	VFMLA  V17.S4, V25.S4, V1.S4
	VFMLA  V17.S4, V5.S4, V2.S4
	VFMLA  V17.S4, V9.S4, V3.S4
	VFMLA  V18.S4, V22.S4, V0.S4
	VFMLA  V18.S4, V26.S4, V1.S4
	VFMLA  V18.S4, V6.S4, V2.S4
	VFMLA  V18.S4, V10.S4, V3.S4
	VFMLA  V19.S4, V23.S4, V0.S4
	VFMLA  V19.S4, V27.S4, V1.S4
	VFMLA  V19.S4, V7.S4, V2.S4
	VFMLA  V19.S4, V11.S4, V3.S4
	SUBS   $16, R6, R6
	BNE    loop

	// Transpose V0..V3 (rows a..d) so that lane r of V12..V15 holds row r,
	// then add them. The assembler has no vector float add: a
	// multiply-accumulate by one adds exactly.
	VZIP1  V1.S4, V0.S4, V12.S4 // a0 b0 a1 b1
	VZIP2  V1.S4, V0.S4, V13.S4 // a2 b2 a3 b3
	VZIP1  V3.S4, V2.S4, V14.S4 // c0 d0 c1 d1
	VZIP2  V3.S4, V2.S4, V15.S4 // c2 d2 c3 d3
	VZIP1  V14.D2, V12.D2, V0.D2 // a0 b0 c0 d0
	VZIP2  V14.D2, V12.D2, V1.D2 // a1 b1 c1 d1
	VZIP1  V15.D2, V13.D2, V2.D2 // a2 b2 c2 d2
	VZIP2  V15.D2, V13.D2, V3.D2 // a3 b3 c3 d3
	MOVW   $0x3f800000, R7
	VDUP   R7, V31.S4
	VFMLA  V1.S4, V31.S4, V0.S4
	VFMLA  V3.S4, V31.S4, V2.S4
	VFMLA  V2.S4, V31.S4, V0.S4
	MOVD   out+32(FP), R8
	VST1   [V0.S4], (R8)
	RET
