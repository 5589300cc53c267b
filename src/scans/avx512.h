/*
 * avx512.h - AVX-512 helpers shared by the scans' AVX-512 paths
 * (drawdown_avx512.c, returns_avx512.c).  Those sources are compiled twice:
 *
 *   natively (TK_HAVE_AVX512): real intrinsics, target("avx512f,avx512dq"),
 *     cores tk_<name>_f64_avx512, used where the CPU has AVX-512;
 *   emulated (TK_AVX512_EMU defined, by *_avx512_emu.c): the same code
 *     against SIMDe's AVX-512 (native aliases, baseline ISA), cores
 *     tk_<name>_f64_avx512_emu, available on every CPU so the tests check
 *     the AVX-512 algorithm's bits anywhere.
 *
 * Only AVX512F operations that SIMDe implements are used; streaming
 * stores (which SIMDe lacks, and which do not change any bit) are plain
 * stores in the emulated build.
 */
#ifndef TK_SCANS_AVX512_H
#define TK_SCANS_AVX512_H

#include "tk_scan.h"
#include <stdint.h>

#ifdef TK_AVX512_EMU
#define SIMDE_ENABLE_NATIVE_ALIASES
#include <simde/x86/avx512.h>
#define TK_AVX512
#define TK_V512(name) name##_avx512_emu
typedef simde__mmask8 tk_mask8;
#else
#include <immintrin.h>
#define TK_AVX512 __attribute__((target("avx512f")))
#define TK_V512(name) name##_avx512
typedef __mmask8 tk_mask8;
#endif

/* Keeps v in a register.  A vector loaded for both max(v, acc) and
 * min(v, acc) cannot be their memory operand (v comes first, for the NaN
 * rule), and GCC then loads it again for the second: twice the loads, each
 * split across two cache lines when the data is not 64-byte aligned.  (An
 * empty asm the emulated build does without: it has no such loads.) */
#ifdef TK_AVX512_EMU
#define TK_IN_REG512(v) ((void)(v))
#else
#define TK_IN_REG512(v) __asm__("" : "+v"(v))
#endif

/* [fill x k, a0, ..., a(7-k)] for a broadcast `fill` (vpermt2pd: index 8
 * picks fill's lane 0). */
TK_AVX512 static inline __m512d shift8(__m512d a, __m512d fill, int k)
{
    const __m512i idx = k == 1   ? _mm512_setr_epi64(8, 0, 1, 2, 3, 4, 5, 6)
                        : k == 2 ? _mm512_setr_epi64(8, 8, 0, 1, 2, 3, 4, 5)
                                 : _mm512_setr_epi64(8, 8, 8, 8, 0, 1, 2, 3);
    return _mm512_permutex2var_pd(a, idx, fill);
}

TK_AVX512 static inline __m512d last_lane8(__m512d a)
{
    return _mm512_permutexvar_pd(_mm512_set1_epi64(7), a);
}

TK_AVX512 static inline double lane0(__m512d a)
{
    return _mm_cvtsd_f64(_mm512_castpd512_pd128(a));
}

/* Elements to process one by one before p (an output; max_drawdown's input)
 * is 64-byte aligned: none when p is not even 8-byte aligned. */
static inline npy_intp head_count8(const double *p, npy_intp n)
{
    const npy_intp mis = (npy_intp)(((uintptr_t)p & 63) / sizeof(double));
    const npy_intp h = (((uintptr_t)p & 7) || mis == 0) ? 0 : 8 - mis;
    return h < n ? h : n;
}

TK_AVX512 static inline void store8(double *p, __m512d v, int stream)
{
#ifdef TK_AVX512_EMU
    (void)stream;
    _mm512_storeu_pd(p, v);
#else
    if (stream) {
        _mm512_stream_pd(p, v);
    }
    else {
        _mm512_storeu_pd(p, v);
    }
#endif
}

TK_AVX512 static inline void stream_fence(int stream)
{
#ifdef TK_AVX512_EMU
    (void)stream;
#else
    if (stream) {
        _mm_sfence();
    }
#endif
}

#endif
