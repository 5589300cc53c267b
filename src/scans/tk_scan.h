/*
 * tk_scan.h - the per-bar step of every scan kernel, and its carried state.
 *
 * Each kernel's loop (returns.inc.h, drawdown.inc.h), its AVX2 variant's
 * scalar head/tail (drawdown_avx2.c) and the live stream objects
 * (stream.c) all call these static inline steps, so a chunked run, a
 * stream of ticks and one batch call give the same bits by construction.
 * Semantics: tradekernels.scans.reference (the pure-Python twins).
 *
 * Carried state: a float64 vector of fixed length TK_STATE_LEN_<KERNEL>
 * (generated from the declarations, src/scans/kernels.toml: the `(k)`
 * argument of the `<kernel>_state` gufuncs).  Indices and counts
 * are stored as doubles (exact below 2**53).  Layouts (defaults in []):
 *
 *   simple_returns, log_returns  [prev = NaN]                 last price
 *   cumulative_returns           [prod = 1]                   running product
 *   drawdown                     [peak = -inf]                running peak
 *   underwater_bars              [peak = -inf, count = -1]
 *   max_drawdown_duration        [peak = -inf, count = -1, best = -1]
 *   max_drawdown                 [peak = -inf, best = +inf, seen = 0]
 *   ulcer_index                  [peak = -inf, sumsq = 0, count = 0]
 *   drawdown_episode             [peak = -inf, peak_i = -1, best = +inf,
 *                                 best_peak = 0, best_peak_i = -1,
 *                                 trough_i = -1, recovery_i = -1, seen = 0,
 *                                 n = 0 (bars seen so far: global indices)]
 *
 * A state that no kernel produced gives unspecified (but memory-safe)
 * results, with the same bits on every SIMD path (tests/test_state.py).
 */
#ifndef TK_SCAN_H
#define TK_SCAN_H

#include "tk.h"
#include <stdint.h>

/* ---- returns: prev = the previous price (NaN before the first) ---- */

static inline double tk_simple_returns_step(double *prev, double v)
{
    const double r = v / *prev - 1.0;
    *prev = v;
    return r;
}

/* log(r) through the vectorised log of the loop data (tk_log_loop, tk.h:
 * numpy.log's float64 loop) on a one-element array, so that a single bar
 * and a block of bars (returns.inc.h) get the same bits. */
static inline double tk_log_via(const tk_log_loop *lg, double r)
{
    char *a[2] = {(char *)&r, (char *)&r};
    const npy_intp d = 1, s[2] = {sizeof(double), sizeof(double)};
    lg->fn(a, &d, s, lg->data);
    return r;
}

static inline double tk_log_returns_step(double *prev, double v, const tk_log_loop *lg)
{
    const double r = tk_log_via(lg, v / *prev);
    *prev = v;
    return r;
}

/* log_returns a block at a time: `ratios` writes the correctly rounded
 * ratios x[j] / x[j-1] of a block of bars (x[-1] = prev) into a float64
 * block (returns.inc.h; returns_avx2.c, returns_avx512.c with SIMD
 * division: a division is correctly rounded on every path, so the bits are
 * the same), then numpy.log's float64 loop takes the whole block in place:
 * NumPy's SIMD log where the CPU has one (accuracy: tradekernels.scans.
 * reference.log_returns).  The log always runs in place on a contiguous,
 * aligned float64 block, so every element gets the same vectorised
 * computation whatever the layout, block boundary or chunking
 * (tk_log_returns_step, the stream's, runs it on one element).
 *
 * Where the block is the output itself (tk_log_returns_direct): a
 * contiguous, aligned float64 output that shares no byte with x, below
 * stream_min bytes.  The ratios go straight into it and the log runs there,
 * one block behind the ratios, so that the divisions of block k + 1 are in
 * flight while the log of block k runs (the divider and NumPy's log use
 * different units; small blocks let the out-of-order window overlap them).
 * No buffer, no copy: the ratio stores bring the output lines into the
 * cache, and the log rewrites them there.
 *
 * Elsewhere (a float32, strided or unaligned output, one that overlaps x,
 * or one written with non-temporal stores) the block is a stack buffer of
 * TK_LOG_BLOCK bars, and then goes to the output: `flush` copies it to a
 * contiguous float64 output (memcpy, or SIMD stores, non-temporal from
 * stream_min bytes of output: the output is written once, never read back
 * into the cache); any other output (strided, float32) is stored element
 * by element.  Every input of a buffered block is read before any of its
 * output is written, so an out= that overlaps x is safe there.  x and out
 * hold float32 when f32. */
#define TK_LOG_BLOCK 512
#define TK_LOG_DIRECT_BLOCK 32
typedef void (*tk_ratios_fn)(const char *x, npy_intp xs, npy_intp m, double prev,
                             double *restrict buf);
typedef void (*tk_flush_fn)(char *out, const double *buf, npy_intp m, int stream);

static inline void tk_log_flush_copy(char *out, const double *buf, npy_intp m, int stream)
{
    (void)stream;
    memcpy(out, buf, (size_t)m * sizeof(double));
}

/* Whether the n >= 1 elements of x (stride xs, any sign; esize bytes each)
 * and the n contiguous float64 at out share no byte. */
static inline int tk_log_disjoint(const char *x, npy_intp xs, npy_intp esize, const char *out,
                                  npy_intp n)
{
    const uintptr_t a = (uintptr_t)x, b = a + (uintptr_t)((n - 1) * xs);
    const uintptr_t lo = xs >= 0 ? a : b, hi = (xs >= 0 ? b : a) + (uintptr_t)esize;
    const uintptr_t o = (uintptr_t)out, oe = o + (uintptr_t)n * sizeof(double);
    return hi <= o || oe <= lo;
}

/* The direct run (see above) of n >= 1 float64 prices x into out; returns
 * the last price (the new state). */
static inline double tk_log_returns_direct(const char *x, npy_intp xs, double *out, npy_intp n,
                                           double prev, const tk_log_loop *lg,
                                           const tk_ratios_fn ratios)
{
    const npy_intp one[2] = {sizeof(double), sizeof(double)};
    const npy_intp B = TK_LOG_DIRECT_BLOCK;
    npy_intp i = 0, m = n < B ? n : B;
    ratios(x, xs, m, prev, out);
    while (m > 0) { /* block [i, i + m) holds ratios; its log is next */
        const npy_intp j = i + m, mn = n - j < B ? n - j : B;
        if (mn > 0) {
            if (xs == (npy_intp)sizeof(double)) { /* the input of the block after */
                const npy_intp k = j + mn, mk = n - k < B ? n - k : B;
                for (npy_intp b = 0; b < mk * (npy_intp)sizeof(double); b += 64) {
                    __builtin_prefetch(x + k * (npy_intp)sizeof(double) + b);
                }
            }
            ratios(x + j * xs, xs, mn, tk_ld_f64(x + (j - 1) * xs), out + j);
        }
        char *a[2] = {(char *)(out + i), (char *)(out + i)};
        lg->fn(a, &m, one, lg->data);
        i = j;
        m = mn;
    }
    return tk_ld_f64(x + (n - 1) * xs);
}

/* Returns whether the output was written with non-temporal stores (the
 * caller then fences them). */
static inline int tk_log_returns_blocks(const char *x, npy_intp xs, char *out, npy_intp os,
                                        npy_intp n, double *state, const tk_log_loop *lg,
                                        const int f32, const tk_ratios_fn ratios,
                                        const tk_flush_fn flush, npy_intp stream_min)
{
    _Alignas(64) double buf[TK_LOG_BLOCK];
    const npy_intp one[2] = {sizeof(double), sizeof(double)};
    const npy_intp esize = f32 ? (npy_intp)sizeof(float) : (npy_intp)sizeof(double);
    const int contig = !f32 && os == (npy_intp)sizeof(double);
    const int aligned = ((uintptr_t)out % 8) == 0;
    /* non-temporal stores: a large, aligned output apart from x */
    const int stream = contig && n * (npy_intp)sizeof(double) >= stream_min && aligned && xs > 0
                       && (x + n * xs <= out || out + n * os <= x);
    if (contig && aligned && !stream && n > 0 && tk_log_disjoint(x, xs, esize, out, n)) {
        *state = tk_log_returns_direct(x, xs, (double *)(void *)out, n, *state, lg, ratios);
        return 0;
    }
    double prev = *state;
    for (npy_intp i = 0; i < n; i += TK_LOG_BLOCK) {
        npy_intp m = n - i < TK_LOG_BLOCK ? n - i : TK_LOG_BLOCK;
        if (xs == esize) { /* the next block's input, while this one computes */
            const npy_intp next = n - i - m < m ? n - i - m : m;
            for (npy_intp b = 0; b < next * esize; b += 64) {
                __builtin_prefetch(x + m * esize + b);
            }
        }
        ratios(x, xs, m, prev, buf);
        prev = f32 ? tk_ld_f32(x + (m - 1) * xs) : tk_ld_f64(x + (m - 1) * xs);
        x += m * xs;
        char *a[2] = {(char *)buf, (char *)buf};
        lg->fn(a, &m, one, lg->data);
        if (contig) {
            flush(out, buf, m, stream);
        }
        else {
            for (npy_intp j = 0; j < m; j++) {
                if (f32) {
                    tk_st_f32(out + j * os, buf[j]);
                }
                else {
                    tk_st_f64(out + j * os, buf[j]);
                }
            }
        }
        out += m * os;
    }
    *state = prev;
    return stream;
}

/* NaN returns count as 0: the running product is left unchanged. */
static inline double tk_cumulative_returns_step(double *prod, double v)
{
    if (v == v) {
        *prod *= 1.0 + v;
    }
    return *prod - 1.0;
}

/* ---- drawdown family: the peak moves only on a strictly greater price ---- */

static inline double tk_drawdown_step(double *peak, double v)
{
    if (v > *peak) {
        *peak = v;
    }
    return v / *peak - 1.0;
}

typedef struct {
    double peak;
    npy_int64 count;
} tk_underwater_bars_st;

static inline npy_int64 tk_underwater_bars_step(tk_underwater_bars_st *s, double v)
{
    if (v >= s->peak) {
        s->peak = v;
        s->count = 0;
    }
    else if (s->count >= 0) {
        s->count++;
    }
    return s->count;
}

/* max_drawdown_duration: the longest underwater run, i.e. the maximum of
 * underwater_bars (-1 while no price has been seen). */
typedef struct {
    tk_underwater_bars_st uw;
    npy_int64 best;
} tk_max_drawdown_duration_st;

static inline npy_int64 tk_max_drawdown_duration_step(tk_max_drawdown_duration_st *s, double v)
{
    const npy_int64 c = tk_underwater_bars_step(&s->uw, v);
    if (c > s->best) {
        s->best = c;
    }
    return s->best;
}

/* len (<= 32) bars as len steps, for the SIMD paths: bit j of m says that
 * bar xp[j] resets the count (v >= the peak before it: v equals its running
 * peak, see drawdown_avx2.c).  The bars before the first reset count on,
 * each reset gives 0, the bars between two resets count from 1 (runs of at
 * most len - 2 bars: looked at only while best < len - 2, so after the
 * first few blocks never), the bars after the last one count from 1; the
 * last reset bar becomes the peak.  Branch-free but for that rare loop. */
static inline void tk_max_drawdown_duration_mask(tk_max_drawdown_duration_st *s, npy_uint64 m,
                                                 int len, const double *xp)
{
    const npy_int64 c = s->uw.count, b = s->best;
    const int f = __builtin_ctzll(m | ((npy_uint64)1 << len)); /* len if m == 0 */
    const int l = 63 - __builtin_clzll(m | 1);                 /* unused if m == 0 */
    const npy_int64 cf = c >= 0 ? c + f : c;                   /* the count before bar f */
    const npy_int64 bf = f > 0 && cf > b ? cf : b;
    const npy_int64 tail = len - 1 - l; /* >= 0: also the reset's 0 */
    npy_int64 bm = bf > tail ? bf : tail;
    if (m != 0 && bm < len - 2) {
        int prev = f;
        for (npy_uint64 mm = m & (m - 1); mm != 0; mm &= mm - 1) {
            const int j = __builtin_ctzll(mm);
            bm = j - prev - 1 > bm ? j - prev - 1 : bm;
            prev = j;
        }
    }
    s->best = m != 0 ? bm : bf;
    s->uw.count = m != 0 ? tail : cf;
    s->uw.peak = m != 0 ? xp[l] : s->uw.peak;
}

typedef struct {
    double peak, best;
    int seen;
} tk_max_drawdown_st;

/* Returns the drawdown of this bar; best/seen fold the non-NaN ones. */
static inline double tk_max_drawdown_step(tk_max_drawdown_st *s, double v)
{
    if (v > s->peak) {
        s->peak = v;
    }
    const double d = v / s->peak - 1.0;
    if (d < s->best) {
        s->best = d;
    }
    s->seen |= (d == d);
    return d;
}

static inline double tk_max_drawdown_result(const tk_max_drawdown_st *s)
{
    return s->seen ? s->best : NAN;
}

/* Ulcer index: the sum of the squared non-NaN drawdowns and their count,
 * accumulated left to right (the twin's order); result sqrt(sumsq / (count
 * - ddof)), NaN when count - ddof <= 0. */
typedef struct {
    double peak, sumsq, count;
} tk_ulcer_index_st;

static inline void tk_ulcer_index_step(tk_ulcer_index_st *s, double v)
{
    if (v > s->peak) {
        s->peak = v;
    }
    const double d = v / s->peak - 1.0;
    if (d == d) {
        s->sumsq += d * d;
        s->count += 1.0;
    }
}

static inline double tk_ulcer_index_result(const tk_ulcer_index_st *s, double ddof)
{
    const double m = s->count - ddof;
    return m > 0.0 ? sqrt(s->sumsq / m) : NAN;
}

static inline tk_ulcer_index_st tk_ulcer_index_init(void)
{
    tk_ulcer_index_st s = {-INFINITY, 0.0, 0.0};
    return s;
}

static inline tk_ulcer_index_st tk_ulcer_index_load(const char *p, npy_intp step)
{
    tk_ulcer_index_st s;
    memcpy(&s.peak, p, sizeof(double));
    memcpy(&s.sumsq, p + step, sizeof(double));
    memcpy(&s.count, p + 2 * step, sizeof(double));
    return s;
}

static inline void tk_ulcer_index_save(char *p, npy_intp step, const tk_ulcer_index_st *s)
{
    memcpy(p, &s->peak, sizeof(double));
    memcpy(p + step, &s->sumsq, sizeof(double));
    memcpy(p + 2 * step, &s->count, sizeof(double));
}

/* Single-pass drawdown episode.  The recovery is the first bar after the
 * trough at or above the trough's peak price: it is reset whenever the
 * best (deepest) drawdown improves, and set at the first later bar with
 * x >= best_peak.  Indices are global (i counts every bar ever seen). */
typedef struct {
    double peak, best, best_peak;
    npy_int64 peak_i, best_peak_i, trough_i, recovery_i, i;
    int seen;
} tk_drawdown_episode_st;

static inline void tk_drawdown_episode_step(tk_drawdown_episode_st *s, double v)
{
    if (v >= s->peak) { /* last bar at the running peak */
        s->peak_i = s->i;
        if (v > s->peak) {
            s->peak = v;
        }
    }
    const double d = v / s->peak - 1.0;
    if (d < s->best || (!s->seen && d == d)) {
        s->best = d;
        s->trough_i = s->i;
        s->best_peak_i = s->peak_i;
        s->best_peak = s->peak;
        s->recovery_i = -1;
        s->seen = 1;
    }
    else if (s->recovery_i < 0 && s->seen && v >= s->best_peak) {
        s->recovery_i = s->i;
    }
    s->i++;
}

/* The episode of everything seen so far: (peak, trough, recovery, depth). */
static inline void tk_drawdown_episode_result(const tk_drawdown_episode_st *s, npy_int64 *peak_i,
                                              npy_int64 *trough_i, npy_int64 *recovery_i,
                                              double *depth)
{
    if (s->seen && s->best < 0.0) {
        *peak_i = s->best_peak_i;
        *trough_i = s->trough_i;
        *recovery_i = s->recovery_i;
    }
    else {
        *peak_i = *trough_i = *recovery_i = -1;
    }
    *depth = s->seen ? s->best : NAN;
}

/* ---- defaults and (de)serialisation of the state vectors ---- */

static inline tk_underwater_bars_st tk_underwater_bars_init(void)
{
    tk_underwater_bars_st s = {-INFINITY, -1};
    return s;
}

static inline tk_max_drawdown_duration_st tk_max_drawdown_duration_init(void)
{
    tk_max_drawdown_duration_st s = {{-INFINITY, -1}, -1};
    return s;
}

static inline tk_max_drawdown_st tk_max_drawdown_init(void)
{
    tk_max_drawdown_st s = {-INFINITY, INFINITY, 0};
    return s;
}

static inline tk_drawdown_episode_st tk_drawdown_episode_init(void)
{
    tk_drawdown_episode_st s = {-INFINITY, INFINITY, 0.0, -1, -1, -1, -1, 0, 0};
    return s;
}

/* Loads from a strided float64 vector (step in bytes).  Index fields are
 * converted with a range check (NaN or out of range gives -1): no UB on a
 * state vector that did not come from a kernel. */
static inline npy_int64 tk_state_i64(double v)
{
    return (v >= -9007199254740992.0 && v <= 9007199254740992.0) ? (npy_int64)v : -1;
}
#define TK_STV(p, step, j) tk_ld_f64((p) + (j) * (step))
#define TK_STI(p, step, j) tk_state_i64(TK_STV(p, step, j))
#define TK_STV_SET(p, step, j, v) tk_st_f64((p) + (j) * (step), (double)(v))

static inline tk_underwater_bars_st tk_underwater_bars_load(const char *p, npy_intp step)
{
    tk_underwater_bars_st s = {TK_STV(p, step, 0), TK_STI(p, step, 1)};
    return s;
}

static inline void tk_underwater_bars_save(char *p, npy_intp step, const tk_underwater_bars_st *s)
{
    TK_STV_SET(p, step, 0, s->peak);
    TK_STV_SET(p, step, 1, s->count);
}

static inline tk_max_drawdown_duration_st tk_max_drawdown_duration_load(const char *p,
                                                                        npy_intp step)
{
    tk_max_drawdown_duration_st s = {tk_underwater_bars_load(p, step), TK_STI(p, step, 2)};
    return s;
}

static inline void tk_max_drawdown_duration_save(char *p, npy_intp step,
                                                 const tk_max_drawdown_duration_st *s)
{
    tk_underwater_bars_save(p, step, &s->uw);
    TK_STV_SET(p, step, 2, s->best);
}

static inline tk_max_drawdown_st tk_max_drawdown_load(const char *p, npy_intp step)
{
    tk_max_drawdown_st s = {TK_STV(p, step, 0), TK_STV(p, step, 1), TK_STV(p, step, 2) != 0.0};
    return s;
}

static inline void tk_max_drawdown_save(char *p, npy_intp step, const tk_max_drawdown_st *s)
{
    TK_STV_SET(p, step, 0, s->peak);
    TK_STV_SET(p, step, 1, s->best);
    TK_STV_SET(p, step, 2, s->seen ? 1.0 : 0.0);
}

static inline tk_drawdown_episode_st tk_drawdown_episode_load(const char *p, npy_intp step)
{
    tk_drawdown_episode_st s;
    s.peak = TK_STV(p, step, 0);
    s.peak_i = TK_STI(p, step, 1);
    s.best = TK_STV(p, step, 2);
    s.best_peak = TK_STV(p, step, 3);
    s.best_peak_i = TK_STI(p, step, 4);
    s.trough_i = TK_STI(p, step, 5);
    s.recovery_i = TK_STI(p, step, 6);
    s.seen = TK_STV(p, step, 7) != 0.0;
    s.i = TK_STI(p, step, 8);
    return s;
}

static inline void tk_drawdown_episode_save(char *p, npy_intp step, const tk_drawdown_episode_st *s)
{
    TK_STV_SET(p, step, 0, s->peak);
    TK_STV_SET(p, step, 1, s->peak_i);
    TK_STV_SET(p, step, 2, s->best);
    TK_STV_SET(p, step, 3, s->best_peak);
    TK_STV_SET(p, step, 4, s->best_peak_i);
    TK_STV_SET(p, step, 5, s->trough_i);
    TK_STV_SET(p, step, 6, s->recovery_i);
    TK_STV_SET(p, step, 7, s->seen ? 1.0 : 0.0);
    TK_STV_SET(p, step, 8, s->i);
}

/* ---- drawdowns (records.c): every episode of one series ----
 * Semantics: tradekernels.scans.reference.drawdowns.  An episode opens at
 * the first non-NaN bar strictly below the running peak, its valley is the
 * first bar at its lowest price, and it closes (is recovered) at the first
 * later non-NaN bar at or above the peak; depth = valley / peak - 1, one
 * division per episode.  NaN bars only let time pass (as in
 * underwater_bars). */
typedef struct {
    npy_int64 peak_i, valley_i, end_i;
    double peak, valley, end, depth;
} tk_episode_rec;

typedef struct {
    double peak, valley, last;
    npy_int64 peak_i, valley_i, i;
    int in_dd;
} tk_drawdowns_st;

static inline tk_drawdowns_st tk_drawdowns_init(void)
{
    tk_drawdowns_st s = {-INFINITY, 0.0, NAN, -1, -1, 0, 0};
    return s;
}

/* One bar; returns 1 and fills *r when the bar recovers an episode. */
static inline int tk_drawdowns_step(tk_drawdowns_st *s, double v, tk_episode_rec *r)
{
    int closed = 0;
    if (v == v) {
        if (!s->in_dd) {
            if (v >= s->peak) {
                s->peak_i = s->i;
                if (v > s->peak) {
                    s->peak = v;
                }
            }
            else {
                s->in_dd = 1;
                s->valley = v;
                s->valley_i = s->i;
            }
        }
        else if (v >= s->peak) {
            r->peak_i = s->peak_i;
            r->valley_i = s->valley_i;
            r->end_i = s->i;
            r->peak = s->peak;
            r->valley = s->valley;
            r->end = v;
            r->depth = s->valley / s->peak - 1.0;
            closed = 1;
            s->in_dd = 0;
            s->peak_i = s->i;
            if (v > s->peak) {
                s->peak = v;
            }
        }
        else { /* a new low: selects, not branches (new lows are unpredictable) */
            const int lower = v < s->valley;
            s->valley = lower ? v : s->valley;
            s->valley_i = lower ? s->i : s->valley_i;
        }
        s->last = v;
    }
    s->i++;
    return closed;
}

/* State vector (TK_DD_STATE_LEN doubles; layout: tradekernels._state,
 * "drawdowns"): peak, valley, last, peak_i, valley_i, n, in_dd. */
static inline tk_drawdowns_st tk_drawdowns_load(const char *p, npy_intp step)
{
    tk_drawdowns_st s = {TK_STV(p, step, 0),       TK_STV(p, step, 1), TK_STV(p, step, 2),
                         TK_STI(p, step, 3),       TK_STI(p, step, 4), TK_STI(p, step, 5),
                         TK_STV(p, step, 6) != 0.0};
    if (s.i < 0) {
        s.i = 0;
    }
    return s;
}

static inline void tk_drawdowns_save(char *p, npy_intp step, const tk_drawdowns_st *s)
{
    TK_STV_SET(p, step, 0, s->peak);
    TK_STV_SET(p, step, 1, s->valley);
    TK_STV_SET(p, step, 2, s->last);
    TK_STV_SET(p, step, 3, s->peak_i);
    TK_STV_SET(p, step, 4, s->valley_i);
    TK_STV_SET(p, step, 5, s->i);
    TK_STV_SET(p, step, 6, s->in_dd ? 1.0 : 0.0);
}

/* The active episode at the end (end_i = -1, end = the last non-NaN price);
 * returns 0 when no episode is open. */
static inline int tk_drawdowns_active(const tk_drawdowns_st *s, tk_episode_rec *r)
{
    if (!s->in_dd) {
        return 0;
    }
    r->peak_i = s->peak_i;
    r->valley_i = s->valley_i;
    r->end_i = -1;
    r->peak = s->peak;
    r->valley = s->valley;
    r->end = s->last;
    r->depth = s->valley / s->peak - 1.0;
    return 1;
}

/* The SIMD paths' horizontal folds of a vector's lanes (stored to l[0..k)):
 * from lane 0, a strictly smaller (larger) lane replaces the value, so a
 * NaN lane 0 stays (see hmin8 / hmin in drawdown_avx512.c / _avx2.c). */
static inline double tk_lanes_min(const double *l, int k)
{
    double m = l[0];
    for (int j = 1; j < k; j++) {
        if (l[j] < m) {
            m = l[j];
        }
    }
    return m;
}

static inline double tk_lanes_max(const double *l, int k)
{
    double m = l[0];
    for (int j = 1; j < k; j++) {
        if (l[j] > m) {
            m = l[j];
        }
    }
    return m;
}

#endif
