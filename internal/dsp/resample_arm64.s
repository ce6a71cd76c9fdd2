//go:build !purego

#include "textflag.h"

// func resampleDot16(c, w *float32, n int) float32
TEXT ·resampleDot16(SB), NOSPLIT, $0-28
	MOVD c+0(FP), R0
	MOVD w+8(FP), R1
	MOVD n+16(FP), R2
	VEOR V0.B16, V0.B16, V0.B16
	VEOR V1.B16, V1.B16, V1.B16
	VEOR V2.B16, V2.B16, V2.B16
	VEOR V3.B16, V3.B16, V3.B16

loop:
	VLD1.P 64(R0), [V4.S4, V5.S4, V6.S4, V7.S4]
	VLD1.P 64(R1), [V16.S4, V17.S4, V18.S4, V19.S4]
	VFMLA  V4.S4, V16.S4, V0.S4
	VFMLA  V5.S4, V17.S4, V1.S4
	VFMLA  V6.S4, V18.S4, V2.S4
	VFMLA  V7.S4, V19.S4, V3.S4
	SUBS   $16, R2, R2
	BNE    loop

	// The assembler has no vector float add: fold the accumulators into V0 by
	// multiplying with ones, then add its four lanes.
	MOVW   $0x3f800000, R3
	VDUP   R3, V31.S4
	VFMLA  V1.S4, V31.S4, V0.S4
	VFMLA  V2.S4, V31.S4, V0.S4
	VFMLA  V3.S4, V31.S4, V0.S4
	VMOV   V0.S[1], R4
	VMOV   V0.S[2], R5
	VMOV   V0.S[3], R6
	FMOVS  R4, F1
	FMOVS  R5, F2
	FMOVS  R6, F3
	FADDS  F1, F0, F0
	FADDS  F3, F2, F2
	FADDS  F2, F0, F0
	FMOVS  F0, ret+24(FP)
	RET
