/*
 * tk.h - shared declarations for the tradekernels C core.
 *
 * A kernel is a "core function" that handles ONE outer iteration of a
 * generalized ufunc: it receives one pointer per argument, the core
 * dimension sizes and the core strides (bytes; any sign, possibly 0).
 * The NumPy glue (outer loop, type arrays, registration) lives once, in
 * module.c, and is driven by the table there.  Exact semantics of every
 * kernel are stated once, in its pure-Python twin in
 * python/tradekernels/reference.py.
 */
#ifndef TK_H
#define TK_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <numpy/ndarraytypes.h>
#include <math.h>
#include <string.h>

/* One outer iteration: args[k] points at argument k, core_dims are the
 * sizes of the distinct core dimensions (in signature order), core_steps
 * the core strides of every argument that has a core dimension. */
typedef void (*tk_core_fn)(char **args, const npy_intp *core_dims,
                           const npy_intp *core_steps);

/* SIMD code paths.  Every path must produce identical bits. */
enum tk_path { TK_PATH_SCALAR = 0, TK_PATH_AVX2 = 1, TK_NPATH = 2 };

int tk_cpu_has_path(int path);

/* Unaligned-safe loads/stores (compile to plain moves). */
static inline double tk_ld_f64(const char *p) { double v; memcpy(&v, p, sizeof v); return v; }
static inline double tk_ld_f32(const char *p) { float v; memcpy(&v, p, sizeof v); return (double)v; }
static inline void tk_st_f64(char *p, double v) { memcpy(p, &v, sizeof v); }
static inline void tk_st_f32(char *p, double v) { float f = (float)v; memcpy(p, &f, sizeof f); }
static inline void tk_st_i64(char *p, npy_int64 v) { memcpy(p, &v, sizeof v); }

/* Kernel cores, one per dtype (f32 computes in double and rounds once). */
#define TK_DECLARE(name)                                                   \
    void tk_##name##_f32(char **, const npy_intp *, const npy_intp *);     \
    void tk_##name##_f64(char **, const npy_intp *, const npy_intp *)

TK_DECLARE(simple_returns);
TK_DECLARE(log_returns);
TK_DECLARE(cumulative_returns);
TK_DECLARE(drawdown);
TK_DECLARE(max_drawdown);
TK_DECLARE(drawdown_episode);
TK_DECLARE(underwater_bars);

/* AVX2 float64 variants (fall back to scalar on strided data). */
void tk_simple_returns_f64_avx2(char **, const npy_intp *, const npy_intp *);
void tk_drawdown_f64_avx2(char **, const npy_intp *, const npy_intp *);
void tk_max_drawdown_f64_avx2(char **, const npy_intp *, const npy_intp *);

/* Carried state (tk_scan.h has the layouts): <name>_state gufuncs take the
 * state vector (k) as a second input and output the final state (k) last;
 * stream.c checks k (process_core_dims_func) and has the live objects. */
TK_DECLARE(simple_returns_state);
TK_DECLARE(log_returns_state);
TK_DECLARE(cumulative_returns_state);
TK_DECLARE(drawdown_state);
TK_DECLARE(max_drawdown_state);
TK_DECLARE(drawdown_episode_state);
TK_DECLARE(underwater_bars_state);
void tk_simple_returns_state_f64_avx2(char **, const npy_intp *, const npy_intp *);
void tk_drawdown_state_f64_avx2(char **, const npy_intp *, const npy_intp *);
void tk_max_drawdown_state_f64_avx2(char **, const npy_intp *, const npy_intp *);
struct _tagPyUFuncObject;
int tk_simple_returns_state_dims(struct _tagPyUFuncObject *, npy_intp *);
int tk_log_returns_state_dims(struct _tagPyUFuncObject *, npy_intp *);
int tk_cumulative_returns_state_dims(struct _tagPyUFuncObject *, npy_intp *);
int tk_drawdown_state_dims(struct _tagPyUFuncObject *, npy_intp *);
int tk_max_drawdown_state_dims(struct _tagPyUFuncObject *, npy_intp *);
int tk_drawdown_episode_state_dims(struct _tagPyUFuncObject *, npy_intp *);
int tk_underwater_bars_state_dims(struct _tagPyUFuncObject *, npy_intp *);
int tk_stream_add_types(PyObject *module);

/* Order fills (fills.c): float64 loops only.  The *_dims functions are the
 * ufuncs' process_core_dims_func (they validate / set the block sizes). */
struct _tagPyUFuncObject;
void tk_bar_index_f64(char **, const npy_intp *, const npy_intp *);
void tk_fill_orders_f64(char **, const npy_intp *, const npy_intp *);
void tk_fill_orders_naive_f64(char **, const npy_intp *, const npy_intp *);
int tk_bar_index_dims(struct _tagPyUFuncObject *, npy_intp *);
int tk_fill_orders_dims(struct _tagPyUFuncObject *, npy_intp *);

/* Trading sessions (sessions.c): one int64 loop each, signature
 * (n),(s),(s),(b),(b),(),()->(n),(); see sessions.c. */
void tk_session_mask_i64(char **, const npy_intp *, const npy_intp *);
void tk_session_index_i64(char **, const npy_intp *, const npy_intp *);
void tk_session_mask_i64_avx2(char **, const npy_intp *, const npy_intp *);
void tk_session_index_i64_avx2(char **, const npy_intp *, const npy_intp *);
void tk_session_start_i64(char **, const npy_intp *, const npy_intp *);
void tk_session_start_i64_avx2(char **, const npy_intp *, const npy_intp *);
void tk_minutes_into_session_i64(char **, const npy_intp *, const npy_intp *);
void tk_minutes_into_session_i64_avx2(char **, const npy_intp *, const npy_intp *);
/* Sorted-input variants (same signature; see sessions.c "Sorted path"). */
void tk_session_mask_sorted_i64(char **, const npy_intp *, const npy_intp *);
void tk_session_index_sorted_i64(char **, const npy_intp *, const npy_intp *);
void tk_session_start_sorted_i64(char **, const npy_intp *, const npy_intp *);

#endif
