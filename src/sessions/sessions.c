/*
 * sessions.c - trading-session kernels: session_mask, session_index,
 * session_start, minutes_into_session.
 *
 * Exact semantics: tradekernels.reference_sessions (the pure-Python twin,
 * which works per timestamp with datetime + zoneinfo).  These kernels only
 * read the calendar's session table (tradekernels.sessions.SessionTable):
 *
 *   signature (n),(s),(s),(b),(b),(),()->(n),()
 *   args[0] ts[n]             int64 UTC epoch counts, INT64_MIN = NaT; the
 *                             table is in the same unit (the Python layer
 *                             scales it; minutes_into_session: ns only)
 *   args[1] open[s]           session opens, sorted ascending
 *   args[2] close[s]          session closes, open[i] <= close[i] <= open[i+1]
 *                             (equal only in a table scaled to a coarse unit)
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
 * otherwise found by a short gallop from i and then branch-free halving,
 * so sorted input costs O(1) amortised per timestamp and unsorted input
 * O(log s).  On top of that, the AVX2 block path answers whole blocks of
 * timestamps (below), and the *_sorted kernels (end of file) search the
 * session bounds in the timestamps instead.  Any table (even unsorted) and
 * any ts are read in bounds only.
 */
#include "tk.h"

#define TK_NAT NPY_MIN_INT64
#define TK_NS_PER_MIN ((npy_int64)60000000000LL)

#if defined(__GNUC__)
#define TK_ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define TK_ALWAYS_INLINE inline
#endif

static inline npy_int64 tk_ld_i64(const char *p)
{
    npy_int64 v;
    memcpy(&v, p, sizeof v);
    return v;
}

/* Number of elements <= t among a[lo..hi) (sorted; the caller knows the
 * answer is in [lo, hi]): branch-free halving (a conditional move per
 * step), so a far jump (unsorted input) costs log2 dependent loads and no
 * mispredictions.  Works on indices, never divides by the stride (which
 * may be zero, negative or not a multiple of 8). */
static npy_intp tk_count_le_in(const char *a, npy_intp step, npy_intp lo, npy_intp hi, npy_int64 t)
{
    npy_intp len = hi - lo;
    if (len <= 0) {
        return lo;
    }
    npy_intp k = lo;
    while (len > 1) {
        const npy_intp half = len / 2;
        k = tk_ld_i64(a + (k + half) * step) <= t ? k + half : k;
        len -= half;
    }
    return k + (tk_ld_i64(a + k * step) <= t);
}

/* Number of elements <= t of the sorted array a[0..n) (stride step), found
 * by galloping from the guess c (0 <= c <= n) for up to TK_GALLOP steps
 * (near answers: sorted input), then by halving what is left. */
#define TK_GALLOP 2
static npy_intp tk_count_le(const char *a, npy_intp step, npy_intp n, npy_int64 t, npy_intp c)
{
    npy_intp lo, hi, w = 1;
    if (c == 0 || tk_ld_i64(a + (c - 1) * step) <= t) {
        lo = c; /* the count is >= c: gallop forward */
        hi = n;
        for (int g = 0; g < TK_GALLOP; g++) {
            const npy_intp idx = c + w - 1;
            if (idx >= n) {
                break;
            }
            if (tk_ld_i64(a + idx * step) > t) {
                hi = idx;
                break;
            }
            lo = idx + 1;
            w <<= 1;
        }
    }
    else {
        hi = c - 1; /* a[c-1] > t: the count is <= c-1: gallop backward */
        lo = 0;
        for (int g = 0; g < TK_GALLOP; g++) {
            const npy_intp idx = c - 1 - w;
            if (idx < 0) {
                break;
            }
            if (tk_ld_i64(a + idx * step) <= t) {
                lo = idx + 1;
                break;
            }
            hi = idx;
            w <<= 1;
        }
    }
    /* a[k] <= t for k < lo, a[k] > t for k >= hi */
    return tk_count_le_in(a, step, lo, hi, t);
}

/* A cursor over a sorted interval table: interval k is [start[k], end[k]).
 * cur = k (or -1 before the first start); [from, to) = [start[k],
 * start[k+1]) is the span of timestamps for which k is the answer. */
typedef struct {
    const char *start, *end;
    npy_intp sstep, estep, n, cur;
    npy_int64 from, to, stop;
} tk_cursor;

static void tk_cursor_init(tk_cursor *c, const char *start, npy_intp sstep, const char *end,
                           npy_intp estep, npy_intp n)
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
                                const tk_cursor *, int, npy_int64, npy_int64, npy_intp *);

#if TK_HAVE_AVX2
#include <immintrin.h>
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
                                          const int has_brk, npy_int64 lo, npy_int64 hi,
                                          npy_intp *prev)
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
    const npy_intp osz = mode == TK_SES_INDEX || mode == TK_SES_MINUTES ? 8 : 1;
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
                }
                else if (mode == TK_SES_START) { /* prev: session of the last in-session ts */
                    memset(out, 0, TK_BLK);
                    if (all_in) {
                        out[0] = (char)(*prev != ses->cur);
                        *prev = ses->cur;
                    }
                }
                else if (mode == TK_SES_MINUTES) {
                    const npy_uint64 open = (npy_uint64)ses->from; /* ts >= open: floors */
                    for (int j = 0; j < TK_BLK; j++) {
                        const npy_uint64 d = (npy_uint64)tk_ld_i64(ts + j * 8) - open;
                        tk_st_i64(out + j * 8,
                                  all_in ? (npy_int64)(d / (npy_uint64)TK_NS_PER_MIN) : -1);
                    }
                }
                else {
                    const npy_int64 v = all_in ? cur : -1;
                    for (int j = 0; j < TK_BLK; j++) {
                        tk_st_i64(out + j * 8, v);
                    }
                }
                continue;
            }
        }
        if (mode == TK_SES_START || mode == TK_SES_MINUTES) {
            break; /* a boundary inside: one timestamp at a time */
        }
        /* Answers are written even if the block turns out bad (then redone). */
        npy_int64 bad = 0;
        if (mode == TK_SES_MASK) {
            for (int j = 0; j < TK_BLK; j++) {
                const npy_int64 v = tk_ld_i64(ts + j * 8);
                bad |= (npy_int64)((v < a) | (v > z));
                out[j] = (char)((v < stop) & (v >= bstop));
            }
        }
        else {
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

static TK_ALWAYS_INLINE void tk_sessions(char **args, const npy_intp *dims, const npy_intp *steps,
                                         const int mode, const tk_block_fn block)
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
                                  ? (npy_intp)sizeof(npy_bool)
                                  : (npy_intp)sizeof(npy_int64);
    const int blocks =
        block != NULL && ts_step == (npy_intp)sizeof(npy_int64) && out_step == out_size;

    for (npy_intp k = 0; k < n;) {
        npy_intp run = TK_BLK;
        int eager = 0; /* back to blocks as soon as a cursor moves */
        if (blocks) {
            const npy_intp got = block(ts + k * ts_step, n - k, out + k * out_step, mode, &ses,
                                       &brk, b > 0, lo, hi, &prev);
            k += got;
            /* blocks answered: a boundary is near, then blocks again; none answered
             * (unsorted, NaT, out of range): a longer run without retrying */
            eager = got > 0;
            run = eager ? TK_SCALAR_RUN : 2 * TK_BLK;
        }
        const npy_intp end = n - k > run ? k + run : n;
        const npy_intp cur0 = ses.cur, bcur0 = brk.cur;
        for (; k < end; k++) {
            if (eager && (ses.cur != cur0 || brk.cur != bcur0)) {
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
                tk_st_i64(o, in ? (npy_int64)(((npy_uint64)t - (npy_uint64)ses.from)
                                              / (npy_uint64)TK_NS_PER_MIN)
                                : -1);
                break;
            }
        }
    }
    tk_st_i64(args[8], outside);
}

/* Entry points: the scalar path runs one timestamp at a time (a portable
 * block loop, SSE2 without 64-bit compares, is slower); the AVX2 path adds
 * the block fast path (the scalar loop when the compiler has no AVX2). */
#if TK_HAVE_AVX2
#define TK_SES_BLOCK tk_ses_block_avx2
#else
#define TK_SES_BLOCK NULL
#endif
#define TK_SES_ENTRIES(NAME, MODE)                                                      \
    void tk_##NAME##_i64(char **args, const npy_intp *dims, const npy_intp *steps)      \
    {                                                                                   \
        tk_sessions(args, dims, steps, MODE, NULL);                                     \
    }                                                                                   \
    void tk_##NAME##_i64_avx2(char **args, const npy_intp *dims, const npy_intp *steps) \
    {                                                                                   \
        tk_sessions(args, dims, steps, MODE, TK_SES_BLOCK);                             \
    }

TK_SES_ENTRIES(session_mask, TK_SES_MASK)
TK_SES_ENTRIES(session_index, TK_SES_INDEX)
TK_SES_ENTRIES(session_start, TK_SES_START)
TK_SES_ENTRIES(minutes_into_session, TK_SES_MINUTES)

/* ------------------------------------------------------------------------
 * Sorted path: session_mask_sorted, session_index_sorted,
 * session_start_sorted.  For ts sorted ascending along the core axis, with
 * any NaT first or last (the int64 or the datetime64 sort order), the same
 * answers as the kernels above, found by searching each overlapping
 * session's (and break's) bounds in ts and filling the runs between them:
 * O(sessions overlapping ts x log) timestamps are read, not n.  Searches
 * start from the guess of a regular grid through the first and last
 * timestamp (exact for a fixed bar size), then gallop.
 * Unsorted ts give unspecified answers (the caller promised sortedness),
 * but every read and write stays in bounds: positions are clamped to be
 * non-decreasing within [0, n].
 * ------------------------------------------------------------------------ */

typedef struct {
    const char *ts;
    npy_intp step, n; /* search ts[0..n): n excludes trailing NaT */
    npy_int64 t0;     /* first non-NaT timestamp, at base */
    npy_intp base;
    double per_ns; /* timestamps per ns of the grid guess */
} tk_sorted_ts;

/* Number of ts < t (at least from; ts[from-1] < t already known). */
static npy_intp tk_sorted_pos(const tk_sorted_ts *s, npy_int64 t, npy_intp from)
{
    if (t == TK_NAT || from >= s->n) {
        return from < s->n ? from : s->n;
    }
    const double g = (double)s->base + ((double)t - (double)s->t0) * s->per_ns;
    npy_intp c = from;
    if (g >= (double)s->n) {
        c = s->n;
    }
    else if (g > (double)from) {
        c = (npy_intp)g;
        c += (double)c < g; /* ceil: the count of grid points below t */
    }
    const npy_intp r = tk_count_le(s->ts, s->step, s->n, t - 1, c);
    return r < from ? from : r;
}

/* Answers for ts[*done .. z): "outside" before a, the session row's answer
 * on [a, z) (session_start: only at the session's first timestamp). */
static void tk_fill_run(char *out, npy_intp ostep, int mode, npy_intp *done, npy_intp a, npy_intp z,
                        npy_intp row, int *started)
{
    const npy_intp k0 = *done, k1 = a > k0 ? (a < z ? a : z) : k0; /* outside: [k0, k1) */
    if (mode == TK_SES_INDEX) {
        for (npy_intp k = k0; k < k1; k++) {
            tk_st_i64(out + k * ostep, -1);
        }
        for (npy_intp k = k1; k < z; k++) {
            tk_st_i64(out + k * ostep, (npy_int64)row);
        }
    }
    else {
        for (npy_intp k = k0; k < z; k++) {
            *(npy_bool *)(out + k * ostep) = (npy_bool)(k >= k1 && mode == TK_SES_MASK);
        }
        if (mode == TK_SES_START && k1 < z && !*started) {
            *(npy_bool *)(out + k1 * ostep) = 1;
            *started = 1;
        }
    }
    *done = z > *done ? z : *done;
}

/* The same for contiguous bool output, by memset: mask 1 on [a, z);
 * session_start 1 at a for the session's first run. */
static void tk_fill_bytes(char *out, int mode, npy_intp *done, npy_intp a, npy_intp z, int *started)
{
    if (z <= *done) {
        return;
    }
    a = a > *done ? a : *done;
    memset(out + *done, 0, (size_t)(a - *done));
    memset(out + a, mode == TK_SES_MASK, (size_t)(z - a));
    if (mode == TK_SES_START && a < z && !*started) {
        out[a] = 1;
        *started = 1;
    }
    *done = z;
}

static void tk_sessions_sorted(char **args, const npy_intp *dims, const npy_intp *steps,
                               const int mode)
{
    const npy_intp n = dims[0], s = dims[1], b = dims[2];
    const char *ts = args[0], *opens = args[1], *closes = args[2], *bstarts = args[3],
               *bends = args[4];
    char *out = args[7];
    const npy_intp tstep = steps[0], ostep = steps[5];
    const npy_int64 lo = tk_ld_i64(args[5]), hi = tk_ld_i64(args[6]);

    const int bytes = mode != TK_SES_INDEX && ostep == 1;
    npy_intp done = 0; /* out[0 .. done) is written */
    /* [nat, m): the non-NaT timestamps */
    const npy_intp nat = tk_count_le(ts, tstep, n, TK_NAT, 0);
    npy_intp m = n;
    if (m > nat && tk_ld_i64(ts + (m - 1) * tstep) == TK_NAT) {
        npy_intp l = nat, h = n - 1; /* first of the trailing NaT run in [l, h] */
        while (l < h) {
            const npy_intp mid = l + (h - l) / 2;
            if (tk_ld_i64(ts + mid * tstep) == TK_NAT) {
                h = mid;
            }
            else {
                l = mid + 1;
            }
        }
        m = l;
    }
    if (m <= nat) {
        tk_st_i64(args[8], 0);
        tk_fill_run(out, ostep, mode, &done, n, n, 0, &(int){0});
        return;
    }
    const npy_int64 first = tk_ld_i64(ts + nat * tstep), last = tk_ld_i64(ts + (m - 1) * tstep);
    const double span = (double)last - (double)first; /* 0 when rounding merges them */
    tk_sorted_ts q = {ts, tstep, m, first, nat, span > 0.0 ? (double)(m - 1 - nat) / span : 0.0};
    const npy_intp below = tk_sorted_pos(&q, lo, nat);
    const npy_intp upto = hi == NPY_MAX_INT64 ? m : tk_sorted_pos(&q, hi + 1, below);
    tk_st_i64(args[8], (npy_int64)(below - nat) + (npy_int64)(m - upto));

    npy_intp pos = nat, j = 0;
    for (npy_intp i = tk_count_le(closes, steps[2], s, first, 0); i < s; i++) {
        const npy_int64 open = tk_ld_i64(opens + i * steps[1]);
        const npy_int64 close = tk_ld_i64(closes + i * steps[2]);
        if (open > last) {
            break;
        }
        const npy_intp a = tk_sorted_pos(&q, open, pos);
        const npy_intp z = tk_sorted_pos(&q, close, a);
        pos = z;
        while (j < b && tk_ld_i64(bends + j * steps[4]) <= open) {
            j++; /* breaks of earlier sessions */
        }
        int started = 0;
        npy_intp from = a;
        for (; j < b && tk_ld_i64(bstarts + j * steps[3]) < close; j++) {
            npy_intp u = tk_sorted_pos(&q, tk_ld_i64(bstarts + j * steps[3]), from);
            npy_intp v = tk_sorted_pos(&q, tk_ld_i64(bends + j * steps[4]), u < z ? u : z);
            u = u < z ? u : z;
            if (bytes) {
                tk_fill_bytes(out, mode, &done, from, u, &started);
            }
            else {
                tk_fill_run(out, ostep, mode, &done, from, u, i, &started);
            }
            from = v < z ? v : z;
        }
        if (bytes) {
            tk_fill_bytes(out, mode, &done, from, z, &started);
        }
        else {
            tk_fill_run(out, ostep, mode, &done, from, z, i, &started);
        }
    }
    if (bytes) { /* the rest is outside */
        tk_fill_bytes(out, mode, &done, n, n, &(int){1});
    }
    else {
        tk_fill_run(out, ostep, mode, &done, n, n, 0, &(int){0});
    }
}

#define TK_SES_SORTED_ENTRY(NAME, MODE)                                                   \
    void tk_##NAME##_sorted_i64(char **args, const npy_intp *dims, const npy_intp *steps) \
    {                                                                                     \
        tk_sessions_sorted(args, dims, steps, MODE);                                      \
    }

TK_SES_SORTED_ENTRY(session_mask, TK_SES_MASK)
TK_SES_SORTED_ENTRY(session_index, TK_SES_INDEX)
TK_SES_SORTED_ENTRY(session_start, TK_SES_START)
