/*
 * avx2.h - AVX2 helpers shared by the scans' AVX2 paths (drawdown_avx2.c,
 * returns_avx2.c): lane shifts, aligned-head count, streaming stores.
 * Included only where TK_HAVE_AVX2 (tk.h) is set.
 */
#ifndef TK_SCANS_AVX2_H
#define TK_SCANS_AVX2_H

#include "tk_scan.h"
#include <immintrin.h>
#include <stdint.h>

#define TK_AVX2 __attribute__((target("avx2")))

/* Keeps v in a register: a vector loaded for both max(v, acc) and
 * min(v, acc) cannot be their memory operand (v comes first, for the NaN
 * rule), and GCC then loads it again for the second. */
#define TK_IN_REG256(v) __asm__("" : "+x"(v))

/* [fill, a0, a1, a2] */
TK_AVX2 static inline __m256d shift1(__m256d a, __m256d fill)
{
    return _mm256_blend_pd(_mm256_permute4x64_pd(a, _MM_SHUFFLE(2, 1, 0, 0)), fill, 0x1);
}

/* [fill, fill, a0, a1] */
TK_AVX2 static inline __m256d shift2(__m256d a, __m256d fill)
{
    return _mm256_blend_pd(_mm256_permute4x64_pd(a, _MM_SHUFFLE(1, 0, 0, 0)), fill, 0x3);
}

TK_AVX2 static inline __m256d last_lane(__m256d a)
{
    return _mm256_permute4x64_pd(a, _MM_SHUFFLE(3, 3, 3, 3));
}

/* Elements to process one by one before p (an output; max_drawdown's input)
 * is 32-byte aligned: none when p is not even 8-byte aligned. */
static inline npy_intp head_count(const double *p, npy_intp n)
{
    const npy_intp mis = (npy_intp)(((uintptr_t)p & 31) / sizeof(double));
    const npy_intp h = (((uintptr_t)p & 7) || mis == 0) ? 0 : 4 - mis;
    return h < n ? h : n;
}

TK_AVX2 static inline void store(double *p, __m256d v, int stream)
{
    if (stream) {
        _mm256_stream_pd(p, v);
    }
    else {
        _mm256_storeu_pd(p, v);
    }
}

#endif
