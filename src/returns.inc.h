/*
 * returns.inc.h - returns kernels, instantiated once per dtype by returns.c
 * (TK_SFX = f32 | f64).  Semantics: tradekernels.reference.simple_returns,
 * log_returns, cumulative_returns.  All arithmetic is in double.
 */
#define TK_CAT_(a, b) a##_##b
#define TK_CAT(a, b) TK_CAT_(a, b)
#define TK_FN(name) TK_CAT(name, TK_SFX)
#define TK_LD TK_CAT(tk_ld, TK_SFX)
#define TK_ST TK_CAT(tk_st, TK_SFX)

/* (n)->(n); prev carries x[i-1] (NaN before the first element). */
void TK_FN(tk_simple_returns)(char **args, const npy_intp *dims, const npy_intp *steps)
{
    const char *x = args[0];
    char *out = args[1];
    double prev = NAN;
    for (npy_intp i = 0; i < dims[0]; i++, x += steps[0], out += steps[1]) {
        const double v = TK_LD(x);
        TK_ST(out, v / prev - 1.0);
        prev = v;
    }
}

void TK_FN(tk_log_returns)(char **args, const npy_intp *dims, const npy_intp *steps)
{
    const char *x = args[0];
    char *out = args[1];
    double prev = NAN;
    for (npy_intp i = 0; i < dims[0]; i++, x += steps[0], out += steps[1]) {
        const double v = TK_LD(x);
        TK_ST(out, log(v / prev));
        prev = v;
    }
}

/* NaN returns count as 0: the running product is left unchanged. */
void TK_FN(tk_cumulative_returns)(char **args, const npy_intp *dims, const npy_intp *steps)
{
    const char *r = args[0];
    char *out = args[1];
    double prod = 1.0;
    for (npy_intp i = 0; i < dims[0]; i++, r += steps[0], out += steps[1]) {
        const double v = TK_LD(r);
        if (v == v) {
            prod *= 1.0 + v;
        }
        TK_ST(out, prod - 1.0);
    }
}

#undef TK_CAT_
#undef TK_CAT
#undef TK_FN
#undef TK_LD
#undef TK_ST
