/*
 * fills.c - order fills against OHLC bars.  Semantics: tradekernels.
 * reference.fill_orders (the naive scan, in pure Python).
 *
 * Three kernels (float64 bars, int64 order fields):
 *
 *   tk_bar_index   (n),(n),(n),(n)->(n),(n),(n),(n),(m),(m),(k),(k)
 *       open, high, low, close -> fill_low, fill_high, suffix_min_low,
 *       suffix_max_high, block_min_low, block_max_high, super_min_low,
 *       super_max_high.  A bar is fillable iff none of its four prices is
 *       NaN; fill_low/fill_high are low/high on fillable bars and NaN on the
 *       others (NaN compares false, so they never cross anything).  Every
 *       summary is the min of fill_low / max of fill_high over the fillable
 *       bars of its range ([i, n), a block of TK_FILL_BLOCK bars, a super
 *       block of TK_FILL_SUPER bars), NaN when the range has no fillable
 *       bar.  So "!(summary <= x)" means exactly "no fillable bar of the
 *       range has low <= x" and the range can be skipped.
 *       m = ceil(n / 64), k = ceil(n / 4096) (process_core_dims sets them;
 *       for fill_orders it checks them, o is free).
 *
 *   tk_fill_orders (n) x5,(m),(m),(k),(k),(o) x6->(o),(o)
 *       open + the eight bar_index arrays, then the o orders of that bar
 *       series as a core dimension: start, side, kind, price, limit, expiry
 *       (int64, int64, int64, f64, f64, int64) -> fill_index (int64),
 *       fill_price (f64).  Per order: finds the first crossing bar with the
 *       suffix test (O(1) "never"), then the rest of the start block bar by
 *       bar, then skips whole super blocks / blocks whose band is not
 *       crossed.  The orders are answered in a loop that prefetches the
 *       start bar of the order TK_FILL_PREFETCH_AHEAD positions later, so
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

#define TK_FILL_BLOCK_SHIFT 6
#define TK_FILL_SUPER_SHIFT 12
#define TK_FILL_BLOCK ((npy_intp)1 << TK_FILL_BLOCK_SHIFT)
#define TK_FILL_SUPER ((npy_intp)1 << TK_FILL_SUPER_SHIFT)

enum { TK_KIND_MARKET = 0, TK_KIND_LIMIT = 1, TK_KIND_STOP = 2, TK_KIND_STOP_LIMIT = 3 };

/* The constants Python shares (tradekernels.fills reads them at import):
 * _core.ORDER_KINDS {name: code}, _core.FILL_BLOCK, _core.FILL_SUPER. */
int tk_fills_add_constants(PyObject *module)
{
    PyObject *kinds =
        Py_BuildValue("{s:i,s:i,s:i,s:i}", "market", TK_KIND_MARKET, "limit", TK_KIND_LIMIT, "stop",
                      TK_KIND_STOP, "stop_limit", TK_KIND_STOP_LIMIT);
    if (kinds == NULL || PyModule_AddObject(module, "ORDER_KINDS", kinds) < 0) {
        Py_XDECREF(kinds);
        return -1;
    }
    if (PyModule_AddIntConstant(module, "FILL_BLOCK", (long)TK_FILL_BLOCK) < 0
        || PyModule_AddIntConstant(module, "FILL_SUPER", (long)TK_FILL_SUPER) < 0) {
        return -1;
    }
    return 0;
}

static inline npy_intp tk_ceil_div(npy_intp n, npy_intp b)
{
    return n <= 0 ? 0 : (n - 1) / b + 1;
}

/* ------------------------------------------------------------------ */
/* core dimension checks (process_core_dims_func; called with the GIL)  */
/* ------------------------------------------------------------------ */

static int tk_fill_dims(const char *name, npy_intp *sizes, int may_set)
{
    const npy_intp n = sizes[0];
    const npy_intp m = tk_ceil_div(n, TK_FILL_BLOCK), k = tk_ceil_div(n, TK_FILL_SUPER);
    if (may_set && sizes[1] == -1) {
        sizes[1] = m;
    }
    if (may_set && sizes[2] == -1) {
        sizes[2] = k;
    }
    if (sizes[1] != m || sizes[2] != k) {
        PyErr_Format(
            PyExc_ValueError,
            "%s: for %zd bars the block summaries must have length %zd and the "
            "super-block summaries length %zd (ceil(n/%zd), ceil(n/%zd)), got %zd and %zd; "
            "build them with tradekernels.ufuncs.bar_index / tradekernels.BarIndex",
            name, n, m, k, TK_FILL_BLOCK, TK_FILL_SUPER, sizes[1], sizes[2]);
        return -1;
    }
    return 0;
}

int tk_bar_index_dims(struct _tagPyUFuncObject *Py_UNUSED(uf), npy_intp *sizes)
{
    return tk_fill_dims("bar_index", sizes, 1);
}

int tk_fill_orders_dims(struct _tagPyUFuncObject *Py_UNUSED(uf), npy_intp *sizes)
{
    return tk_fill_dims("fill_orders", sizes, 0);
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

/* Summaries of rows [lo, hi) of a strided fill_low / fill_high pair. */
static void tk_range_summary(const char *fl, npy_intp sl, const char *fh, npy_intp sh, npy_intp lo,
                             npy_intp hi, double *mn, double *mx)
{
    double a = NAN, b = NAN;
    for (npy_intp i = lo; i < hi; i++) {
        a = tk_nmin(a, tk_ld_f64(fl + i * sl));
        b = tk_nmax(b, tk_ld_f64(fh + i * sh));
    }
    *mn = a;
    *mx = b;
}

void tk_bar_index_f64(char **args, const npy_intp *dims, const npy_intp *steps)
{
    const npy_intp n = dims[0], m = dims[1], k = dims[2];
    const char *o = args[0], *h = args[1], *l = args[2], *c = args[3];
    char *fl = args[4], *fh = args[5], *smin = args[6], *smax = args[7];
    char *bmin = args[8], *bmax = args[9], *pmin = args[10], *pmax = args[11];
    const npy_intp so = steps[0], sh = steps[1], sl = steps[2], sc = steps[3];
    const npy_intp sfl = steps[4], sfh = steps[5], ssmin = steps[6], ssmax = steps[7];
    const npy_intp sbmin = steps[8], sbmax = steps[9], spmin = steps[10], spmax = steps[11];

    for (npy_intp i = 0; i < n; i++) {
        const double vo = tk_ld_f64(o + i * so), vh = tk_ld_f64(h + i * sh);
        const double vl = tk_ld_f64(l + i * sl), vc = tk_ld_f64(c + i * sc);
        const int ok = (vo == vo) & (vh == vh) & (vl == vl) & (vc == vc);
        tk_st_f64(fl + i * sfl, ok ? vl : NAN);
        tk_st_f64(fh + i * sfh, ok ? vh : NAN);
    }
    double a = NAN, b = NAN;
    for (npy_intp i = n - 1; i >= 0; i--) {
        a = tk_nmin(a, tk_ld_f64(fl + i * sfl));
        b = tk_nmax(b, tk_ld_f64(fh + i * sfh));
        tk_st_f64(smin + i * ssmin, a);
        tk_st_f64(smax + i * ssmax, b);
    }
    /* Loops run to m and k (whatever they are) and clip the bar range to
     * [0, n), so this never reads or writes out of bounds. */
    for (npy_intp j = 0; j < m; j++) {
        const npy_intp lo = j < tk_ceil_div(n, TK_FILL_BLOCK) ? j * TK_FILL_BLOCK : n;
        const npy_intp hi = lo + TK_FILL_BLOCK < n ? lo + TK_FILL_BLOCK : n;
        double mn, mx;
        tk_range_summary(fl, sfl, fh, sfh, lo, hi, &mn, &mx);
        tk_st_f64(bmin + j * sbmin, mn);
        tk_st_f64(bmax + j * sbmax, mx);
    }
    for (npy_intp j = 0; j < k; j++) {
        const npy_intp lo = j < tk_ceil_div(n, TK_FILL_SUPER) ? j * TK_FILL_SUPER : n;
        const npy_intp hi = lo + TK_FILL_SUPER < n ? lo + TK_FILL_SUPER : n;
        double mn = NAN, mx = NAN;
        if (lo >= hi) {
            /* an empty range (only when k is not ceil(n/4096)) */
        }
        else if (m == tk_ceil_div(n, TK_FILL_BLOCK)) { /* from the block summaries */
            const npy_intp b0 = lo >> TK_FILL_BLOCK_SHIFT;
            const npy_intp b1 = tk_ceil_div(hi, TK_FILL_BLOCK);
            for (npy_intp q = b0; q < b1; q++) {
                mn = tk_nmin(mn, tk_ld_f64(bmin + q * sbmin));
                mx = tk_nmax(mx, tk_ld_f64(bmax + q * sbmax));
            }
        }
        else {
            tk_range_summary(fl, sfl, fh, sfh, lo, hi, &mn, &mx);
        }
        tk_st_f64(pmin + j * spmin, mn);
        tk_st_f64(pmax + j * spmax, mx);
    }
}

/* ------------------------------------------------------------------ */
/* searches: first fillable bar i in [a, b] with low <= x / high >= x  */
/* ------------------------------------------------------------------ */

typedef struct {
    const char *open, *high, *low, *close; /* naive: raw bars */
    npy_intp so, sh, sl, sc;
    /* skip: fill_low/fill_high in low/high, plus the summaries */
    const char *smin, *smax, *bmin, *bmax, *pmin, *pmax;
    npy_intp ssmin, ssmax, sbmin, sbmax, spmin, spmax;
    int skip; /* summaries usable */
} tk_bars;

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

/* One side's arrays for the skipping search: the bar values, the suffix,
 * block and super-block summaries (pointer, stride). */
typedef struct {
    const char *v, *suf, *blk, *sup;
    npy_intp sv, ssuf, sblk, ssup;
} tk_side;

/* Skipping search over bars [a, b], written once for both directions (the
 * callers pass a constant `down`, so each gets its own inlined copy). */
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
    if (a > b || !tk_crosses(tk_ld_f64(S->suf + a * S->ssuf), x, down)) {
        return -1;
    }
    /* A summary covers its whole range, so it can rule out the part of the
     * range from i on even when i is not aligned. */
    npy_intp i = a;
    while (i <= b) {
        if (!tk_crosses(tk_ld_f64(S->sup + (i >> TK_FILL_SUPER_SHIFT) * S->ssup), x, down)) {
            i = (i | (TK_FILL_SUPER - 1)) + 1;
            continue;
        }
        /* the super block is crossed: walk its blocks */
        const npy_intp send = (i | (TK_FILL_SUPER - 1)) < b ? (i | (TK_FILL_SUPER - 1)) : b;
        while (i <= send) {
            if (!tk_crosses(tk_ld_f64(S->blk + (i >> TK_FILL_BLOCK_SHIFT) * S->sblk), x, down)) {
                i = (i | (TK_FILL_BLOCK - 1)) + 1;
                continue;
            }
            const npy_intp e = (i | (TK_FILL_BLOCK - 1)) < b ? (i | (TK_FILL_BLOCK - 1)) : b;
            for (; i <= e; i++) {
                if (tk_crosses(tk_ld_f64(S->v + i * S->sv), x, down)) {
                    return i;
                }
            }
        }
    }
    return -1;
}

static inline npy_intp tk_skip_down(const tk_bars *B, double x, npy_intp a, npy_intp b)
{
    const tk_side S = {B->low, B->smin, B->bmin, B->pmin, B->sl, B->ssmin, B->sbmin, B->spmin};
    return tk_skip_search(&S, B->skip, 1, x, a, b);
}

static inline npy_intp tk_skip_up(const tk_bars *B, double x, npy_intp a, npy_intp b)
{
    const tk_side S = {B->high, B->smax, B->bmax, B->pmax, B->sh, B->ssmax, B->sbmax, B->spmax};
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
#define TK_FILL_PREFETCH_LINES 5

/* Prefetch what the first probes of an order starting at bar START touch:
 * the per-bar rows (open, fill_low/high, suffix extremes; interleaved in
 * one buffer by BarIndex, but any layout works) and the block summaries.
 * Also the next TK_FILL_PREFETCH_LINES cache lines of the open column (in
 * BarIndex's layout: of the following rows; most orders near the market
 * fill within a few bars).  Only addresses of bars in [0, n) (and of
 * blocks in [0, m) when the summaries are usable) are formed.  A macro, not
 * a function: GCC 12 finds a void function that only prefetches "pure" and
 * drops the calls, and so the prefetches. */
#define TK_PREFETCH_START(B, n, START)                                                \
    do {                                                                              \
        const npy_int64 ps_ = (START);                                                \
        if (ps_ >= 0 && ps_ < (npy_int64)(n)) {                                       \
            const npy_intp s_ = (npy_intp)ps_;                                        \
            TK_PREFETCH((B)->smin + s_ * (B)->ssmin);                                 \
            TK_PREFETCH((B)->smax + s_ * (B)->ssmax);                                 \
            TK_PREFETCH((B)->low + s_ * (B)->sl);                                     \
            TK_PREFETCH((B)->high + s_ * (B)->sh);                                    \
            TK_PREFETCH((B)->open + s_ * (B)->so);                                    \
            if ((B)->skip) {                                                          \
                TK_PREFETCH((B)->bmin + (s_ >> TK_FILL_BLOCK_SHIFT) * (B)->sbmin);    \
                TK_PREFETCH((B)->bmax + (s_ >> TK_FILL_BLOCK_SHIFT) * (B)->sbmax);    \
            }                                                                         \
            const npy_intp as_ = (B)->so < 0 ? -(B)->so : (B)->so;                    \
            for (npy_intp q_ = 1; q_ <= TK_FILL_PREFETCH_LINES; q_++) {               \
                const npy_intp r_ = s_ + (as_ > 0 && as_ <= 64 ? q_ * 64 / as_ : q_); \
                if (r_ >= (n)) {                                                      \
                    break;                                                            \
                }                                                                     \
                TK_PREFETCH((B)->open + r_ * (B)->so);                                \
            }                                                                         \
        }                                                                             \
    } while (0)

/* (n),(n),(n),(n),(n),(m),(m),(k),(k),(o),(o),(o),(o),(o),(o)->(o),(o)
 * The o orders of one bar series in a loop; while answering order j the
 * start bar of order j + TK_FILL_PREFETCH_AHEAD is prefetched, so the cache
 * misses of different orders overlap. */
void tk_fill_orders_f64(char **args, const npy_intp *dims, const npy_intp *steps)
{
    const npy_intp n = dims[0], m = dims[1], k = dims[2], no = dims[3];
    tk_bars B;
    memset(&B, 0, sizeof B);
    B.open = args[0];
    B.low = args[1];
    B.high = args[2];
    B.smin = args[3];
    B.smax = args[4];
    B.bmin = args[5];
    B.bmax = args[6];
    B.pmin = args[7];
    B.pmax = args[8];
    B.so = steps[0];
    B.sl = steps[1];
    B.sh = steps[2];
    B.ssmin = steps[3];
    B.ssmax = steps[4];
    B.sbmin = steps[5];
    B.sbmax = steps[6];
    B.spmin = steps[7];
    B.spmax = steps[8];
    /* process_core_dims rejects other sizes; without it, scan unskipped. */
    B.skip = m == tk_ceil_div(n, TK_FILL_BLOCK) && k == tk_ceil_div(n, TK_FILL_SUPER);
    const char *st = args[9], *sd = args[10], *kd = args[11], *pr = args[12], *lm = args[13],
               *ex = args[14];
    char *oi = args[15], *op = args[16];
    const npy_intp sst = steps[9], ssd = steps[10], skd = steps[11], spr = steps[12],
                   slm = steps[13], sex = steps[14], soi = steps[15], sop = steps[16];
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
    tk_fill_one(&B, dims[0], tk_naive_down, tk_naive_up, tk_ld_i64(args[4]), tk_ld_i64(args[5]),
                tk_ld_i64(args[6]), tk_ld_f64(args[7]), tk_ld_f64(args[8]), tk_ld_i64(args[9]),
                args[10], args[11]);
}
