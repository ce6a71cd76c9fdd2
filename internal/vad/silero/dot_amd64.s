//go:build !purego

#include "textflag.h"

// func dot4(w *float32, stride int, x *float32, n int, out *[4]float32)
//
// SSE2 (the amd64 baseline): one accumulator of four lanes a row, sixteen
// values of each row a turn, then a 4x4 transpose-and-add.
TEXT ·dot4(SB), NOSPLIT, $0-40
	MOVQ w+0(FP), SI
	MOVQ stride+8(FP), BX
	SHLQ $2, BX
	MOVQ x+16(FP), DI
	MOVQ n+24(FP), CX
	LEAQ (SI)(BX*1), R8
	LEAQ (R8)(BX*1), R9
	LEAQ (R9)(BX*1), R10
	XORPS X0, X0
	XORPS X1, X1
	XORPS X2, X2
	XORPS X3, X3

loop:
	MOVUPS 0(DI), X4
	MOVUPS 16(DI), X5
	MOVUPS 0(SI), X8
	MOVUPS 0(R8), X9
	MOVUPS 0(R9), X10
	MOVUPS 0(R10), X11
	MULPS  X4, X8
	MULPS  X4, X9
	MULPS  X4, X10
	MULPS  X4, X11
	ADDPS  X8, X0
	ADDPS  X9, X1
	ADDPS  X10, X2
	ADDPS  X11, X3
	MOVUPS 16(SI), X12
	MOVUPS 16(R8), X13
	MOVUPS 16(R9), X14
	MOVUPS 16(R10), X11
	MULPS  X5, X12
	MULPS  X5, X13
	MULPS  X5, X14
	MULPS  X5, X11
	ADDPS  X12, X0
	ADDPS  X13, X1
	ADDPS  X14, X2
	ADDPS  X11, X3
	MOVUPS 32(DI), X6
	MOVUPS 48(DI), X7
	MOVUPS 32(SI), X8
	MOVUPS 32(R8), X9
	MOVUPS 32(R9), X10
	MOVUPS 32(R10), X11
	MULPS  X6, X8
	MULPS  X6, X9
	MULPS  X6, X10
	MULPS  X6, X11
	ADDPS  X8, X0
	ADDPS  X9, X1
	ADDPS  X10, X2
	ADDPS  X11, X3
	MOVUPS 48(SI), X12
	MOVUPS 48(R8), X13
	MOVUPS 48(R9), X14
	MOVUPS 48(R10), X11
	MULPS  X7, X12
	MULPS  X7, X13
	MULPS  X7, X14
	MULPS  X7, X11
	ADDPS  X12, X0
	ADDPS  X13, X1
	ADDPS  X14, X2
	ADDPS  X11, X3
	ADDQ   $64, DI
	ADDQ   $64, SI
	ADDQ   $64, R8
	ADDQ   $64, R9
	ADDQ   $64, R10
	SUBQ   $16, CX
	JNZ    loop

	// X0..X3 hold rows a..d in four lanes each: transpose and add.
	MOVAPS   X0, X4
	UNPCKLPS X1, X0 // a0 b0 a1 b1
	UNPCKHPS X1, X4 // a2 b2 a3 b3
	ADDPS    X4, X0
	MOVAPS   X2, X5
	UNPCKLPS X3, X2 // c0 d0 c1 d1
	UNPCKHPS X3, X5 // c2 d2 c3 d3
	ADDPS    X5, X2
	MOVAPS   X0, X6
	MOVLHPS  X2, X0 // a02 b02 c02 d02
	MOVHLPS  X6, X2 // a13 b13 c13 d13
	ADDPS    X2, X0
	MOVQ     out+32(FP), AX
	MOVUPS   X0, 0(AX)
	RET
