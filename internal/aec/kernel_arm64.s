//go:build !purego

#include "textflag.h"

// Four bins a turn in NEON lanes. Each product goes into the sum with a fused
// multiply-add (subtract): the compiled Go loop fuses too, in another order,
// so the two agree to rounding.

// func cmacConj4(accRe, accIm, gRe, gIm, xRe, xIm *float32, n int)
TEXT ·cmacConj4(SB), NOSPLIT, $0-56
	MOVD accRe+0(FP), R0
	MOVD accIm+8(FP), R1
	MOVD gRe+16(FP), R2
	MOVD gIm+24(FP), R3
	MOVD xRe+32(FP), R4
	MOVD xIm+40(FP), R5
	MOVD n+48(FP), R6

conj:
	VLD1.P 16(R2), [V0.S4]     // gr
	VLD1.P 16(R3), [V1.S4]     // gi
	VLD1.P 16(R4), [V2.S4]     // xr
	VLD1.P 16(R5), [V3.S4]     // xi
	VLD1   (R0), [V4.S4]
	VLD1   (R1), [V5.S4]
	VFMLA  V0.S4, V2.S4, V4.S4 // re += gr*xr
	VFMLA  V1.S4, V3.S4, V4.S4 // re += gi*xi
	VFMLA  V1.S4, V2.S4, V5.S4 // im += gi*xr
	VFMLS  V0.S4, V3.S4, V5.S4 // im -= gr*xi
	VST1.P [V4.S4], 16(R0)
	VST1.P [V5.S4], 16(R1)
	SUBS   $4, R6, R6
	BNE    conj
	RET

// func cmac2x4(yaRe, yaIm, ybRe, ybIm, waRe, waIm, wbRe, wbIm, xRe, xIm *float32, n int)
TEXT ·cmac2x4(SB), NOSPLIT, $0-88
	MOVD yaRe+0(FP), R0
	MOVD yaIm+8(FP), R1
	MOVD ybRe+16(FP), R2
	MOVD ybIm+24(FP), R3
	MOVD waRe+32(FP), R4
	MOVD waIm+40(FP), R5
	MOVD wbRe+48(FP), R6
	MOVD wbIm+56(FP), R7
	MOVD xRe+64(FP), R8
	MOVD xIm+72(FP), R9
	MOVD n+80(FP), R10

two:
	VLD1.P 16(R8), [V0.S4]       // xr
	VLD1.P 16(R9), [V1.S4]       // xi
	VLD1.P 16(R4), [V2.S4]       // wa re
	VLD1.P 16(R5), [V3.S4]       // wa im
	VLD1.P 16(R6), [V4.S4]       // wb re
	VLD1.P 16(R7), [V5.S4]       // wb im
	VLD1   (R0), [V6.S4]
	VLD1   (R1), [V7.S4]
	VLD1   (R2), [V16.S4]
	VLD1   (R3), [V17.S4]
	VFMLA  V2.S4, V0.S4, V6.S4   // ya re += r*xr
	VFMLS  V3.S4, V1.S4, V6.S4   // ya re -= q*xi
	VFMLA  V2.S4, V1.S4, V7.S4   // ya im += r*xi
	VFMLA  V3.S4, V0.S4, V7.S4   // ya im += q*xr
	VFMLA  V4.S4, V0.S4, V16.S4
	VFMLS  V5.S4, V1.S4, V16.S4
	VFMLA  V4.S4, V1.S4, V17.S4
	VFMLA  V5.S4, V0.S4, V17.S4
	VST1.P [V6.S4], 16(R0)
	VST1.P [V7.S4], 16(R1)
	VST1.P [V16.S4], 16(R2)
	VST1.P [V17.S4], 16(R3)
	SUBS   $4, R10, R10
	BNE    two
	RET
