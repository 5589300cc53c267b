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
#include <stdlib.h>

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

static inline double tk_dd_load(const char *p, int f32)
{
    return f32 ? tk_ld_f32(p) : tk_ld_f64(p);
}

/* One row of n bars from state *s: the loop of tk_drawdowns_step (tk_scan.h), split
 * into its two phases so that each bar costs one predictable test: outside
 * an episode, look for the first price below the peak; inside one, select
 * the new low and look for the recovery (a NaN fails both tests).  `last` is
 * found once at the end (the last non-NaN price of the row, if any).
 * Returns -1 when out of memory. */
static inline int tk_dd_row(const char *p, npy_intp n, npy_intp step, int f32, npy_int64 col,
                            tk_drawdowns_st *s, int final, tk_dd_buf *b)
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
                      int f32, double *state, int final, tk_dd_buf *b)
{
    for (npy_intp c = 0; c < rows; c++) {
        tk_drawdowns_st s =
            state != NULL
                ? tk_drawdowns_load((const char *)(state + c * TK_DD_STATE_LEN), sizeof(double))
                : tk_drawdowns_init();
        const char *p = data + c * rstep;
        const int rc = f32 ? tk_dd_row(p, n, step, 1, c, &s, final, b)
                           : tk_dd_row(p, n, step, 0, c, &s, final, b);
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
 * release the GIL around it. */
int tk_drawdowns_collect(const char *data, npy_intp rows, npy_intp n, npy_intp rstep, npy_intp step,
                         int f32, double *state, int final, void **out, npy_intp *len)
{
    tk_dd_buf b = {NULL, 0, 0};
    if (tk_dd_scan(data, rows, n, rstep, step, f32, state, final, &b) < 0) {
        free(b.buf);
        return -1;
    }
    *out = b.buf;
    *len = b.len;
    return 0;
}
