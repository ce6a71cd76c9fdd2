//go:build !purego

#include "textflag.h"

// Four bins a turn with VFP loads and stores at fixed offsets: ARMv6 has no
// vector unit, but the compiled loop computes an address before each load and
// store. VMLA and VMLS round the product before they add, so each sum rounds
// as the Go loop's does.

// func cmacConj4(accRe, accIm, gRe, gIm, xRe, xIm *float32, n int)
TEXT ·cmacConj4(SB), NOSPLIT, $0-28
	MOVW accRe+0(FP), R0
	MOVW accIm+4(FP), R1
	MOVW gRe+8(FP), R2
	MOVW gIm+12(FP), R3
	MOVW xRe+16(FP), R4
	MOVW xIm+20(FP), R5
	MOVW n+24(FP), R6

conj:
	MOVF  0(R2), F0
	MOVF  0(R3), F1
	MOVF  0(R4), F2
	MOVF  0(R5), F3
	MULF  F2, F0, F4
	MULAF F3, F1, F4
	MULF  F2, F1, F5
	MULSF F3, F0, F5
	MOVF  0(R0), F6
	ADDF  F4, F6
	MOVF  F6, 0(R0)
	MOVF  0(R1), F7
	ADDF  F5, F7
	MOVF  F7, 0(R1)
	MOVF  4(R2), F0
	MOVF  4(R3), F1
	MOVF  4(R4), F2
	MOVF  4(R5), F3
	MULF  F2, F0, F4
	MULAF F3, F1, F4
	MULF  F2, F1, F5
	MULSF F3, F0, F5
	MOVF  4(R0), F6
	ADDF  F4, F6
	MOVF  F6, 4(R0)
	MOVF  4(R1), F7
	ADDF  F5, F7
	MOVF  F7, 4(R1)
	MOVF  8(R2), F0
	MOVF  8(R3), F1
	MOVF  8(R4), F2
	MOVF  8(R5), F3
	MULF  F2, F0, F4
	MULAF F3, F1, F4
	MULF  F2, F1, F5
	MULSF F3, F0, F5
	MOVF  8(R0), F6
	ADDF  F4, F6
	MOVF  F6, 8(R0)
	MOVF  8(R1), F7
	ADDF  F5, F7
	MOVF  F7, 8(R1)
	MOVF  12(R2), F0
	MOVF  12(R3), F1
	MOVF  12(R4), F2
	MOVF  12(R5), F3
	MULF  F2, F0, F4
	MULAF F3, F1, F4
	MULF  F2, F1, F5
	MULSF F3, F0, F5
	MOVF  12(R0), F6
	ADDF  F4, F6
	MOVF  F6, 12(R0)
	MOVF  12(R1), F7
	ADDF  F5, F7
	MOVF  F7, 12(R1)
	ADD   $16, R0
	ADD   $16, R1
	ADD   $16, R2
	ADD   $16, R3
	ADD   $16, R4
	ADD   $16, R5
	SUB.S $4, R6
	BNE   conj
	RET

// func cmac2x4(yaRe, yaIm, ybRe, ybIm, waRe, waIm, wbRe, wbIm, xRe, xIm *float32, n int)
TEXT ·cmac2x4(SB), NOSPLIT, $0-44
	MOVW yaRe+0(FP), R0
	MOVW yaIm+4(FP), R1
	MOVW ybRe+8(FP), R2
	MOVW ybIm+12(FP), R3
	MOVW waRe+16(FP), R4
	MOVW waIm+20(FP), R5
	MOVW wbRe+24(FP), R6
	MOVW wbIm+28(FP), R7
	MOVW xRe+32(FP), R8
	MOVW xIm+36(FP), R9
	MOVW n+40(FP), R12
	ADD  R12<<2, R8, R12     // end of xRe

two:
	MOVF  0(R8), F0
	MOVF  0(R9), F1
	MOVF  0(R4), F2
	MOVF  0(R5), F3
	MULF  F0, F2, F4
	MULSF F3, F1, F4
	MULF  F1, F2, F5
	MULAF F3, F0, F5
	MOVF  0(R0), F6
	ADDF  F4, F6
	MOVF  F6, 0(R0)
	MOVF  0(R1), F7
	ADDF  F5, F7
	MOVF  F7, 0(R1)
	MOVF  0(R6), F2
	MOVF  0(R7), F3
	MULF  F0, F2, F4
	MULSF F3, F1, F4
	MULF  F1, F2, F5
	MULAF F3, F0, F5
	MOVF  0(R2), F6
	ADDF  F4, F6
	MOVF  F6, 0(R2)
	MOVF  0(R3), F7
	ADDF  F5, F7
	MOVF  F7, 0(R3)
	MOVF  4(R8), F0
	MOVF  4(R9), F1
	MOVF  4(R4), F2
	MOVF  4(R5), F3
	MULF  F0, F2, F4
	MULSF F3, F1, F4
	MULF  F1, F2, F5
	MULAF F3, F0, F5
	MOVF  4(R0), F6
	ADDF  F4, F6
	MOVF  F6, 4(R0)
	MOVF  4(R1), F7
	ADDF  F5, F7
	MOVF  F7, 4(R1)
	MOVF  4(R6), F2
	MOVF  4(R7), F3
	MULF  F0, F2, F4
	MULSF F3, F1, F4
	MULF  F1, F2, F5
	MULAF F3, F0, F5
	MOVF  4(R2), F6
	ADDF  F4, F6
	MOVF  F6, 4(R2)
	MOVF  4(R3), F7
	ADDF  F5, F7
	MOVF  F7, 4(R3)
	MOVF  8(R8), F0
	MOVF  8(R9), F1
	MOVF  8(R4), F2
	MOVF  8(R5), F3
	MULF  F0, F2, F4
	MULSF F3, F1, F4
	MULF  F1, F2, F5
	MULAF F3, F0, F5
	MOVF  8(R0), F6
	ADDF  F4, F6
	MOVF  F6, 8(R0)
	MOVF  8(R1), F7
	ADDF  F5, F7
	MOVF  F7, 8(R1)
	MOVF  8(R6), F2
	MOVF  8(R7), F3
	MULF  F0, F2, F4
	MULSF F3, F1, F4
	MULF  F1, F2, F5
	MULAF F3, F0, F5
	MOVF  8(R2), F6
	ADDF  F4, F6
	MOVF  F6, 8(R2)
	MOVF  8(R3), F7
	ADDF  F5, F7
	MOVF  F7, 8(R3)
	MOVF  12(R8), F0
	MOVF  12(R9), F1
	MOVF  12(R4), F2
	MOVF  12(R5), F3
	MULF  F0, F2, F4
	MULSF F3, F1, F4
	MULF  F1, F2, F5
	MULAF F3, F0, F5
	MOVF  12(R0), F6
	ADDF  F4, F6
	MOVF  F6, 12(R0)
	MOVF  12(R1), F7
	ADDF  F5, F7
	MOVF  F7, 12(R1)
	MOVF  12(R6), F2
	MOVF  12(R7), F3
	MULF  F0, F2, F4
	MULSF F3, F1, F4
	MULF  F1, F2, F5
	MULAF F3, F0, F5
	MOVF  12(R2), F6
	ADDF  F4, F6
	MOVF  F6, 12(R2)
	MOVF  12(R3), F7
	ADDF  F5, F7
	MOVF  F7, 12(R3)
	ADD   $16, R0
	ADD   $16, R1
	ADD   $16, R2
	ADD   $16, R3
	ADD   $16, R4
	ADD   $16, R5
	ADD   $16, R6
	ADD   $16, R7
	ADD   $16, R8
	ADD   $16, R9
	CMP   R12, R8
	BNE   two
	RET
