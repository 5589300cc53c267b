/* rolling.h - the segment summaries of rolling_max_drawdown (rolling.inc.h
 * states the algorithm and proves it exact), shared by the batch loops
 * (rolling.c) and the live stream (stream.c, RollingMaxDrawdown). */
#ifndef TK_ROLLING_H
#define TK_ROLLING_H
#include "tk_scan.h"
#include <math.h>

/* A segment summary: max and min of its non-NaN bars and its max drawdown
 * (+inf when it has no non-NaN drawdown).  The empty segment (all NaN) is
 * {-inf, +inf, +inf}. */
typedef struct {
    double max, min, mdd;
} tk_seg;

static inline tk_seg tk_seg_empty(void)
{
    tk_seg e = {-INFINITY, INFINITY, INFINITY};
    return e;
}

/* One bar: its drawdown against itself is v / v - 1, which is +0 for every
 * positive finite v (the only bars whose summaries are used: rolling.inc.h). */
static inline tk_seg tk_seg_one(double v)
{
    if (v != v) {
        return tk_seg_empty();
    }
    tk_seg a = {v, v, 0.0};
    return a;
}

/* Prices for which the combination is not exact (rolling.inc.h): zero,
 * negative, +-inf (NaN is fine: the empty segment). */
static inline npy_intp tk_seg_bad(double v)
{
    return (v == v) && !(v > 0.0 && v < INFINITY);
}

static inline double tk_seg_min(double a, double b)
{
    return b < a ? b : a;
}

/* A then B: mdd = min(mdd_A, mdd_B, min_B / max_A - 1).  The quotient is
 * computed only when min_B < max_A: otherwise fl(min_B / max_A) >= 1, the
 * term is >= +0, and mdd_A <= +0 already (a non-empty segment of positive
 * prices has a first bar with drawdown +0, and no drawdown is ever -0:
 * fl(y) - 1 is +0 when fl(y) = 1), so the term cannot change the minimum.
 * (Measured: ~25% less CPU time per bar at windows 20 and 252.) */
static inline tk_seg tk_seg_cat(tk_seg a, tk_seg b)
{
    if (a.max == -INFINITY) { /* empty A (for positive prices) */
        return b;
    }
    if (b.max == -INFINITY) {
        return a;
    }
    tk_seg r;
    r.max = b.max > a.max ? b.max : a.max;
    r.min = tk_seg_min(a.min, b.min);
    r.mdd = tk_seg_min(a.mdd, b.mdd);
    if (b.min < a.max) {
        r.mdd = tk_seg_min(r.mdd, b.min / a.max - 1.0);
    }
    return r;
}

static inline double tk_seg_result(tk_seg a)
{
    return a.mdd == INFINITY ? NAN : a.mdd;
}

#endif /* TK_ROLLING_H */
