/*
 * returns.inc.h - returns kernels, instantiated once per dtype by returns.c
 * (TK_SFX = f32 | f64).  Semantics: tradekernels.reference.simple_returns,
 * log_returns, cumulative_returns.  All arithmetic is in double (TK_ELEM:
 * the element type).
 *
 * Each kernel is one loop over its per-bar step (tk_scan.h) from a state:
 * the default one (plain gufuncs) or the carried (k) input of the
 * <name>_state gufuncs, which also output the state after the last bar.
 */
#define TK_CAT_(a, b) a##_##b
#define TK_CAT(a, b) TK_CAT_(a, b)
#define TK_FN(name) TK_CAT(name, TK_SFX)
#define TK_LD TK_CAT(tk_ld, TK_SFX)
#define TK_ST TK_CAT(tk_st, TK_SFX)

/* One kernel: a run function over the step, a stateless (n)->(n) core
 * starting from `init`, and a stateful (n),(k)->(n),(k) core. */
#define TK_RETURNS_KERNEL(name, init)                                                        \
    static inline void TK_FN(name##_run)(const char *x, npy_intp xs, char *out, npy_intp os, \
                                         npy_intp n, double *state)                          \
    {                                                                                        \
        double s = *state;                                                                   \
        for (npy_intp i = 0; i < n; i++, x += xs, out += os) {                               \
            TK_ST(out, tk_##name##_step(&s, TK_LD(x)));                                      \
        }                                                                                    \
        *state = s;                                                                          \
    }                                                                                        \
    void TK_FN(tk_##name)(char **args, const npy_intp *dims, const npy_intp *steps)          \
    {                                                                                        \
        double s = (init);                                                                   \
        TK_FN(name##_run)(args[0], steps[0], args[1], steps[1], dims[0], &s);                \
    }                                                                                        \
    void TK_FN(tk_##name##_state)(char **args, const npy_intp *dims, const npy_intp *steps)  \
    {                                                                                        \
        double s = tk_ld_f64(args[1]);                                                       \
        TK_FN(name##_run)(args[0], steps[0], args[2], steps[2], dims[0], &s);                \
        tk_st_f64(args[3], s);                                                               \
    }

/* prev carries x[i-1] (NaN before the first element). */
TK_RETURNS_KERNEL(simple_returns, NAN)
/* NaN returns count as 0: the running product is left unchanged. */
TK_RETURNS_KERNEL(cumulative_returns, 1.0)

/* log_returns (the block runner: tk_log_returns_blocks, tk_scan.h).
 * buf[j] = x[j] / x[j-1] for j < m, x[-1] being prev. */
static void TK_FN(log_ratios)(const char *x, npy_intp xs, npy_intp m, double prev,
                              double *restrict buf)
{
    buf[0] = TK_LD(x) / prev;
    if (xs == (npy_intp)sizeof(TK_ELEM)) {
        for (npy_intp j = 1; j < m; j++) {
            buf[j] = TK_LD(x + j * (npy_intp)sizeof(TK_ELEM))
                     / TK_LD(x + (j - 1) * (npy_intp)sizeof(TK_ELEM));
        }
    }
    else {
        for (npy_intp j = 1; j < m; j++) {
            buf[j] = TK_LD(x + j * xs) / TK_LD(x + (j - 1) * xs);
        }
    }
}

void TK_FN(tk_log_returns)(char **args, const npy_intp *dims, const npy_intp *steps)
{
    double s = NAN;
    tk_log_returns_blocks(args[0], steps[0], args[1], steps[1], dims[0], &s, tk_call_log(args, 2),
                          sizeof(TK_ELEM) == sizeof(float), TK_FN(log_ratios), tk_log_flush_copy,
                          NPY_MAX_INTP);
}

void TK_FN(tk_log_returns_state)(char **args, const npy_intp *dims, const npy_intp *steps)
{
    double s = tk_ld_f64(args[1]);
    tk_log_returns_blocks(args[0], steps[0], args[2], steps[2], dims[0], &s, tk_call_log(args, 4),
                          sizeof(TK_ELEM) == sizeof(float), TK_FN(log_ratios), tk_log_flush_copy,
                          NPY_MAX_INTP);
    tk_st_f64(args[3], s);
}

#undef TK_RETURNS_KERNEL
#undef TK_CAT_
#undef TK_CAT
#undef TK_FN
#undef TK_LD
#undef TK_ST
