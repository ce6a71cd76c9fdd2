//go:build !purego

#include "textflag.h"

// The Go loops' operations in the same order, four bins at a time: the same
// results to the bit.

// func cmacConj4(accRe, accIm, gRe, gIm, xRe, xIm *float32, n int)
TEXT ·cmacConj4(SB), NOSPLIT, $0-56
	MOVQ accRe+0(FP), AX
	MOVQ accIm+8(FP), BX
	MOVQ gRe+16(FP), SI
	MOVQ gIm+24(FP), DI
	MOVQ xRe+32(FP), R8
	MOVQ xIm+40(FP), R9
	MOVQ n+48(FP), R12
	SHLQ $2, R12
	XORQ R13, R13

conj:
	MOVUPS (SI)(R13*1), X0   // gr
	MOVUPS (DI)(R13*1), X1   // gi
	MOVUPS (R8)(R13*1), X2   // xr
	MOVUPS (R9)(R13*1), X3   // xi
	MOVAPS X0, X4
	MULPS  X2, X4            // gr*xr
	MOVAPS X1, X5
	MULPS  X3, X5            // gi*xi
	ADDPS  X5, X4
	MULPS  X2, X1            // gi*xr
	MULPS  X3, X0            // gr*xi
	SUBPS  X0, X1
	MOVUPS (AX)(R13*1), X6
	ADDPS  X4, X6
	MOVUPS X6, (AX)(R13*1)
	MOVUPS (BX)(R13*1), X7
	ADDPS  X1, X7
	MOVUPS X7, (BX)(R13*1)
	ADDQ   $16, R13
	CMPQ   R13, R12
	JLT    conj
	RET

// func cmac2x4(yaRe, yaIm, ybRe, ybIm, waRe, waIm, wbRe, wbIm, xRe, xIm *float32, n int)
TEXT ·cmac2x4(SB), NOSPLIT, $0-88
	MOVQ yaRe+0(FP), AX
	MOVQ yaIm+8(FP), BX
	MOVQ ybRe+16(FP), CX
	MOVQ ybIm+24(FP), DX
	MOVQ waRe+32(FP), SI
	MOVQ waIm+40(FP), DI
	MOVQ wbRe+48(FP), R8
	MOVQ wbIm+56(FP), R9
	MOVQ xRe+64(FP), R10
	MOVQ xIm+72(FP), R11
	MOVQ n+80(FP), R12
	SHLQ $2, R12
	XORQ R13, R13

two:
	MOVUPS (R10)(R13*1), X0  // xr
	MOVUPS (R11)(R13*1), X1  // xi
	MOVUPS (SI)(R13*1), X2   // r
	MOVUPS (DI)(R13*1), X3   // q
	MOVAPS X2, X4
	MULPS  X0, X4            // r*xr
	MOVAPS X3, X5
	MULPS  X1, X5            // q*xi
	SUBPS  X5, X4
	MULPS  X1, X2            // r*xi
	MULPS  X0, X3            // q*xr
	ADDPS  X3, X2
	MOVUPS (AX)(R13*1), X6
	ADDPS  X4, X6
	MOVUPS X6, (AX)(R13*1)
	MOVUPS (BX)(R13*1), X7
	ADDPS  X2, X7
	MOVUPS X7, (BX)(R13*1)
	MOVUPS (R8)(R13*1), X2   // r
	MOVUPS (R9)(R13*1), X3   // q
	MOVAPS X2, X4
	MULPS  X0, X4
	MOVAPS X3, X5
	MULPS  X1, X5
	SUBPS  X5, X4
	MULPS  X1, X2
	MULPS  X0, X3
	ADDPS  X3, X2
	MOVUPS (CX)(R13*1), X6
	ADDPS  X4, X6
	MOVUPS X6, (CX)(R13*1)
	MOVUPS (DX)(R13*1), X7
	ADDPS  X2, X7
	MOVUPS X7, (DX)(R13*1)
	ADDQ   $16, R13
	CMPQ   R13, R12
	JLT    two
	RET
