/*
 * drawdown.inc.h - drawdown kernels, instantiated once per dtype by
 * drawdown.c (TK_SFX = f32 | f64).  Semantics: tradekernels.reference.
 * drawdown, max_drawdown, drawdown_episode, underwater_bars.
 *
 * The running peak starts at -inf and moves only on a strictly greater
 * price (NaN never compares greater), so the peak is the first bar that
 * reached the running maximum; NaN prices give NaN drawdowns.
 *
 * Every kernel is one loop over the per-bar step of tk_scan.h, run from a
 * state: the default one (the plain gufuncs) or the carried one given to
 * the <name>_state gufuncs, whose extra (k) input is the state and extra
 * (k) output the state after the last bar (layouts: tk_scan.h).
 */
#define TK_CAT_(a, b) a##_##b
#define TK_CAT(a, b) TK_CAT_(a, b)
#define TK_FN(name) TK_CAT(name, TK_SFX)
#define TK_LD TK_CAT(tk_ld, TK_SFX)
#define TK_ST TK_CAT(tk_st, TK_SFX)

static inline void TK_FN(dd_run)(const char *x, npy_intp xs, char *out, npy_intp os, npy_intp n,
                                 double *state)
{
    double peak = *state;
    for (npy_intp i = 0; i < n; i++, x += xs, out += os) {
        TK_ST(out, tk_drawdown_step(&peak, TK_LD(x)));
    }
    *state = peak;
}

/* (n)->(n) */
void TK_FN(tk_drawdown)(char **args, const npy_intp *dims, const npy_intp *steps)
{
    double peak = -INFINITY;
    TK_FN(dd_run)(args[0], steps[0], args[1], steps[1], dims[0], &peak);
}

/* (n),(k)->(n),(k) */
void TK_FN(tk_drawdown_state)(char **args, const npy_intp *dims, const npy_intp *steps)
{
    double peak = tk_ld_f64(args[1]);
    TK_FN(dd_run)(args[0], steps[0], args[2], steps[2], dims[0], &peak);
    tk_st_f64(args[3], peak);
}

static inline void TK_FN(mdd_run)(const char *x, npy_intp xs, npy_intp n, tk_max_drawdown_st *state)
{
    tk_max_drawdown_st s = *state;
    for (npy_intp i = 0; i < n; i++, x += xs) {
        (void)tk_max_drawdown_step(&s, TK_LD(x));
    }
    *state = s;
}

/* (n)->(): min over the non-NaN drawdowns, NaN if there are none. */
void TK_FN(tk_max_drawdown)(char **args, const npy_intp *dims, const npy_intp *steps)
{
    tk_max_drawdown_st s = tk_max_drawdown_init();
    TK_FN(mdd_run)(args[0], steps[0], dims[0], &s);
    TK_ST(args[1], tk_max_drawdown_result(&s));
}

/* (n),(k)->(),(k): the result for everything seen so far. */
void TK_FN(tk_max_drawdown_state)(char **args, const npy_intp *dims, const npy_intp *steps)
{
    tk_max_drawdown_st s = tk_max_drawdown_load(args[1], steps[1]);
    TK_FN(mdd_run)(args[0], steps[0], dims[0], &s);
    TK_ST(args[2], tk_max_drawdown_result(&s));
    tk_max_drawdown_save(args[3], steps[2], &s);
}

static inline void TK_FN(episode_run)(char **args, const char *x, npy_intp xs, npy_intp n,
                                      tk_drawdown_episode_st *state)
{
    tk_drawdown_episode_st s = *state;
    for (npy_intp i = 0; i < n; i++, x += xs) {
        tk_drawdown_episode_step(&s, TK_LD(x));
    }
    npy_int64 peak_i, trough_i, recovery_i;
    double depth;
    tk_drawdown_episode_result(&s, &peak_i, &trough_i, &recovery_i, &depth);
    tk_st_i64(args[0], peak_i);
    tk_st_i64(args[1], trough_i);
    tk_st_i64(args[2], recovery_i);
    TK_ST(args[3], depth);
    *state = s;
}

/* (n)->(),(),(),(): peak, trough, recovery indices and depth of the
 * maximum drawdown (one pass; see tk_drawdown_episode_step). */
void TK_FN(tk_drawdown_episode)(char **args, const npy_intp *dims, const npy_intp *steps)
{
    tk_drawdown_episode_st s = tk_drawdown_episode_init();
    TK_FN(episode_run)(args + 1, args[0], steps[0], dims[0], &s);
}

/* (n),(k)->(),(),(),(),(k): indices are global (counted from the first bar
 * the state has seen). */
void TK_FN(tk_drawdown_episode_state)(char **args, const npy_intp *dims, const npy_intp *steps)
{
    tk_drawdown_episode_st s = tk_drawdown_episode_load(args[1], steps[1]);
    TK_FN(episode_run)(args + 2, args[0], steps[0], dims[0], &s);
    tk_drawdown_episode_save(args[6], steps[2], &s);
}

static inline void TK_FN(uw_run)(const char *x, npy_intp xs, char *out, npy_intp os, npy_intp n,
                                 tk_underwater_bars_st *state)
{
    tk_underwater_bars_st s = *state;
    for (npy_intp i = 0; i < n; i++, x += xs, out += os) {
        tk_st_i64(out, tk_underwater_bars_step(&s, TK_LD(x)));
    }
    *state = s;
}

/* (n)->(n) int64: bars since the last bar at or above the running peak;
 * -1 before the first non-NaN price. */
void TK_FN(tk_underwater_bars)(char **args, const npy_intp *dims, const npy_intp *steps)
{
    tk_underwater_bars_st s = tk_underwater_bars_init();
    TK_FN(uw_run)(args[0], steps[0], args[1], steps[1], dims[0], &s);
}

/* (n),(k)->(n),(k) */
void TK_FN(tk_underwater_bars_state)(char **args, const npy_intp *dims, const npy_intp *steps)
{
    tk_underwater_bars_st s = tk_underwater_bars_load(args[1], steps[1]);
    TK_FN(uw_run)(args[0], steps[0], args[2], steps[2], dims[0], &s);
    tk_underwater_bars_save(args[3], steps[3], &s);
}

static inline void TK_FN(duration_run)(const char *x, npy_intp xs, npy_intp n,
                                       tk_max_drawdown_duration_st *state)
{
    tk_max_drawdown_duration_st s = *state;
    for (npy_intp i = 0; i < n; i++, x += xs) {
        (void)tk_max_drawdown_duration_step(&s, TK_LD(x));
    }
    *state = s;
}

static inline void TK_FN(ulcer_run)(const char *x, npy_intp xs, npy_intp n,
                                    tk_ulcer_index_st *state)
{
    tk_ulcer_index_st s = *state;
    for (npy_intp i = 0; i < n; i++, x += xs) {
        tk_ulcer_index_step(&s, TK_LD(x));
    }
    *state = s;
}

/* (n)->() int64: the longest run of bars below the running peak (the
 * maximum of underwater_bars; -1 before any non-NaN price). */
void TK_FN(tk_max_drawdown_duration)(char **args, const npy_intp *dims, const npy_intp *steps)
{
    tk_max_drawdown_duration_st s = tk_max_drawdown_duration_init();
    TK_FN(duration_run)(args[0], steps[0], dims[0], &s);
    tk_st_i64(args[1], s.best);
}

/* (n),(k)->(),(k): the result for everything seen so far. */
void TK_FN(tk_max_drawdown_duration_state)(char **args, const npy_intp *dims, const npy_intp *steps)
{
    tk_max_drawdown_duration_st s = tk_max_drawdown_duration_load(args[1], steps[1]);
    TK_FN(duration_run)(args[0], steps[0], dims[0], &s);
    tk_st_i64(args[2], s.best);
    tk_max_drawdown_duration_save(args[3], steps[2], &s);
}

/* (n)->(): sqrt(sum of squared non-NaN drawdowns / their count) (ddof 0;
 * other ddof: the Python wrapper, from the state's sumsq and count). */
void TK_FN(tk_ulcer_index)(char **args, const npy_intp *dims, const npy_intp *steps)
{
    tk_ulcer_index_st s = tk_ulcer_index_init();
    TK_FN(ulcer_run)(args[0], steps[0], dims[0], &s);
    TK_ST(args[1], tk_ulcer_index_result(&s, 0.0));
}

/* (n),(k)->(),(k) */
void TK_FN(tk_ulcer_index_state)(char **args, const npy_intp *dims, const npy_intp *steps)
{
    tk_ulcer_index_st s = tk_ulcer_index_load(args[1], steps[1]);
    TK_FN(ulcer_run)(args[0], steps[0], dims[0], &s);
    TK_ST(args[2], tk_ulcer_index_result(&s, 0.0));
    tk_ulcer_index_save(args[3], steps[2], &s);
}

#undef TK_CAT_
#undef TK_CAT
#undef TK_FN
#undef TK_LD
#undef TK_ST
