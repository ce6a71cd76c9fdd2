//go:build !purego

#include "textflag.h"

// func fftStage(re, im, wRe, wIm []float32)
//
// The Go loop's operations in the same order, four lanes at a time: the same
// results to the bit.
TEXT ·fftStage(SB), NOSPLIT, $0-96
	MOVQ re_base+0(FP), SI
	MOVQ re_len+8(FP), CX
	MOVQ im_base+24(FP), DI
	MOVQ wRe_base+48(FP), R8
	MOVQ wRe_len+56(FP), R12
	MOVQ wIm_base+72(FP), R10
	SHLQ $2, R12             // half, in bytes
	LEAQ (SI)(CX*4), R11     // end of re

block:
	LEAQ (SI)(R12*1), BX     // second halves
	LEAQ (DI)(R12*1), DX
	XORQ AX, AX

inner:
	MOVUPS (R8)(AX*1), X0    // wr
	MOVUPS (R10)(AX*1), X1   // wi
	MOVUPS (BX)(AX*1), X2    // xr
	MOVUPS (DX)(AX*1), X3    // xi
	MOVAPS X0, X4
	MULPS  X2, X4            // wr*xr
	MOVAPS X1, X5
	MULPS  X3, X5            // wi*xi
	SUBPS  X5, X4            // tr
	MOVAPS X0, X6
	MULPS  X3, X6            // wr*xi
	MOVAPS X1, X7
	MULPS  X2, X7            // wi*xr
	ADDPS  X7, X6            // ti
	MOVUPS (SI)(AX*1), X8    // ur
	MOVUPS (DI)(AX*1), X9    // ui
	MOVAPS X8, X10
	ADDPS  X4, X10
	SUBPS  X4, X8
	MOVAPS X9, X11
	ADDPS  X6, X11
	SUBPS  X6, X9
	MOVUPS X10, (SI)(AX*1)
	MOVUPS X11, (DI)(AX*1)
	MOVUPS X8, (BX)(AX*1)
	MOVUPS X9, (DX)(AX*1)
	ADDQ   $16, AX
	CMPQ   AX, R12
	JLT    inner

	LEAQ (SI)(R12*2), SI
	LEAQ (DI)(R12*2), DI
	CMPQ SI, R11
	JLT  block
	RET
