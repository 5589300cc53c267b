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
 *   args[5] lo, args[6] hi    the table is complete for lo <= ts <= hi
 *   args[7] out[n]            bool (mask, start) or int64 (index, minutes)
 *   args[8] n_outside         int64: non-NaT ts outside [lo, hi] (the
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

/* Block fast path (contiguous int64 ts, mask and index kernels, AVX2).
 * The session cursor (and the break cursor) do not move inside it: it
 * answers whole blocks of TK_BLK timestamps while they lie in the cursor
 * spans and in [lo, hi] (so none is NaT or outside the table), and
 * returns how many timestamps it answered; the caller does the next few
 * one at a time (moving the cursors) and calls it again.
 *   - a non-decreasing block (checked, never assumed) is answered by its
 *     two ends when it lies wholly on one side of stop and of bstop: one
 *     fill (a sorted minute series is mostly such blocks);
 *   - any other block is answered element-wise, branch-free. */
#define TK_BLK 32
#define TK_SCALAR_RUN 8
#define TK_PREFETCH 1024 /* bytes ahead: the hardware prefetcher alone leaves ~20 % */

typedef npy_intp (*tk_block_fn)(const char *, npy_intp, char *, int, const tk_cursor *,
                                const tk_cursor *, int, npy_int64, npy_int64);

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define TK_HAVE_AVX2_BLOCK 1
#define TK_AVX2 __attribute__((target("avx2")))

/* Is ts[0..TK_BLK) non-decreasing? */
TK_AVX2 static inline int tk_blk_sorted(const char *ts)
{
    const npy_int64 *p = (const npy_int64 *)(const void *)ts;
    __m256i down = _mm256_setzero_si256();
    for (int j = 0; j + 8 <= TK_BLK; j += 4) {
        const __m256i x = _mm256_loadu_si256((const __m256i *)(const void *)(p + j));
        const __m256i y = _mm256_loadu_si256((const __m256i *)(const void *)(p + j + 1));
        down = _mm256_or_si256(down, _mm256_cmpgt_epi64(x, y));
    }
    const __m256i x = _mm256_loadu_si256((const __m256i *)(const void *)(p + TK_BLK - 5));
    const __m256i y = _mm256_loadu_si256((const __m256i *)(const void *)(p + TK_BLK - 4));
    down = _mm256_or_si256(down, _mm256_cmpgt_epi64(x, y));
    return _mm256_testz_si256(down, down);
}

TK_AVX2 static npy_intp tk_ses_block_avx2(const char *ts, npy_intp avail, char *out, const int mode,
                                          const tk_cursor *ses, const tk_cursor *brk,
                                          const int has_brk, npy_int64 lo, npy_int64 hi)
{
    if (ses->to == NPY_MIN_INT64 || brk->to == NPY_MIN_INT64) {
        return 0; /* only a malformed table; keeps to - 1 below defined */
    }
    npy_int64 a = ses->from > lo ? ses->from : lo;
    npy_int64 z = ses->to - 1 < hi ? ses->to - 1 : hi; /* inclusive */
    if (has_brk) {
        a = brk->from > a ? brk->from : a;
        z = brk->to - 1 < z ? brk->to - 1 : z;
    }
    const npy_int64 stop = ses->stop, bstop = has_brk ? brk->stop : NPY_MIN_INT64;
    const npy_int64 cur = (npy_int64)ses->cur;
    const npy_intp osz = mode == TK_SES_MASK ? 1 : 8;
    npy_intp done = 0;
    for (; avail - done >= TK_BLK; done += TK_BLK, ts += TK_BLK * 8, out += TK_BLK * osz) {
        for (int c = 0; c < TK_BLK * 8; c += 64) { /* never faults; integer math: no UB */
            _mm_prefetch((const char *)((uintptr_t)ts + TK_PREFETCH + c), _MM_HINT_T0);
        }
        const npy_int64 first = tk_ld_i64(ts), last = tk_ld_i64(ts + (TK_BLK - 1) * 8);
        if (first >= a && last <= z && tk_blk_sorted(ts)) {
            const int all_in = last < stop && first >= bstop;
            if (all_in || first >= stop || last < bstop) {
                if (mode == TK_SES_MASK) {
                    memset(out, all_in, TK_BLK);
                } else {
                    const npy_int64 v = all_in ? cur : -1;
                    for (int j = 0; j < TK_BLK; j++) {
                        tk_st_i64(out + j * 8, v);
                    }
                }
                continue;
            }
        }
        /* Answers are written even if the block turns out bad (then redone). */
        npy_int64 bad = 0;
        if (mode == TK_SES_MASK) {
            for (int j = 0; j < TK_BLK; j++) {
                const npy_int64 v = tk_ld_i64(ts + j * 8);
                bad |= (npy_int64)((v < a) | (v > z));
                out[j] = (char)((v < stop) & (v >= bstop));
            }
        } else {
            for (int j = 0; j < TK_BLK; j++) {
                const npy_int64 v = tk_ld_i64(ts + j * 8);
                bad |= (npy_int64)((v < a) | (v > z));
                const npy_int64 in = (v < stop) & (v >= bstop);
                tk_st_i64(out + j * 8, (-in & (cur + 1)) - 1);
            }
        }
        if (bad) { /* answered up to the first timestamp outside the spans */
            npy_intp j = 0;
            for (; j < TK_BLK; j++) {
                const npy_int64 v = tk_ld_i64(ts + j * 8);
                if (v < a || v > z) {
                    break;
                }
            }
            return done + j;
        }
    }
    return done;
}
#endif

static TK_ALWAYS_INLINE void tk_sessions(char **args, const npy_intp *dims,
                                         const npy_intp *steps, const int mode,
                                         const tk_block_fn block)
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
    const npy_intp out_size = mode == TK_SES_MASK || mode == TK_SES_START
                                  ? (npy_intp)sizeof(npy_bool) : (npy_intp)sizeof(npy_int64);
    const int blocks = block != NULL && ts_step == (npy_intp)sizeof(npy_int64) &&
                       out_step == out_size && (mode == TK_SES_MASK || mode == TK_SES_INDEX);

    for (npy_intp k = 0; k < n;) {
        npy_intp run = TK_BLK;
        if (blocks) {
            k += block(ts + k * ts_step, n - k, out + k * out_step, mode, &ses, &brk, b > 0, lo, hi);
            run = TK_SCALAR_RUN;
        }
        const npy_intp end = n - k > run ? k + run : n;
        const npy_intp cur0 = ses.cur, bcur0 = brk.cur;
        for (; k < end; k++) {
            if (blocks && (ses.cur != cur0 || brk.cur != bcur0)) {
                break; /* a cursor moved: back to blocks in the new spans */
            }
            const npy_int64 t = tk_ld_i64(ts + k * ts_step);
            int in = 0;
            if (t != TK_NAT) {
                outside += (t < lo) | (t > hi);
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
    }
    tk_st_i64(args[8], outside);
}

/* The portable block loop (SSE2: no 64-bit compares) is slower than the
 * one-at-a-time loop, so the scalar path does not use blocks. */
void tk_session_mask_i64(char **args, const npy_intp *dims, const npy_intp *steps)
{
    tk_sessions(args, dims, steps, TK_SES_MASK, NULL);
}

void tk_session_index_i64(char **args, const npy_intp *dims, const npy_intp *steps)
{
    tk_sessions(args, dims, steps, TK_SES_INDEX, NULL);
}

#ifdef TK_HAVE_AVX2_BLOCK
void tk_session_mask_i64_avx2(char **args, const npy_intp *dims, const npy_intp *steps)
{
    tk_sessions(args, dims, steps, TK_SES_MASK, tk_ses_block_avx2);
}

void tk_session_index_i64_avx2(char **args, const npy_intp *dims, const npy_intp *steps)
{
    tk_sessions(args, dims, steps, TK_SES_INDEX, tk_ses_block_avx2);
}
#else
void tk_session_mask_i64_avx2(char **args, const npy_intp *dims, const npy_intp *steps)
{
    tk_session_mask_i64(args, dims, steps);
}

void tk_session_index_i64_avx2(char **args, const npy_intp *dims, const npy_intp *steps)
{
    tk_session_index_i64(args, dims, steps);
}
#endif

void tk_session_start_i64(char **args, const npy_intp *dims, const npy_intp *steps)
{
    tk_sessions(args, dims, steps, TK_SES_START, NULL);
}

void tk_minutes_into_session_i64(char **args, const npy_intp *dims, const npy_intp *steps)
{
    tk_sessions(args, dims, steps, TK_SES_MINUTES, NULL);
}
