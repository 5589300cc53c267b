/*
 * drawdown.inc.h - drawdown kernels, instantiated once per dtype by
 * drawdown.c (TK_SFX = f32 | f64).  Semantics: tradekernels.reference.
 * drawdown, max_drawdown, drawdown_episode, underwater_bars.
 *
 * The running peak starts at -inf and moves only on a strictly greater
 * price (NaN never compares greater), so the peak is the first bar that
 * reached the running maximum; NaN prices give NaN drawdowns.
 */
#define TK_CAT_(a, b) a##_##b
#define TK_CAT(a, b) TK_CAT_(a, b)
#define TK_FN(name) TK_CAT(name, TK_SFX)
#define TK_LD TK_CAT(tk_ld, TK_SFX)
#define TK_ST TK_CAT(tk_st, TK_SFX)

/* (n)->(n) */
void TK_FN(tk_drawdown)(char **args, const npy_intp *dims, const npy_intp *steps)
{
    const char *x = args[0];
    char *out = args[1];
    double peak = -INFINITY;
    for (npy_intp i = 0; i < dims[0]; i++, x += steps[0], out += steps[1]) {
        const double v = TK_LD(x);
        if (v > peak) {
            peak = v;
        }
        TK_ST(out, v / peak - 1.0);
    }
}

/* (n)->(): min over the non-NaN drawdowns, NaN if there are none. */
void TK_FN(tk_max_drawdown)(char **args, const npy_intp *dims, const npy_intp *steps)
{
    const char *x = args[0];
    double peak = -INFINITY, best = INFINITY;
    int seen = 0;
    for (npy_intp i = 0; i < dims[0]; i++, x += steps[0]) {
        const double v = TK_LD(x);
        if (v > peak) {
            peak = v;
        }
        const double d = v / peak - 1.0;
        if (d < best) {
            best = d;
        }
        seen |= (d == d);
    }
    TK_ST(args[1], seen ? best : NAN);
}

/* (n)->(),(),(),(): peak, trough, recovery indices and depth of the
 * maximum drawdown. */
void TK_FN(tk_drawdown_episode)(char **args, const npy_intp *dims, const npy_intp *steps)
{
    const npy_intp n = dims[0], xs = steps[0];
    const char *x = args[0];
    double peak = -INFINITY, best = INFINITY, best_peak = 0.0;
    npy_intp peak_i = -1, best_peak_i = -1, trough_i = -1, recovery_i = -1;
    int seen = 0;
    for (npy_intp i = 0; i < n; i++, x += xs) {
        const double v = TK_LD(x);
        if (v >= peak) {        /* last bar at the running peak */
            peak_i = i;
            if (v > peak) {
                peak = v;
            }
        }
        const double d = v / peak - 1.0;
        if (d < best || (!seen && d == d)) {
            best = d;
            trough_i = i;
            best_peak_i = peak_i;
            best_peak = peak;
            seen = 1;
        }
    }
    if (seen && best < 0.0) {
        x = args[0] + (trough_i + 1) * xs;
        for (npy_intp j = trough_i + 1; j < n; j++, x += xs) {
            if (TK_LD(x) >= best_peak) {
                recovery_i = j;
                break;
            }
        }
    }
    else {
        best_peak_i = trough_i = -1;
    }
    tk_st_i64(args[1], (npy_int64)best_peak_i);
    tk_st_i64(args[2], (npy_int64)trough_i);
    tk_st_i64(args[3], (npy_int64)recovery_i);
    TK_ST(args[4], seen ? best : NAN);
}

/* (n)->(n) int64: bars since the last bar at or above the running peak;
 * -1 before the first non-NaN price. */
void TK_FN(tk_underwater_bars)(char **args, const npy_intp *dims, const npy_intp *steps)
{
    const char *x = args[0];
    char *out = args[1];
    double peak = -INFINITY;
    npy_int64 count = -1;
    for (npy_intp i = 0; i < dims[0]; i++, x += steps[0], out += steps[1]) {
        const double v = TK_LD(x);
        if (v >= peak) {
            peak = v;
            count = 0;
        }
        else if (count >= 0) {
            count++;
        }
        tk_st_i64(out, count);
    }
}

#undef TK_CAT_
#undef TK_CAT
#undef TK_FN
#undef TK_LD
#undef TK_ST
