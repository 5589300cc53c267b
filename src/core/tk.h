/*
 * tk.h - shared declarations for the tradekernels C core.
 *
 * A kernel is a "core function" that handles ONE outer iteration of a
 * generalized ufunc: it receives one pointer per argument, the core
 * dimension sizes and the core strides (bytes; any sign, possibly 0).
 * Kernels are declared in src/<family>/kernels.toml; tools/gen_table.py
 * writes the table (tk_kernels[]) from them, and src/core/module.c, the
 * NumPy glue written once, turns each row into a numpy.ufunc.  Exact
 * semantics of every kernel are stated once, in its pure-Python twin
 * (tradekernels.<family>.reference).
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
typedef void (*tk_core_fn)(char **args, const npy_intp *core_dims, const npy_intp *core_steps);

/* SIMD code paths.  Every path must produce identical bits.  A path is
 * compiled where the compiler can target it (TK_HAVE_<PATH>) and used where
 * the CPU runs it (tk_cpu_has_path).  avx512_emu is the AVX-512 kernels'
 * source compiled a second time against SIMDe (SIMD Everywhere, baseline
 * ISA): it runs the AVX-512 algorithm on any CPU, so the tests check its
 * bits everywhere.  A kernel without cores of its own for a path uses those
 * of the path's fallback (tk_path_fallback in module.c). */
enum tk_path {
    TK_PATH_SCALAR = 0,
    TK_PATH_AVX2 = 1,
    TK_PATH_AVX512 = 2,
    TK_PATH_AVX512_EMU = 3,
    TK_NPATH = 4
};

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define TK_HAVE_AVX2 1
#define TK_IF_AVX2(...) __VA_ARGS__
#define TK_HAVE_AVX512 1
#define TK_IF_AVX512(...) __VA_ARGS__
#else
#define TK_HAVE_AVX2 0
#define TK_IF_AVX2(...)
#define TK_HAVE_AVX512 0
#define TK_IF_AVX512(...)
#endif

/* TK_HAVE_SIMDE: set by CMake when SIMDe's headers were found. */
#if defined(TK_HAVE_SIMDE) && TK_HAVE_SIMDE
#define TK_HAVE_AVX512_EMU 1
#define TK_IF_AVX512_EMU(...) __VA_ARGS__
#else
#define TK_HAVE_AVX512_EMU 0
#define TK_IF_AVX512_EMU(...)
#endif

int tk_cpu_has_path(int path);

/* Hand-written SSE2 (x86-64 baseline, so never checked at run time) outside
 * the per-path cores of the scans: the drawdowns records' inside-episode
 * scan (scans/records.c), the BarIndex build and the exits' trailing-search
 * fold (fills/fills.c).  Compiled where the compiler targets SSE2, next to
 * their portable scalar loops, which are always compiled; the SIMD paths run
 * the SSE2 code and the scalar path the scalar loops (tk_drawdowns_code,
 * tk_fills_code; ufuncs.py's module doc has the table). */
#ifdef __SSE2__
#define TK_HAVE_SSE2 1
#else
#define TK_HAVE_SSE2 0
#endif

/* Non-temporal stores: the smallest output (bytes, written in one pass next
 * to an input of the same size) that bypasses the caches: where input and
 * output together exceed the last-level cache this core shares, at least
 * 1 MiB.  Detected when the ufuncs are made (cpu.c: CPUID, which may trap
 * to a hypervisor, so never per call) and handed to the cores in their loop
 * data (tk_call_stream_min). */
npy_intp tk_stream_min_bytes(void);
/* The smallest streaming threshold make_ufuncs(path, stream_min) takes: a streamed
 * output is longer than any head loop to an aligned store. */
#define TK_STREAM_MIN_OVERRIDE 4096

/* One row of the generated table (tools/gen_table.py): a declared kernel or
 * the <name>_state variant derived from its carried state. */
struct _tagPyUFuncObject;
typedef int (*tk_dims_fn)(struct _tagPyUFuncObject *, npy_intp *);
typedef struct tk_kernel {
    const char *name, *family, *signature, *doc;
    const char *reference; /* twin: tradekernels.<family>.reference.<reference> */
    const char *base;      /* for a _state variant: the declared kernel, else "" */
    const char *stream;    /* class of tradekernels.stream, or "" */
    const char *simd;      /* comma-separated paths with their own cores */
    int nin, nout, nloops, ulps, nstate;
    const char *types;     /* nloops x (nin + nout) NumPy type numbers */
    void **data[TK_NPATH]; /* per path: nloops tk_loop_data pointers (NULL: the scalar ones) */
    const char *const *state_fields;
    const double *state_default;
    tk_dims_fn core_dims; /* process_core_dims_func, or NULL */
} tk_kernel;

/* A NumPy inner loop (the shape of PyUFuncGenericFunction) and its data:
 * numpy.log's float64 ("d->d") loop, the vectorised log that log_returns
 * applies to its ratios (returns.c).  Found at run time, from the numpy.log
 * ufunc object, by tk_numpy_log (module.c); where that fails, tk_log_libm
 * (returns.c: the C library's log per element). */
typedef void (*tk_np_loop_fn)(char **args, const npy_intp *dims, const npy_intp *steps, void *data);
typedef struct {
    tk_np_loop_fn fn;
    void *data;
} tk_log_loop;

/* tk_numpy_log(&lg): numpy.log's float64 loop, or tk_log_libm when numpy.log
 * has none (never fails; needs the GIL). */
void tk_numpy_log(tk_log_loop *lg);
void tk_log_libm(char **args, const npy_intp *dims, const npy_intp *steps, void *data);

/* The data of one ufunc loop: its core, the ufunc's argument count and row;
 * stream_min and log are filled in per ufunc by make_ufuncs (module.c),
 * zero in the generated table. */
typedef struct {
    tk_core_fn fn;
    int nargs;
    const tk_kernel *kernel;
    npy_intp stream_min;
    tk_log_loop log;
} tk_loop_data;

/* The outer loop passes its loop data after a core's arguments: args[nargs]
 * (nargs: the ufunc's argument count).  A core that writes with streaming
 * stores reads the threshold there. */
static inline npy_intp tk_call_stream_min(char **args, int nargs)
{
    const tk_loop_data *ld = (const tk_loop_data *)(const void *)args[nargs];
    return ld->stream_min;
}

/* The vectorised log a core applies (log_returns), from the same loop data. */
static inline const tk_log_loop *tk_call_log(char **args, int nargs)
{
    const tk_loop_data *ld = (const tk_loop_data *)(const void *)args[nargs];
    return &ld->log;
}

extern const tk_kernel tk_kernels[];
extern const int tk_nkernels;

/* process_core_dims_func of every <name>_state gufunc (module.c): the state
 * vector (core dimension k, the second distinct one) has the row's nstate. */
int tk_state_dims(struct _tagPyUFuncObject *uf, npy_intp *sizes);

/* The kernel name of a ufunc made by make_ufuncs (module.c; for the error
 * messages of the process_core_dims_func hooks). */
const char *tk_ufunc_name(struct _tagPyUFuncObject *uf);

/* Unaligned-safe loads/stores (compile to plain moves). */
static inline double tk_ld_f64(const char *p)
{
    double v;
    memcpy(&v, p, sizeof v);
    return v;
}
static inline double tk_ld_f32(const char *p)
{
    float v;
    memcpy(&v, p, sizeof v);
    return (double)v;
}
static inline void tk_st_f64(char *p, double v)
{
    memcpy(p, &v, sizeof v);
}
static inline void tk_st_f32(char *p, double v)
{
    float f = (float)v;
    memcpy(p, &f, sizeof f);
}
static inline void tk_st_i64(char *p, npy_int64 v)
{
    memcpy(p, &v, sizeof v);
}

/* The prototype of every core and core-size hook (generated). */
#include "tk_cores.h"

/* Module-level objects defined by the families. */
int tk_stream_add_types(PyObject *module);
int tk_fills_add_constants(PyObject *module);
int tk_fills_add_exit_constants(PyObject *module);
int tk_fills_add_live(PyObject *module);
int tk_sessions_add_live(PyObject *module); /* sessions/live.c */

/* drawdowns records (scans/records.c): the records of every row, as a
 * malloc'ed buffer of TK_DD_RECORD_SIZE-byte records; -1 when out of memory.
 * path: the SIMD path (tk_parse_path checked that the CPU runs it), which
 * picks the inside-episode scan, named by tk_drawdowns_code(path): "scalar",
 * "sse2" or "avx2" (the same records on every path). */
#define TK_DD_RECORD_SIZE 96
#define TK_DD_STATE_LEN 7
int tk_drawdowns_collect(const char *data, npy_intp rows, npy_intp n, npy_intp rstep, npy_intp step,
                         int f32, double *state, int final, int path, void **out, npy_intp *len);
const char *tk_drawdowns_code(int path);

/* The fills kernels with SSE2 code (NULL-terminated: bar_index,
 * exit_orders, trades_from_signals) and the code of their cores for `path`
 * (fills.c: tk_fills_sse2): "sse2" or "scalar". */
extern const char *const tk_fills_sse2_kernels[];
const char *tk_fills_code(int path);

#endif
