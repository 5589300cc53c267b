/*
 * drawdown_avx2.c - AVX2 float64 paths for drawdown and max_drawdown.  Each
 * gives bit-identical results to the scalar loop in drawdown.inc.h (tests
 * force every path and compare bits).
 *
 * The running peak is a serial dependency; here it is an in-register prefix
 * max over 4 lanes (2 shift+max steps), then a max with the carried peak.
 * NaN lanes are replaced by -inf for the max only.  _mm256_max_pd(a, b)
 * returns b unless a > b, so passing (later, earlier) keeps the earlier
 * value on ties (+0/-0), exactly as the scalar "if (v > peak)" does.
 * Strided data falls back to the scalar loop.  Each kernel runs from a
 * carried state (tk_scan.h): the default one for the plain gufuncs, the
 * given one for the <name>_state gufuncs; the scalar head and tail use the
 * same step functions as the scalar path.
 */
#include "tk.h"

#if TK_HAVE_AVX2
#include "avx2.h"

/* Inclusive prefix max within the vector, NaN lanes treated as -inf. */
TK_AVX2 static inline __m256d prefix_max(__m256d a, __m256d ninf)
{
    __m256d p = _mm256_blendv_pd(a, ninf, _mm256_cmp_pd(a, a, _CMP_UNORD_Q));
    p = _mm256_max_pd(p, shift1(p, ninf));
    return _mm256_max_pd(p, shift2(p, ninf));
}

/* Running peaks for 8 elements a|b given the carried peak; updates carry. */
TK_AVX2 static inline void peaks8(__m256d a, __m256d b, __m256d ninf, __m256d *carry, __m256d *pa,
                                  __m256d *pb)
{
    const __m256d qa = prefix_max(a, ninf), qb = prefix_max(b, ninf);
    const __m256d carry_b = _mm256_max_pd(last_lane(qa), *carry);
    *pa = _mm256_max_pd(qa, *carry);
    *pb = _mm256_max_pd(qb, carry_b);
    *carry = _mm256_max_pd(last_lane(qb), carry_b);
}

/* Drawdown of x[0..n) from the carried peak *state (updated). */
TK_AVX2 static void dd_avx2(const double *x, double *out, npy_intp n, double *state,
                            npy_intp stream_min)
{
    const int stream = n * (npy_intp)sizeof(double) >= stream_min && ((uintptr_t)out & 7) == 0;
    const npy_intp head = stream ? head_count(out, n) : 0;
    double peak = *state;
    npy_intp i = 0;
    for (; i < head; i++) {
        out[i] = tk_drawdown_step(&peak, x[i]);
    }
    const __m256d ninf = _mm256_set1_pd(-INFINITY), one = _mm256_set1_pd(1.0);
    __m256d carry = _mm256_set1_pd(peak);
    for (; i + 8 <= n; i += 8) {
        const __m256d a = _mm256_loadu_pd(x + i), b = _mm256_loadu_pd(x + i + 4);
        __m256d pa, pb;
        peaks8(a, b, ninf, &carry, &pa, &pb);
        store(out + i, _mm256_sub_pd(_mm256_div_pd(a, pa), one), stream);
        store(out + i + 4, _mm256_sub_pd(_mm256_div_pd(b, pb), one), stream);
    }
    if (stream) {
        _mm_sfence();
    }
    peak = _mm256_cvtsd_f64(carry);
    for (; i < n; i++) {
        out[i] = tk_drawdown_step(&peak, x[i]);
    }
    *state = peak;
}

TK_AVX2 void tk_drawdown_f64_avx2(char **args, const npy_intp *dims, const npy_intp *steps)
{
    if (steps[0] != sizeof(double) || steps[1] != sizeof(double)) {
        tk_drawdown_f64(args, dims, steps);
        return;
    }
    double peak = -INFINITY;
    dd_avx2((const double *)args[0], (double *)args[1], dims[0], &peak,
            tk_call_stream_min(args, 2));
}

/* (n),(k)->(n),(k) */
TK_AVX2 void tk_drawdown_state_f64_avx2(char **args, const npy_intp *dims, const npy_intp *steps)
{
    if (steps[0] != sizeof(double) || steps[2] != sizeof(double)) {
        tk_drawdown_state_f64(args, dims, steps);
        return;
    }
    double peak = tk_ld_f64(args[1]);
    dd_avx2((const double *)args[0], (double *)args[2], dims[0], &peak,
            tk_call_stream_min(args, 4));
    tk_st_f64(args[3], peak);
}

/* The lanes' best drawdown as the scalar fold sees it.  The lanes are all
 * NaN (a NaN best from the state: "d < best" never holds, so it stays) or
 * none is, and drawdowns are never -0.0; starting from lane 0 and taking a
 * strictly smaller value keeps a NaN, and otherwise gives the minimum. */
TK_AVX2 static inline double hmin(__m256d v)
{
    double lanes[4];
    _mm256_storeu_pd(lanes, v);
    return tk_lanes_min(lanes, 4);
}

/* Fold the minimum of skipped blocks (all below the carried peak) into best. */
TK_AVX2 static inline void flush(__m256d *segmin, __m256d carry, __m256d *best, __m256d *seen)
{
    const __m256d pinf = _mm256_set1_pd(INFINITY);
    const __m256d valid = _mm256_cmp_pd(*segmin, pinf, _CMP_LT_OQ);
    if (_mm256_movemask_pd(valid)) {
        const __m256d d = _mm256_sub_pd(_mm256_div_pd(*segmin, carry), _mm256_set1_pd(1.0));
        *best = _mm256_min_pd(_mm256_blendv_pd(pinf, d, valid), *best);
        *seen = _mm256_or_pd(*seen, valid);
        *segmin = pinf;
    }
}

/* The largest lane of a vector without NaN lanes. */
TK_AVX2 static inline double hmax(__m256d v)
{
    double lanes[4];
    _mm256_storeu_pd(lanes, v);
    return tk_lanes_max(lanes, 4);
}

/*
 * max_drawdown skips the division on blocks that set no new peak: while the
 * peak p is finite and > 0, x -> x/p - 1 is monotone (correct rounding is
 * monotone), so min(x_i/p - 1) == min(x_i)/p - 1 bit for bit.  Such blocks
 * only fold their minimum into `segmin`, which is divided once when the peak
 * next moves.  A block with a new peak p1 is first bounded: with m the
 * minimum of the bars since the last flush, every one of their drawdowns is
 * >= m/p1 - 1 (m >= 0) or m/p - 1 (m < 0); when the best is already <= that
 * and a drawdown has been seen, the block only moves the peak to p1 (the
 * argument: drawdown_avx512.c).  Otherwise it takes the full prefix-max path.
 */
/* Bytes ahead that the division-free loop prefetches (the hardware prefetcher
 * alone leaves the read-only pass ~5-10 % short of a np.max pass). */
#define TK_MDD_PREFETCH 1024
/* Elements per division-free block in max_drawdown (a multiple of 16). */
#define TK_SKIP 64

TK_AVX2 static void mdd_avx2(const double *x, npy_intp n, tk_max_drawdown_st *state)
{
    const __m256d ninf = _mm256_set1_pd(-INFINITY), pinf = _mm256_set1_pd(INFINITY);
    const __m256d one = _mm256_set1_pd(1.0);
    /* Single steps up to a 32-byte boundary: no vector load then splits a
     * cache line (NumPy's buffers are 16-byte aligned). */
    tk_max_drawdown_st s = *state;
    npy_intp i = 0;
    const npy_intp head = head_count(x, n);
    for (; i < head; i++) {
        (void)tk_max_drawdown_step(&s, x[i]);
    }
    __m256d carry = _mm256_set1_pd(s.peak), best = _mm256_set1_pd(s.best);
    __m256d seen = s.seen ? _mm256_castsi256_pd(_mm256_set1_epi64x(-1)) : _mm256_setzero_pd();
    __m256d segmin = pinf;
    while (i + TK_SKIP <= n) {
        const double p = _mm256_cvtsd_f64(carry);
        if (p > 0.0 && p < INFINITY) {
            /* Skip the divisions while no lane is above the peak.  max/min(v, acc)
             * return acc when v is NaN and acc is never NaN, so NaN prices
             * (whose drawdowns are NaN, hence ignored) drop out here. */
            for (; i + TK_SKIP <= n; i += TK_SKIP) {
                for (int c = 0; c < TK_SKIP * 8; c += 64) { /* integer math: no UB, never faults */
                    _mm_prefetch((const char *)((uintptr_t)(x + i) + TK_MDD_PREFETCH + c),
                                 _MM_HINT_T0);
                }
                __m256d h0 = carry, h1 = carry, h2 = carry, h3 = carry;
                __m256d l0 = pinf, l1 = pinf, l2 = pinf, l3 = pinf;
                for (int k = 0; k < TK_SKIP / 4; k += 4) {
                    __m256d v0 = _mm256_loadu_pd(x + i + 4 * k);
                    __m256d v1 = _mm256_loadu_pd(x + i + 4 * k + 4);
                    __m256d v2 = _mm256_loadu_pd(x + i + 4 * k + 8);
                    __m256d v3 = _mm256_loadu_pd(x + i + 4 * k + 12);
                    TK_IN_REG256(v0);
                    TK_IN_REG256(v1);
                    TK_IN_REG256(v2);
                    TK_IN_REG256(v3);
                    h0 = _mm256_max_pd(v0, h0);
                    h1 = _mm256_max_pd(v1, h1);
                    h2 = _mm256_max_pd(v2, h2);
                    h3 = _mm256_max_pd(v3, h3);
                    l0 = _mm256_min_pd(v0, l0);
                    l1 = _mm256_min_pd(v1, l1);
                    l2 = _mm256_min_pd(v2, l2);
                    l3 = _mm256_min_pd(v3, l3);
                }
                const __m256d hi = _mm256_max_pd(_mm256_max_pd(h0, h1), _mm256_max_pd(h2, h3));
                const __m256d lo = _mm256_min_pd(_mm256_min_pd(l0, l1), _mm256_min_pd(l2, l3));
                if (_mm256_movemask_pd(_mm256_cmp_pd(hi, carry, _CMP_GT_OQ))) { /* bound it */
                    const double p1 = hmax(hi), m = hmin(_mm256_min_pd(lo, segmin));
                    const double lb = m / (m >= 0.0 ? p1 : p) - 1.0;
                    if (_mm256_movemask_pd(seen)
                        && _mm256_movemask_pd(
                            _mm256_cmp_pd(best, _mm256_set1_pd(lb), _CMP_LE_OQ))) {
                        carry = _mm256_set1_pd(p1);
                        segmin = pinf;
                        continue;
                    }
                    break;
                }
                segmin = _mm256_min_pd(lo, segmin);
            }
            if (i + TK_SKIP > n) {
                break;
            }
        }
        flush(&segmin, carry, &best, &seen);
        for (int half = 0; half < TK_SKIP; half += 16) {
            const double *xh = x + i + half;
            const __m256d a = _mm256_loadu_pd(xh), b = _mm256_loadu_pd(xh + 4);
            const __m256d c = _mm256_loadu_pd(xh + 8), d = _mm256_loadu_pd(xh + 12);
            __m256d pa, pb, pc, pd;
            peaks8(a, b, ninf, &carry, &pa, &pb);
            peaks8(c, d, ninf, &carry, &pc, &pd);
            const __m256d da = _mm256_sub_pd(_mm256_div_pd(a, pa), one);
            const __m256d db = _mm256_sub_pd(_mm256_div_pd(b, pb), one);
            const __m256d dc = _mm256_sub_pd(_mm256_div_pd(c, pc), one);
            const __m256d dd = _mm256_sub_pd(_mm256_div_pd(d, pd), one);
            /* min(v, best) returns best when v is NaN: NaN drawdowns are skipped. */
            best = _mm256_min_pd(dd, _mm256_min_pd(dc, _mm256_min_pd(db, _mm256_min_pd(da, best))));
            seen =
                _mm256_or_pd(seen, _mm256_or_pd(_mm256_or_pd(_mm256_cmp_pd(da, da, _CMP_ORD_Q),
                                                             _mm256_cmp_pd(db, db, _CMP_ORD_Q)),
                                                _mm256_or_pd(_mm256_cmp_pd(dc, dc, _CMP_ORD_Q),
                                                             _mm256_cmp_pd(dd, dd, _CMP_ORD_Q))));
        }
        i += TK_SKIP;
    }
    flush(&segmin, carry, &best, &seen);
    s.peak = _mm256_cvtsd_f64(carry);
    s.best = hmin(best);
    s.seen = _mm256_movemask_pd(seen) != 0;
    for (; i < n; i++) {
        (void)tk_max_drawdown_step(&s, x[i]);
    }
    *state = s;
}

TK_AVX2 void tk_max_drawdown_f64_avx2(char **args, const npy_intp *dims, const npy_intp *steps)
{
    if (steps[0] != sizeof(double)) {
        tk_max_drawdown_f64(args, dims, steps);
        return;
    }
    tk_max_drawdown_st s = tk_max_drawdown_init();
    mdd_avx2((const double *)args[0], dims[0], &s);
    tk_st_f64(args[1], tk_max_drawdown_result(&s));
}

/* (n),(k)->(),(k) */
TK_AVX2 void tk_max_drawdown_state_f64_avx2(char **args, const npy_intp *dims,
                                            const npy_intp *steps)
{
    if (steps[0] != sizeof(double)) {
        tk_max_drawdown_state_f64(args, dims, steps);
        return;
    }
    tk_max_drawdown_st s = tk_max_drawdown_load(args[1], steps[1]);
    mdd_avx2((const double *)args[0], dims[0], &s);
    tk_st_f64(args[2], tk_max_drawdown_result(&s));
    tk_max_drawdown_save(args[3], steps[2], &s);
}

/*
 * max_drawdown_duration: the underwater count only grows on a block of bars
 * that are all below the peak (or NaN): `v >= peak` fails on every bar, so
 * tk_underwater_bars_step adds one per bar (when the count has started) and
 * leaves the peak alone.  Such a block is detected by a vertical max (NaN
 * bars drop out: max(v, acc) returns acc when v is NaN) and skipped with
 * count += block; the other blocks (and the tail's whole vectors) are
 * counted from the mask of their bars at the peak, without a branch per bar.  The count is
 * non-decreasing inside a skipped run, so best is folded once after it.
 */
#define TK_DUR_SKIP 32

/* The mask of the bars of xp[0 .. 4k) (k <= 8) that reset the count: a bar
 * resets it when v >= the peak before it, i.e. when v equals its running
 * peak P (the in-register prefix max with the carried peak; NaN equals
 * nothing, and nothing equals a NaN peak).  The prefix maxes do not depend
 * on the carry, so the carry chain is one max per vector.  Bit 4j + b is
 * bar 4j + b; tk_max_drawdown_duration_mask (tk_scan.h) does the counting. */
TK_AVX2 static inline npy_uint64 dur_mask4(const double *xp, int k, double peak, __m256d ninf)
{
    __m256d carry = _mm256_set1_pd(peak);
    npy_uint64 m = 0;
    for (int j = 0; j < k; j++) {
        const __m256d v = _mm256_loadu_pd(xp + 4 * j);
        const __m256d q = prefix_max(v, ninf);
        const __m256d P = _mm256_max_pd(q, carry);
        carry = _mm256_max_pd(last_lane(q), carry);
        m |= (npy_uint64)_mm256_movemask_pd(_mm256_cmp_pd(v, P, _CMP_EQ_OQ)) << (4 * j);
    }
    return m;
}

TK_AVX2 static void dur_avx2(const double *x, npy_intp n, tk_max_drawdown_duration_st *state)
{
    tk_max_drawdown_duration_st s = *state;
    const __m256d ninf = _mm256_set1_pd(-INFINITY);
    npy_intp i = 0;
    while (i + TK_DUR_SKIP <= n) {
        const __m256d peak = _mm256_set1_pd(s.uw.peak);
        npy_intp skipped = 0;
        for (; i + TK_DUR_SKIP <= n; i += TK_DUR_SKIP) {
            for (int c = 0; c < TK_DUR_SKIP * 8; c += 64) { /* integer math: never faults */
                _mm_prefetch((const char *)((uintptr_t)(x + i) + TK_MDD_PREFETCH + c), _MM_HINT_T0);
            }
            const __m256d h0 = _mm256_max_pd(_mm256_loadu_pd(x + i), ninf);
            const __m256d h1 = _mm256_max_pd(_mm256_loadu_pd(x + i + 4), ninf);
            const __m256d h2 = _mm256_max_pd(_mm256_loadu_pd(x + i + 8), h0);
            const __m256d h3 = _mm256_max_pd(_mm256_loadu_pd(x + i + 12), h1);
            const __m256d h4 = _mm256_max_pd(_mm256_loadu_pd(x + i + 16), h2);
            const __m256d h5 = _mm256_max_pd(_mm256_loadu_pd(x + i + 20), h3);
            const __m256d h6 = _mm256_max_pd(_mm256_loadu_pd(x + i + 24), h4);
            const __m256d h7 = _mm256_max_pd(_mm256_loadu_pd(x + i + 28), h5);
            if (_mm256_movemask_pd(_mm256_cmp_pd(_mm256_max_pd(h6, h7), peak, _CMP_GE_OQ))) {
                break; /* a bar at or above the peak: counted from its mask below */
            }
            skipped += TK_DUR_SKIP;
        }
        if (skipped > 0) { /* as `skipped` scalar steps */
            s.uw.count += s.uw.count >= 0 ? skipped : 0;
            s.best = s.uw.count > s.best ? s.uw.count : s.best;
        }
        if (i + TK_DUR_SKIP > n) {
            break;
        }
        tk_max_drawdown_duration_mask(&s, dur_mask4(x + i, TK_DUR_SKIP / 4, s.uw.peak, ninf),
                                      TK_DUR_SKIP, x + i);
        i += TK_DUR_SKIP;
    }
    const int k = (int)((n - i) / 4); /* < TK_DUR_SKIP / 4 */
    if (k > 0) {
        tk_max_drawdown_duration_mask(&s, dur_mask4(x + i, k, s.uw.peak, ninf), 4 * k, x + i);
        i += 4 * k;
    }
    for (; i < n; i++) {
        (void)tk_max_drawdown_duration_step(&s, x[i]);
    }
    *state = s;
}

TK_AVX2 void tk_max_drawdown_duration_f64_avx2(char **args, const npy_intp *dims,
                                               const npy_intp *steps)
{
    if (steps[0] != sizeof(double)) {
        tk_max_drawdown_duration_f64(args, dims, steps);
        return;
    }
    tk_max_drawdown_duration_st s = tk_max_drawdown_duration_init();
    dur_avx2((const double *)args[0], dims[0], &s);
    tk_st_i64(args[1], s.best);
}

/* (n),(k)->(),(k) */
TK_AVX2 void tk_max_drawdown_duration_state_f64_avx2(char **args, const npy_intp *dims,
                                                     const npy_intp *steps)
{
    if (steps[0] != sizeof(double)) {
        tk_max_drawdown_duration_state_f64(args, dims, steps);
        return;
    }
    tk_max_drawdown_duration_st s = tk_max_drawdown_duration_load(args[1], steps[1]);
    dur_avx2((const double *)args[0], dims[0], &s);
    tk_st_i64(args[2], s.best);
    tk_max_drawdown_duration_save(args[3], steps[2], &s);
}

#endif
