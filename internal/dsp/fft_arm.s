//go:build !purego

#include "textflag.h"

// func fftStage(re, im, wRe, wIm []float32)
//
// Four butterflies a turn with loads and stores at fixed offsets: VFPv2 has no
// vector unit, but the compiled loop computes an address before each of its
// ten loads and stores. tr = wr·xr - wi·xi and ti = wr·xi + wi·xr use VMLS and
// VMLA, which round the product before they add, as separate instructions do.
TEXT ·fftStage(SB), NOSPLIT, $0-48
	MOVW re_base+0(FP), R0
	MOVW re_len+4(FP), R7
	MOVW im_base+12(FP), R1
	MOVW wRe_len+28(FP), R8
	ADD  R7<<2, R0, R7       // end of re
	MOVW R8<<2, R8           // half, in bytes

block:
	ADD  R8, R0, R2          // second halves
	ADD  R8, R1, R3
	MOVW wRe_base+24(FP), R4
	MOVW wIm_base+36(FP), R5
	MOVW R8, R6

inner:
	MOVF  0(R4), F0
	MOVF  0(R5), F1
	MOVF  0(R2), F2
	MOVF  0(R3), F3
	MULF  F2, F0, F4
	MULSF F1, F3, F4
	MULF  F3, F0, F5
	MULAF F1, F2, F5
	MOVF  0(R0), F6
	MOVF  0(R1), F7
	ADDF  F4, F6, F8
	SUBF  F4, F6, F9
	ADDF  F5, F7, F10
	SUBF  F5, F7, F11
	MOVF  F8, 0(R0)
	MOVF  F10, 0(R1)
	MOVF  F9, 0(R2)
	MOVF  F11, 0(R3)
	MOVF  4(R4), F0
	MOVF  4(R5), F1
	MOVF  4(R2), F2
	MOVF  4(R3), F3
	MULF  F2, F0, F4
	MULSF F1, F3, F4
	MULF  F3, F0, F5
	MULAF F1, F2, F5
	MOVF  4(R0), F6
	MOVF  4(R1), F7
	ADDF  F4, F6, F8
	SUBF  F4, F6, F9
	ADDF  F5, F7, F10
	SUBF  F5, F7, F11
	MOVF  F8, 4(R0)
	MOVF  F10, 4(R1)
	MOVF  F9, 4(R2)
	MOVF  F11, 4(R3)
	MOVF  8(R4), F0
	MOVF  8(R5), F1
	MOVF  8(R2), F2
	MOVF  8(R3), F3
	MULF  F2, F0, F4
	MULSF F1, F3, F4
	MULF  F3, F0, F5
	MULAF F1, F2, F5
	MOVF  8(R0), F6
	MOVF  8(R1), F7
	ADDF  F4, F6, F8
	SUBF  F4, F6, F9
	ADDF  F5, F7, F10
	SUBF  F5, F7, F11
	MOVF  F8, 8(R0)
	MOVF  F10, 8(R1)
	MOVF  F9, 8(R2)
	MOVF  F11, 8(R3)
	MOVF  12(R4), F0
	MOVF  12(R5), F1
	MOVF  12(R2), F2
	MOVF  12(R3), F3
	MULF  F2, F0, F4
	MULSF F1, F3, F4
	MULF  F3, F0, F5
	MULAF F1, F2, F5
	MOVF  12(R0), F6
	MOVF  12(R1), F7
	ADDF  F4, F6, F8
	SUBF  F4, F6, F9
	ADDF  F5, F7, F10
	SUBF  F5, F7, F11
	MOVF  F8, 12(R0)
	MOVF  F10, 12(R1)
	MOVF  F9, 12(R2)
	MOVF  F11, 12(R3)
	ADD   $16, R0
	ADD   $16, R1
	ADD   $16, R2
	ADD   $16, R3
	ADD   $16, R4
	ADD   $16, R5
	SUB.S $16, R6
	BNE   inner

	MOVW R2, R0              // the next block starts where the second half ended
	MOVW R3, R1
	CMP  R7, R0
	BLO  block
	RET
