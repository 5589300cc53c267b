/*
 * rolling.inc.h - rolling_max_drawdown, instantiated once per dtype by
 * rolling.c (TK_SFX = f32 | f64).  Semantics: tradekernels.scans.reference.
 * rolling_max_drawdown (the naive per-window recomputation).
 *
 * Algorithm: O(1) amortised per bar, whatever the window.  A segment of
 * bars is summarised as tk_seg {max, min, mdd} (NaN bars are the empty
 * segment {-inf, +inf, +inf}); tk_seg_cat(A, B) is "A then B".  The window
 * [s, i] is a front part [s, f1) whose suffix summaries agg[j - f0] (segment
 * j .. f1-1) were built right to left at the last flip, and a back part
 * [f1, i] summarised left to right in `back`.  When the window start passes
 * f1 the back part is flipped into suffix summaries (O(window), once per
 * window bars).  Rows of positive finite prices take tk_rmdd_fast (the
 * same summaries as branch-free passes; scratch 7 * (min(window, n) + 1)
 * doubles, allocated once per core call); other rows take the general loop
 * (tk_rmdd_general; scratch 3 * min(window, n) doubles, only when a flip
 * happens).
 *
 * Exactness (positive finite prices; NaN bars).  For a segment S the naive
 * result is mdd(S) = min over k in S of fl(fl(x_k / P_k) - 1), P_k the
 * running max of S up to k (NaN bars skipped).  Claim: for A then B,
 *   mdd(AB) = min(mdd(A), mdd(B), fl(fl(min_B / max_A) - 1))   (bit for bit).
 * Proof.  Bars of A see the same peaks in AB, so they give mdd(A).  A bar k
 * of B sees Q_k = max(max_A, P_k) in AB.  Let t_k = fl(fl(x_k / max_A) - 1).
 * With c > 0, y -> fl(y / c) is monotone non-decreasing (exact division is,
 * and rounding to nearest is monotone), c -> fl(x / c) is non-increasing for
 * x > 0, and y -> fl(y - 1) is monotone.  Hence
 *   if P_k >= max_A: Q_k = P_k, the AB term is d_k (its B term) and t_k >= d_k;
 *   if P_k <  max_A: Q_k = max_A, the AB term is t_k and d_k >= t_k.
 * Either way the AB term of bar k is min(d_k, t_k), so the B bars give
 * min(min_k d_k, min_k t_k) = min(mdd(B), min_k t_k), and by monotonicity
 * min_k t_k = fl(fl(min_k x_k / max_A) - 1) = t at min_B.  min is exact, so
 * the order of the mins does not matter.  A single bar is {x, x, x/x - 1 =
 * +0}, as in the naive loop; an empty (all-NaN) side leaves the other
 * unchanged.  By induction every summary equals the naive result of its
 * segment, so the window result does too.  (Underflow to 0 and overflow to
 * inf of fl(y / c) keep monotonicity, so subnormal prices are covered.)
 *
 * Zero, negative, infinite prices (and -0.0) break the monotonicity, so a
 * window holding one ("bad" bars, counted as they enter and leave) is
 * recomputed naively, O(window) per such bar: the result equals the twin
 * everywhere, and the cost is O(1) amortised on positive prices only.
 * The summaries built over bad bars are never used: a suffix summary
 * agg[j] covers bars j.., and back covers bars inside the window, so while
 * a bad bar is in the window the fallback answers, and once it has left no
 * summary still in use contains it.
 *
 * window < 1 gives NaN everywhere.  The loop runs without the GIL and
 * cannot raise: if the scratch cannot be allocated, the rest of the row is
 * computed by the naive loop (same bits, O(window) per bar) instead.  (No
 * size check can be made in a process_core_dims hook: the window is a value,
 * not a core dimension.)
 */
#define TK_CAT_(a, b) a##_##b
#define TK_CAT(a, b) TK_CAT_(a, b)
#define TK_FN(name) TK_CAT(name, TK_SFX)
#define TK_LD TK_CAT(tk_ld, TK_SFX)
#define TK_ST TK_CAT(tk_st, TK_SFX)

#define TK_XAT(j) TK_LD(x + (j) * xs)

/* The naive max drawdown of bars [s, i] (the twin's inner loop). */
static double TK_FN(tk_rmdd_naive)(const char *x, npy_intp xs, npy_intp s, npy_intp i)
{
    tk_max_drawdown_st st = tk_max_drawdown_init();
    for (npy_intp j = s; j <= i; j++) {
        (void)tk_max_drawdown_step(&st, TK_XAT(j));
    }
    return tk_max_drawdown_result(&st);
}

/* The general loop (any values; w >= 1): segment summaries, with the naive
 * recomputation for windows holding a bad bar. */
static void TK_FN(tk_rmdd_general)(const char *x, npy_intp xs, char *out, npy_intp os, npy_intp n,
                                   npy_int64 w, npy_int64 mp)
{
    const npy_intp cap = (w < (npy_int64)n) ? (npy_intp)w : n; /* window length in bars */
    tk_seg *agg = NULL;
    npy_intp f0 = 0, f1 = 0;      /* front part [f0, f1): agg[j - f0] = bars j .. f1-1 */
    tk_seg back = tk_seg_empty(); /* back part [f1, i] */
    npy_intp valid = 0, bad = 0;  /* non-NaN / non-positive-or-inf bars in the window */
    int naive_only = 0;           /* the scratch could not be allocated */
    for (npy_intp i = 0; i < n; i++) {
        const double v = TK_XAT(i);
        valid += (v == v);
        bad += tk_seg_bad(v);
        back = tk_seg_cat(back, tk_seg_one(v));
        const npy_intp s = (i >= cap) ? i - cap + 1 : 0; /* cap == w here when i >= cap */
        if (s > 0) {                                     /* bar s-1 left the window */
            const double u = TK_XAT(s - 1);
            valid -= (u == u);
            bad -= tk_seg_bad(u);
        }
        if (s > f1 && agg == NULL && !naive_only) {
            agg = (tk_seg *)PyMem_RawMalloc((size_t)cap * sizeof(tk_seg));
            naive_only = (agg == NULL); /* no memory: the naive loop from here on */
        }
        if (s > f1 && !naive_only) { /* the front is used up: flip [s, i] into suffix summaries */
            f0 = s;
            f1 = i + 1;
            tk_seg acc = tk_seg_empty();
            for (npy_intp j = i; j >= s; j--) {
                acc = tk_seg_cat(tk_seg_one(TK_XAT(j)), acc);
                agg[j - f0] = acc;
            }
            back = tk_seg_empty();
        }
        double r;
        if (valid < mp || valid == 0) {
            r = NAN;
        }
        else if (bad > 0 || naive_only) {
            r = TK_FN(tk_rmdd_naive)(x, xs, s, i);
        }
        else {
            r = tk_seg_result(s < f1 ? tk_seg_cat(agg[s - f0], back) : back);
        }
        TK_ST(out + i * os, r);
    }
    PyMem_RawFree(agg);
}

/* The fast loop, for rows of positive finite prices only (no NaN, no bad
 * bar: every window holds min(i + 1, w) valid bars).  Returns 0, or -1 at
 * the first bar that is not positive finite (the caller then reruns the
 * whole row through the general loop).
 *
 * Same summaries, same combination (the proof above), written as passes
 * without data-dependent branches, so that the divisions of a pass are
 * independent (the compiler vectorises them) and no division is skipped by
 * a test that mispredicts.  The row is cut into epochs of w bars: at bar i0
 * (i0 = w-1, 2w-1, ...) the front is the whole window [i0-w+1, i0] and is
 * flipped into suffix summaries fmax[t], fmdd[t] (bars i0-w+1+t .. i0);
 * bar i0 + t (0 <= t < w) then has the window = suffix t of the front,
 * then the back part [i0+1, i0+t].  The bars before the first flip are an
 * epoch with i0 = -1 and an empty front (fmax = +0, fmdd = +inf: the cross
 * term bmin / +0 - 1 is +inf, so no term comes from it).
 *
 *  - flip, right to left: fmax[t] = max(x, fmax[t+1]); the term of the
 *    bar, fl(fl(min(x[t+1..]) / x) - 1) (+inf for the last bar), then
 *    fmdd[t] = min(fmdd[t+1], term), starting from +0 (a single bar).  A
 *    term >= +0 cannot change a minimum that is <= +0, so it needs no test.
 *  - back, left to right: the running peak P and min bmin of [i0+1, i];
 *    the bar's drawdown fl(fl(x / P) - 1) and the cross term fl(fl(bmin /
 *    fmax[t]) - 1) (+inf while the back part is empty); the result is
 *    min(fmdd[t], min of the back drawdowns so far, cross).
 */
static int TK_FN(tk_rmdd_fast)(const char *x, npy_intp xs, char *out, npy_intp os, npy_intp n,
                               npy_intp w, npy_int64 mp, double *scratch)
{
    const npy_intp L = w + 1; /* t = w: the empty front (the last bar of the row) */
    double *restrict fmax = scratch, *restrict fmdd = scratch + L;
    double *restrict pk = scratch + 2 * L, *restrict mn = scratch + 3 * L;
    double *restrict dd = scratch + 4 * L, *restrict cr = scratch + 5 * L;
    double *restrict xv = scratch + 6 * L; /* the bars of the pass, contiguous */
    for (npy_intp t = 0; t < L; t++) {
        fmax[t] = 0.0;
        fmdd[t] = INFINITY;
    }
    for (npy_intp i0 = -1;; i0 += w) {
        if (i0 >= 0) { /* flip the window [i0-w+1, i0] */
            const npy_intp a = i0 - w + 1;
            double M = 0.0, m = INFINITY;
            int ok = 1;
            for (npy_intp t = w - 1; t >= 0; t--) {
                const double v = TK_XAT(a + t);
                ok &= (v > 0.0) & (v < INFINITY);
                xv[t] = v;
                mn[t] = m; /* min of the bars after t */
                M = v > M ? v : M;
                m = v < m ? v : m;
                fmax[t] = M;
            }
            if (!ok) {
                return -1;
            }
            for (npy_intp t = 0; t < w; t++) {
                dd[t] = mn[t] / xv[t] - 1.0;
            }
            double d = 0.0;
            for (npy_intp t = w - 1; t >= 0; t--) {
                d = dd[t] < d ? dd[t] : d;
                fmdd[t] = d;
            }
            TK_ST(out + i0 * os, fmdd[0]);
        }
        /* back bars i0 + t, t = 1 .. tn-1 (t = 0 is the flip bar); when the
         * next flip bar would be the row's last bar, this epoch takes it
         * instead (t = w: the front is empty, fmax[w] = +0, fmdd[w] = +inf) */
        npy_intp tn = (n - i0 < w) ? n - i0 : w;
        if (i0 + w == n - 1) {
            tn = w + 1;
        }
        double P = -INFINITY, m = INFINITY;
        int ok = 1;
        for (npy_intp t = 1; t < tn; t++) {
            const double v = TK_XAT(i0 + t);
            ok &= (v > 0.0) & (v < INFINITY);
            P = v > P ? v : P;
            m = v < m ? v : m;
            xv[t] = v;
            pk[t] = P;
            mn[t] = m;
        }
        if (!ok) {
            return -1;
        }
        for (npy_intp t = 1; t < tn; t++) {
            dd[t] = xv[t] / pk[t] - 1.0;
        }
        if (i0 >= 0) { /* (no front before the first flip: no cross term) */
            for (npy_intp t = 1; t < tn; t++) {
                cr[t] = mn[t] / fmax[t] - 1.0;
            }
        }
        else {
            for (npy_intp t = 1; t < tn; t++) {
                cr[t] = INFINITY;
            }
        }
        double bm = INFINITY;
        for (npy_intp t = 1; t < tn; t++) {
            bm = dd[t] < bm ? dd[t] : bm;
            double r = fmdd[t] < bm ? fmdd[t] : bm;
            r = cr[t] < r ? cr[t] : r;
            TK_ST(out + (i0 + t) * os, r);
        }
        if (i0 + tn >= n) {
            break;
        }
    }
    /* min_periods: bar i has min(i + 1, w) valid bars */
    const npy_intp nan_bars = mp > (npy_int64)w ? n : (mp > 1 ? (npy_intp)mp - 1 : 0);
    for (npy_intp i = 0; i < nan_bars && i < n; i++) {
        TK_ST(out + i * os, NAN);
    }
    return 0;
}

/* (n),(),()->(n) */
void TK_FN(tk_rolling_max_drawdown)(char **args, const npy_intp *dims, const npy_intp *steps)
{
    const char *x = args[0];
    npy_intp xs = steps[0];
    const npy_intp n = dims[0], os = steps[1];
    npy_int64 w, mp;
    memcpy(&w, args[1], sizeof w);
    memcpy(&mp, args[2], sizeof mp);
    char *out = args[3];
    if (w < 1) {
        for (npy_intp i = 0; i < n; i++) {
            TK_ST(out + i * os, NAN);
        }
        return;
    }
    char *copy = NULL;
    if (x == out && n > 1) {
        /* out= is the input itself: NumPy copies no operand that aliases another
         * exactly (it assumes elementwise access), but a window reads bars the
         * loop has already written over.  Run on a copy of the row. */
        copy = (char *)PyMem_RawMalloc((size_t)n * TK_ESIZE);
        if (copy == NULL) {
            PyGILState_STATE g = PyGILState_Ensure();
            PyErr_NoMemory();
            PyGILState_Release(g);
            for (npy_intp i = 0; i < n; i++) {
                TK_ST(out + i * os, NAN);
            }
            return;
        }
        for (npy_intp i = 0; i < n; i++) {
            memcpy(copy + i * TK_ESIZE, x + i * xs, TK_ESIZE);
        }
        x = copy;
        xs = TK_ESIZE;
    }
    const npy_intp cap = (w < (npy_int64)n) ? (npy_intp)w : n; /* window length in bars */
    double *scratch = (double *)PyMem_RawMalloc(7 * ((size_t)cap + 1) * sizeof(double));
    if (cap > 0 && scratch != NULL
        && TK_FN(tk_rmdd_fast)(x, xs, out, os, n, cap, mp, scratch) == 0) {
        PyMem_RawFree(scratch);
        PyMem_RawFree(copy);
        return;
    }
    PyMem_RawFree(scratch);
    TK_FN(tk_rmdd_general)(x, xs, out, os, n, w, mp);
    PyMem_RawFree(copy);
}

#undef TK_XAT
#undef TK_CAT_
#undef TK_CAT
#undef TK_FN
#undef TK_LD
#undef TK_ST
