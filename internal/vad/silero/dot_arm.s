//go:build !purego

#include "textflag.h"

// func dot4(w *float32, stride int, x *float32, n int, out *[4]float32)
//
// VFPv2, which the Go assembler reaches only through the even single
// registers; the loop is written as machine words so that it can use all 32
// and load four of them at a time. Each turn of four values: one VLDMIA of x,
// one per row, and sixteen VMLA.F32 (multiply-accumulate, not fused: it rounds
// like a multiply and an add) into S0-S3, one accumulator a row, the rows
// interleaved so that no accumulation waits on the previous one. About 1.3
// instructions a multiply-add (3.3 for one row at a time with the Go
// assembler's loads). Encodings: ARM ARM, VLDM A2, VMLA A2, VSTM A2; each
// WORD's comment gives the instruction.
TEXT ·dot4(SB), NOSPLIT, $0-20
	MOVW w+0(FP), R1
	MOVW stride+4(FP), R5
	MOVW x+8(FP), R0
	MOVW n+12(FP), R6
	MOVW R5<<2, R5
	ADD  R5, R1, R2
	ADD  R5, R2, R3
	ADD  R5, R3, R4
	// Zero S0-S3 as the doubles D0 and D1.
	MOVW  $0, R7
	MOVWD R7, F0
	MOVD  F0, F1

loop:
	WORD $0xecb02a04 // VLDMIA R0!, {S4-S7}: x
	WORD $0xecb14a04 // VLDMIA R1!, {S8-S11}: row 0
	WORD $0xecb26a04 // VLDMIA R2!, {S12-S15}: row 1
	WORD $0xecb38a04 // VLDMIA R3!, {S16-S19}: row 2
	WORD $0xecb4aa04 // VLDMIA R4!, {S20-S23}: row 3
	WORD $0xee020a04 // VMLA.F32 S0, S4, S8
	WORD $0xee420a06 // VMLA.F32 S1, S4, S12
	WORD $0xee021a08 // VMLA.F32 S2, S4, S16
	WORD $0xee421a0a // VMLA.F32 S3, S4, S20
	WORD $0xee020aa4 // VMLA.F32 S0, S5, S9
	WORD $0xee420aa6 // VMLA.F32 S1, S5, S13
	WORD $0xee021aa8 // VMLA.F32 S2, S5, S17
	WORD $0xee421aaa // VMLA.F32 S3, S5, S21
	WORD $0xee030a05 // VMLA.F32 S0, S6, S10
	WORD $0xee430a07 // VMLA.F32 S1, S6, S14
	WORD $0xee031a09 // VMLA.F32 S2, S6, S18
	WORD $0xee431a0b // VMLA.F32 S3, S6, S22
	WORD $0xee030aa5 // VMLA.F32 S0, S7, S11
	WORD $0xee430aa7 // VMLA.F32 S1, S7, S15
	WORD $0xee031aa9 // VMLA.F32 S2, S7, S19
	WORD $0xee431aab // VMLA.F32 S3, S7, S23
	WORD $0xecb02a04 // VLDMIA R0!, {S4-S7}: x
	WORD $0xecb14a04 // VLDMIA R1!, {S8-S11}: row 0
	WORD $0xecb26a04 // VLDMIA R2!, {S12-S15}: row 1
	WORD $0xecb38a04 // VLDMIA R3!, {S16-S19}: row 2
	WORD $0xecb4aa04 // VLDMIA R4!, {S20-S23}: row 3
	WORD $0xee020a04 // VMLA.F32 S0, S4, S8
	WORD $0xee420a06 // VMLA.F32 S1, S4, S12
	WORD $0xee021a08 // VMLA.F32 S2, S4, S16
	WORD $0xee421a0a // VMLA.F32 S3, S4, S20
	WORD $0xee020aa4 // VMLA.F32 S0, S5, S9
	WORD $0xee420aa6 // VMLA.F32 S1, S5, S13
	WORD $0xee021aa8 // VMLA.F32 S2, S5, S17
	WORD $0xee421aaa // VMLA.F32 S3, S5, S21
	WORD $0xee030a05 // VMLA.F32 S0, S6, S10
	WORD $0xee430a07 // VMLA.F32 S1, S6, S14
	WORD $0xee031a09 // VMLA.F32 S2, S6, S18
	WORD $0xee431a0b // VMLA.F32 S3, S6, S22
	WORD $0xee030aa5 // VMLA.F32 S0, S7, S11
	WORD $0xee430aa7 // VMLA.F32 S1, S7, S15
	WORD $0xee031aa9 // VMLA.F32 S2, S7, S19
	WORD $0xee431aab // VMLA.F32 S3, S7, S23
	WORD $0xecb02a04 // VLDMIA R0!, {S4-S7}: x
	WORD $0xecb14a04 // VLDMIA R1!, {S8-S11}: row 0
	WORD $0xecb26a04 // VLDMIA R2!, {S12-S15}: row 1
	WORD $0xecb38a04 // VLDMIA R3!, {S16-S19}: row 2
	WORD $0xecb4aa04 // VLDMIA R4!, {S20-S23}: row 3
	WORD $0xee020a04 // VMLA.F32 S0, S4, S8
	WORD $0xee420a06 // VMLA.F32 S1, S4, S12
	WORD $0xee021a08 // VMLA.F32 S2, S4, S16
	WORD $0xee421a0a // VMLA.F32 S3, S4, S20
	WORD $0xee020aa4 // VMLA.F32 S0, S5, S9
	WORD $0xee420aa6 // VMLA.F32 S1, S5, S13
	WORD $0xee021aa8 // VMLA.F32 S2, S5, S17
	WORD $0xee421aaa // VMLA.F32 S3, S5, S21
	WORD $0xee030a05 // VMLA.F32 S0, S6, S10
	WORD $0xee430a07 // VMLA.F32 S1, S6, S14
	WORD $0xee031a09 // VMLA.F32 S2, S6, S18
	WORD $0xee431a0b // VMLA.F32 S3, S6, S22
	WORD $0xee030aa5 // VMLA.F32 S0, S7, S11
	WORD $0xee430aa7 // VMLA.F32 S1, S7, S15
	WORD $0xee031aa9 // VMLA.F32 S2, S7, S19
	WORD $0xee431aab // VMLA.F32 S3, S7, S23
	WORD $0xecb02a04 // VLDMIA R0!, {S4-S7}: x
	WORD $0xecb14a04 // VLDMIA R1!, {S8-S11}: row 0
	WORD $0xecb26a04 // VLDMIA R2!, {S12-S15}: row 1
	WORD $0xecb38a04 // VLDMIA R3!, {S16-S19}: row 2
	WORD $0xecb4aa04 // VLDMIA R4!, {S20-S23}: row 3
	WORD $0xee020a04 // VMLA.F32 S0, S4, S8
	WORD $0xee420a06 // VMLA.F32 S1, S4, S12
	WORD $0xee021a08 // VMLA.F32 S2, S4, S16
	WORD $0xee421a0a // VMLA.F32 S3, S4, S20
	WORD $0xee020aa4 // VMLA.F32 S0, S5, S9
	WORD $0xee420aa6 // VMLA.F32 S1, S5, S13
	WORD $0xee021aa8 // VMLA.F32 S2, S5, S17
	WORD $0xee421aaa // VMLA.F32 S3, S5, S21
	WORD $0xee030a05 // VMLA.F32 S0, S6, S10
	WORD $0xee430a07 // VMLA.F32 S1, S6, S14
	WORD $0xee031a09 // VMLA.F32 S2, S6, S18
	WORD $0xee431a0b // VMLA.F32 S3, S6, S22
	WORD $0xee030aa5 // VMLA.F32 S0, S7, S11
	WORD $0xee430aa7 // VMLA.F32 S1, S7, S15
	WORD $0xee031aa9 // VMLA.F32 S2, S7, S19
	WORD $0xee431aab // VMLA.F32 S3, S7, S23
	SUB.S $16, R6
	BNE   loop

	MOVW out+16(FP), R7
	WORD $0xec870a04 // VSTMIA R7, {S0-S3}
	RET
