/*
 * fills.c - order fills against OHLC bars.  Semantics: tradekernels.
 * reference.fill_orders (the naive scan, in pure Python).
 *
 * Three kernels (float64 bars, int64 order fields):
 *
 *   tk_bar_index   (n),(n),(n),(n)->(n),(n),(n),(g),(g),(m),(m),(m),(m),(k),(k),(n)
 *       open, high, low, close -> open (a copy: the first eleven outputs are
 *       the eleven bar inputs of fill_orders, in its order), fill_low,
 *       fill_high, group_min_low, group_max_high, block_min_low,
 *       block_max_high, suffix_min_low, suffix_max_high, super_min_low,
 *       super_max_high, close (a copy).  A bar is fillable iff none of its
 *       four prices is NaN; fill_low/fill_high are low/high on fillable bars
 *       and NaN on the others (NaN compares false, so they never cross
 *       anything).  Every summary is the min of fill_low / max of fill_high
 *       over the fillable bars of its range (a group of TK_FILL_GROUP bars, a
 *       block of TK_FILL_BLOCK bars, the bars from a block's first to the
 *       last (suffix), a super block of TK_FILL_SUPER bars), NaN when the
 *       range has no fillable bar.  So "!(summary <= x)" means exactly "no
 *       fillable bar of the range has low <= x" and the range can be
 *       skipped; a summary of a range that holds [i, e] rules out [i, e].
 *       g = ceil(n / 8), m = ceil(n / 64), k = ceil(n / 4096)
 *       (process_core_dims sets them; for the searches it checks them, o is
 *       free).  Nothing per bar but the prices: the per-bar outputs are
 *       four, as many as a copy of the bars writes.
 *
 *   tk_fill_orders (n) x3,(g) x2,(m) x4,(k) x2,(o) x6->(o),(o)
 *       the eleven bar_index outputs (open first), then the o orders of that
 *       bar series as a core dimension: start, side, kind, price, limit,
 *       expiry (int64, int64, int64, f64, f64, int64) -> fill_index (int64),
 *       fill_price (f64).  Per order: "never" in O(1) from the suffix of the
 *       start's block, then super blocks, blocks and groups whose band is
 *       not crossed are passed in O(1) each, and only the bars of a crossed
 *       group are read.  The orders are answered in a loop that prefetches
 *       the start bar of the order TK_FILL_PREFETCH_AHEAD positions later, so
 *       the cache misses of random start bars overlap (memory-level
 *       parallelism) instead of being paid one after another.
 *
 *   tk_fill_orders_naive (n),(n),(n),(n),(),(),(),(),(),()->(),()
 *       The same answer by scanning the raw bars one by one.
 *
 * Both searches are exact (the summaries only decide what can be skipped),
 * so both kernels give identical results.  No allocation, no Python API.
 */
#include "tk.h"

#if TK_HAVE_SSE2
#include <emmintrin.h>
#endif

#define TK_FILL_GROUP_SHIFT 3
#define TK_FILL_BLOCK_SHIFT 6
#define TK_FILL_SUPER_SHIFT 12
#define TK_FILL_GROUP ((npy_intp)1 << TK_FILL_GROUP_SHIFT)
#define TK_FILL_BLOCK ((npy_intp)1 << TK_FILL_BLOCK_SHIFT)
#define TK_FILL_SUPER ((npy_intp)1 << TK_FILL_SUPER_SHIFT)

enum { TK_KIND_MARKET = 0, TK_KIND_LIMIT = 1, TK_KIND_STOP = 2, TK_KIND_STOP_LIMIT = 3 };

/* The constants Python shares (tradekernels.fills reads them at import):
 * _core.ORDER_KINDS {name: code}, _core.FILL_GROUP, _core.FILL_BLOCK,
 * _core.FILL_SUPER. */
int tk_fills_add_constants(PyObject *module)
{
    PyObject *kinds =
        Py_BuildValue("{s:i,s:i,s:i,s:i}", "market", TK_KIND_MARKET, "limit", TK_KIND_LIMIT, "stop",
                      TK_KIND_STOP, "stop_limit", TK_KIND_STOP_LIMIT);
    if (kinds == NULL || PyModule_AddObject(module, "ORDER_KINDS", kinds) < 0) {
        Py_XDECREF(kinds);
        return -1;
    }
    if (PyModule_AddIntConstant(module, "FILL_GROUP", (long)TK_FILL_GROUP) < 0
        || PyModule_AddIntConstant(module, "FILL_BLOCK", (long)TK_FILL_BLOCK) < 0
        || PyModule_AddIntConstant(module, "FILL_SUPER", (long)TK_FILL_SUPER) < 0) {
        return -1;
    }
    return 0;
}

/* SSE2 code (tk_bi_group_rows_sse2, tk_best8_sse2) runs on every SIMD path
 * and where compiled (x86-64: always); the scalar path runs the portable
 * loops next to it (tk_bi_group_rows_scalar, tk_best8_scalar).  The kernels
 * with SSE2 code (bar_index, exit_orders, trades_from_signals) declare the
 * cores tk_<name>_f64 (scalar), _avx2 (also run by avx512) and _avx512_emu
 * (kernels.toml), each an instance of one always_inline function for its
 * path (a constant: no test in the loops). */
static inline int tk_fills_sse2(int path)
{
    return TK_HAVE_SSE2 && path != TK_PATH_SCALAR;
}

const char *const tk_fills_sse2_kernels[] = {"bar_index", "exit_orders", "trades_from_signals",
                                             NULL};

const char *tk_fills_code(int path)
{
    return tk_fills_sse2(path) ? "sse2" : "scalar";
}

/* The path cores of a kernel with SSE2 code: tk_<name>_f64 (scalar),
 * _avx2 and _avx512_emu (where compiled), each an instance of the kernel's
 * always_inline body tk_<name> for one constant path. */
#define TK_FILLS_CORE(name, suffix, path)                                                  \
    void tk_##name##_f64##suffix(char **args, const npy_intp *dims, const npy_intp *steps) \
    {                                                                                      \
        tk_##name(args, dims, steps, path);                                                \
    }
#if TK_HAVE_AVX2
#define TK_FILLS_CORE_AVX2(name) TK_FILLS_CORE(name, _avx2, TK_PATH_AVX2)
#else
#define TK_FILLS_CORE_AVX2(name)
#endif
#if TK_HAVE_AVX512_EMU
#define TK_FILLS_CORE_AVX512_EMU(name) TK_FILLS_CORE(name, _avx512_emu, TK_PATH_AVX512_EMU)
#else
#define TK_FILLS_CORE_AVX512_EMU(name)
#endif
#define TK_FILLS_CORES(name)              \
    TK_FILLS_CORE(name, , TK_PATH_SCALAR) \
    TK_FILLS_CORE_AVX2(name)              \
    TK_FILLS_CORE_AVX512_EMU(name)

static inline npy_intp tk_ceil_div(npy_intp n, npy_intp b)
{
    return n <= 0 ? 0 : (n - 1) / b + 1;
}

/* ------------------------------------------------------------------ */
/* core dimension checks (process_core_dims_func; called with the GIL)  */
/* ------------------------------------------------------------------ */

/* The process_core_dims_func of every fills kernel with summaries
 * (kernels.toml `dims`): n, the bars, is the first core dimension, g, m and
 * k the group, block and super-block counts.  Where only outputs have them
 * (NumPy passes -1: bar_index without out=) it sets them; otherwise it
 * checks them.  Errors name the ufunc (tk_ufunc_name, module.c). */
int tk_fill_dims(struct _tagPyUFuncObject *uf, npy_intp *sizes)
{
    const npy_intp n = sizes[0];
    const npy_intp want[3] = {tk_ceil_div(n, TK_FILL_GROUP), tk_ceil_div(n, TK_FILL_BLOCK),
                              tk_ceil_div(n, TK_FILL_SUPER)};
    for (int d = 0; d < 3; d++) {
        if (sizes[1 + d] == -1) {
            sizes[1 + d] = want[d];
        }
    }
    if (sizes[1] != want[0] || sizes[2] != want[1] || sizes[3] != want[2]) {
        PyErr_Format(PyExc_ValueError,
                     "%s: for %zd bars the group, block and super-block summaries must have "
                     "lengths %zd, %zd and %zd (ceil(n/%zd), ceil(n/%zd), ceil(n/%zd)), got %zd, "
                     "%zd and %zd; build them with tradekernels.ufuncs.bar_index / "
                     "tradekernels.BarIndex",
                     tk_ufunc_name(uf), n, want[0], want[1], want[2], TK_FILL_GROUP, TK_FILL_BLOCK,
                     TK_FILL_SUPER, sizes[1], sizes[2], sizes[3]);
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* bar_index                                                           */
/* ------------------------------------------------------------------ */

/* NaN-ignoring min / max: the accumulator starts as NaN ("nothing yet"). */
static inline double tk_nmin(double acc, double v)
{
    return (v == v && !(acc <= v)) ? v : acc;
}
static inline double tk_nmax(double acc, double v)
{
    return (v == v && !(acc >= v)) ? v : acc;
}

/* Running extremes of fill_low (mn) / fill_high (mx) and "a usable bar
 * seen" (any) over a range of bars: plain min / max from +-inf (NaN values
 * never win: x < acc is false), and NaN for a range without a usable bar
 * -- the same values as the NaN-ignoring tk_nmin / tk_nmax. */
typedef struct {
    double mn, mx;
    int any;
} tk_bi_acc;

static inline void tk_bi_fold(tk_bi_acc *A, double wl, double wh, int ok)
{
    A->mn = wl < A->mn ? wl : A->mn;
    A->mx = wh > A->mx ? wh : A->mx;
    A->any |= ok;
}

static inline void tk_bi_store(const tk_bi_acc *A, char *mn, char *mx)
{
    tk_st_f64(mn, A->any ? A->mn : NAN);
    tk_st_f64(mx, A->any ? A->mx : NAN);
}

/* One bar of tk_bar_index: its open and close copies and fill_low /
 * fill_high, folded into the group's extremes G. */
static inline void tk_bi_bar(const char *o, const char *h, const char *l, const char *c, char *op,
                             char *cp, char *fl, char *fh, tk_bi_acc *G)
{
    const double vo = tk_ld_f64(o), vh = tk_ld_f64(h), vl = tk_ld_f64(l), vc = tk_ld_f64(c);
    const int ok = !(__builtin_isunordered(vo, vh) | __builtin_isunordered(vl, vc));
    const double wl = ok ? vl : NAN, wh = ok ? vh : NAN;
    tk_st_f64(op, vo);
    tk_st_f64(cp, vc);
    tk_st_f64(fl, wl);
    tk_st_f64(fh, wh);
    tk_bi_fold(G, wl, wh, ok);
}

/* The bars [i, i + 8) of one whole group in BarIndex's layout (contiguous
 * inputs; rows of fill_low, fill_high, open, close at r, 32 bytes a bar),
 * two bars per step, with the same values as tk_bi_bar bar by bar: an
 * unusable bar's fill_low / fill_high are the same NaN, and the extremes
 * are folded in bar order (the later bar wins only if strictly lower /
 * higher, so of a -0.0 and a 0.0 the first stays, as in the scalar fold),
 * an unusable bar entering as +-inf (it never wins; `any` says whether a
 * bar was usable).  The scalar path's: bar by bar (tk_bi_group_rows_scalar). */
#if TK_HAVE_SSE2
static inline void tk_bi_group_rows_sse2(const char *o, const char *h, const char *l, const char *c,
                                         char *r, tk_bi_acc *G)
{
    const __m128d nan = _mm_set1_pd(NAN), pinf = _mm_set1_pd(INFINITY),
                  ninf = _mm_set1_pd(-INFINITY);
    __m128d mn = pinf, mx = ninf; /* (lane 0 only) */
    int any = 0;
    for (int t = 0; t < TK_FILL_GROUP; t += 2) {
        const __m128d vo = _mm_loadu_pd((const double *)(const void *)(o + 8 * t));
        const __m128d vh = _mm_loadu_pd((const double *)(const void *)(h + 8 * t));
        const __m128d vl = _mm_loadu_pd((const double *)(const void *)(l + 8 * t));
        const __m128d vc = _mm_loadu_pd((const double *)(const void *)(c + 8 * t));
        const __m128d ok = _mm_and_pd(_mm_cmpord_pd(vo, vh), _mm_cmpord_pd(vl, vc));
        const __m128d wl = _mm_or_pd(_mm_and_pd(ok, vl), _mm_andnot_pd(ok, nan));
        const __m128d wh = _mm_or_pd(_mm_and_pd(ok, vh), _mm_andnot_pd(ok, nan));
        double *row = (double *)(void *)(r + 32 * t);
        _mm_storeu_pd(row, _mm_unpacklo_pd(wl, wh));
        _mm_storeu_pd(row + 2, _mm_unpacklo_pd(vo, vc));
        _mm_storeu_pd(row + 4, _mm_unpackhi_pd(wl, wh));
        _mm_storeu_pd(row + 6, _mm_unpackhi_pd(vo, vc));
        /* in order: min_sd(a, b) = a < b ? a : b (lane 0), b the earlier */
        const __m128d ml = _mm_or_pd(_mm_and_pd(ok, vl), _mm_andnot_pd(ok, pinf));
        const __m128d mh = _mm_or_pd(_mm_and_pd(ok, vh), _mm_andnot_pd(ok, ninf));
        mn = _mm_min_sd(_mm_min_sd(_mm_unpackhi_pd(ml, ml), ml), mn);
        mx = _mm_max_sd(_mm_max_sd(_mm_unpackhi_pd(mh, mh), mh), mx);
        any |= _mm_movemask_pd(ok);
    }
    tk_bi_fold(G, _mm_cvtsd_f64(mn), _mm_cvtsd_f64(mx), any != 0);
}
#endif

static inline void tk_bi_group_rows_scalar(const char *o, const char *h, const char *l,
                                           const char *c, char *r, tk_bi_acc *G)
{
    for (npy_intp t = 0; t < TK_FILL_GROUP; t++) {
        tk_bi_bar(o + 8 * t, h + 8 * t, l + 8 * t, c + 8 * t, r + 32 * t + 16, r + 32 * t + 24,
                  r + 32 * t, r + 32 * t + 8, G);
    }
}

static inline void tk_bi_group_rows(const char *o, const char *h, const char *l, const char *c,
                                    char *r, tk_bi_acc *G, int sse2)
{
#if TK_HAVE_SSE2
    if (sse2) {
        tk_bi_group_rows_sse2(o, h, l, c, r, G);
        return;
    }
#else
    (void)sse2;
#endif
    tk_bi_group_rows_scalar(o, h, l, c, r, G);
}

/* One forward pass over the bars, group by group: every per-bar output is
 * written and each group's extremes are folded into its block's; the
 * suffix (from the last block back) and super-block extremes then come
 * from the block extremes.  The summary loops run to g, m and k (whatever
 * process_core_dims made them) and clip the bar ranges to [0, n), so they
 * never read or write out of bounds; a range without bars is NaN.  path:
 * the SIMD path of the core (a constant, see tk_fills_sse2). */
static inline __attribute__((always_inline)) void tk_bar_index(char **args, const npy_intp *dims,
                                                               const npy_intp *steps, int path)
{
    const int sse2 = tk_fills_sse2(path);
    const npy_intp n = dims[0], ng = dims[1], m = dims[2], k = dims[3];
    const char *o = args[0], *h = args[1], *l = args[2], *c = args[3];
    char *op = args[4], *fl = args[5], *fh = args[6], *gmin = args[7], *gmax = args[8];
    char *bmin = args[9], *bmax = args[10], *smin = args[11], *smax = args[12];
    char *pmin = args[13], *pmax = args[14], *cp = args[15];
    const npy_intp so = steps[0], sh = steps[1], sl = steps[2], sc = steps[3];
    const npy_intp sop = steps[4], sfl = steps[5], sfh = steps[6], sgmin = steps[7],
                   sgmax = steps[8];
    const npy_intp sbmin = steps[9], sbmax = steps[10], ssmin = steps[11], ssmax = steps[12];
    const npy_intp spmin = steps[13], spmax = steps[14], scp = steps[15];
    /* BarIndex's layout (inputs of one stride, the four per-bar outputs of
     * one stride): one offset each, so the loop keeps few registers live */
    const int uniform = so == sh && so == sl && so == sc && sop == sfl && sop == sfh && sop == scp;
    /* ... and exactly BarIndex's: contiguous inputs, rows of fill_low,
     * fill_high, open, close (SSE2: two bars a step) */
    const int rows =
        uniform && so == 8 && sop == 32 && fh == fl + 8 && op == fl + 16 && cp == fl + 24;
    const tk_bi_acc none = {INFINITY, -INFINITY, 0};
    for (npy_intp q = 0; q * TK_FILL_BLOCK < n; q++) {
        const npy_intp lo = q * TK_FILL_BLOCK;
        const npy_intp hi = lo + TK_FILL_BLOCK < n ? lo + TK_FILL_BLOCK : n;
        tk_bi_acc Q = none;
        for (npy_intp gs = lo; gs < hi; gs += TK_FILL_GROUP) {
            const npy_intp ge = gs + TK_FILL_GROUP < hi ? gs + TK_FILL_GROUP : hi;
            tk_bi_acc G = none;
            if (rows && ge - gs == TK_FILL_GROUP) {
                const npy_intp xi = gs * 8;
                tk_bi_group_rows(o + xi, h + xi, l + xi, c + xi, fl + gs * 32, &G, sse2);
            }
            else if (uniform) {
                for (npy_intp i = gs; i < ge; i++) {
                    const npy_intp xi = i * so, xr = i * sop;
                    tk_bi_bar(o + xi, h + xi, l + xi, c + xi, op + xr, cp + xr, fl + xr, fh + xr,
                              &G);
                }
            }
            else {
                for (npy_intp i = gs; i < ge; i++) {
                    tk_bi_bar(o + i * so, h + i * sh, l + i * sl, c + i * sc, op + i * sop,
                              cp + i * scp, fl + i * sfl, fh + i * sfh, &G);
                }
            }
            const npy_intp gi = gs >> TK_FILL_GROUP_SHIFT;
            if (gi < ng) {
                tk_bi_store(&G, gmin + gi * sgmin, gmax + gi * sgmax);
            }
            tk_bi_fold(&Q, G.mn, G.mx, G.any);
        }
        if (q < m) {
            tk_bi_store(&Q, bmin + q * sbmin, bmax + q * sbmax);
        }
    }
    for (npy_intp j = tk_ceil_div(n, TK_FILL_GROUP); j < ng; j++) {
        tk_st_f64(gmin + j * sgmin, NAN);
        tk_st_f64(gmax + j * sgmax, NAN);
    }
    for (npy_intp q = tk_ceil_div(n, TK_FILL_BLOCK); q < m; q++) {
        tk_st_f64(bmin + q * sbmin, NAN);
        tk_st_f64(bmax + q * sbmax, NAN);
    }
    /* suffixes, from the last block back (NaN-ignoring folds of the block
     * summaries just written; of equal values the earlier block's wins, so
     * of a -0.0 and a 0.0 the first in bar order stays, as in every other
     * summary) */
    double mn = NAN, mx = NAN;
    for (npy_intp q = m - 1; q >= 0; q--) {
        const double vn = tk_ld_f64(bmin + q * sbmin), vx = tk_ld_f64(bmax + q * sbmax);
        mn = vn == vn && !(mn < vn) ? vn : mn;
        mx = vx == vx && !(mx > vx) ? vx : mx;
        tk_st_f64(smin + q * ssmin, mn);
        tk_st_f64(smax + q * ssmax, mx);
    }
    for (npy_intp j = 0; j < k; j++) {
        const npy_intp b0 = j * (TK_FILL_SUPER / TK_FILL_BLOCK);
        const npy_intp b1 =
            b0 + TK_FILL_SUPER / TK_FILL_BLOCK < m ? b0 + TK_FILL_SUPER / TK_FILL_BLOCK : m;
        double smn = NAN, smx = NAN;
        for (npy_intp q = b0; q < b1; q++) {
            smn = tk_nmin(smn, tk_ld_f64(bmin + q * sbmin));
            smx = tk_nmax(smx, tk_ld_f64(bmax + q * sbmax));
        }
        tk_st_f64(pmin + j * spmin, smn);
        tk_st_f64(pmax + j * spmax, smx);
    }
}

TK_FILLS_CORES(bar_index)

/* ------------------------------------------------------------------ */
/* searches: first fillable bar i in [a, b] with low <= x / high >= x  */
/* ------------------------------------------------------------------ */

/* How many further cache lines of bars after an order's start bar the
 * skipping kernels prefetch (see TK_PREFETCH_START). */
#define TK_FILL_PREFETCH_LINES 5

typedef struct {
    const char *open, *high, *low, *close; /* naive: raw bars */
    npy_intp so, sh, sl, sc;
    /* skip: fill_low/fill_high in low/high, plus the summaries: group,
     * block, suffix (per block) and super-block min low / max high */
    const char *gmin, *gmax, *bmin, *bmax, *smin, *smax, *pmin, *pmax;
    npy_intp sgmin, sgmax, sbmin, sbmax, ssmin, ssmax, spmin, spmax;
    int skip; /* summaries usable */
    /* rows of the open column that start the next TK_FILL_PREFETCH_LINES
     * cache lines after a bar (TK_PREFETCH_START; set by tk_bars_indexed,
     * so no division per order) */
    npy_intp pf_rows[TK_FILL_PREFETCH_LINES];
} tk_bars;

/* The raw bars open, high, low, close from four (pointer, stride) pairs. */
static inline tk_bars tk_bars_ohlc(char *const *args, const npy_intp *steps)
{
    tk_bars B;
    memset(&B, 0, sizeof B);
    B.open = args[0];
    B.high = args[1];
    B.low = args[2];
    B.close = args[3];
    B.so = steps[0];
    B.sh = steps[1];
    B.sl = steps[2];
    B.sc = steps[3];
    return B;
}

/* The bars of an indexed kernel from its first arguments, as bar_index
 * writes them: open, close (with_close: exit_orders, trades_from_signals),
 * fill_low, fill_high, then the eight summaries (group, block, suffix and
 * super-block min low / max high); dims[0..3] are n, g, m, k.  The search
 * skips only when the summary sizes are those of n bars (process_core_dims
 * checks them). */
static inline tk_bars tk_bars_indexed(char *const *args, const npy_intp *steps,
                                      const npy_intp *dims, int with_close)
{
    tk_bars B;
    memset(&B, 0, sizeof B);
    const npy_intp n = dims[0];
    int t = 0;
    B.open = args[t];
    B.so = steps[t++];
    if (with_close) {
        B.close = args[t];
        B.sc = steps[t++];
    }
    B.low = args[t];
    B.sl = steps[t++];
    B.high = args[t];
    B.sh = steps[t++];
    const char **sp[8] = {&B.gmin, &B.gmax, &B.bmin, &B.bmax, &B.smin, &B.smax, &B.pmin, &B.pmax};
    npy_intp *ss[8] = {&B.sgmin, &B.sgmax, &B.sbmin, &B.sbmax,
                       &B.ssmin, &B.ssmax, &B.spmin, &B.spmax};
    for (int j = 0; j < 8; j++, t++) {
        *sp[j] = args[t];
        *ss[j] = steps[t];
    }
    B.skip = dims[1] == tk_ceil_div(n, TK_FILL_GROUP) && dims[2] == tk_ceil_div(n, TK_FILL_BLOCK)
             && dims[3] == tk_ceil_div(n, TK_FILL_SUPER);
    const npy_intp as = B.so < 0 ? -B.so : B.so;
    for (npy_intp q = 1; q <= TK_FILL_PREFETCH_LINES; q++) {
        B.pf_rows[q - 1] = as > 0 && as <= 64 ? q * 64 / as : q;
    }
    return B;
}

/* Naive: every bar, fillability checked on the raw prices. */
static inline npy_intp tk_naive_down(const tk_bars *B, double x, npy_intp a, npy_intp b)
{
    for (npy_intp i = a; i <= b; i++) {
        if (tk_ld_f64(B->low + i * B->sl) <= x) {
            const double o = tk_ld_f64(B->open + i * B->so), h = tk_ld_f64(B->high + i * B->sh);
            const double c = tk_ld_f64(B->close + i * B->sc);
            if (o == o && h == h && c == c) {
                return i;
            }
        }
    }
    return -1;
}

static inline npy_intp tk_naive_up(const tk_bars *B, double x, npy_intp a, npy_intp b)
{
    for (npy_intp i = a; i <= b; i++) {
        if (tk_ld_f64(B->high + i * B->sh) >= x) {
            const double o = tk_ld_f64(B->open + i * B->so), l = tk_ld_f64(B->low + i * B->sl);
            const double c = tk_ld_f64(B->close + i * B->sc);
            if (o == o && l == l && c == c) {
                return i;
            }
        }
    }
    return -1;
}

/* Does value v (a fill price or a summary) cross x?  Down: v <= x (a buy
 * limit / sell stop is reached by the low); up: v >= x.  NaN never does. */
static inline int tk_crosses(double v, double x, int down)
{
    return down ? v <= x : v >= x;
}

/* One side's arrays for the skipping search: the bar values, the group,
 * block, suffix and super-block summaries (pointer, stride). */
typedef struct {
    const char *v, *grp, *blk, *suf, *sup;
    npy_intp sv, sgrp, sblk, ssuf, ssup;
} tk_side;

#define TK_SUM(S, arr, i, shift) tk_ld_f64((S)->arr + ((i) >> (shift)) * (S)->s##arr)

/* First crossing bar in [i, e] (within one block), -1 if none: groups whose
 * summary is not crossed are passed, the bars of a crossed one are read; at
 * an unaligned i the group's summary covers i's group from its start. */
static inline npy_intp tk_walk_groups(const tk_side *S, int down, double x, npy_intp i, npy_intp e)
{
    while (i <= e) {
        const npy_intp ge = (i | (TK_FILL_GROUP - 1)) < e ? (i | (TK_FILL_GROUP - 1)) : e;
        if (tk_crosses(TK_SUM(S, grp, i, TK_FILL_GROUP_SHIFT), x, down)) {
            for (; i <= ge; i++) {
                if (tk_crosses(tk_ld_f64(S->v + i * S->sv), x, down)) {
                    return i;
                }
            }
        }
        i = ge + 1;
    }
    return -1;
}

/* Skipping search over bars [a, b], written once for both directions (the
 * callers pass a constant `down`, so each gets its own inlined copy).  A
 * summary covers its whole aligned range, so at the start a (not aligned)
 * the super block's and block's summaries can rule out the rest of their
 * ranges too, and the suffix of a's block rules out [a, n) in O(1); after
 * the start block, the next block's suffix is tested once. */
static inline npy_intp tk_skip_search(const tk_side *S, int skip, int down, double x, npy_intp a,
                                      npy_intp b)
{
    if (!skip) {
        for (npy_intp i = a; i <= b; i++) {
            if (tk_crosses(tk_ld_f64(S->v + i * S->sv), x, down)) {
                return i;
            }
        }
        return -1;
    }
    if (a > b || !tk_crosses(TK_SUM(S, suf, a, TK_FILL_BLOCK_SHIFT), x, down)) {
        return -1;
    }
    npy_intp i = a;
    if (!tk_crosses(TK_SUM(S, sup, a, TK_FILL_SUPER_SHIFT), x, down)) {
        i = (a | (TK_FILL_SUPER - 1)) + 1;
    }
    else {
        const npy_intp be = a | (TK_FILL_BLOCK - 1);
        if (tk_crosses(TK_SUM(S, blk, a, TK_FILL_BLOCK_SHIFT), x, down)) {
            const npy_intp j = tk_walk_groups(S, down, x, a, be < b ? be : b);
            if (j >= 0) {
                return j;
            }
        }
        i = be + 1;
    }
    if (i <= b && !tk_crosses(TK_SUM(S, suf, i, TK_FILL_BLOCK_SHIFT), x, down)) {
        return -1; /* nothing from here on crosses (the first test also saw earlier bars) */
    }
    while (i <= b) { /* i is block aligned */
        if (!tk_crosses(TK_SUM(S, sup, i, TK_FILL_SUPER_SHIFT), x, down)) {
            i = (i | (TK_FILL_SUPER - 1)) + 1;
            continue;
        }
        /* the super block is crossed: its blocks */
        const npy_intp send = (i | (TK_FILL_SUPER - 1)) < b ? (i | (TK_FILL_SUPER - 1)) : b;
        for (; i <= send; i += TK_FILL_BLOCK) {
            if (tk_crosses(TK_SUM(S, blk, i, TK_FILL_BLOCK_SHIFT), x, down)) {
                const npy_intp be = i + TK_FILL_BLOCK - 1;
                const npy_intp j = tk_walk_groups(S, down, x, i, be < b ? be : b);
                if (j >= 0) {
                    return j;
                }
            }
        }
    }
    return -1;
}

static inline npy_intp tk_skip_down(const tk_bars *B, double x, npy_intp a, npy_intp b)
{
    const tk_side S = {B->low, B->gmin,  B->bmin,  B->smin,  B->pmin,
                       B->sl,  B->sgmin, B->sbmin, B->ssmin, B->spmin};
    return tk_skip_search(&S, B->skip, 1, x, a, b);
}

static inline npy_intp tk_skip_up(const tk_bars *B, double x, npy_intp a, npy_intp b)
{
    const tk_side S = {B->high, B->gmax,  B->bmax,  B->smax,  B->pmax,
                       B->sh,   B->sgmax, B->sbmax, B->ssmax, B->spmax};
    return tk_skip_search(&S, B->skip, 0, x, a, b);
}

/* ------------------------------------------------------------------ */
/* one order                                                           */
/* ------------------------------------------------------------------ */

typedef npy_intp (*tk_find_fn)(const tk_bars *, double, npy_intp, npy_intp);

/* Inlined with constant function pointers, so each kernel gets its own
 * copy with the searches inlined. */
static inline void tk_fill_one(const tk_bars *B, npy_intp n, tk_find_fn down, tk_find_fn up,
                               npy_int64 start, npy_int64 side, npy_int64 kind, double price,
                               double limit, npy_int64 expiry, char *out_i, char *out_p)
{
    npy_intp idx = -1;
    double px = NAN;
    const npy_int64 last = expiry == -1 || expiry >= (npy_int64)n ? (npy_int64)n - 1 : expiry;
    if (start < 0 || start >= (npy_int64)n || last < start || (side != 1 && side != -1)) {
        goto done;
    }
    const npy_intp s = (npy_intp)start, e = (npy_intp)last;
    const int buy = side == 1;
    double o;
    switch (kind) {
    case TK_KIND_MARKET:
        idx = down(B, INFINITY, s, e);
        if (idx >= 0) {
            px = tk_ld_f64(B->open + idx * B->so);
        }
        break;
    case TK_KIND_LIMIT:
        idx = buy ? down(B, price, s, e) : up(B, price, s, e);
        if (idx >= 0) {
            o = tk_ld_f64(B->open + idx * B->so);
            px = buy ? (o < price ? o : price) : (o > price ? o : price);
        }
        break;
    case TK_KIND_STOP:
        idx = buy ? up(B, price, s, e) : down(B, price, s, e);
        if (idx >= 0) {
            o = tk_ld_f64(B->open + idx * B->so);
            px = buy ? (o > price ? o : price) : (o < price ? o : price);
        }
        break;
    case TK_KIND_STOP_LIMIT: {
        const npy_intp t = buy ? up(B, price, s, e) : down(B, price, s, e);
        if (t < 0) {
            break;
        }
        o = tk_ld_f64(B->open + t * B->so);
        const double trig = buy ? (o > price ? o : price) : (o < price ? o : price);
        if (buy ? trig <= limit : trig >= limit) {
            idx = t;
            px = trig;
            break;
        }
        idx = buy ? down(B, limit, t + 1, e) : up(B, limit, t + 1, e);
        if (idx >= 0) {
            o = tk_ld_f64(B->open + idx * B->so);
            px = buy ? (o < limit ? o : limit) : (o > limit ? o : limit);
        }
        break;
    }
    default:
        break;
    }
done:
    tk_st_i64(out_i, (npy_int64)idx);
    tk_st_f64(out_p, idx >= 0 ? px : NAN);
}

static inline npy_int64 tk_ld_i64(const char *p)
{
    npy_int64 v;
    memcpy(&v, p, sizeof v);
    return v;
}

#if defined(__GNUC__) || defined(__clang__)
#define TK_PREFETCH(p) __builtin_prefetch((const void *)(p), 0, 3)
#else
#define TK_PREFETCH(p) ((void)(p))
#endif

/* How many orders ahead the skipping kernel prefetches the start bar of,
 * and how many further cache lines of bars after it (tuned on 10^6 bars,
 * random starts: 8..32 ahead are all close; 16 is the best). */
#define TK_FILL_PREFETCH_AHEAD 16

/* Prefetch what the first probes of an order starting at bar START touch:
 * the per-bar rows (open, fill_low/high; interleaved in one buffer by
 * BarIndex, but any layout works) and the start's group, block and suffix
 * summaries.  Also the next TK_FILL_PREFETCH_LINES cache lines of the open
 * column (in BarIndex's layout: of the following rows; most orders near the
 * market fill within a few bars).  Only addresses of bars in [0, n) (and of
 * summaries when they are usable) are formed.  A macro, not a function:
 * GCC 12 finds a void function that only prefetches "pure" and drops the
 * calls, and so the prefetches. */
#define TK_PREFETCH_START(B, n, START)                                             \
    do {                                                                           \
        const npy_int64 ps_ = (START);                                             \
        if (ps_ >= 0 && ps_ < (npy_int64)(n)) {                                    \
            const npy_intp s_ = (npy_intp)ps_;                                     \
            TK_PREFETCH((B)->low + s_ * (B)->sl);                                  \
            TK_PREFETCH((B)->high + s_ * (B)->sh);                                 \
            TK_PREFETCH((B)->open + s_ * (B)->so);                                 \
            if ((B)->skip) {                                                       \
                TK_PREFETCH((B)->smin + (s_ >> TK_FILL_BLOCK_SHIFT) * (B)->ssmin); \
                TK_PREFETCH((B)->smax + (s_ >> TK_FILL_BLOCK_SHIFT) * (B)->ssmax); \
                TK_PREFETCH((B)->bmin + (s_ >> TK_FILL_BLOCK_SHIFT) * (B)->sbmin); \
                TK_PREFETCH((B)->bmax + (s_ >> TK_FILL_BLOCK_SHIFT) * (B)->sbmax); \
                TK_PREFETCH((B)->gmin + (s_ >> TK_FILL_GROUP_SHIFT) * (B)->sgmin); \
                TK_PREFETCH((B)->gmax + (s_ >> TK_FILL_GROUP_SHIFT) * (B)->sgmax); \
            }                                                                      \
            for (npy_intp q_ = 0; q_ < TK_FILL_PREFETCH_LINES; q_++) {             \
                const npy_intp r_ = s_ + (B)->pf_rows[q_];                         \
                if (r_ >= (n)) {                                                   \
                    break;                                                         \
                }                                                                  \
                TK_PREFETCH((B)->open + r_ * (B)->so);                             \
            }                                                                      \
        }                                                                          \
    } while (0)

/* (n)x3,(g)x2,(m)x4,(k)x2,(o)x6->(o),(o)
 * The o orders of one bar series in a loop; while answering order j the
 * start bar of order j + TK_FILL_PREFETCH_AHEAD is prefetched, so the cache
 * misses of different orders overlap. */
void tk_fill_orders_f64(char **args, const npy_intp *dims, const npy_intp *steps)
{
    const npy_intp n = dims[0], no = dims[4];
    const tk_bars B = tk_bars_indexed(args, steps, dims, 0);
    const char *st = args[11], *sd = args[12], *kd = args[13], *pr = args[14], *lm = args[15],
               *ex = args[16];
    char *oi = args[17], *op = args[18];
    const npy_intp sst = steps[11], ssd = steps[12], skd = steps[13], spr = steps[14],
                   slm = steps[15], sex = steps[16], soi = steps[17], sop = steps[18];
    const npy_intp ahead = TK_FILL_PREFETCH_AHEAD;
    for (npy_intp j = 0; j < no && j < ahead; j++) {
        TK_PREFETCH_START(&B, n, tk_ld_i64(st + j * sst));
    }
    for (npy_intp j = 0; j < no; j++) {
        if (j + ahead < no) {
            TK_PREFETCH_START(&B, n, tk_ld_i64(st + (j + ahead) * sst));
        }
        tk_fill_one(&B, n, tk_skip_down, tk_skip_up, tk_ld_i64(st + j * sst),
                    tk_ld_i64(sd + j * ssd), tk_ld_i64(kd + j * skd), tk_ld_f64(pr + j * spr),
                    tk_ld_f64(lm + j * slm), tk_ld_i64(ex + j * sex), oi + j * soi, op + j * sop);
    }
}

/* (n),(n),(n),(n),(),(),(),(),(),()->(),() */
void tk_fill_orders_naive_f64(char **args, const npy_intp *dims, const npy_intp *steps)
{
    const tk_bars B = tk_bars_ohlc(args, steps);
    tk_fill_one(&B, dims[0], tk_naive_down, tk_naive_up, tk_ld_i64(args[4]), tk_ld_i64(args[5]),
                tk_ld_i64(args[6]), tk_ld_f64(args[7]), tk_ld_f64(args[8]), tk_ld_i64(args[9]),
                args[10], args[11]);
}

/* ------------------------------------------------------------------ */
/* exits: stop loss / trailing stop / take profit after an entry        */
/* ------------------------------------------------------------------ */

/* Semantics (every rule: gaps, NaN bars, trailing update timing, same-bar
 * policies, expiry, slippage): tradekernels.fills.reference.exit_order.
 * The codes below are exported to Python by tk_fills_add_constants. */
enum { TK_EXIT_NONE = 0, TK_EXIT_SL = 1, TK_EXIT_TSL = 2, TK_EXIT_TP = 3, TK_EXIT_EXPIRY = 4 };
/* trades_from_signals only: an exit signal, a position still open at the end */
enum { TK_EXIT_SIGNAL = 5, TK_EXIT_END = 6 };
enum { TK_SAME_BAR_STOP = 0, TK_SAME_BAR_TAKE = 1, TK_SAME_BAR_OPEN = 2 };
enum { TK_ENTRY_AT_CLOSE = 0, TK_ENTRY_AT_OPEN = 1 };

int tk_fills_add_exit_constants(PyObject *module)
{
    PyObject *r = Py_BuildValue("{s:i,s:i,s:i,s:i,s:i,s:i,s:i}", "none", TK_EXIT_NONE, "sl",
                                TK_EXIT_SL, "tsl", TK_EXIT_TSL, "tp", TK_EXIT_TP, "expiry",
                                TK_EXIT_EXPIRY, "signal", TK_EXIT_SIGNAL, "end", TK_EXIT_END);
    if (r == NULL || PyModule_AddObject(module, "EXIT_REASONS", r) < 0) {
        Py_XDECREF(r);
        return -1;
    }
    PyObject *s = Py_BuildValue("{s:i,s:i,s:i}", "stop", TK_SAME_BAR_STOP, "take", TK_SAME_BAR_TAKE,
                                "open", TK_SAME_BAR_OPEN);
    if (s == NULL || PyModule_AddObject(module, "SAME_BAR", s) < 0) {
        Py_XDECREF(s);
        return -1;
    }
    PyObject *e = Py_BuildValue("{s:i,s:i}", "close", TK_ENTRY_AT_CLOSE, "open", TK_ENTRY_AT_OPEN);
    if (e == NULL || PyModule_AddObject(module, "ENTRY_AT", e) < 0) {
        Py_XDECREF(e);
        return -1;
    }
    return 0;
}

/* One order's fields, as the kernels receive them. */
typedef struct {
    npy_int64 entry, side, trail, same_bar, entry_at, expiry;
    double price, sl, tsl, tp, sl_price, tp_price, slip;
} tk_exit_order;

/* The stop side of a long position is below (a low reaches it), of a short
 * position above; the target the other way round.  "Better" for the
 * trailing reference is higher for a long, lower for a short. */
static inline double tk_better(double ref, double v, int lng)
{
    return lng ? (v > ref ? v : ref) : (v < ref ? v : ref);
}

/* The tighter of two stop levels (NaN = absent): the higher for a long. */
static inline double tk_tighter(double a, double b, int lng)
{
    return lng ? tk_nmax(a, b) : tk_nmin(a, b);
}

/* Low and high of bar i, NaN when the bar is not usable.  With the index
 * (skip) they are fill_low / fill_high; naive: from the raw prices. */
static inline void tk_exit_bar(const tk_bars *B, int skip, npy_intp i, double *lo, double *hi)
{
    if (skip) {
        *lo = tk_ld_f64(B->low + i * B->sl);
        *hi = tk_ld_f64(B->high + i * B->sh);
        return;
    }
    const double o = tk_ld_f64(B->open + i * B->so), h = tk_ld_f64(B->high + i * B->sh);
    const double l = tk_ld_f64(B->low + i * B->sl), c = tk_ld_f64(B->close + i * B->sc);
    const int ok = (o == o) & (h == h) & (l == l) & (c == c);
    *lo = ok ? l : NAN;
    *hi = ok ? h : NAN;
}

/* The effective stop on a bar: the fixed level unless the trailing level
 * (ref * fac) is strictly tighter; *trailing says which. */
static inline double tk_exit_stop(double fixed, double ref, double fac, int lng, int *trailing)
{
    const double t = ref * fac;
    const int use = t == t && (fixed != fixed || (lng ? t > fixed : t < fixed));
    *trailing = use;
    return use ? t : fixed;
}

/* Does a range with extremes (lo, hi) possibly hold an exit, for a stop
 * `stop` and a target `tp`?  NaN extremes (no usable bar) never do. */
static inline int tk_exit_crossed(double lo, double hi, double stop, double tp, int lng)
{
    return lng ? (lo <= stop || hi >= tp) : (hi >= stop || lo <= tp);
}

/* Is the usable bar (lo, hi) an exit for the reference r?  The same answer
 * as tk_exit_crossed(lo, hi, tk_exit_stop(fixed, r, fac, ..), tp, lng): the
 * stop is the tighter of `fixed` and r * fac (NaN-ignoring), and
 * lo <= max(x, y) iff lo <= x or lo <= y (a NaN compares false); written
 * branch-free for the walk.  NaN lo / hi (an unusable bar) never exit. */
static inline int tk_trail_hit(double lo, double hi, double fixed, double r, double fac, double tp,
                               int lng, int plain)
{
    const double t = r * fac;
    if (plain) { /* fixed and tp are NaN (never reached) */
        return lng ? lo <= t : hi >= t;
    }
    return lng ? (lo <= fixed) | (lo <= t) | (hi >= tp) : (hi >= fixed) | (hi >= t) | (lo <= tp);
}

/* Can a range with summaries (lo, hi) be skipped by a trailing stop whose
 * reference is `ref` before the range?  The reference can only move to
 * tk_better(ref, hi or lo) inside it, so the level stays within
 * bound = that * fac (fac >= 0: the multiplication is monotonic). */
static inline int tk_trail_skippable(double lo, double hi, double fixed, double ref, double fac,
                                     double tp, int lng, int plain)
{
    return !tk_trail_hit(lo, hi, fixed, tk_better(ref, lng ? hi : lo, lng), fac, tp, lng, plain);
}

/* First bar in [a, b] where the trailing stop (or the fixed stop / target)
 * is reached, by the naive scan of the raw bars; *ref is the reference
 * (peak / trough) through the bar before it.  -1 if none (then *ref is
 * unspecified).  The indexed search is tk_trail_skip below. */
static inline npy_intp tk_trail_search(const tk_bars *B, int lng, double fixed, double fac,
                                       double tp, double *ref, npy_intp a, npy_intp b)
{
    double r = *ref;
    for (npy_intp i = a; i <= b; i++) {
        double lo, hi;
        tk_exit_bar(B, 0, i, &lo, &hi);
        int trailing;
        const double stop = tk_exit_stop(fixed, r, fac, lng, &trailing);
        if (tk_exit_crossed(lo, hi, stop, tp, lng)) {
            *ref = r;
            return i;
        }
        r = tk_better(r, lng ? hi : lo, lng); /* NaN (unusable bar) never moves it */
    }
    return -1;
}

/* ---- the indexed trailing search (tk_trail_skip) ---- */

/* The best of the eight values v[k0 .. k0 + 7] whose index is at least
 * `from` (the others, and NaN values, count as `none`: -inf for a long,
 * +inf for a short, which never move a reference), folded as a tree of
 * contiguous pairs, the left one kept on ties: the first best value in
 * order, the same bits as the left-to-right fold of tk_better (signed zeros
 * included).  A fixed trip count and selects, no data-dependent branch.
 * sse2: tk_best8_sse2 (where compiled), else the scalar path's
 * tk_best8_scalar. */
#if TK_HAVE_SSE2
/* SSE2: lanes (k, k + 4) for k = 0..3, so the lane-wise tree combines
 * contiguous pairs ((0, 1), (2, 3)), then ((0..1, 2..3)), and the two
 * lanes last; tk_better(ref, v) is max_pd(v, ref) / min_pd(v, ref) (the
 * first operand when strictly greater / less, else the second). */
static inline double tk_best8_sse2(const char *v, npy_intp sv, npy_intp k0, npy_intp from, int lng)
{
    const __m128d none = _mm_set1_pd(lng ? -INFINITY : INFINITY);
    const __m128d d = _mm_set1_pd((double)(from - k0)); /* values k < d are not counted */
    const char *p = v + k0 * sv;
    __m128d x[4];
    for (int k = 0; k < 4; k++) {
        const __m128d y = _mm_set_pd(tk_ld_f64(p + (k + 4) * sv), tk_ld_f64(p + k * sv));
        const __m128d keep = _mm_and_pd(_mm_cmpord_pd(y, y), _mm_cmpge_pd(_mm_set_pd(k + 4, k), d));
        x[k] = _mm_or_pd(_mm_and_pd(keep, y), _mm_andnot_pd(keep, none));
    }
    __m128d y01, y23, y;
    if (lng) {
        y01 = _mm_max_pd(x[1], x[0]);
        y23 = _mm_max_pd(x[3], x[2]);
        y = _mm_max_pd(y23, y01);
        y = _mm_max_sd(_mm_unpackhi_pd(y, y), y);
    }
    else {
        y01 = _mm_min_pd(x[1], x[0]);
        y23 = _mm_min_pd(x[3], x[2]);
        y = _mm_min_pd(y23, y01);
        y = _mm_min_sd(_mm_unpackhi_pd(y, y), y);
    }
    return _mm_cvtsd_f64(y);
}
#endif

static inline double tk_best8_scalar(const char *v, npy_intp sv, npy_intp k0, npy_intp from,
                                     int lng)
{
    const double none = lng ? -INFINITY : INFINITY;
    double x[8];
    for (int k = 0; k < 8; k++) {
        const double y = tk_ld_f64(v + (k0 + k) * sv);
        x[k] = k0 + k >= from && y == y ? y : none;
    }
    for (int w = 1; w < 8; w *= 2) {
        for (int k = 0; k + w < 8; k += 2 * w) {
            x[k] = tk_better(x[k], x[k + w], lng);
        }
    }
    return x[0];
}

static inline double tk_best8(const char *v, npy_intp sv, npy_intp k0, npy_intp from, int lng,
                              int sse2)
{
#if TK_HAVE_SSE2
    if (sse2) {
        return tk_best8_sse2(v, sv, k0, from, lng);
    }
#else
    (void)sse2;
#endif
    return tk_best8_scalar(v, sv, k0, from, lng);
}

/* The reference after the bars from a to the end of a's block (the whole
 * block lies in [0, n)): the bars to the end of a's group, then the later
 * groups of the block by their summaries; two tk_best8, no branch. */
static inline __attribute__((always_inline)) double
tk_better_to_block_end(const tk_bars *B, int lng, npy_intp a, double r, int sse2)
{
    const npy_intp g = a >> TK_FILL_GROUP_SHIFT;
    const npy_intp g0 = g & ~(npy_intp)(TK_FILL_BLOCK / TK_FILL_GROUP - 1);
    const double bars = lng ? tk_best8(B->high, B->sh, g << TK_FILL_GROUP_SHIFT, a, 1, sse2)
                            : tk_best8(B->low, B->sl, g << TK_FILL_GROUP_SHIFT, a, 0, sse2);
    const double groups = lng ? tk_best8(B->gmax, B->sgmax, g0, g + 1, 1, sse2)
                              : tk_best8(B->gmin, B->sgmin, g0, g + 1, 0, sse2);
    return tk_better(tk_better(r, bars, lng), groups, lng);
}

/* First exit bar in [i, e] of the index bars (fill_low / fill_high, NaN on
 * unusable bars), -1 if none; *ref is the reference before bar i on entry,
 * and through the bar before the exit (or through e) on return.  Whole
 * aligned groups inside [i, e] are tested first by their summary (one
 * tk_trail_skippable test, and the reference moves by the group's best);
 * only a group that may hold the exit is walked bar by bar. */
static inline npy_intp tk_trail_walk(const tk_bars *B, int lng, int plain, double fixed, double fac,
                                     double tp, double *ref, npy_intp i, npy_intp e)
{
    const char *L = B->low, *H = B->high;
    const npy_intp sl = B->sl, sh = B->sh;
    double r = *ref;
    while (i <= e) {
        if ((i & (TK_FILL_GROUP - 1)) == 0 && i + TK_FILL_GROUP - 1 <= e) {
            const npy_intp g = i >> TK_FILL_GROUP_SHIFT;
            const double mn = tk_ld_f64(B->gmin + g * B->sgmin),
                         mx = tk_ld_f64(B->gmax + g * B->sgmax);
            if (tk_trail_skippable(mn, mx, fixed, r, fac, tp, lng, plain)) {
                r = tk_better(r, lng ? mx : mn, lng);
                i += TK_FILL_GROUP;
                continue;
            }
        }
        const npy_intp ge = (i | (TK_FILL_GROUP - 1)) < e ? (i | (TK_FILL_GROUP - 1)) : e;
        for (; i <= ge; i++) {
            const double lo = tk_ld_f64(L + i * sl), hi = tk_ld_f64(H + i * sh);
            if (tk_trail_hit(lo, hi, fixed, r, fac, tp, lng, plain)) {
                *ref = r;
                return i;
            }
            r = tk_better(r, lng ? hi : lo, lng);
        }
    }
    *ref = r;
    return -1;
}

/* tk_trail_search with the index (fac >= 0): the same answer and *ref.
 * O(1) "never" by the suffix of a's block; that block's summary (it also
 * covers bars before a) can rule out an exit on [a, block end], and the
 * reference then moves over those bars by a fold of bars and groups;
 * afterwards aligned super blocks and blocks whose summaries cannot hold an
 * exit are passed in O(1), and any other block is walked in groups
 * (tk_trail_walk).  sse2: tk_best8's code (a constant). */
static inline __attribute__((always_inline)) npy_intp tk_trail_skip(const tk_bars *B, int lng,
                                                                    int plain, double fixed,
                                                                    double fac, double tp,
                                                                    double *ref, npy_intp a,
                                                                    npy_intp b, int sse2)
{
    double r = *ref;
    if (a > b
        || tk_trail_skippable(tk_ld_f64(B->smin + (a >> TK_FILL_BLOCK_SHIFT) * B->ssmin),
                              tk_ld_f64(B->smax + (a >> TK_FILL_BLOCK_SHIFT) * B->ssmax), fixed, r,
                              fac, tp, lng, plain)) {
        return -1;
    }
    npy_intp i = a;
    if ((a & (TK_FILL_BLOCK - 1)) != 0) {
        const npy_intp q = a >> TK_FILL_BLOCK_SHIFT;
        const npy_intp be = a | (TK_FILL_BLOCK - 1);
        if (be >= b) { /* the search ends in a's block */
            const npy_intp j = tk_trail_walk(B, lng, plain, fixed, fac, tp, &r, a, b);
            *ref = r;
            return j;
        }
        if (tk_trail_skippable(tk_ld_f64(B->bmin + q * B->sbmin), tk_ld_f64(B->bmax + q * B->sbmax),
                               fixed, r, fac, tp, lng, plain)) {
            r = tk_better_to_block_end(B, lng, a, r, sse2);
        }
        else {
            const npy_intp j = tk_trail_walk(B, lng, plain, fixed, fac, tp, &r, a, be);
            if (j >= 0) {
                *ref = r;
                return j;
            }
        }
        i = be + 1;
        /* nothing from here on (the first test also saw a's earlier bars) */
        if (tk_trail_skippable(tk_ld_f64(B->smin + (i >> TK_FILL_BLOCK_SHIFT) * B->ssmin),
                               tk_ld_f64(B->smax + (i >> TK_FILL_BLOCK_SHIFT) * B->ssmax), fixed, r,
                               fac, tp, lng, plain)) {
            return -1;
        }
    }
    while (i <= b) { /* i is block aligned */
        if ((i & (TK_FILL_SUPER - 1)) == 0) {
            const npy_intp q = i >> TK_FILL_SUPER_SHIFT;
            const double lo = tk_ld_f64(B->pmin + q * B->spmin),
                         hi = tk_ld_f64(B->pmax + q * B->spmax);
            if (tk_trail_skippable(lo, hi, fixed, r, fac, tp, lng, plain)) {
                r = tk_better(r, lng ? hi : lo, lng);
                i += TK_FILL_SUPER;
                continue;
            }
        }
        const npy_intp q = i >> TK_FILL_BLOCK_SHIFT;
        const double lo = tk_ld_f64(B->bmin + q * B->sbmin), hi = tk_ld_f64(B->bmax + q * B->sbmax);
        if (tk_trail_skippable(lo, hi, fixed, r, fac, tp, lng, plain)) {
            r = tk_better(r, lng ? hi : lo, lng);
            i += TK_FILL_BLOCK;
            continue;
        }
        const npy_intp e = i + TK_FILL_BLOCK - 1 < b ? i + TK_FILL_BLOCK - 1 : b;
        const npy_intp j = tk_trail_walk(B, lng, plain, fixed, fac, tp, &r, i, e);
        if (j >= 0) {
            *ref = r;
            return j;
        }
        i = e + 1;
    }
    return -1;
}

static inline double tk_min_d(double a, double b)
{
    return a < b ? a : b;
}
static inline double tk_max_d(double a, double b)
{
    return a > b ? a : b;
}

/* One usable bar (open o, low lo, high hi) of a position whose reference
 * (peak / trough) through the previous bar is ref: 1 and the exit
 * (*px, *why) if a level is reached, else 0.  The batch kernels (on the bar
 * their search found) and the live Bracket (on every bar) both call it. */
static inline int tk_exit_check(double o, double lo, double hi, double fixed, double tp, double ref,
                                double fac, int lng, npy_int64 same_bar, double slip, double *px,
                                npy_int64 *why)
{
    int trailing;
    const double stop = tk_exit_stop(fixed, ref, fac, lng, &trailing);
    const int hs = lng ? lo <= stop : hi >= stop;
    const int ht = lng ? hi >= tp : lo <= tp;
    if (!hs && !ht) {
        return 0;
    }
    int take_stop = hs;
    if (hs && ht) {
        if (same_bar == TK_SAME_BAR_TAKE) {
            take_stop = 0;
        }
        else if (same_bar == TK_SAME_BAR_OPEN) {
            take_stop = lng ? (o - stop) <= (tp - o) : (stop - o) <= (o - tp);
        }
    }
    double p;
    if (take_stop) {
        p = lng ? tk_min_d(o, stop) : tk_max_d(o, stop);
        *why = trailing ? TK_EXIT_TSL : TK_EXIT_SL;
    }
    else {
        p = lng ? tk_max_d(o, tp) : tk_min_d(o, tp);
        *why = TK_EXIT_TP;
    }
    *px = lng ? p * (1.0 - slip) : p * (1.0 + slip);
    return 1;
}

/* An open position's levels, as tk_exit_one sets them at the entry: fixed
 * stop, target, trailing factor and reference (the entry price). */
typedef struct {
    double fixed, tp, fac, ref;
} tk_levels;

static inline tk_levels tk_levels_at(double price, int lng, double sl, double tsl, double tp,
                                     int trail, double slp, double tpp)
{
    tk_levels L;
    const double sl_frac = trail ? NAN : sl;
    L.fixed = tk_tighter(lng ? price * (1.0 - sl_frac) : price * (1.0 + sl_frac), slp, lng);
    L.tp = lng ? tk_nmin(price * (1.0 + tp), tpp) : tk_nmax(price * (1.0 - tp), tpp);
    const double f = trail ? tk_nmin(tsl, sl) : tsl;
    L.fac = lng ? 1.0 - f : 1.0 + f;
    L.ref = price;
    return L;
}

/* One bar of an open position: 1 and (*px, *why) if it exits there, else 0
 * and the trailing reference moved by the bar (a bar with a NaN price: 0,
 * nothing moves). */
static int tk_levels_bar(tk_levels *L, const double v[4], int lng, npy_int64 same_bar, double slip,
                         double *px, npy_int64 *why)
{
    if (!((v[0] == v[0]) & (v[1] == v[1]) & (v[2] == v[2]) & (v[3] == v[3]))) {
        return 0;
    }
    if (tk_exit_check(v[0], v[2], v[1], L->fixed, L->tp, L->ref, L->fac, lng, same_bar, slip, px,
                      why)) {
        return 1;
    }
    L->ref = tk_better(L->ref, lng ? v[1] : v[2], lng);
    return 0;
}

/* One exit, with the index (skip) or by the naive scan.  sse2: the code of
 * the indexed trailing search (a constant: tk_fills_sse2 of the core's
 * path). */
static inline __attribute__((always_inline)) void tk_exit_one(const tk_bars *B, npy_intp n,
                                                              int skip, const tk_exit_order *q,
                                                              char *out_i, char *out_p, char *out_r,
                                                              int sse2)
{
    npy_intp idx = -1;
    double px = NAN;
    npy_int64 why = TK_EXIT_NONE;
    const npy_int64 e = q->entry;
    const int lng = q->side == 1;
    if (e < 0 || e >= (npy_int64)n || (q->side != 1 && q->side != -1)
        || (q->expiry != -1 && q->expiry < e)) {
        goto done;
    }
    const int has_expiry = q->expiry != -1 && q->expiry < (npy_int64)n;
    const npy_intp last = has_expiry ? (npy_intp)q->expiry : n - 1;
    const npy_intp first = (npy_intp)e + (q->entry_at == TK_ENTRY_AT_OPEN ? 0 : 1);
    const double P = q->price;
    /* levels (the reference computes them the same way, in this order); fac is
     * NaN when there is no trailing stop */
    const tk_levels L0 =
        tk_levels_at(P, lng, q->sl, q->tsl, q->tp, q->trail, q->sl_price, q->tp_price);
    const double fixed = L0.fixed, tp = L0.tp, fac = L0.fac;
    double ref = P;
    npy_intp j;
    if (fac == fac && fac <= 0.0) {
        /* No bound from the range's best reference: fac < 0 reverses the
         * order, and fac == 0 (a 100 % trail) makes an infinite peak's level
         * inf * 0 = NaN while the levels before it are 0.  Bar by bar. */
        j = tk_trail_search(B, lng, fixed, fac, tp, &ref, first, last);
    }
    else if (fac == fac && skip) {
        /* specialised: the side, and whether there is only the trailing stop */
        if (fixed != fixed && tp != tp) {
            j = lng ? tk_trail_skip(B, 1, 1, NAN, fac, NAN, &ref, first, last, sse2)
                    : tk_trail_skip(B, 0, 1, NAN, fac, NAN, &ref, first, last, sse2);
        }
        else {
            j = lng ? tk_trail_skip(B, 1, 0, fixed, fac, tp, &ref, first, last, sse2)
                    : tk_trail_skip(B, 0, 0, fixed, fac, tp, &ref, first, last, sse2);
        }
    }
    else if (fac == fac) {
        j = tk_trail_search(B, lng, fixed, fac, tp, &ref, first, last);
    }
    else if (skip) { /* a fixed band: two one-sided skipping searches */
        const npy_intp js =
            lng ? tk_skip_down(B, fixed, first, last) : tk_skip_up(B, fixed, first, last);
        const npy_intp end = js >= 0 ? js : last;
        const npy_intp jt = lng ? tk_skip_up(B, tp, first, end) : tk_skip_down(B, tp, first, end);
        j = jt >= 0 ? jt : js;
    }
    else {
        j = tk_trail_search(B, lng, fixed, NAN, tp, &ref, first, last);
    }
    if (j < 0) {
        if (has_expiry) {
            idx = last;
            px = tk_ld_f64(B->close + last * B->sc);
            why = TK_EXIT_EXPIRY;
        }
        goto done;
    }
    {
        double lo, hi;
        tk_exit_bar(B, skip, j, &lo, &hi);
        idx = j;
        tk_exit_check(tk_ld_f64(B->open + j * B->so), lo, hi, fixed, tp, ref, fac, lng, q->same_bar,
                      q->slip, &px, &why);
    }
done:
    tk_st_i64(out_i, (npy_int64)idx);
    tk_st_f64(out_p, px);
    tk_st_i64(out_r, why);
}

/* (n)x4,(g)x2,(m)x4,(k)x2,(o)x13->(o),(o),(o): open, close, fill_low,
 * fill_high, the eight summaries (group, block, suffix, super-block min low
 * / max high); then the order fields (see tk_exit_order / the reference).
 * path: the core's SIMD path (a constant, see tk_fills_sse2). */
static inline __attribute__((always_inline)) void tk_exit_orders(char **args, const npy_intp *dims,
                                                                 const npy_intp *steps, int path)
{
    const int sse2 = tk_fills_sse2(path);
    const npy_intp n = dims[0], no = dims[4];
    const tk_bars B = tk_bars_indexed(args, steps, dims, 1);
    const int skip = B.skip;
    const char *a[13];
    npy_intp s[13];
    for (int t = 0; t < 13; t++) {
        a[t] = args[12 + t];
        s[t] = steps[12 + t];
    }
    char *oi = args[25], *op = args[26], *orr = args[27];
    const npy_intp soi = steps[25], sop = steps[26], sor = steps[27];
    const npy_intp ahead = TK_FILL_PREFETCH_AHEAD;
    for (npy_intp j = 0; j < no && j < ahead; j++) {
        TK_PREFETCH_START(&B, n, tk_ld_i64(a[0] + j * s[0]));
    }
    for (npy_intp j = 0; j < no; j++) {
        if (j + ahead < no) {
            TK_PREFETCH_START(&B, n, tk_ld_i64(a[0] + ahead * s[0]));
        }
        tk_exit_order q;
        q.entry = tk_ld_i64(a[0]);
        q.price = tk_ld_f64(a[1]);
        q.side = tk_ld_i64(a[2]);
        q.sl = tk_ld_f64(a[3]);
        q.tsl = tk_ld_f64(a[4]);
        q.tp = tk_ld_f64(a[5]);
        q.trail = tk_ld_i64(a[6]);
        q.sl_price = tk_ld_f64(a[7]);
        q.tp_price = tk_ld_f64(a[8]);
        q.same_bar = tk_ld_i64(a[9]);
        q.entry_at = tk_ld_i64(a[10]);
        q.expiry = tk_ld_i64(a[11]);
        q.slip = tk_ld_f64(a[12]);
        for (int t = 0; t < 13; t++) { /* the next order's fields */
            a[t] += s[t];
        }
        if (skip) {
            tk_exit_one(&B, n, 1, &q, oi, op, orr, sse2);
        }
        else {
            tk_exit_one(&B, n, 0, &q, oi, op, orr, sse2);
        }
        oi += soi;
        op += sop;
        orr += sor;
    }
}

TK_FILLS_CORES(exit_orders)

/* (n),(n),(n),(n),()x13->(),(),(): the naive scan of the raw bars. */
void tk_exit_orders_naive_f64(char **args, const npy_intp *dims, const npy_intp *steps)
{
    const tk_bars B = tk_bars_ohlc(args, steps);
    tk_exit_order q;
    q.entry = tk_ld_i64(args[4]);
    q.price = tk_ld_f64(args[5]);
    q.side = tk_ld_i64(args[6]);
    q.sl = tk_ld_f64(args[7]);
    q.tsl = tk_ld_f64(args[8]);
    q.tp = tk_ld_f64(args[9]);
    q.trail = tk_ld_i64(args[10]);
    q.sl_price = tk_ld_f64(args[11]);
    q.tp_price = tk_ld_f64(args[12]);
    q.same_bar = tk_ld_i64(args[13]);
    q.entry_at = tk_ld_i64(args[14]);
    q.expiry = tk_ld_i64(args[15]);
    q.slip = tk_ld_f64(args[16]);
    tk_exit_one(&B, dims[0], 0, &q, args[17], args[18], args[19], 0); /* no index: no SSE2 */
}

/* First bar in [a, b] with s[i] true (and t[i] false: a bar with both
 * signals has neither), b + 1 if none: a byte scan (the signals are NumPy
 * bools, one byte each). */
static inline npy_intp tk_next_signal(const char *s, npy_intp ss, const char *t, npy_intp st,
                                      npy_intp a, npy_intp b)
{
    npy_intp i = a;
    if (ss == 1) { /* contiguous: pass 8 bytes without a signal at once */
        for (;;) {
            while (i <= b && (i & 7) != 0) {
                if (s[i] && !t[i * st]) {
                    return i;
                }
                i++;
            }
            if (i + 7 > b) {
                break;
            }
            uint64_t w;
            memcpy(&w, s + i, sizeof w);
            if (w == 0) {
                i += 8;
                continue;
            }
            for (const npy_intp e = i + 8; i < e; i++) {
                if (s[i] && !t[i * st]) {
                    return i;
                }
            }
        }
    }
    for (; i <= b; i++) {
        if (s[i * ss] && !t[i * st]) {
            return i;
        }
    }
    return b + 1;
}

/* (n)x4,(g)x2,(m)x4,(k)x2 as exit_orders, then entries, exits (n, bool),
 * side, sl_stop, tsl_stop, tp_stop, sl_trail, same_bar, slippage, reenter,
 * price_at (scalars; price_at: TK_ENTRY_AT_CLOSE, or TK_ENTRY_AT_OPEN for
 * orders at the next bar's open) -> exit_idx, exit_price, reason (n): on
 * each bar where a trade enters, its exit; -1 / NaN / NONE elsewhere.  Jumps from one trade to
 * the next: the next exit signal x is found by a byte scan (and kept while
 * later entries come before it), the stop search (tk_exit_one, skipping)
 * runs up to x (its "expiry"), and the entry signals are read from the exit
 * to the next entry; so every signal byte is read at most once and the
 * price bars only where the stop search needs them.
 * Semantics: tradekernels.fills.reference.trades_from_signals.  path: the
 * core's SIMD path (a constant, see tk_fills_sse2). */
static inline __attribute__((always_inline)) void
tk_trades_from_signals(char **args, const npy_intp *dims, const npy_intp *steps, int path)
{
    const int sse2 = tk_fills_sse2(path);
    const npy_intp n = dims[0];
    const tk_bars B = tk_bars_indexed(args, steps, dims, 1);
    const char *en = args[12], *ex = args[13];
    const npy_intp sen = steps[12], sex = steps[13];
    tk_exit_order q;
    q.side = tk_ld_i64(args[14]);
    q.sl = tk_ld_f64(args[15]);
    q.tsl = tk_ld_f64(args[16]);
    q.tp = tk_ld_f64(args[17]);
    q.trail = tk_ld_i64(args[18]);
    q.same_bar = tk_ld_i64(args[19]);
    q.slip = tk_ld_f64(args[20]);
    const int reenter = tk_ld_i64(args[21]) != 0;
    const int at_open = tk_ld_i64(args[22]) == TK_ENTRY_AT_OPEN;
    q.sl_price = NAN;
    q.tp_price = NAN;
    q.entry_at = at_open ? TK_ENTRY_AT_OPEN : TK_ENTRY_AT_CLOSE;
    char *oi = args[23], *op = args[24], *orr = args[25];
    /* core strides exist only for arguments with a core dimension: the 14
     * (n)/(g)/(m)/(k) inputs, then the three (n) outputs */
    const npy_intp soi = steps[14], sop = steps[15], sor = steps[16];
    if (soi == 8 && sop == 8 && sor == 8) { /* contiguous outputs: a constant stride vectorises */
        for (npy_intp i = 0; i < n; i++) {
            tk_st_i64(oi + i * 8, -1);
            tk_st_f64(op + i * 8, NAN);
            tk_st_i64(orr + i * 8, TK_EXIT_NONE);
        }
    }
    else {
        for (npy_intp i = 0; i < n; i++) {
            tk_st_i64(oi + i * soi, -1);
            tk_st_f64(op + i * sop, NAN);
            tk_st_i64(orr + i * sor, TK_EXIT_NONE);
        }
    }
    const int lng = q.side == 1;
    npy_intp i = 0, x = -1; /* x: the first exit signal after the last scan start */
    while (i < n && (q.side == 1 || q.side == -1)) {
        const npy_intp sg = tk_next_signal(en, sen, ex, sex, i, n - 1); /* the signal bar */
        const npy_intp e = at_open ? sg + 1 : sg;                       /* the entry bar */
        if (e >= n) {
            break;
        }
        const double ce = at_open ? tk_ld_f64(B.open + e * B.so) : tk_ld_f64(B.close + e * B.sc);
        if (ce != ce) { /* no entry at a NaN price */
            i = sg + 1;
            continue;
        }
        q.entry = e;
        q.price = lng ? ce * (1.0 + q.slip) : ce * (1.0 - q.slip);
        /* exit signals count from the bar after the entry (close) / from the entry
         * bar (open: they act at the next open) */
        const npy_intp xs = at_open ? e : e + 1;
        if (x < xs) { /* else no exit signal lies in [xs, x): x is still the next one */
            x = tk_next_signal(ex, sex, en, sen, xs, n - 1);
        }
        /* the stops are checked through bar x first; at the open an exit signal on
         * the last bar has no next bar to act on */
        q.expiry = x < n - (at_open ? 1 : 0) ? x : -1;
        char bi[8], bp[8], br[8];
        if (B.skip) {
            tk_exit_one(&B, n, 1, &q, bi, bp, br, sse2);
        }
        else {
            tk_exit_one(&B, n, 0, &q, bi, bp, br, sse2);
        }
        npy_int64 xi = tk_ld_i64(bi), why = tk_ld_i64(br);
        double px = tk_ld_f64(bp);
        if (why == TK_EXIT_EXPIRY) { /* no stop through bar x: the signal exit */
            why = TK_EXIT_SIGNAL;
            xi = at_open ? x + 1 : x;
            const double c =
                at_open ? tk_ld_f64(B.open + xi * B.so) : tk_ld_f64(B.close + x * B.sc);
            px = lng ? c * (1.0 - q.slip) : c * (1.0 + q.slip);
        }
        else if (why == TK_EXIT_NONE) {
            xi = n - 1;
            why = TK_EXIT_END;
            px = tk_ld_f64(B.close + (n - 1) * B.sc);
        }
        tk_st_i64(oi + e * soi, xi);
        tk_st_f64(op + e * sop, px);
        tk_st_i64(orr + e * sor, why);
        if (why == TK_EXIT_END) { /* still open when the bars end: no next trade */
            break;
        }
        /* the next signal bar: at the close, after the exit bar (or on it, with
         * reenter); at the open, from the exit bar on (its orders act after it) */
        i = (npy_intp)xi + (at_open || reenter ? 0 : 1);
        if (i <= sg) {
            i = sg + 1;
        }
    }
}

TK_FILLS_CORES(trades_from_signals)

/* ------------------------------------------------------------------ */
/* live: tradekernels.stream.Bracket                                    */
/* ------------------------------------------------------------------ */

/* One open position; update(open, high, low, close) applies one bar with
 * tk_exit_check (the batch kernels' rule), so the answers equal
 * exit_orders(..., entry_at="close") on the bars after the entry bar. */
typedef struct {
    PyObject_HEAD tk_levels L;
    double slip;
    npy_int64 same_bar;
    int lng, closed;
} tk_bracket;

/* The bar of a live object's update(open, high, low, close): four numbers
 * (anything float() takes) into v; -1 with a TypeError set otherwise. */
static int tk_bar_args(PyObject *const *args, Py_ssize_t nargs, const char *what, double v[4])
{
    if (nargs != 4) {
        PyErr_Format(PyExc_TypeError,
                     "%s.update(open, high, low, close) takes 4 arguments, got %zd", what, nargs);
        return -1;
    }
    for (int j = 0; j < 4; j++) {
        v[j] = PyFloat_CheckExact(args[j]) ? PyFloat_AS_DOUBLE(args[j]) : PyFloat_AsDouble(args[j]);
        if (v[j] == -1.0 && PyErr_Occurred()) {
            return -1;
        }
    }
    return 0;
}

static int tk_opt_double(PyObject *o, double *v, const char *name)
{
    if (o == NULL || o == Py_None) {
        *v = NAN;
        return 0;
    }
    *v = PyFloat_AsDouble(o);
    if (*v == -1.0 && PyErr_Occurred()) {
        PyErr_Format(PyExc_TypeError, "tradekernels.stream.Bracket: %s must be a number or None",
                     name);
        return -1;
    }
    return 0;
}

static int tk_bracket_init(PyObject *op, PyObject *args, PyObject *kwds)
{
    tk_bracket *self = (tk_bracket *)op;
    static char *kw[] = {"entry_price", "side",     "sl_stop",  "tsl_stop", "tp_stop", "sl_trail",
                         "same_bar",    "sl_price", "tp_price", "slippage", NULL};
    double price, slip = 0.0;
    int side = 1, trail = 0;
    PyObject *o_sl = NULL, *o_tsl = NULL, *o_tp = NULL, *o_slp = NULL, *o_tpp = NULL;
    const char *same = "stop";
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "d|i$OOOpsOOd:Bracket", kw, &price, &side, &o_sl,
                                     &o_tsl, &o_tp, &trail, &same, &o_slp, &o_tpp, &slip)) {
        return -1;
    }
    double sl, tsl, tp, slp, tpp;
    if (tk_opt_double(o_sl, &sl, "sl_stop") < 0 || tk_opt_double(o_tsl, &tsl, "tsl_stop") < 0
        || tk_opt_double(o_tp, &tp, "tp_stop") < 0 || tk_opt_double(o_slp, &slp, "sl_price") < 0
        || tk_opt_double(o_tpp, &tpp, "tp_price") < 0) {
        return -1;
    }
    if (side != 1 && side != -1) {
        PyErr_Format(PyExc_ValueError,
                     "tradekernels.stream.Bracket: side must be +1 (long) or -1 (short), got %d",
                     side);
        return -1;
    }
    if (sl < 0.0 || tsl < 0.0 || tp < 0.0 || !(slip >= 0.0 && slip < 1.0)) {
        PyErr_SetString(PyExc_ValueError, "tradekernels.stream.Bracket: sl_stop, tsl_stop, tp_stop "
                                          "must be >= 0 (or None) and slippage in [0, 1)");
        return -1;
    }
    npy_int64 sb;
    if (strcmp(same, "stop") == 0) {
        sb = TK_SAME_BAR_STOP;
    }
    else if (strcmp(same, "take") == 0) {
        sb = TK_SAME_BAR_TAKE;
    }
    else if (strcmp(same, "open") == 0) {
        sb = TK_SAME_BAR_OPEN;
    }
    else {
        PyErr_Format(
            PyExc_ValueError,
            "tradekernels.stream.Bracket: same_bar must be 'stop', 'take' or 'open', got '%s'",
            same);
        return -1;
    }
    /* the levels exactly as tk_exit_one computes them */
    const int lng = side == 1;
    self->L = tk_levels_at(price, lng, sl, tsl, tp, trail, slp, tpp);
    self->slip = slip;
    self->same_bar = sb;
    self->lng = lng;
    self->closed = 0;
    return 0;
}

static PyObject *tk_bracket_update(PyObject *op, PyObject *const *args, Py_ssize_t nargs)
{
    tk_bracket *self = (tk_bracket *)op;
    double v[4];
    if (tk_bar_args(args, nargs, "Bracket", v) < 0) {
        return NULL;
    }
    double px;
    npy_int64 why;
    if (!self->closed
        && tk_levels_bar(&self->L, v, self->lng, self->same_bar, self->slip, &px, &why)) {
        self->closed = 1;
        return Py_BuildValue("(dL)", px, (long long)why);
    }
    Py_RETURN_NONE; /* (closed, an unusable bar (NaN price), or no exit) */
}

static PyObject *tk_bracket_get_closed(PyObject *op, void *Py_UNUSED(c))
{
    return PyBool_FromLong(((tk_bracket *)op)->closed);
}

static PyObject *tk_bracket_get_ref(PyObject *op, void *Py_UNUSED(c))
{
    return PyFloat_FromDouble(((tk_bracket *)op)->L.ref);
}

static PyMethodDef tk_bracket_methods[] = {
    {"update", (PyCFunction)(void (*)(void))tk_bracket_update, METH_FASTCALL,
     "update(open, high, low, close): None, or (exit_price, reason) on the bar the position exits "
     "(then None for ever); a bar with a NaN price changes nothing."},
    {NULL, NULL, 0, NULL}};

static PyGetSetDef tk_bracket_getset[] = {
    {"closed", tk_bracket_get_closed, NULL, "True once the position has exited.", NULL},
    {"reference", tk_bracket_get_ref, NULL,
     "The trailing reference: best high (long) / low (short) so far.", NULL},
    {NULL, NULL, NULL, NULL, NULL}};

static PyType_Slot tk_bracket_slots[] = {
    {Py_tp_init, tk_bracket_init},
    {Py_tp_new, PyType_GenericNew},
    {Py_tp_methods, tk_bracket_methods},
    {Py_tp_getset, tk_bracket_getset},
    {Py_tp_doc,
     "Bracket(entry_price, side=1, *, sl_stop=None, tsl_stop=None, tp_stop=None, sl_trail=False, "
     "same_bar='stop', sl_price=None, tp_price=None, slippage=0.0): a live position's stops, "
     "bar by bar; the same answers as exit_orders(entry_at='close')."},
    {0, NULL}};

static PyType_Spec tk_bracket_spec = {"tradekernels._core.Bracket", sizeof(tk_bracket), 0,
                                      Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE, tk_bracket_slots};

/* ------------------------------------------------------------------ */
/* live: tradekernels.stream.Order                                     */
/* ------------------------------------------------------------------ */

/* One working order; update(open, high, low, close) applies one bar with
 * tk_fill_one over that bar alone (the batch kernels' rule; a stop-limit
 * triggered without a fill goes on as a limit order at its limit), so the
 * answers equal fill_orders(..., start=0, expiry=bars - 1) on the bars fed. */
typedef struct {
    PyObject_HEAD double price, limit;
    npy_int64 side, kind, left; /* left: live bars to come (-1: good till cancelled) */
    npy_int64 seen, fill_index;
    double fill_price;
    int converted; /* a stop-limit whose stop triggered: a limit order now */
} tk_order;

static int tk_order_init(PyObject *op, PyObject *args, PyObject *kwds)
{
    tk_order *self = (tk_order *)op;
    static char *kw[] = {"side", "kind", "price", "limit", "bars", NULL};
    long long side, kind, bars = -1;
    double price = NAN, limit = NAN;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "LL|dd$L:Order", kw, &side, &kind, &price, &limit,
                                     &bars)) {
        return -1;
    }
    if ((side != 1 && side != -1) || kind < TK_KIND_MARKET || kind > TK_KIND_STOP_LIMIT
        || bars < -1) {
        PyErr_SetString(PyExc_ValueError,
                        "Order: side must be +1 or -1, kind an OrderKind code and bars >= 0");
        return -1;
    }
    self->side = side;
    self->kind = kind;
    self->price = price;
    self->limit = limit;
    self->left = bars;
    self->seen = 0;
    self->fill_index = -1;
    self->fill_price = NAN;
    self->converted = 0;
    return 0;
}

static PyObject *tk_order_update(PyObject *op, PyObject *const *args, Py_ssize_t nargs)
{
    tk_order *self = (tk_order *)op;
    double v[4];
    if (tk_bar_args(args, nargs, "Order", v) < 0) {
        return NULL;
    }
    const npy_int64 t = self->seen++;
    if (self->fill_index >= 0 || self->left == 0) { /* filled, or no longer live */
        Py_RETURN_NONE;
    }
    if (self->left > 0) {
        self->left--;
    }
    const npy_intp zero[4] = {0, 0, 0, 0};
    char *bar[4] = {(char *)&v[0], (char *)&v[1], (char *)&v[2], (char *)&v[3]};
    const tk_bars B = tk_bars_ohlc(bar, zero);
    const npy_int64 kind = self->converted ? TK_KIND_LIMIT : self->kind;
    const double price = self->converted ? self->limit : self->price;
    char oi[8], px[8];
    tk_fill_one(&B, 1, tk_naive_down, tk_naive_up, 0, self->side, kind, price, self->limit, -1, oi,
                px);
    if (tk_ld_i64(oi) >= 0) {
        self->fill_index = t;
        self->fill_price = tk_ld_f64(px);
        return PyFloat_FromDouble(self->fill_price);
    }
    if (kind == TK_KIND_STOP_LIMIT) { /* the stop reached on this bar: a limit from the next */
        const npy_intp trig =
            self->side == 1 ? tk_naive_up(&B, price, 0, 0) : tk_naive_down(&B, price, 0, 0);
        self->converted = trig >= 0;
    }
    Py_RETURN_NONE;
}

static PyObject *tk_order_get(PyObject *op, void *c)
{
    const tk_order *self = (const tk_order *)op;
    switch ((int)(intptr_t)c) {
    case 0:
        return PyLong_FromLongLong((long long)self->fill_index);
    case 1:
        return PyFloat_FromDouble(self->fill_price);
    case 2:
        return PyLong_FromLongLong((long long)self->seen);
    case 3:
        return PyBool_FromLong(self->converted);
    default:
        return PyBool_FromLong(self->fill_index >= 0 || self->left == 0);
    }
}

static PyMethodDef tk_order_methods[] = {
    {"update", (PyCFunction)(void (*)(void))tk_order_update, METH_FASTCALL,
     "update(open, high, low, close): the fill price on the bar the order fills, else None."},
    {NULL, NULL, 0, NULL}};

static PyGetSetDef tk_order_getset[] = {
    {"fill_index", tk_order_get, NULL, "The update that filled the order (-1: none yet).",
     (void *)0},
    {"fill_price", tk_order_get, NULL, "The fill price (NaN: none yet).", (void *)1},
    {"seen", tk_order_get, NULL, "Bars fed so far.", (void *)2},
    {"converted", tk_order_get, NULL,
     "True once a stop-limit's stop has triggered without a fill (a limit order since).",
     (void *)3},
    {"done", tk_order_get, NULL, "True once filled or past its last live bar.", (void *)4},
    {NULL, NULL, NULL, NULL, NULL}};

static PyType_Slot tk_order_slots[] = {
    {Py_tp_init, tk_order_init},
    {Py_tp_new, PyType_GenericNew},
    {Py_tp_methods, tk_order_methods},
    {Py_tp_getset, tk_order_getset},
    {Py_tp_doc, "Order(side, kind, price=nan, limit=nan, *, bars=-1): a live order, bar by bar; "
                "the same fills as fill_orders(start=0, expiry=bars - 1)."},
    {0, NULL}};

static PyType_Spec tk_order_spec = {"tradekernels._core.Order", sizeof(tk_order), 0,
                                    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE, tk_order_slots};

/* ------------------------------------------------------------------ */
/* live: tradekernels.stream.SignalTrades                              */
/* ------------------------------------------------------------------ */

/* The live signal backtest of one bar series: the rules of
 * tradekernels.fills.reference.trades_from_signals one bar at a time (the
 * position's bars through tk_levels_bar, the kernels' own step).  The
 * Python subclass checks the parameters and builds .state / extend. */
enum { TK_SIG_FLAT = 0, TK_SIG_OPEN = 1, TK_SIG_ENTER_AT_OPEN = 2, TK_SIG_EXIT_AT_OPEN = 3 };

typedef struct {
    PyObject_HEAD tk_levels L;
    double sl, tsl, tp, slip, fee, price, last;
    npy_int64 same_bar, seen, entry;
    int side, trail, reenter, at_open, phase;
} tk_signals;

static int tk_signals_init(PyObject *op, PyObject *args, PyObject *kwds)
{
    tk_signals *self = (tk_signals *)op;
    static char *kw[] = {"side", "sl",  "tsl",     "tp",      "trail", "same_bar",
                         "slip", "fee", "reenter", "at_open", NULL};
    long long same;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "idddpLddpp:SignalTrades", kw, &self->side,
                                     &self->sl, &self->tsl, &self->tp, &self->trail, &same,
                                     &self->slip, &self->fee, &self->reenter, &self->at_open)) {
        return -1;
    }
    if (self->side != 1 && self->side != -1) {
        PyErr_SetString(PyExc_ValueError, "SignalTrades: side must be +1 or -1");
        return -1;
    }
    self->same_bar = same;
    self->phase = TK_SIG_FLAT;
    self->seen = 0;
    self->entry = -1;
    self->price = self->last = NAN;
    self->L = tk_levels_at(NAN, 1, NAN, NAN, NAN, 0, NAN, NAN);
    return 0;
}

/* Enter on bar t at the level (close, or open with price="open") moved by the slippage. */
static void tk_signals_enter(tk_signals *self, npy_int64 t, double level)
{
    const int lng = self->side == 1;
    self->phase = TK_SIG_OPEN;
    self->entry = t;
    self->price = lng ? level * (1.0 + self->slip) : level * (1.0 - self->slip);
    self->L = tk_levels_at(self->price, lng, self->sl, self->tsl, self->tp, self->trail, NAN, NAN);
}

/* The record of the open trade closed on bar t at px (TRADE_DTYPE's fields, col 0). */
static PyObject *tk_signals_record(const tk_signals *self, npy_int64 t, double px, npy_int64 why)
{
    const double P = self->price, cost = P * (1.0 + self->fee);
    const double gross = (px - P) * (double)self->side;
    const double ret = (gross - self->fee * (P + px)) / cost;
    return Py_BuildValue("(iLdLdLdL)", 0, (long long)self->entry, P, (long long)t, px,
                         (long long)why, ret, (long long)(t - self->entry));
}

static PyObject *tk_signals_close(tk_signals *self, npy_int64 t, double px, npy_int64 why)
{
    PyObject *rec = tk_signals_record(self, t, px, why);
    self->phase = TK_SIG_FLAT;
    self->entry = -1;
    self->price = NAN;
    return rec;
}

static PyObject *tk_signals_update(PyObject *op, PyObject *const *args, Py_ssize_t nargsf,
                                   PyObject *kwnames)
{
    tk_signals *self = (tk_signals *)op;
    const Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    const Py_ssize_t nkw = kwnames == NULL ? 0 : PyTuple_GET_SIZE(kwnames);
    PyObject *sig[2] = {nargs > 4 ? args[4] : NULL, nargs > 5 ? args[5] : NULL};
    if (nargs < 4 || nargs > 6) {
        PyErr_Format(PyExc_TypeError,
                     "SignalTrades.update(open, high, low, close, entry=False, exit=False) takes 4 "
                     "to 6 arguments, got %zd",
                     nargs);
        return NULL;
    }
    for (Py_ssize_t k = 0; k < nkw; k++) { /* entry= / exit= by keyword */
        PyObject *name = PyTuple_GET_ITEM(kwnames, k);
        const int which = PyUnicode_CompareWithASCIIString(name, "entry") == 0  ? 0
                          : PyUnicode_CompareWithASCIIString(name, "exit") == 0 ? 1
                                                                                : -1;
        if (which < 0 || sig[which] != NULL) {
            PyErr_Format(PyExc_TypeError, "SignalTrades.update: unexpected or repeated keyword %R",
                         name);
            return NULL;
        }
        sig[which] = args[nargs + k];
    }
    double v[4];
    if (tk_bar_args(args, 4, "SignalTrades", v) < 0) {
        return NULL;
    }
    int en = 0, ex = 0;
    if ((sig[0] != NULL && (en = PyObject_IsTrue(sig[0])) < 0)
        || (sig[1] != NULL && (ex = PyObject_IsTrue(sig[1])) < 0)) {
        return NULL;
    }
    const int entry = en && !ex, exit = ex && !en; /* a bar with both signals has neither */
    const int lng = self->side == 1;
    const double o = v[0], c = v[3], slip = self->slip;
    const npy_int64 t = self->seen++;
    self->last = c;
    double px;
    npy_int64 why;
    PyObject *out = NULL;
    if (self->at_open) {
        if (self->phase == TK_SIG_EXIT_AT_OPEN) { /* the last bar's exit signal: out at this open */
            out = tk_signals_close(self, t, lng ? o * (1.0 - slip) : o * (1.0 + slip),
                                   TK_EXIT_SIGNAL);
            if (out == NULL) {
                return NULL;
            }
        }
        else if (self->phase == TK_SIG_ENTER_AT_OPEN) { /* the last bar's entry: in at this open */
            self->phase = TK_SIG_FLAT;
            if (o == o) {
                tk_signals_enter(self, t, o);
            }
        }
        if (self->phase == TK_SIG_OPEN) {
            if (tk_levels_bar(&self->L, v, lng, self->same_bar, slip, &px, &why)) {
                out = tk_signals_close(self, t, px, why);
                if (out == NULL) {
                    return NULL;
                }
            }
            else if (exit) {
                self->phase = TK_SIG_EXIT_AT_OPEN;
            }
        }
        if (self->phase == TK_SIG_FLAT && entry) {
            self->phase = TK_SIG_ENTER_AT_OPEN;
        }
        if (out != NULL) {
            return out;
        }
        Py_RETURN_NONE;
    }
    if (self->phase == TK_SIG_OPEN) {
        if (tk_levels_bar(&self->L, v, lng, self->same_bar, slip, &px, &why)) {
            out = tk_signals_close(self, t, px, why);
        }
        else if (exit) {
            out = tk_signals_close(self, t, lng ? c * (1.0 - slip) : c * (1.0 + slip),
                                   TK_EXIT_SIGNAL);
        }
        else {
            Py_RETURN_NONE;
        }
        if (out == NULL || !self->reenter) {
            return out;
        }
    }
    if (entry && c == c) {
        tk_signals_enter(self, t, c);
    }
    if (out != NULL) {
        return out;
    }
    Py_RETURN_NONE;
}

static PyObject *tk_signals_mark(PyObject *op, PyObject *Py_UNUSED(a))
{
    const tk_signals *self = (const tk_signals *)op;
    if (self->phase != TK_SIG_OPEN && self->phase != TK_SIG_EXIT_AT_OPEN) {
        Py_RETURN_NONE;
    }
    return tk_signals_record(self, self->seen - 1, self->last, TK_EXIT_END);
}

/* _load(seen, phase, entry_idx, entry_price, ref, stop, target, frac, last_close): the state
 * of a batch call (the open trade as the position it is now: its levels as prices). */
static PyObject *tk_signals_load(PyObject *op, PyObject *args)
{
    tk_signals *self = (tk_signals *)op;
    long long seen, entry;
    int phase;
    double price, ref, stop, target, frac, last;
    if (!PyArg_ParseTuple(args, "LiLdddddd:_load", &seen, &phase, &entry, &price, &ref, &stop,
                          &target, &frac, &last)) {
        return NULL;
    }
    /* seen is bounded (as the scan states' counts, exact in float64) so that update's
     * seen++ and a record's t - entry cannot overflow; an open trade entered on a bar
     * already seen, a flat one has none */
    const int in_trade = phase == TK_SIG_OPEN || phase == TK_SIG_EXIT_AT_OPEN;
    if (seen < 0 || seen > (1LL << 53) || phase < TK_SIG_FLAT || phase > TK_SIG_EXIT_AT_OPEN
        || (in_trade ? (entry < 0 || entry >= seen) : entry != -1)) {
        PyErr_Format(PyExc_ValueError,
                     "SignalTrades: a state needs 0 <= seen <= 2**53, phase 0..3 and entry_idx in "
                     "[0, seen) in a trade (phase 1, 3), -1 otherwise; got seen=%lld, phase=%d, "
                     "entry_idx=%lld",
                     seen, phase, entry);
        return NULL;
    }
    const int lng = self->side == 1;
    self->seen = seen;
    self->phase = phase;
    self->entry = entry;
    self->price = price;
    self->last = last;
    self->L = tk_levels_at(ref, lng, NAN, frac, NAN, 0, stop, target);
    Py_RETURN_NONE;
}

static PyObject *tk_signals_get(PyObject *op, void *c)
{
    const tk_signals *self = (const tk_signals *)op;
    switch ((int)(intptr_t)c) {
    case 0:
        return PyLong_FromLong(self->phase);
    case 1:
        return PyLong_FromLongLong((long long)self->seen);
    case 2:
        return PyLong_FromLongLong((long long)self->entry);
    case 3:
        return PyFloat_FromDouble(self->price);
    case 4:
        return PyFloat_FromDouble(self->L.ref);
    default:
        return PyFloat_FromDouble(self->last);
    }
}

static PyMethodDef tk_signals_methods[] = {
    {"update", (PyCFunction)(void (*)(void))tk_signals_update, METH_FASTCALL | METH_KEYWORDS,
     "update(open, high, low, close, entry=False, exit=False): the trade that closes on this bar "
     "(TRADE_DTYPE's fields), or None."},
    {"mark", tk_signals_mark, METH_NOARGS,
     "mark(): the open trade closed at the last close with reason END, or None; changes nothing."},
    {"_load", tk_signals_load, METH_VARARGS, "Set the state (the Python subclass's state=)."},
    {NULL, NULL, 0, NULL}};

static PyGetSetDef tk_signals_getset[] = {
    {"phase", tk_signals_get, NULL, "0 flat, 1 in a trade, 2 / 3 an entry / exit at the next open.",
     (void *)0},
    {"seen", tk_signals_get, NULL, "Bars fed so far.", (void *)1},
    {"entry_idx", tk_signals_get, NULL, "The open trade's entry bar (-1: none).", (void *)2},
    {"entry_price", tk_signals_get, NULL, "The open trade's entry price (NaN: none).", (void *)3},
    {"reference", tk_signals_get, NULL, "The open trade's trailing reference.", (void *)4},
    {"last_close", tk_signals_get, NULL, "The close of the last bar.", (void *)5},
    {NULL, NULL, NULL, NULL, NULL}};

static PyType_Slot tk_signals_slots[] = {
    {Py_tp_init, tk_signals_init},
    {Py_tp_new, PyType_GenericNew},
    {Py_tp_methods, tk_signals_methods},
    {Py_tp_getset, tk_signals_getset},
    {Py_tp_doc, "The C core of tradekernels.stream.SignalTrades."},
    {0, NULL}};

static PyType_Spec tk_signals_spec = {"tradekernels._core.SignalTrades", sizeof(tk_signals), 0,
                                      Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE, tk_signals_slots};

int tk_fills_add_live(PyObject *module)
{
    PyObject *tp = PyType_FromModuleAndSpec(module, &tk_bracket_spec, NULL);
    if (tp == NULL || PyModule_AddObject(module, "Bracket", tp) < 0) {
        Py_XDECREF(tp);
        return -1;
    }
    tp = PyType_FromModuleAndSpec(module, &tk_order_spec, NULL);
    if (tp == NULL || PyModule_AddObject(module, "Order", tp) < 0) {
        Py_XDECREF(tp);
        return -1;
    }
    tp = PyType_FromModuleAndSpec(module, &tk_signals_spec, NULL);
    if (tp == NULL || PyModule_AddObject(module, "SignalTrades", tp) < 0) {
        Py_XDECREF(tp);
        return -1;
    }
    return 0;
}
