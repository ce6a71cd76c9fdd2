//go:build !purego

#include "textflag.h"

#define VFADD4(m, n, d) WORD $(0x4E20D400 | (m)<<16 | (n)<<5 | (d))
#define VFSUB4(m, n, d) WORD $(0x4EA0D400 | (m)<<16 | (n)<<5 | (d))
#define VFMUL4(m, n, d) WORD $(0x6E20DC00 | (m)<<16 | (n)<<5 | (d))

// func fftRadix4(re, im []float32, inverse bool) int
//
// The first two stages of groups of four, sixteen values a turn: VLD4 puts
// the first values of four groups in one register, the second in the next and
// so on, so each butterfly is one vector add or subtract, and VST4 puts them
// back. Additions and subtractions only, in the Go loop's order: the same
// results to the bit.
TEXT ·fftRadix4(SB), NOSPLIT, $0-64
	MOVD  re_base+0(FP), R0
	MOVD  re_len+8(FP), R1
	MOVD  im_base+24(FP), R2
	MOVBU inverse+48(FP), R3
	AND   $~15, R1, R1
	MOVD  R1, ret+56(FP)
	CBZ   R1, done
	MOVD  R0, R4
	MOVD  R2, R5

loop:
	VLD4.P 64(R0), [V0.S4, V1.S4, V2.S4, V3.S4]
	VLD4.P 64(R2), [V4.S4, V5.S4, V6.S4, V7.S4]
	VFADD4(1, 0, 16)  // s0r
	VFSUB4(1, 0, 17)  // d0r
	VFADD4(3, 2, 18)  // s1r
	VFSUB4(3, 2, 19)  // d1r
	VFADD4(5, 4, 20)  // s0i
	VFSUB4(5, 4, 21)  // d0i
	VFADD4(7, 6, 22)  // s1i
	VFSUB4(7, 6, 23)  // d1i
	VFADD4(18, 16, 0) // r0 = s0r+s1r
	VFSUB4(18, 16, 2) // r2 = s0r-s1r
	VFADD4(22, 20, 4) // i0 = s0i+s1i
	VFSUB4(22, 20, 6) // i2 = s0i-s1i
	CBNZ   R3, inv
	// forward: (-i)·d1 = d1i - i·d1r
	VFADD4(23, 17, 1) // r1 = d0r+d1i
	VFSUB4(23, 17, 3) // r3 = d0r-d1i
	VFSUB4(19, 21, 5) // i1 = d0i-d1r
	VFADD4(19, 21, 7) // i3 = d0i+d1r
	B      store

inv:
	// inverse: (+i)·d1 = -d1i + i·d1r
	VFSUB4(23, 17, 1) // r1 = d0r-d1i
	VFADD4(23, 17, 3) // r3 = d0r+d1i
	VFADD4(19, 21, 5) // i1 = d0i+d1r
	VFSUB4(19, 21, 7) // i3 = d0i-d1r

store:
	VST4.P [V0.S4, V1.S4, V2.S4, V3.S4], 64(R4)
	VST4.P [V4.S4, V5.S4, V6.S4, V7.S4], 64(R5)
	SUBS   $16, R1, R1
	BNE    loop

done:
	RET

// func fftInterleave(re, im, x []float32, s float32) int
//
// x[2k], x[2k+1] = re[k]·s, im[k]·s, four k a turn: VST2 interleaves.
TEXT ·fftInterleave(SB), NOSPLIT, $0-88
	MOVD  re_base+0(FP), R0
	MOVD  re_len+8(FP), R1
	MOVD  im_base+24(FP), R2
	MOVD  x_base+48(FP), R4
	FMOVS s+72(FP), F30
	AND   $~3, R1, R1
	MOVD  R1, ret+80(FP)
	CBZ   R1, idone
	VDUP  V30.S[0], V31.S4

iloop:
	VLD1.P 16(R0), [V0.S4]
	VLD1.P 16(R2), [V1.S4]
	VFMUL4(31, 0, 0)
	VFMUL4(31, 1, 1)
	VST2.P [V0.S4, V1.S4], 32(R4)
	SUBS   $4, R1, R1
	BNE    iloop

idone:
	RET

// func fftSplit(re, im, spRe, spIm, outRe, outIm []float32) int
//
// The forward split (see fftSplitGo) for k = 1 to the largest multiple of 4 up
// to m/2, four bins a turn: the mirrored bins m-k are loaded and stored as
// vectors with their lanes reversed (VREV64, then VEXT swaps the halves). The
// mirrored stores come after the direct ones, so bin m/2 keeps the value the
// Go loop leaves there. tr and ti fuse their second product, as the compiled
// Go loop does.
TEXT ·fftSplit(SB), NOSPLIT, $0-152
	MOVD re_base+0(FP), R0
	MOVD re_len+8(FP), R1
	MOVD im_base+24(FP), R2
	MOVD spRe_base+48(FP), R3
	MOVD spIm_base+72(FP), R4
	MOVD outRe_base+96(FP), R5
	MOVD outIm_base+120(FP), R6
	LSR  $1, R1, R7
	AND  $~3, R7, R7
	MOVD R7, ret+144(FP)
	CBZ  R7, sdone
	LSL  $2, R1, R8
	SUB  $16, R8, R8         // bytes to the last four values
	ADD  R8, R0, R9          // mirrored re, im, outRe, outIm
	ADD  R8, R2, R10
	ADD  R8, R5, R11
	ADD  R8, R6, R12
	ADD  $4, R0, R0          // k = 1
	ADD  $4, R2, R2
	ADD  $4, R3, R3
	ADD  $4, R4, R4
	ADD  $4, R5, R5
	ADD  $4, R6, R6
	MOVW $0x3f000000, R13    // 0.5
	VDUP R13, V30.S4
	MOVW $0xbf000000, R13    // -0.5
	VDUP R13, V31.S4

sloop:
	VLD1.P 16(R0), [V0.S4]   // zr
	VLD1.P 16(R2), [V1.S4]   // zi
	VLD1   (R9), [V2.S4]
	VLD1   (R10), [V3.S4]
	VREV64 V2.S4, V2.S4
	VEXT   $8, V2.B16, V2.B16, V2.B16 // re[m-k]
	VREV64 V3.S4, V3.S4
	VEXT   $8, V3.B16, V3.B16, V3.B16 // im[m-k]
	VLD1.P 16(R3), [V4.S4]   // wr
	VLD1.P 16(R4), [V5.S4]   // wi
	VFADD4(2, 0, 6)          // zr+cr
	VFSUB4(3, 1, 7)          // zi+ci
	VFADD4(3, 1, 16)         // zi-ci
	VFSUB4(2, 0, 17)         // zr-cr
	VFMUL4(30, 6, 6)         // er
	VFMUL4(30, 7, 7)         // ei
	VFMUL4(30, 16, 16)       // or
	VFMUL4(31, 17, 17)       // oi
	VFMUL4(16, 4, 18)        // wr*or
	VFMLS  V5.S4, V17.S4, V18.S4 // tr
	VFMUL4(17, 4, 19)        // wr*oi
	VFMLA  V5.S4, V16.S4, V19.S4 // ti
	VFADD4(18, 6, 20)        // X[k]
	VFADD4(19, 7, 21)
	VFSUB4(18, 6, 22)        // X[m-k]
	VFSUB4(7, 19, 23)
	VST1.P [V20.S4], 16(R5)
	VST1.P [V21.S4], 16(R6)
	VREV64 V22.S4, V22.S4
	VEXT   $8, V22.B16, V22.B16, V22.B16
	VREV64 V23.S4, V23.S4
	VEXT   $8, V23.B16, V23.B16, V23.B16
	VST1   [V22.S4], (R11)
	VST1   [V23.S4], (R12)
	SUB    $16, R9, R9
	SUB    $16, R10, R10
	SUB    $16, R11, R11
	SUB    $16, R12, R12
	SUBS   $4, R7, R7
	BNE    sloop

sdone:
	RET
