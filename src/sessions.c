/*
 * sessions.c - trading-session kernels: session_mask, session_index,
 * session_start, minutes_into_session.
 *
 * Exact semantics: tradekernels.reference_sessions (the pure-Python twin,
 * which works per timestamp with datetime + zoneinfo).  These kernels only
 * read the calendar's session table (tradekernels.sessions.SessionTable):
 *
 *   signature (n),(s),(s),(b),(b),(),()->(n),()
 *   args[0] ts[n]             int64 UTC epoch nanoseconds, INT64_MIN = NaT
 *   args[1] open[s]           session opens, sorted ascending
 *   args[2] close[s]          session closes, open[i] < close[i] <= open[i+1]
 *   args[3] break_start[b]    break intervals, sorted, each inside a session
 *   args[4] break_end[b]
 *   args[5] lo, args[6] hi    the table is complete for ts in [lo, hi)
 *   args[7] out[n]            bool (mask, start) or int64 (index, minutes)
 *   args[8] n_outside         int64: non-NaT ts outside [lo, hi) (the
 *                             caller extends the table and calls again)
 *
 * A timestamp is in session i iff open[i] <= ts < close[i] and it is not
 * in any break [break_start[j], break_end[j]).
 *
 * Lookup: the last session found is remembered; the next timestamp is
 * first checked against [open[i], open[i+1]) (O(1) for sorted series),
 * otherwise found by galloping (exponential then binary search) from i,
 * so sorted input costs O(1) amortised per timestamp and unsorted input
 * O(log s).  Any table (even unsorted) is read in bounds only.
 */
#include "tk.h"

#define TK_NAT NPY_MIN_INT64
#define TK_NS_PER_MIN ((npy_int64)60000000000LL)

#if defined(__GNUC__)
#define TK_ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define TK_ALWAYS_INLINE inline
#endif

static inline npy_int64 tk_ld_i64(const char *p) { npy_int64 v; memcpy(&v, p, sizeof v); return v; }

/* Number of elements <= t of the sorted array a[0..n) (stride step), found
 * by galloping from the guess c (0 <= c <= n). */
static npy_intp tk_count_le(const char *a, npy_intp step, npy_intp n, npy_int64 t, npy_intp c)
{
    npy_intp lo, hi, w = 1;
    if (c == 0 || tk_ld_i64(a + (c - 1) * step) <= t) {
        lo = c; /* the count is >= c: gallop forward */
        for (;;) {
            const npy_intp idx = c + w - 1;
            if (idx >= n) { hi = n; break; }
            if (tk_ld_i64(a + idx * step) > t) { hi = idx; break; }
            lo = idx + 1;
            w <<= 1;
        }
    } else {
        hi = c - 1; /* a[c-1] > t: the count is <= c-1: gallop backward */
        for (;;) {
            const npy_intp idx = c - 1 - w;
            if (idx < 0) { lo = 0; break; }
            if (tk_ld_i64(a + idx * step) <= t) { lo = idx + 1; break; }
            hi = idx;
            w <<= 1;
        }
    }
    /* a[k] <= t for k < lo, a[k] > t for k >= hi */
    while (lo < hi) {
        const npy_intp mid = lo + (hi - lo) / 2;
        if (tk_ld_i64(a + mid * step) <= t) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}

/* A cursor over a sorted interval table: interval k is [start[k], end[k]).
 * cur = k (or -1 before the first start); [from, to) = [start[k],
 * start[k+1]) is the span of timestamps for which k is the answer. */
typedef struct {
    const char *start, *end;
    npy_intp sstep, estep, n, cur;
    npy_int64 from, to, stop;
} tk_cursor;

static void tk_cursor_init(tk_cursor *c, const char *start, npy_intp sstep,
                           const char *end, npy_intp estep, npy_intp n)
{
    c->start = start;
    c->end = end;
    c->sstep = sstep;
    c->estep = estep;
    c->n = n;
    c->cur = -1;
    c->from = NPY_MIN_INT64;
    c->to = n > 0 ? tk_ld_i64(start) : NPY_MAX_INT64;
    c->stop = NPY_MIN_INT64;
}

/* Move the cursor to the last interval starting at or before t. */
static void tk_cursor_seek(tk_cursor *c, npy_int64 t)
{
    const npy_intp k = tk_count_le(c->start, c->sstep, c->n, t, c->cur + 1) - 1;
    c->cur = k;
    c->from = k >= 0 ? tk_ld_i64(c->start + k * c->sstep) : NPY_MIN_INT64;
    c->to = k + 1 < c->n ? tk_ld_i64(c->start + (k + 1) * c->sstep) : NPY_MAX_INT64;
    c->stop = k >= 0 ? tk_ld_i64(c->end + k * c->estep) : NPY_MIN_INT64;
}

/* t inside interval cursor->cur?  (t is never NaT here.) */
static TK_ALWAYS_INLINE int tk_cursor_inside(tk_cursor *c, npy_int64 t)
{
    if (!(t >= c->from && t < c->to)) {
        tk_cursor_seek(c, t);
    }
    return t < c->stop;
}

enum { TK_SES_MASK, TK_SES_INDEX, TK_SES_START, TK_SES_MINUTES };

static TK_ALWAYS_INLINE void tk_sessions(char **args, const npy_intp *dims,
                                         const npy_intp *steps, const int mode)
{
    const npy_intp n = dims[0], s = dims[1], b = dims[2];
    const char *ts = args[0];
    char *out = args[7];
    const npy_intp ts_step = steps[0], out_step = steps[5];
    const npy_int64 lo = tk_ld_i64(args[5]), hi = tk_ld_i64(args[6]);
    tk_cursor ses, brk;
    tk_cursor_init(&ses, args[1], steps[1], args[2], steps[2], s);
    tk_cursor_init(&brk, args[3], steps[3], args[4], steps[4], b);
    npy_int64 outside = 0;
    npy_intp prev = -1; /* session of the last in-session timestamp (session_start) */

    for (npy_intp k = 0; k < n; k++) {
        const npy_int64 t = tk_ld_i64(ts + k * ts_step);
        int in = 0;
        if (t != TK_NAT) {
            outside += (t < lo) | (t >= hi);
            in = tk_cursor_inside(&ses, t);
            if (in && b > 0) {
                in = !tk_cursor_inside(&brk, t);
            }
        }
        char *o = out + k * out_step;
        switch (mode) {
        case TK_SES_MASK:
            *(npy_bool *)o = (npy_bool)in;
            break;
        case TK_SES_INDEX:
            tk_st_i64(o, in ? (npy_int64)ses.cur : -1);
            break;
        case TK_SES_START:
            *(npy_bool *)o = (npy_bool)(in && ses.cur != prev);
            if (in) {
                prev = ses.cur;
            }
            break;
        default: /* TK_SES_MINUTES: t >= open, so division floors */
            tk_st_i64(o, in ? (npy_int64)(((npy_uint64)t - (npy_uint64)ses.from) /
                                          (npy_uint64)TK_NS_PER_MIN)
                            : -1);
            break;
        }
    }
    tk_st_i64(args[8], outside);
}

void tk_session_mask_i64(char **args, const npy_intp *dims, const npy_intp *steps)
{
    tk_sessions(args, dims, steps, TK_SES_MASK);
}

void tk_session_index_i64(char **args, const npy_intp *dims, const npy_intp *steps)
{
    tk_sessions(args, dims, steps, TK_SES_INDEX);
}

void tk_session_start_i64(char **args, const npy_intp *dims, const npy_intp *steps)
{
    tk_sessions(args, dims, steps, TK_SES_START);
}

void tk_minutes_into_session_i64(char **args, const npy_intp *dims, const npy_intp *steps)
{
    tk_sessions(args, dims, steps, TK_SES_MINUTES);
}
