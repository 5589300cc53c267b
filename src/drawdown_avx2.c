/*
 * drawdown_avx2.c - AVX2 float64 paths for simple_returns, drawdown and
 * max_drawdown.  Each gives bit-identical results to the scalar loop in
 * returns.inc.h / drawdown.inc.h (tests force every path and compare bits).
 *
 * The running peak is a serial dependency; here it is an in-register prefix
 * max over 4 lanes (2 shift+max steps), then a max with the carried peak.
 * NaN lanes are replaced by -inf for the max only.  _mm256_max_pd(a, b)
 * returns b unless a > b, so passing (later, earlier) keeps the earlier
 * value on ties (+0/-0), exactly as the scalar "if (v > peak)" does.
 * Strided data falls back to the scalar loop.
 */
#include "tk.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define TK_AVX2 __attribute__((target("avx2")))

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

/* Inclusive prefix max within the vector, NaN lanes treated as -inf. */
TK_AVX2 static inline __m256d prefix_max(__m256d a, __m256d ninf)
{
    __m256d p = _mm256_blendv_pd(a, ninf, _mm256_cmp_pd(a, a, _CMP_UNORD_Q));
    p = _mm256_max_pd(p, shift1(p, ninf));
    return _mm256_max_pd(p, shift2(p, ninf));
}

/* Running peaks for 8 elements a|b given the carried peak; updates carry. */
TK_AVX2 static inline void peaks8(__m256d a, __m256d b, __m256d ninf, __m256d *carry,
                                  __m256d *pa, __m256d *pb)
{
    const __m256d qa = prefix_max(a, ninf), qb = prefix_max(b, ninf);
    const __m256d carry_b = _mm256_max_pd(last_lane(qa), *carry);
    *pa = _mm256_max_pd(qa, *carry);
    *pb = _mm256_max_pd(qb, carry_b);
    *carry = _mm256_max_pd(last_lane(qb), carry_b);
}

TK_AVX2 void tk_drawdown_f64_avx2(char **args, const npy_intp *dims, const npy_intp *steps)
{
    if (steps[0] != sizeof(double) || steps[1] != sizeof(double)) {
        tk_drawdown_f64(args, dims, steps);
        return;
    }
    const npy_intp n = dims[0];
    const double *x = (const double *)args[0];
    double *out = (double *)args[1];
    const __m256d ninf = _mm256_set1_pd(-INFINITY), one = _mm256_set1_pd(1.0);
    __m256d carry = ninf;
    npy_intp i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256d a = _mm256_loadu_pd(x + i), b = _mm256_loadu_pd(x + i + 4);
        __m256d pa, pb;
        peaks8(a, b, ninf, &carry, &pa, &pb);
        _mm256_storeu_pd(out + i, _mm256_sub_pd(_mm256_div_pd(a, pa), one));
        _mm256_storeu_pd(out + i + 4, _mm256_sub_pd(_mm256_div_pd(b, pb), one));
    }
    double peak = _mm256_cvtsd_f64(carry);
    for (; i < n; i++) {
        const double v = x[i];
        if (v > peak) {
            peak = v;
        }
        out[i] = v / peak - 1.0;
    }
}

TK_AVX2 void tk_max_drawdown_f64_avx2(char **args, const npy_intp *dims, const npy_intp *steps)
{
    if (steps[0] != sizeof(double)) {
        tk_max_drawdown_f64(args, dims, steps);
        return;
    }
    const npy_intp n = dims[0];
    const double *x = (const double *)args[0];
    const __m256d ninf = _mm256_set1_pd(-INFINITY), one = _mm256_set1_pd(1.0);
    __m256d carry = ninf, best = _mm256_set1_pd(INFINITY), seen = _mm256_setzero_pd();
    npy_intp i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256d a = _mm256_loadu_pd(x + i), b = _mm256_loadu_pd(x + i + 4);
        __m256d pa, pb;
        peaks8(a, b, ninf, &carry, &pa, &pb);
        const __m256d da = _mm256_sub_pd(_mm256_div_pd(a, pa), one);
        const __m256d db = _mm256_sub_pd(_mm256_div_pd(b, pb), one);
        /* min(d, best) returns best when d is NaN: NaN drawdowns are skipped. */
        best = _mm256_min_pd(db, _mm256_min_pd(da, best));
        seen = _mm256_or_pd(seen, _mm256_or_pd(_mm256_cmp_pd(da, da, _CMP_ORD_Q),
                                               _mm256_cmp_pd(db, db, _CMP_ORD_Q)));
    }
    double lanes[4], peak = _mm256_cvtsd_f64(carry), m = INFINITY;
    int any = _mm256_movemask_pd(seen) != 0;
    _mm256_storeu_pd(lanes, best);
    for (int k = 0; k < 4; k++) {
        if (lanes[k] < m) {
            m = lanes[k];
        }
    }
    for (; i < n; i++) {
        const double v = x[i];
        if (v > peak) {
            peak = v;
        }
        const double d = v / peak - 1.0;
        if (d < m) {
            m = d;
        }
        any |= (d == d);
    }
    tk_st_f64(args[1], any ? m : NAN);
}

TK_AVX2 void tk_simple_returns_f64_avx2(char **args, const npy_intp *dims, const npy_intp *steps)
{
    if (steps[0] != sizeof(double) || steps[1] != sizeof(double)) {
        tk_simple_returns_f64(args, dims, steps);
        return;
    }
    const npy_intp n = dims[0];
    const double *x = (const double *)args[0];
    double *out = (double *)args[1];
    const __m256d one = _mm256_set1_pd(1.0);
    /* The previous element is carried in a register, never re-read, so an
     * out= that aliases x is safe. */
    __m256d last = _mm256_set1_pd(NAN);
    npy_intp i = 0;
    for (; i + 4 <= n; i += 4) {
        const __m256d a = _mm256_loadu_pd(x + i);
        const __m256d prev = shift1(a, last);
        _mm256_storeu_pd(out + i, _mm256_sub_pd(_mm256_div_pd(a, prev), one));
        last = last_lane(a);
    }
    double p = _mm256_cvtsd_f64(last);
    for (; i < n; i++) {
        const double v = x[i];
        out[i] = v / p - 1.0;
        p = v;
    }
}

#else /* no AVX2 support in this build: the scalar loops stand in. */

void tk_drawdown_f64_avx2(char **args, const npy_intp *dims, const npy_intp *steps)
{
    tk_drawdown_f64(args, dims, steps);
}
void tk_max_drawdown_f64_avx2(char **args, const npy_intp *dims, const npy_intp *steps)
{
    tk_max_drawdown_f64(args, dims, steps);
}
void tk_simple_returns_f64_avx2(char **args, const npy_intp *dims, const npy_intp *steps)
{
    tk_simple_returns_f64(args, dims, steps);
}

#endif
