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
 * window bars).  The raw values come from x itself; the scratch is the
 * suffix summaries only: 3 * min(window, n) doubles, allocated once per
 * core call, and only when a flip happens (never for window >= n).
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

/* (n),(),()->(n) */
void TK_FN(tk_rolling_max_drawdown)(char **args, const npy_intp *dims, const npy_intp *steps)
{
    const char *x = args[0];
    const npy_intp n = dims[0], xs = steps[0], os = steps[1];
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

#undef TK_XAT
#undef TK_CAT_
#undef TK_CAT
#undef TK_FN
#undef TK_LD
#undef TK_ST
