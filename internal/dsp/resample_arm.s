//go:build !purego

#include "textflag.h"

// func resampleDot16(c, w *float32, n int) float32
//
// VFPv2 multiply-accumulate (VMLA.F32, not fused: it rounds like a multiply
// and an add) into four accumulators, sixteen taps a turn: about three
// instructions a tap where the compiled loop takes eight.
TEXT ·resampleDot16(SB), NOSPLIT, $0-16
	MOVW c+0(FP), R0
	MOVW w+4(FP), R1
	MOVW n+8(FP), R2
	MOVW $0, R3
	MOVWF R3, F0
	MOVF F0, F1
	MOVF F0, F2
	MOVF F0, F3

loop:
	MOVF  0(R0), F4
	MOVF  0(R1), F5
	MULAF F4, F5, F0
	MOVF  4(R0), F6
	MOVF  4(R1), F7
	MULAF F6, F7, F1
	MOVF  8(R0), F8
	MOVF  8(R1), F9
	MULAF F8, F9, F2
	MOVF  12(R0), F10
	MOVF  12(R1), F11
	MULAF F10, F11, F3
	MOVF  16(R0), F4
	MOVF  16(R1), F5
	MULAF F4, F5, F0
	MOVF  20(R0), F6
	MOVF  20(R1), F7
	MULAF F6, F7, F1
	MOVF  24(R0), F8
	MOVF  24(R1), F9
	MULAF F8, F9, F2
	MOVF  28(R0), F10
	MOVF  28(R1), F11
	MULAF F10, F11, F3
	MOVF  32(R0), F4
	MOVF  32(R1), F5
	MULAF F4, F5, F0
	MOVF  36(R0), F6
	MOVF  36(R1), F7
	MULAF F6, F7, F1
	MOVF  40(R0), F8
	MOVF  40(R1), F9
	MULAF F8, F9, F2
	MOVF  44(R0), F10
	MOVF  44(R1), F11
	MULAF F10, F11, F3
	MOVF  48(R0), F4
	MOVF  48(R1), F5
	MULAF F4, F5, F0
	MOVF  52(R0), F6
	MOVF  52(R1), F7
	MULAF F6, F7, F1
	MOVF  56(R0), F8
	MOVF  56(R1), F9
	MULAF F8, F9, F2
	MOVF  60(R0), F10
	MOVF  60(R1), F11
	MULAF F10, F11, F3
	ADD   $64, R0
	ADD   $64, R1
	SUB.S $16, R2
	BNE   loop

	ADDF F1, F0
	ADDF F3, F2
	ADDF F2, F0
	MOVF F0, ret+12(FP)
	RET
