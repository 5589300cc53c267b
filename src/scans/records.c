/*
 * records.c - drawdowns: every drawdown episode of each row as a record.
 *
 * Variable-length output does not fit a gufunc, so this is a module
 * function: _core.drawdowns(x, dtype) (src/core/module.c) takes a 2-D float32/float64 array
 * (rows are series, any strides) and the record dtype (built in Python,
 * tradekernels.scans.records.RECORD_DTYPE: twelve 8-byte fields laid out as
 * tk_dd_out below) and returns a 1-D structured array of the episodes, row
 * by row, in order of their peak.  One pass per row (tk_drawdowns_step,
 * tk_scan.h) appends to a growing buffer (tk_drawdowns_collect, no Python
 * API: module.c calls it without the GIL for long inputs and copies the
 * buffer into the array).  No global state.
 * Semantics: tradekernels.scans.reference.drawdowns.
 */
#include "tk_scan.h"
#include <stdint.h>
#include <stdlib.h>
#if TK_HAVE_SSE2
#include <emmintrin.h>
#endif
#if TK_HAVE_AVX2
#include <immintrin.h>
#endif

typedef struct {
    npy_int64 col, peak_idx, valley_idx, end_idx;
    double peak_val, valley_val, end_val, depth;
    npy_int64 status, decline_bars, recovery_bars, duration_bars;
} tk_dd_out;
_Static_assert(sizeof(tk_dd_out) == TK_DD_RECORD_SIZE,
               "record layout (tradekernels.scans.records)");

typedef struct {
    tk_dd_out *buf;
    npy_intp len, cap;
} tk_dd_buf;

/* 0 on success, -1 when out of memory (the caller raises MemoryError). */
static int tk_dd_push(tk_dd_buf *b, npy_int64 col, const tk_episode_rec *r, npy_int64 last)
{
    if (b->len == b->cap) {
        const npy_intp cap = b->cap ? 2 * b->cap : 64;
        tk_dd_out *nb = (tk_dd_out *)realloc(b->buf, (size_t)cap * sizeof(tk_dd_out));
        if (nb == NULL) {
            return -1;
        }
        b->buf = nb;
        b->cap = cap;
    }
    tk_dd_out *o = &b->buf[b->len++];
    const int active = r->end_i < 0;
    o->col = col;
    o->peak_idx = r->peak_i;
    o->valley_idx = r->valley_i;
    o->end_idx = r->end_i;
    o->peak_val = r->peak;
    o->valley_val = r->valley;
    o->end_val = r->end;
    o->depth = r->depth;
    o->status = active ? 0 : 1;
    o->decline_bars = r->valley_i - r->peak_i;
    o->recovery_bars = active ? -1 : r->end_i - r->valley_i;
    o->duration_bars = (active ? last : r->end_i) - r->peak_i;
    return 0;
}

/* The inside phase on contiguous float64 (records are compares and
 * selections only, no arithmetic, so any grouping gives the same bits):
 * the first bar at or above the peak, then the minimum before it and the
 * first bar holding it.  Three scans, picked by the SIMD path
 * (tk_dd_scan_of): the plain loops (scalar path), SSE2 8 bars a block
 * (x86-64 baseline: avx512_emu, and avx2 / avx512 on a CPU without AVX2),
 * AVX2 32 bars a block (avx2, avx512). */
enum { TK_DD_SCAN_SCALAR = 0, TK_DD_SCAN_SSE2 = 1, TK_DD_SCAN_AVX2 = 2 };

/* The scan of a SIMD path (the caller checked that the CPU runs the path).
 * avx512_emu, the path that runs the same code on every CPU, takes SSE2
 * (the baseline), never AVX2: so its records come from one code everywhere,
 * and the SSE2 scan is run by a path on AVX2 CPUs too. */
static int tk_dd_scan_of(int path)
{
    if ((path == TK_PATH_AVX2 || path == TK_PATH_AVX512) && TK_HAVE_AVX2
        && tk_cpu_has_path(TK_PATH_AVX2)) {
        return TK_DD_SCAN_AVX2;
    }
    return path != TK_PATH_SCALAR && TK_HAVE_SSE2 ? TK_DD_SCAN_SSE2 : TK_DD_SCAN_SCALAR;
}

const char *tk_drawdowns_code(int path)
{
    static const char *const names[] = {"scalar", "sse2", "avx2"};
    return names[tk_dd_scan_of(path)];
}

/* The inside phase's scan: returns the first j' in [j, n) with x[j'] >= peak
 * (NaN never is), or n, and sets *m to the minimum of *m (not NaN) and the
 * non-NaN x[j .. j'): the fold m = v < m ? v : m, whose value may differ
 * from it only in the sign of a zero (ties), which the caller does not use
 * (it reads the bar).  sse2: 8 bars a block first (where compiled), then
 * the plain loop, which alone is the scalar path's scan. */
static inline npy_intp tk_dd_inside(const double *x, npy_intp j, npy_intp n, double peak, double *m,
                                    int sse2)
{
    double lo = *m;
#if TK_HAVE_SSE2
    if (sse2 && n - j >= 8) {
        const __m128d p = _mm_set1_pd(peak);
        __m128d a = _mm_set1_pd(lo), b = a, c = a, d = a;
        for (; j + 8 <= n; j += 8) {
            const __m128d v0 = _mm_loadu_pd(x + j), v1 = _mm_loadu_pd(x + j + 2);
            const __m128d v2 = _mm_loadu_pd(x + j + 4), v3 = _mm_loadu_pd(x + j + 6);
            const __m128d up = _mm_or_pd(_mm_or_pd(_mm_cmpge_pd(v0, p), _mm_cmpge_pd(v1, p)),
                                         _mm_or_pd(_mm_cmpge_pd(v2, p), _mm_cmpge_pd(v3, p)));
            if (_mm_movemask_pd(up)) {
                break; /* the recovery is in this block: bar by bar below */
            }
            a = _mm_min_pd(v0, a); /* min(v, acc) is acc when v is NaN */
            b = _mm_min_pd(v1, b);
            c = _mm_min_pd(v2, c);
            d = _mm_min_pd(v3, d);
        }
        a = _mm_min_pd(_mm_min_pd(a, b), _mm_min_pd(c, d));
        const double l0 = _mm_cvtsd_f64(a), l1 = _mm_cvtsd_f64(_mm_unpackhi_pd(a, a));
        lo = l1 < l0 ? l1 : l0;
    }
#else
    (void)sse2;
#endif
    for (; j < n && !(x[j] >= peak); j++) {
        lo = x[j] < lo ? x[j] : lo;
    }
    *m = lo;
    return j;
}

#if TK_HAVE_AVX2
#define TK_DD_AVX2 __attribute__((target("avx2")))
/* Bytes ahead that the AVX2 inside scan prefetches (as max_drawdown's). */
#define TK_DD_PREFETCH 4096

/* tk_dd_inside with AVX2, 32 bars a block: a vertical max (NaN bars drop
 * out: max(v, acc) returns acc when v is NaN) finds a block with a bar at
 * or above the peak, which the scalar loop then walks bar by bar; the other
 * blocks fold their minimum (min(v, acc) is acc when v is NaN).  The same
 * minimum as tk_dd_inside (a compare-and-select fold: any grouping gives
 * the same value, up to the sign of a zero, which the caller does not use).
 * *at is where the first bar at that minimum is to be looked for: the start
 * of the last block (or the bar) that set a strictly lower minimum; every
 * bar before it is strictly above the minimum, so the caller's search
 * from there finds the first such bar without a second pass over the
 * episode.  Such blocks are rare (new lows), so the horizontal minimum is
 * taken only there. */
TK_DD_AVX2 static npy_intp tk_dd_inside_avx2(const double *x, npy_intp j, npy_intp n, double peak,
                                             double *m, npy_intp *at)
{
    double lo = *m;
    npy_intp lo_at = j;
    if (n - j >= 32) {
        const __m256d p = _mm256_set1_pd(peak), ninf = _mm256_set1_pd(-INFINITY);
        __m256d cm = _mm256_set1_pd(lo);
        for (; j + 32 <= n; j += 32) {
            for (int c = 0; c < 32 * 8; c += 64) { /* integer math: never faults */
                _mm_prefetch((const char *)((uintptr_t)(x + j) + TK_DD_PREFETCH + c), _MM_HINT_T0);
            }
            const __m256d v0 = _mm256_loadu_pd(x + j), v1 = _mm256_loadu_pd(x + j + 4);
            const __m256d v2 = _mm256_loadu_pd(x + j + 8), v3 = _mm256_loadu_pd(x + j + 12);
            const __m256d v4 = _mm256_loadu_pd(x + j + 16), v5 = _mm256_loadu_pd(x + j + 20);
            const __m256d v6 = _mm256_loadu_pd(x + j + 24), v7 = _mm256_loadu_pd(x + j + 28);
            const __m256d h0 = _mm256_max_pd(v4, _mm256_max_pd(v0, ninf));
            const __m256d h1 = _mm256_max_pd(v5, _mm256_max_pd(v1, ninf));
            const __m256d h2 = _mm256_max_pd(v6, _mm256_max_pd(v2, ninf));
            const __m256d h3 = _mm256_max_pd(v7, _mm256_max_pd(v3, ninf));
            const __m256d h = _mm256_max_pd(_mm256_max_pd(h0, h1), _mm256_max_pd(h2, h3));
            if (_mm256_movemask_pd(_mm256_cmp_pd(h, p, _CMP_GE_OQ))) {
                break; /* the recovery is in this block: bar by bar below */
            }
            const __m256d t0 = _mm256_min_pd(v4, _mm256_min_pd(v0, cm));
            const __m256d t1 = _mm256_min_pd(v5, _mm256_min_pd(v1, cm));
            const __m256d t2 = _mm256_min_pd(v6, _mm256_min_pd(v2, cm));
            const __m256d t3 = _mm256_min_pd(v7, _mm256_min_pd(v3, cm));
            const __m256d t = _mm256_min_pd(_mm256_min_pd(t0, t1), _mm256_min_pd(t2, t3));
            if (_mm256_movemask_pd(_mm256_cmp_pd(t, cm, _CMP_LT_OQ))) { /* a new low */
                double lanes[4];
                _mm256_storeu_pd(lanes, t);
                for (int k = 0; k < 4; k++) {
                    lo = lanes[k] < lo ? lanes[k] : lo;
                }
                lo_at = j;
                cm = _mm256_set1_pd(lo);
            }
        }
    }
    for (; j < n && !(x[j] >= peak); j++) {
        lo_at = x[j] < lo ? j : lo_at;
        lo = x[j] < lo ? x[j] : lo;
    }
    *m = lo;
    *at = lo_at;
    return j;
}
#endif

/* First k >= j with x[k] == m (the caller knows there is one); sse2: 8
 * bars a block first (where compiled). */
static inline npy_intp tk_dd_find_equal(const double *x, npy_intp k, npy_intp n, double m, int sse2)
{
#if TK_HAVE_SSE2
    const __m128d q = _mm_set1_pd(m);
    for (; sse2 && k + 8 <= n; k += 8) {
        const __m128d a = _mm_cmpeq_pd(_mm_loadu_pd(x + k), q);
        const __m128d b = _mm_cmpeq_pd(_mm_loadu_pd(x + k + 2), q);
        const __m128d c = _mm_cmpeq_pd(_mm_loadu_pd(x + k + 4), q);
        const __m128d d = _mm_cmpeq_pd(_mm_loadu_pd(x + k + 6), q);
        if (_mm_movemask_pd(_mm_or_pd(_mm_or_pd(a, b), _mm_or_pd(c, d)))) {
            break;
        }
    }
#else
    (void)sse2;
#endif
    while (!(x[k] == m)) {
        k++;
    }
    return k;
}

static inline double tk_dd_load(const char *p, int f32)
{
    return f32 ? tk_ld_f32(p) : tk_ld_f64(p);
}

/* One row of n bars from state *s: the loop of tk_drawdowns_step (tk_scan.h), split
 * into its two phases so that each bar costs one predictable test: outside
 * an episode, look for the first price below the peak; inside one, select
 * the new low and look for the recovery (a NaN fails both tests).  `last` is
 * found once at the end (the last non-NaN price of the row, if any).
 * scan: the inside phase's scan on contiguous float64 (TK_DD_SCAN_*, a
 * constant: one instance per scan, no test per episode).
 * Returns -1 when out of memory. */
static inline __attribute__((always_inline)) int tk_dd_row(const char *p, npy_intp n, npy_intp step,
                                                           int f32, npy_int64 col,
                                                           tk_drawdowns_st *s, int final, int scan,
                                                           tk_dd_buf *b)
{
    const npy_int64 base = s->i;
    double peak = s->peak, valley = s->valley;
    npy_int64 peak_i = s->peak_i, valley_i = s->valley_i;
    int in_dd = s->in_dd;
    npy_intp j = 0;
    while (j < n) {
        if (!in_dd) {
            for (; j < n; j++) {
                const double v = tk_dd_load(p + j * step, f32);
                if (v >= peak) {
                    peak_i = base + j;
                    peak = v > peak ? v : peak;
                }
                else if (v == v) {
                    in_dd = 1;
                    valley = v;
                    valley_i = base + j;
                    j++;
                    break;
                }
            }
        }
        else if (!f32 && step == (npy_intp)sizeof(double)
                 && ((uintptr_t)p % _Alignof(double)) == 0) { /* (misaligned: the loop below) */
            const double *x = (const double *)p;
            double m = valley;
            npy_intp at = j; /* the first bar at m is in [at, jr) */
#if TK_HAVE_AVX2
            const npy_intp jr = scan == TK_DD_SCAN_AVX2
                                    ? tk_dd_inside_avx2(x, j, n, peak, &m, &at)
                                    : tk_dd_inside(x, j, n, peak, &m, scan == TK_DD_SCAN_SSE2);
#else
            const npy_intp jr = tk_dd_inside(x, j, n, peak, &m, scan == TK_DD_SCAN_SSE2);
#endif
            if (m < valley) { /* a lower bar in [at, jr): the first one at m */
                const npy_intp k = tk_dd_find_equal(x, at, jr, m, scan != TK_DD_SCAN_SCALAR);
                valley = x[k];
                valley_i = base + k;
            }
            j = jr;
            if (j < n) {
                const double v = x[j];
                const tk_episode_rec r = {peak_i, valley_i, base + j,           peak,
                                          valley, v,        valley / peak - 1.0};
                if (tk_dd_push(b, col, &r, base + j) < 0) {
                    return -1;
                }
                in_dd = 0;
                peak_i = base + j;
                peak = v > peak ? v : peak;
                j++;
            }
        }
        else {
            for (; j < n; j++) {
                const double v = tk_dd_load(p + j * step, f32);
                if (v >= peak) {
                    const tk_episode_rec r = {peak_i, valley_i, base + j,           peak,
                                              valley, v,        valley / peak - 1.0};
                    if (tk_dd_push(b, col, &r, base + j) < 0) {
                        return -1;
                    }
                    in_dd = 0;
                    peak_i = base + j;
                    peak = v > peak ? v : peak;
                    j++;
                    break;
                }
                const int lower = v < valley;
                valley = lower ? v : valley;
                valley_i = lower ? base + j : valley_i;
            }
        }
    }
    for (npy_intp k = n - 1; k >= 0; k--) {
        const double v = tk_dd_load(p + k * step, f32);
        if (v == v) {
            s->last = v;
            break;
        }
    }
    s->peak = peak;
    s->valley = valley;
    s->peak_i = peak_i;
    s->valley_i = valley_i;
    s->in_dd = in_dd;
    s->i = base + n;
    tk_episode_rec r;
    if (final && tk_drawdowns_active(s, &r) && tk_dd_push(b, col, &r, s->i - 1) < 0) {
        return -1;
    }
    return 0;
}

/* All rows into b; -1 when out of memory.  state: NULL (start of the
 * series) or rows x TK_DD_STATE_LEN doubles, read and updated in place;
 * final: also report the episode still open after the last bar. */
static int tk_dd_scan(const char *data, npy_intp rows, npy_intp n, npy_intp rstep, npy_intp step,
                      int f32, double *state, int final, int scan, tk_dd_buf *b)
{
    for (npy_intp c = 0; c < rows; c++) {
        tk_drawdowns_st s =
            state != NULL
                ? tk_drawdowns_load((const char *)(state + c * TK_DD_STATE_LEN), sizeof(double))
                : tk_drawdowns_init();
        const char *p = data + c * rstep;
        int rc;
        if (f32) {
            rc = tk_dd_row(p, n, step, 1, c, &s, final, TK_DD_SCAN_SCALAR, b);
        }
        else if (scan == TK_DD_SCAN_AVX2) {
            rc = tk_dd_row(p, n, step, 0, c, &s, final, TK_DD_SCAN_AVX2, b);
        }
        else if (scan == TK_DD_SCAN_SSE2) {
            rc = tk_dd_row(p, n, step, 0, c, &s, final, TK_DD_SCAN_SSE2, b);
        }
        else {
            rc = tk_dd_row(p, n, step, 0, c, &s, final, TK_DD_SCAN_SCALAR, b);
        }
        if (rc < 0) {
            return -1;
        }
        if (state != NULL) {
            tk_drawdowns_save((char *)(state + c * TK_DD_STATE_LEN), sizeof(double), &s);
        }
    }
    return 0;
}

/* All rows of a 2-D array (rows of n bars at byte strides rstep / step):
 * *out receives a malloc'ed array of *len records (free() it), laid out as
 * tk_dd_out; returns -1 when out of memory.  No Python API: the caller may
 * release the GIL around it.  path: the SIMD path (the caller checked that
 * the CPU runs it), which picks the inside scan (tk_dd_scan_of; the same
 * records on every path). */
int tk_drawdowns_collect(const char *data, npy_intp rows, npy_intp n, npy_intp rstep, npy_intp step,
                         int f32, double *state, int final, int path, void **out, npy_intp *len)
{
    tk_dd_buf b = {NULL, 0, 0};
    if (tk_dd_scan(data, rows, n, rstep, step, f32, state, final, tk_dd_scan_of(path), &b) < 0) {
        free(b.buf);
        return -1;
    }
    *out = b.buf;
    *len = b.len;
    return 0;
}
