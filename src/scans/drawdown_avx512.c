/*
 * drawdown_avx512.c - AVX-512 float64 paths for drawdown and max_drawdown,
 * bit-identical to the scalar loops in drawdown.inc.h (the tests force every
 * path, the emulated one included, and compare bits).  Compiled natively
 * and a second time against SIMDe (drawdown_avx512_emu.c; see avx512.h).
 *
 * The same algorithm as drawdown_avx2.c on 8 lanes: the running peak is an
 * in-register prefix max (3 vpermt2pd+max steps, NaN lanes as -inf), then a
 * max with the carried peak.  _mm512_max_pd(a, b) returns b unless a > b,
 * so (later, earlier) keeps the earlier value on ties (+0/-0), exactly as
 * the scalar "if (v > peak)".  Strided data falls back to the scalar loop;
 * heads and tails use the scalar step functions (tk_scan.h).
 */
#include "tk.h"

#if (defined(TK_AVX512_EMU) && TK_HAVE_AVX512_EMU) || (!defined(TK_AVX512_EMU) && TK_HAVE_AVX512)
#include "avx512.h"

/* Inclusive prefix max within the vector, NaN lanes treated as -inf. */
TK_AVX512 static inline __m512d prefix_max8(__m512d a, __m512d ninf)
{
    __m512d p = _mm512_mask_mov_pd(a, _mm512_cmp_pd_mask(a, a, _CMP_UNORD_Q), ninf);
    p = _mm512_max_pd(p, shift8(p, ninf, 1));
    p = _mm512_max_pd(p, shift8(p, ninf, 2));
    return _mm512_max_pd(p, shift8(p, ninf, 4));
}

/* Running peaks for 16 elements a|b given the carried peak; updates carry. */
TK_AVX512 static inline void peaks16(__m512d a, __m512d b, __m512d ninf, __m512d *carry,
                                     __m512d *pa, __m512d *pb)
{
    const __m512d qa = prefix_max8(a, ninf), qb = prefix_max8(b, ninf);
    const __m512d carry_b = _mm512_max_pd(last_lane8(qa), *carry);
    *pa = _mm512_max_pd(qa, *carry);
    *pb = _mm512_max_pd(qb, carry_b);
    *carry = _mm512_max_pd(last_lane8(qb), carry_b);
}

/* Drawdown of x[0..n) from the carried peak *state (updated). */
TK_AVX512 static void dd_avx512(const double *x, double *out, npy_intp n, double *state,
                                npy_intp stream_min)
{
    const int stream = n * (npy_intp)sizeof(double) >= stream_min && ((uintptr_t)out & 7) == 0;
    const npy_intp head = stream ? head_count8(out, n) : 0;
    double peak = *state;
    npy_intp i = 0;
    for (; i < head; i++) {
        out[i] = tk_drawdown_step(&peak, x[i]);
    }
    const __m512d ninf = _mm512_set1_pd(-INFINITY), one = _mm512_set1_pd(1.0);
    __m512d carry = _mm512_set1_pd(peak);
    for (; i + 16 <= n; i += 16) {
        const __m512d a = _mm512_loadu_pd(x + i), b = _mm512_loadu_pd(x + i + 8);
        __m512d pa, pb;
        peaks16(a, b, ninf, &carry, &pa, &pb);
        store8(out + i, _mm512_sub_pd(_mm512_div_pd(a, pa), one), stream);
        store8(out + i + 8, _mm512_sub_pd(_mm512_div_pd(b, pb), one), stream);
    }
    stream_fence(stream);
    peak = lane0(carry);
    for (; i < n; i++) {
        out[i] = tk_drawdown_step(&peak, x[i]);
    }
    *state = peak;
}

TK_AVX512 void TK_V512(tk_drawdown_f64)(char **args, const npy_intp *dims, const npy_intp *steps)
{
    if (steps[0] != sizeof(double) || steps[1] != sizeof(double)) {
        tk_drawdown_f64(args, dims, steps);
        return;
    }
    double peak = -INFINITY;
    dd_avx512((const double *)args[0], (double *)args[1], dims[0], &peak,
              tk_call_stream_min(args, 2));
}

/* (n),(k)->(n),(k) */
TK_AVX512 void TK_V512(tk_drawdown_state_f64)(char **args, const npy_intp *dims,
                                              const npy_intp *steps)
{
    if (steps[0] != sizeof(double) || steps[2] != sizeof(double)) {
        tk_drawdown_state_f64(args, dims, steps);
        return;
    }
    double peak = tk_ld_f64(args[1]);
    dd_avx512((const double *)args[0], (double *)args[2], dims[0], &peak,
              tk_call_stream_min(args, 4));
    tk_st_f64(args[3], peak);
}

/* The lanes' best drawdown as the scalar fold sees it.  The lanes are all
 * NaN (a NaN best from the state: "d < best" never holds, so it stays) or
 * none is, and drawdowns are never -0.0; starting from lane 0 and taking a
 * strictly smaller value keeps a NaN, and otherwise gives the minimum. */
TK_AVX512 static inline double hmin8(__m512d v)
{
    double lanes[8];
    _mm512_storeu_pd(lanes, v);
    return tk_lanes_min(lanes, 8);
}

/* Fold the minimum of skipped blocks (all below the carried peak) into best. */
TK_AVX512 static inline void flush8(__m512d *segmin, __m512d carry, __m512d *best, tk_mask8 *seen)
{
    const __m512d pinf = _mm512_set1_pd(INFINITY);
    const tk_mask8 valid = _mm512_cmp_pd_mask(*segmin, pinf, _CMP_LT_OQ);
    if (valid) {
        const __m512d d = _mm512_sub_pd(_mm512_div_pd(*segmin, carry), _mm512_set1_pd(1.0));
        *best = _mm512_mask_min_pd(*best, valid, d, *best);
        *seen = (tk_mask8)(*seen | valid);
        *segmin = pinf;
    }
}

/* The largest lane of a vector without NaN lanes. */
TK_AVX512 static inline double hmax8(__m512d v)
{
    double lanes[8];
    _mm512_storeu_pd(lanes, v);
    return tk_lanes_max(lanes, 8);
}

/*
 * max_drawdown skips the division on blocks that set no new peak: while the
 * peak p is finite and > 0, x -> x/p - 1 is monotone (correct rounding is
 * monotone), so min(x_i/p - 1) == min(x_i)/p - 1 bit for bit.  Such blocks
 * only fold their minimum into `segmin`, which is divided once when the peak
 * next moves.
 *
 * A block with a new peak p1 (its bars' running peaks P_i lie in [p, p1])
 * is first bounded, again without a division per bar: with m the minimum of
 * the bars since the last flush (segmin's, all at peak p, and this block's),
 * every such bar has x_i/P_i >= m/p1 when m >= 0 and >= m/p when m < 0, so
 * its drawdown is >= lb = m/(p1 or p) - 1 (monotone rounding again).  When
 * some lane of best is <= lb, no bar of the run can lower the result; when
 * also a drawdown has been seen (NaN bars then change nothing), the block
 * only moves the peak to p1 (its largest bar: the scalar peak, a positive
 * number, so no signed zero to tell apart) and segmin starts again.  (p1 =
 * +inf is no exception: m/inf = 0 bounds the finite bars' x/inf = 0, an
 * infinite m gives lb = NaN, no skip.  After such a skip best <= lb <= -1,
 * and the blocks that follow, at peak +inf, have drawdowns -1 or NaN: they
 * stay in this loop, no new peak, and whatever their flush gives, -1 or
 * NaN, cannot lower the best.)  Otherwise segmin is flushed at peak p and the block takes the prefix-max
 * path, a division per bar.  On a long series the best is soon deeper than
 * a block's own drawdowns, and almost no block divides.
 */
/* Bytes ahead that the division-free loop prefetches: 4 KiB measured best here
 * (AMD EPYC, 3e7: ~0.71x vs ~0.79x a np.max pass at 1 KiB; equal in cache). */
#define TK_MDD512_PREFETCH 4096
/* Elements per division-free block (a multiple of 32). */
#define TK_SKIP512 128

TK_AVX512 static void mdd_avx512(const double *x, npy_intp n, tk_max_drawdown_st *state)
{
    const __m512d ninf = _mm512_set1_pd(-INFINITY), pinf = _mm512_set1_pd(INFINITY);
    const __m512d one = _mm512_set1_pd(1.0);
    /* Single steps up to a 64-byte boundary: the vector loads then never
     * split a cache line (NumPy's buffers are 16-byte aligned). */
    tk_max_drawdown_st s = *state;
    npy_intp i = 0;
    const npy_intp head = head_count8(x, n);
    for (; i < head; i++) {
        (void)tk_max_drawdown_step(&s, x[i]);
    }
    __m512d carry = _mm512_set1_pd(s.peak), best = _mm512_set1_pd(s.best);
    tk_mask8 seen = s.seen ? (tk_mask8)0xff : (tk_mask8)0;
    __m512d segmin = pinf;
    while (i + TK_SKIP512 <= n) {
        const double p = lane0(carry);
        if (p > 0.0 && p < INFINITY) {
            /* max/min(v, acc) return acc when v is NaN and acc is never NaN,
             * so NaN prices (whose drawdowns are NaN, hence ignored) drop out. */
            for (; i + TK_SKIP512 <= n; i += TK_SKIP512) {
                for (int c = 0; c < TK_SKIP512 * 8; c += 64) { /* integer math: never faults */
                    _mm_prefetch((const char *)((uintptr_t)(x + i) + TK_MDD512_PREFETCH + c),
                                 _MM_HINT_T0);
                }
                __m512d h0 = carry, h1 = carry, h2 = carry, h3 = carry;
                __m512d l0 = pinf, l1 = pinf, l2 = pinf, l3 = pinf;
                for (int k = 0; k < TK_SKIP512; k += 32) {
                    __m512d v0 = _mm512_loadu_pd(x + i + k), v1 = _mm512_loadu_pd(x + i + k + 8);
                    __m512d v2 = _mm512_loadu_pd(x + i + k + 16),
                            v3 = _mm512_loadu_pd(x + i + k + 24);
                    TK_IN_REG512(v0);
                    TK_IN_REG512(v1);
                    TK_IN_REG512(v2);
                    TK_IN_REG512(v3);
                    h0 = _mm512_max_pd(v0, h0);
                    h1 = _mm512_max_pd(v1, h1);
                    h2 = _mm512_max_pd(v2, h2);
                    h3 = _mm512_max_pd(v3, h3);
                    l0 = _mm512_min_pd(v0, l0);
                    l1 = _mm512_min_pd(v1, l1);
                    l2 = _mm512_min_pd(v2, l2);
                    l3 = _mm512_min_pd(v3, l3);
                }
                const __m512d hi = _mm512_max_pd(_mm512_max_pd(h0, h1), _mm512_max_pd(h2, h3));
                const __m512d lo = _mm512_min_pd(_mm512_min_pd(l0, l1), _mm512_min_pd(l2, l3));
                if (_mm512_cmp_pd_mask(hi, carry, _CMP_GT_OQ)) { /* a new peak: bound it */
                    const double p1 = hmax8(hi), m = hmin8(_mm512_min_pd(lo, segmin));
                    const double lb = m / (m >= 0.0 ? p1 : p) - 1.0;
                    if (seen && _mm512_cmp_pd_mask(best, _mm512_set1_pd(lb), _CMP_LE_OQ)) {
                        carry = _mm512_set1_pd(p1);
                        segmin = pinf;
                        continue;
                    }
                    break;
                }
                segmin = _mm512_min_pd(lo, segmin);
            }
            if (i + TK_SKIP512 > n) {
                break;
            }
        }
        flush8(&segmin, carry, &best, &seen);
        for (int k = 0; k < TK_SKIP512; k += 32) {
            const double *xk = x + i + k;
            const __m512d a = _mm512_loadu_pd(xk), b = _mm512_loadu_pd(xk + 8);
            const __m512d c = _mm512_loadu_pd(xk + 16), d = _mm512_loadu_pd(xk + 24);
            __m512d pa, pb, pc, pd;
            peaks16(a, b, ninf, &carry, &pa, &pb);
            peaks16(c, d, ninf, &carry, &pc, &pd);
            const __m512d da = _mm512_sub_pd(_mm512_div_pd(a, pa), one);
            const __m512d db = _mm512_sub_pd(_mm512_div_pd(b, pb), one);
            const __m512d dc = _mm512_sub_pd(_mm512_div_pd(c, pc), one);
            const __m512d dd = _mm512_sub_pd(_mm512_div_pd(d, pd), one);
            /* min(v, best) returns best when v is NaN: NaN drawdowns are skipped. */
            best = _mm512_min_pd(dd, _mm512_min_pd(dc, _mm512_min_pd(db, _mm512_min_pd(da, best))));
            seen = (tk_mask8)(seen | _mm512_cmp_pd_mask(da, da, _CMP_ORD_Q)
                              | _mm512_cmp_pd_mask(db, db, _CMP_ORD_Q)
                              | _mm512_cmp_pd_mask(dc, dc, _CMP_ORD_Q)
                              | _mm512_cmp_pd_mask(dd, dd, _CMP_ORD_Q));
        }
        i += TK_SKIP512;
    }
    flush8(&segmin, carry, &best, &seen);
    s.peak = lane0(carry);
    s.best = hmin8(best);
    s.seen = seen != 0;
    for (; i < n; i++) {
        (void)tk_max_drawdown_step(&s, x[i]);
    }
    *state = s;
}

TK_AVX512 void TK_V512(tk_max_drawdown_f64)(char **args, const npy_intp *dims,
                                            const npy_intp *steps)
{
    if (steps[0] != sizeof(double)) {
        tk_max_drawdown_f64(args, dims, steps);
        return;
    }
    tk_max_drawdown_st s = tk_max_drawdown_init();
    mdd_avx512((const double *)args[0], dims[0], &s);
    tk_st_f64(args[1], tk_max_drawdown_result(&s));
}

/* (n),(k)->(),(k) */
TK_AVX512 void TK_V512(tk_max_drawdown_state_f64)(char **args, const npy_intp *dims,
                                                  const npy_intp *steps)
{
    if (steps[0] != sizeof(double)) {
        tk_max_drawdown_state_f64(args, dims, steps);
        return;
    }
    tk_max_drawdown_st s = tk_max_drawdown_load(args[1], steps[1]);
    mdd_avx512((const double *)args[0], dims[0], &s);
    tk_st_f64(args[2], tk_max_drawdown_result(&s));
    tk_max_drawdown_save(args[3], steps[2], &s);
}

/*
 * max_drawdown_duration: the underwater count only grows on a block of bars
 * that are all below the peak (or NaN): `v >= peak` fails on every bar, so
 * tk_underwater_bars_step adds one per bar (once the count has started) and
 * leaves the peak alone.  Such a block is found by a vertical max (NaN bars
 * drop out: max(v, acc) returns acc when v is NaN) and skipped as that many
 * steps at once; the other blocks (and the tail's whole vectors) are counted
 * from the mask of their bars at the peak, without a branch per bar.  The count
 * does not decrease inside a skipped run, so best is folded once after it.
 */
#define TK_DUR512_SKIP 32

/* The mask of the bars of xp[0 .. 8k) (k <= 4) that reset the count: a bar
 * resets it when v >= the peak before it, i.e. when v equals its running
 * peak P (the in-register prefix max with the carried peak; NaN equals
 * nothing, and nothing equals a NaN peak).  The prefix maxes do not depend
 * on the carry, so the carry chain is one max per vector.  Bit 8j + b is
 * bar 8j + b; tk_max_drawdown_duration_mask (tk_scan.h) does the counting. */
TK_AVX512 static inline npy_uint64 dur_mask8(const double *xp, int k, double peak, __m512d ninf)
{
    __m512d carry = _mm512_set1_pd(peak);
    npy_uint64 m = 0;
    for (int j = 0; j < k; j++) {
        const __m512d v = _mm512_loadu_pd(xp + 8 * j);
        const __m512d q = prefix_max8(v, ninf);
        const __m512d P = _mm512_max_pd(q, carry);
        carry = _mm512_max_pd(last_lane8(q), carry);
        m |= (npy_uint64)_mm512_cmp_pd_mask(v, P, _CMP_EQ_OQ) << (8 * j);
    }
    return m;
}

TK_AVX512 static void dur_avx512(const double *x, npy_intp n, tk_max_drawdown_duration_st *state)
{
    tk_max_drawdown_duration_st s = *state;
    const __m512d ninf = _mm512_set1_pd(-INFINITY);
    npy_intp i = 0;
    while (i + TK_DUR512_SKIP <= n) {
        const __m512d peak = _mm512_set1_pd(s.uw.peak);
        npy_intp skipped = 0;
        for (; i + TK_DUR512_SKIP <= n; i += TK_DUR512_SKIP) {
            for (int c = 0; c < TK_DUR512_SKIP * 8; c += 64) { /* integer math: never faults */
                _mm_prefetch((const char *)((uintptr_t)(x + i) + TK_MDD512_PREFETCH + c),
                             _MM_HINT_T0);
            }
            __m512d h0 = ninf, h1 = ninf;
            for (int k = 0; k < TK_DUR512_SKIP; k += 16) {
                h0 = _mm512_max_pd(_mm512_loadu_pd(x + i + k), h0);
                h1 = _mm512_max_pd(_mm512_loadu_pd(x + i + k + 8), h1);
            }
            if (_mm512_cmp_pd_mask(_mm512_max_pd(h0, h1), peak, _CMP_GE_OQ)) {
                break; /* a bar at or above the peak: counted from its mask below */
            }
            skipped += TK_DUR512_SKIP;
        }
        if (skipped > 0) { /* as `skipped` scalar steps */
            s.uw.count += s.uw.count >= 0 ? skipped : 0;
            s.best = s.uw.count > s.best ? s.uw.count : s.best;
        }
        if (i + TK_DUR512_SKIP > n) {
            break;
        }
        tk_max_drawdown_duration_mask(&s, dur_mask8(x + i, TK_DUR512_SKIP / 8, s.uw.peak, ninf),
                                      TK_DUR512_SKIP, x + i);
        i += TK_DUR512_SKIP;
    }
    const int k = (int)((n - i) / 8); /* < TK_DUR512_SKIP / 8 */
    if (k > 0) {
        tk_max_drawdown_duration_mask(&s, dur_mask8(x + i, k, s.uw.peak, ninf), 8 * k, x + i);
        i += 8 * k;
    }
    for (; i < n; i++) {
        (void)tk_max_drawdown_duration_step(&s, x[i]);
    }
    *state = s;
}

TK_AVX512 void TK_V512(tk_max_drawdown_duration_f64)(char **args, const npy_intp *dims,
                                                     const npy_intp *steps)
{
    if (steps[0] != sizeof(double)) {
        tk_max_drawdown_duration_f64(args, dims, steps);
        return;
    }
    tk_max_drawdown_duration_st s = tk_max_drawdown_duration_init();
    dur_avx512((const double *)args[0], dims[0], &s);
    tk_st_i64(args[1], s.best);
}

/* (n),(k)->(),(k) */
TK_AVX512 void TK_V512(tk_max_drawdown_duration_state_f64)(char **args, const npy_intp *dims,
                                                           const npy_intp *steps)
{
    if (steps[0] != sizeof(double)) {
        tk_max_drawdown_duration_state_f64(args, dims, steps);
        return;
    }
    tk_max_drawdown_duration_st s = tk_max_drawdown_duration_load(args[1], steps[1]);
    dur_avx512((const double *)args[0], dims[0], &s);
    tk_st_i64(args[2], s.best);
    tk_max_drawdown_duration_save(args[3], steps[2], &s);
}

#endif
