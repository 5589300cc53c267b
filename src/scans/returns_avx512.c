/*
 * returns_avx512.c - AVX-512 float64 paths for simple_returns and
 * log_returns: bit-identical to the scalar loops in returns.inc.h (one
 * correctly rounded division and subtraction per element, as the step
 * function; log_returns: the same correctly rounded ratios, then the same
 * log, tk_log_returns_blocks).  Compiled natively and a
 * second time against SIMDe (returns_avx512_emu.c; see avx512.h).  Strided
 * data falls back to the scalar loop.
 */
#include "tk.h"

#if (defined(TK_AVX512_EMU) && TK_HAVE_AVX512_EMU) || (!defined(TK_AVX512_EMU) && TK_HAVE_AVX512)
#include "avx512.h"

/* Simple returns of x[0..n) from the carried previous price *state. */
TK_AVX512 static void sr_avx512(const double *x, double *out, npy_intp n, double *state,
                                npy_intp stream_min)
{
    const int stream = n * (npy_intp)sizeof(double) >= stream_min && ((uintptr_t)out & 7) == 0
                       && (x + n <= out || out + n <= x);
    const npy_intp head = stream ? head_count8(out, n) : 0;
    /* The previous element is carried in a register, never re-read, so an
     * out= that aliases x is safe. */
    double p = *state;
    npy_intp i = 0;
    for (; i < head; i++) {
        out[i] = tk_simple_returns_step(&p, x[i]);
    }
    const __m512d one = _mm512_set1_pd(1.0);
    __m512d last = _mm512_set1_pd(p);
    for (; i + 8 <= n; i += 8) {
        const __m512d a = _mm512_loadu_pd(x + i);
        store8(out + i, _mm512_sub_pd(_mm512_div_pd(a, shift8(a, last, 1)), one), stream);
        last = last_lane8(a);
    }
    stream_fence(stream);
    p = lane0(last);
    for (; i < n; i++) {
        out[i] = tk_simple_returns_step(&p, x[i]);
    }
    *state = p;
}

TK_AVX512 void TK_V512(tk_simple_returns_f64)(char **args, const npy_intp *dims,
                                              const npy_intp *steps)
{
    if (steps[0] != sizeof(double) || steps[1] != sizeof(double)) {
        tk_simple_returns_f64(args, dims, steps);
        return;
    }
    double p = NAN;
    sr_avx512((const double *)args[0], (double *)args[1], dims[0], &p, tk_call_stream_min(args, 2));
}

/* (n),(k)->(n),(k) */
TK_AVX512 void TK_V512(tk_simple_returns_state_f64)(char **args, const npy_intp *dims,
                                                    const npy_intp *steps)
{
    if (steps[0] != sizeof(double) || steps[2] != sizeof(double)) {
        tk_simple_returns_state_f64(args, dims, steps);
        return;
    }
    double p = tk_ld_f64(args[1]);
    sr_avx512((const double *)args[0], (double *)args[2], dims[0], &p, tk_call_stream_min(args, 4));
    tk_st_f64(args[3], p);
}

/* log_returns: the ratios of a contiguous block with 8-lane divisions. */
TK_AVX512 static void lr_ratios_avx512(const char *xc, npy_intp xs, npy_intp m, double prev,
                                       double *restrict buf)
{
    (void)xs; /* contiguous: sizeof(double) */
    const double *x = (const double *)(const void *)xc;
    npy_intp j = 0;
    if (m >= 8) { /* the first 8 over [prev, x0..x6]: whole vectors for m % 8 == 0 */
        const __m512d a = _mm512_loadu_pd(x);
        _mm512_storeu_pd(buf, _mm512_div_pd(a, shift8(a, _mm512_set1_pd(prev), 1)));
        j = 8;
    }
    else {
        buf[0] = tk_ld_f64(xc) / prev;
        j = 1;
    }
    for (; j + 8 <= m; j += 8) {
        _mm512_storeu_pd(buf + j,
                         _mm512_div_pd(_mm512_loadu_pd(x + j), _mm512_loadu_pd(x + j - 1)));
    }
    for (; j < m; j++) {
        buf[j] = tk_ld_f64(xc + j * 8) / tk_ld_f64(xc + (j - 1) * 8);
    }
}

/* The block to a contiguous float64 output: where the run streams, 8 lanes
 * at a time with non-temporal stores (store8: plain stores in the emulated
 * build); else memcpy. */
TK_AVX512 static void lr_flush_avx512(char *outc, const double *buf, npy_intp m, int stream)
{
    if (!stream) { /* memcpy: fast-string stores write whole lines without reading them */
        tk_log_flush_copy(outc, buf, m, 0);
        return;
    }
    double *out = (double *)(void *)outc;
    const npy_intp head = head_count8(out, m);
    npy_intp j = 0;
    for (; j < head; j++) {
        out[j] = buf[j];
    }
    for (; j + 8 <= m; j += 8) {
        store8(out + j, _mm512_loadu_pd(buf + j), stream);
    }
    for (; j < m; j++) {
        out[j] = buf[j];
    }
}

TK_AVX512 void TK_V512(tk_log_returns_f64)(char **args, const npy_intp *dims, const npy_intp *steps)
{
    if (steps[0] != sizeof(double)) {
        tk_log_returns_f64(args, dims, steps);
        return;
    }
    double p = NAN;
    stream_fence(tk_log_returns_blocks(args[0], steps[0], args[1], steps[1], dims[0], &p,
                                       tk_call_log(args, 2), 0, lr_ratios_avx512, lr_flush_avx512,
                                       tk_call_stream_min(args, 2)));
}

/* (n),(k)->(n),(k) */
TK_AVX512 void TK_V512(tk_log_returns_state_f64)(char **args, const npy_intp *dims,
                                                 const npy_intp *steps)
{
    if (steps[0] != sizeof(double)) {
        tk_log_returns_state_f64(args, dims, steps);
        return;
    }
    double p = tk_ld_f64(args[1]);
    stream_fence(tk_log_returns_blocks(args[0], steps[0], args[2], steps[2], dims[0], &p,
                                       tk_call_log(args, 4), 0, lr_ratios_avx512, lr_flush_avx512,
                                       tk_call_stream_min(args, 4)));
    tk_st_f64(args[3], p);
}

#endif
