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
