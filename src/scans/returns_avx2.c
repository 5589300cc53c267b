/*
 * returns_avx2.c - AVX2 float64 paths for simple_returns and log_returns:
 * bit-identical to the scalar loops in returns.inc.h (one correctly rounded
 * division and subtraction per element, the same as the step function;
 * log_returns: the same correctly rounded ratios, then the same log,
 * tk_log_returns_blocks).  Strided data
 * falls back to the scalar loop.
 */
#include "tk.h"

#if TK_HAVE_AVX2
#include "avx2.h"

/* Simple returns of x[0..n) from the carried previous price *state. */
TK_AVX2 static void sr_avx2(const double *x, double *out, npy_intp n, double *state,
                            npy_intp stream_min)
{
    const int stream = n * (npy_intp)sizeof(double) >= stream_min && ((uintptr_t)out & 7) == 0
                       && (x + n <= out || out + n <= x);
    const npy_intp head = stream ? head_count(out, n) : 0;
    /* The previous element is carried in a register, never re-read, so an
     * out= that aliases x is safe. */
    double p = *state;
    npy_intp i = 0;
    for (; i < head; i++) {
        out[i] = tk_simple_returns_step(&p, x[i]);
    }
    const __m256d one = _mm256_set1_pd(1.0);
    __m256d last = _mm256_set1_pd(p);
    for (; i + 4 <= n; i += 4) {
        const __m256d a = _mm256_loadu_pd(x + i);
        store(out + i, _mm256_sub_pd(_mm256_div_pd(a, shift1(a, last)), one), stream);
        last = last_lane(a);
    }
    if (stream) {
        _mm_sfence();
    }
    p = _mm256_cvtsd_f64(last);
    for (; i < n; i++) {
        out[i] = tk_simple_returns_step(&p, x[i]);
    }
    *state = p;
}

TK_AVX2 void tk_simple_returns_f64_avx2(char **args, const npy_intp *dims, const npy_intp *steps)
{
    if (steps[0] != sizeof(double) || steps[1] != sizeof(double)) {
        tk_simple_returns_f64(args, dims, steps);
        return;
    }
    double p = NAN;
    sr_avx2((const double *)args[0], (double *)args[1], dims[0], &p, tk_call_stream_min(args, 2));
}

/* (n),(k)->(n),(k) */
TK_AVX2 void tk_simple_returns_state_f64_avx2(char **args, const npy_intp *dims,
                                              const npy_intp *steps)
{
    if (steps[0] != sizeof(double) || steps[2] != sizeof(double)) {
        tk_simple_returns_state_f64(args, dims, steps);
        return;
    }
    double p = tk_ld_f64(args[1]);
    sr_avx2((const double *)args[0], (double *)args[2], dims[0], &p, tk_call_stream_min(args, 4));
    tk_st_f64(args[3], p);
}

/* log_returns: the ratios of a contiguous block with 4-lane divisions. */
TK_AVX2 static void lr_ratios_avx2(const char *xc, npy_intp xs, npy_intp m, double prev,
                                   double *restrict buf)
{
    (void)xs; /* contiguous: sizeof(double) */
    const double *x = (const double *)(const void *)xc;
    npy_intp j = 0;
    if (m >= 4) { /* the first 4 over [prev, x0..x2]: whole vectors for m % 4 == 0 */
        const __m256d a = _mm256_loadu_pd(x);
        _mm256_storeu_pd(buf, _mm256_div_pd(a, shift1(a, _mm256_set1_pd(prev))));
        j = 4;
    }
    else {
        buf[0] = tk_ld_f64(xc) / prev;
        j = 1;
    }
    for (; j + 4 <= m; j += 4) {
        _mm256_storeu_pd(buf + j,
                         _mm256_div_pd(_mm256_loadu_pd(x + j), _mm256_loadu_pd(x + j - 1)));
    }
    for (; j < m; j++) {
        buf[j] = tk_ld_f64(xc + j * 8) / tk_ld_f64(xc + (j - 1) * 8);
    }
}

/* The block to a contiguous float64 output: where the run streams, 4 lanes
 * at a time with non-temporal stores; else memcpy. */
TK_AVX2 static void lr_flush_avx2(char *outc, const double *buf, npy_intp m, int stream)
{
    if (!stream) { /* memcpy: fast-string stores write whole lines without reading them */
        tk_log_flush_copy(outc, buf, m, 0);
        return;
    }
    double *out = (double *)(void *)outc;
    const npy_intp head = head_count(out, m);
    npy_intp j = 0;
    for (; j < head; j++) {
        out[j] = buf[j];
    }
    for (; j + 4 <= m; j += 4) {
        store(out + j, _mm256_loadu_pd(buf + j), stream);
    }
    for (; j < m; j++) {
        out[j] = buf[j];
    }
}

TK_AVX2 void tk_log_returns_f64_avx2(char **args, const npy_intp *dims, const npy_intp *steps)
{
    if (steps[0] != sizeof(double)) {
        tk_log_returns_f64(args, dims, steps);
        return;
    }
    double p = NAN;
    if (tk_log_returns_blocks(args[0], steps[0], args[1], steps[1], dims[0], &p,
                              tk_call_log(args, 2), 0, lr_ratios_avx2, lr_flush_avx2,
                              tk_call_stream_min(args, 2))) {
        _mm_sfence();
    }
}

/* (n),(k)->(n),(k) */
TK_AVX2 void tk_log_returns_state_f64_avx2(char **args, const npy_intp *dims, const npy_intp *steps)
{
    if (steps[0] != sizeof(double)) {
        tk_log_returns_state_f64(args, dims, steps);
        return;
    }
    double p = tk_ld_f64(args[1]);
    if (tk_log_returns_blocks(args[0], steps[0], args[2], steps[2], dims[0], &p,
                              tk_call_log(args, 4), 0, lr_ratios_avx2, lr_flush_avx2,
                              tk_call_stream_min(args, 4))) {
        _mm_sfence();
    }
    tk_st_f64(args[3], p);
}

#endif
