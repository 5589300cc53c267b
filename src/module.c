/*
 * module.c - the NumPy glue, written once.
 *
 * Every kernel is one row of tk_specs[] below: name, gufunc signature,
 * type list per loop (float32 loop first so NumPy picks it for float32),
 * and one core function per (SIMD path, loop).  make_ufuncs(path) turns
 * the table into numpy.ufunc objects.  The generic outer loop walks the
 * broadcast (non-core) dimensions and calls the core function; NumPy
 * releases the GIL around it because no loop touches Python objects.
 * Kernels are NaN-aware and follow IEEE rules (x/0 = inf, 0/0 = NaN): the
 * outer loop restores the floating-point flags, so they never make NumPy
 * emit "invalid value" / "divide by zero" warnings, on any SIMD path.
 *
 * There is no mutable global state: the chosen SIMD path is baked into
 * each ufunc's static data array at creation time.
 */
/* NumPy >= 2.1 API (pyproject requires it): needed for the ufunc field
 * process_core_dims_func (set for the fills kernels).  Only this file
 * touches the ufunc struct, so only this file needs the newer target. */
#define NPY_TARGET_VERSION 0x00000013 /* NPY_2_1_API_VERSION */
#include "tk.h"
#include <fenv.h>
#include <numpy/ndarrayobject.h>
#include <numpy/ufuncobject.h>

#define TK_MAXLOOPS 2
#define TK_MAXARGS 17

/* Types of the loops: float32 first, then float64. */
#define TK_F_F {NPY_FLOAT, NPY_FLOAT, NPY_DOUBLE, NPY_DOUBLE}
#define TK_F_I {NPY_FLOAT, NPY_INT64, NPY_DOUBLE, NPY_INT64}
#define TK_F_IIIF {NPY_FLOAT, NPY_INT64, NPY_INT64, NPY_INT64, NPY_FLOAT, \
                   NPY_DOUBLE, NPY_INT64, NPY_INT64, NPY_INT64, NPY_DOUBLE}
/* Carried-state rows: x, state (always float64) -> outputs, state. */
#define TK_S NPY_DOUBLE
#define TK_FS_FS {NPY_FLOAT, TK_S, NPY_FLOAT, TK_S, NPY_DOUBLE, TK_S, NPY_DOUBLE, TK_S}
#define TK_FS_IS {NPY_FLOAT, TK_S, NPY_INT64, TK_S, NPY_DOUBLE, TK_S, NPY_INT64, TK_S}
#define TK_FS_IIIFS {NPY_FLOAT, TK_S, NPY_INT64, NPY_INT64, NPY_INT64, NPY_FLOAT, TK_S, \
                     NPY_DOUBLE, TK_S, NPY_INT64, NPY_INT64, NPY_INT64, NPY_DOUBLE, TK_S}
#define TK_SCAN_STATE_SIG "(n),(k)->(n),(k)"

/* Fills (float64 only, one loop): D = float64, L = int64 order fields. */
#define TK_D NPY_DOUBLE
#define TK_L NPY_INT64
#define TK_BAR_INDEX_TYPES {TK_D, TK_D, TK_D, TK_D, TK_D, TK_D, TK_D, TK_D, TK_D, TK_D, TK_D, TK_D}
#define TK_FILL_TYPES {TK_D, TK_D, TK_D, TK_D, TK_D, TK_D, TK_D, TK_D, TK_D, \
                       TK_L, TK_L, TK_L, TK_D, TK_D, TK_L, TK_L, TK_D}
#define TK_FILL_NAIVE_TYPES {TK_D, TK_D, TK_D, TK_D, TK_L, TK_L, TK_L, TK_D, TK_D, TK_L, TK_L, TK_D}

/* Sessions (int64 only, one loop): ts, open, close, break start/end, lo, hi -> out, n_outside. */
#define TK_SES_BOOL_TYPES {TK_L, TK_L, TK_L, TK_L, TK_L, TK_L, TK_L, NPY_BOOL, TK_L}
#define TK_SES_INT_TYPES {TK_L, TK_L, TK_L, TK_L, TK_L, TK_L, TK_L, TK_L, TK_L}
#define TK_SES_SIG "(n),(s),(s),(b),(b),(),()->(n),()"

/* Core functions as ufunc data (the NumPy convention, e.g. umath's
 * (void *)npy_sin): a row per path, a column per loop. */
#define TK_CORE(fn) ((void *)(fn))
#define TK_ALL_PATHS(name)                                                 \
    {[TK_PATH_SCALAR] = {TK_CORE(tk_##name##_f32), TK_CORE(tk_##name##_f64)}, \
     [TK_PATH_AVX2] = {TK_CORE(tk_##name##_f32), TK_CORE(tk_##name##_f64)}}
#define TK_WITH_AVX2(name)                                                 \
    {[TK_PATH_SCALAR] = {TK_CORE(tk_##name##_f32), TK_CORE(tk_##name##_f64)}, \
     [TK_PATH_AVX2] = {TK_CORE(tk_##name##_f32), TK_CORE(tk_##name##_f64_avx2)}}
#define TK_I64_ONLY(name)                                                  \
    {[TK_PATH_SCALAR] = {TK_CORE(tk_##name##_i64)}, [TK_PATH_AVX2] = {TK_CORE(tk_##name##_i64)}}
#define TK_I64_WITH_AVX2(name)                                             \
    {[TK_PATH_SCALAR] = {TK_CORE(tk_##name##_i64)}, [TK_PATH_AVX2] = {TK_CORE(tk_##name##_i64_avx2)}}
#define TK_F64_ONLY(name)                                                  \
    {[TK_PATH_SCALAR] = {TK_CORE(tk_##name##_f64)}, [TK_PATH_AVX2] = {TK_CORE(tk_##name##_f64)}}

typedef struct {
    const char *name;
    const char *signature;
    int nin, nout;
    char types[TK_MAXLOOPS * TK_MAXARGS];
    void *const data[TK_NPATH][TK_MAXLOOPS];
    const char *doc;
    /* Optional check (or setting of output-only sizes) of the core
     * dimensions: the ufunc's process_core_dims_func (NumPy >= 2.1). */
    PyUFunc_ProcessCoreDimsFunc *core_dims;
} tk_spec;

#define TK_DOC(summary) summary "\n\nExact semantics: tradekernels.reference."
#define TK_DOC_SES(summary) summary "\n\nExact semantics: tradekernels.reference_sessions."

static const tk_spec tk_specs[] = {
    {"simple_returns", "(n)->(n)", 1, 1, TK_F_F, TK_WITH_AVX2(simple_returns),
     TK_DOC("Simple returns x[i]/x[i-1] - 1 along the core axis (r[0] = NaN).") "simple_returns", NULL},
    {"log_returns", "(n)->(n)", 1, 1, TK_F_F, TK_ALL_PATHS(log_returns),
     TK_DOC("Log returns log(x[i]/x[i-1]) along the core axis (r[0] = NaN).") "log_returns", NULL},
    {"cumulative_returns", "(n)->(n)", 1, 1, TK_F_F, TK_ALL_PATHS(cumulative_returns),
     TK_DOC("Compounded return prod(1 + r) - 1, NaN returns count as 0.") "cumulative_returns", NULL},
    {"drawdown", "(n)->(n)", 1, 1, TK_F_F, TK_WITH_AVX2(drawdown),
     TK_DOC("Drawdown x[i] / running_max(x) - 1; NaN stays NaN.") "drawdown", NULL},
    {"max_drawdown", "(n)->()", 1, 1, TK_F_F, TK_WITH_AVX2(max_drawdown),
     TK_DOC("Maximum drawdown: the minimum of the drawdown series, NaN ignored.") "max_drawdown", NULL},
    {"drawdown_episode", "(n)->(),(),(),()", 1, 4, TK_F_IIIF, TK_ALL_PATHS(drawdown_episode),
     TK_DOC("Peak, trough and recovery index (int64) and depth of the maximum drawdown.")
     "drawdown_episode", NULL},
    {"underwater_bars", "(n)->(n)", 1, 1, TK_F_I, TK_ALL_PATHS(underwater_bars),
     TK_DOC("Bars since the last bar at or above the running peak (int64).") "underwater_bars", NULL},
    {"simple_returns_state", TK_SCAN_STATE_SIG, 2, 2, TK_FS_FS, TK_WITH_AVX2(simple_returns_state),
     TK_DOC("simple_returns from a carried state [prev]; also returns the final state.")
     "simple_returns",
     tk_simple_returns_state_dims},
    {"log_returns_state", TK_SCAN_STATE_SIG, 2, 2, TK_FS_FS, TK_ALL_PATHS(log_returns_state),
     TK_DOC("log_returns from a carried state [prev]; also returns the final state.") "log_returns",
     tk_log_returns_state_dims},
    {"cumulative_returns_state", TK_SCAN_STATE_SIG, 2, 2, TK_FS_FS,
     TK_ALL_PATHS(cumulative_returns_state),
     TK_DOC("cumulative_returns from a carried state [prod]; also returns the final state.")
     "cumulative_returns",
     tk_cumulative_returns_state_dims},
    {"drawdown_state", TK_SCAN_STATE_SIG, 2, 2, TK_FS_FS, TK_WITH_AVX2(drawdown_state),
     TK_DOC("drawdown from a carried state [peak]; also returns the final state.") "drawdown",
     tk_drawdown_state_dims},
    {"max_drawdown_state", "(n),(k)->(),(k)", 2, 2, TK_FS_FS, TK_WITH_AVX2(max_drawdown_state),
     TK_DOC("max_drawdown of everything seen so far, from a carried state [peak, best, seen]; "
            "also returns the final state.") "max_drawdown",
     tk_max_drawdown_state_dims},
    {"drawdown_episode_state", "(n),(k)->(),(),(),(),(k)", 2, 5, TK_FS_IIIFS,
     TK_ALL_PATHS(drawdown_episode_state),
     TK_DOC("drawdown_episode of everything seen so far (global indices), from a carried state "
            "(9 floats); also returns the final state.") "drawdown_episode",
     tk_drawdown_episode_state_dims},
    {"underwater_bars_state", TK_SCAN_STATE_SIG, 2, 2, TK_FS_IS, TK_ALL_PATHS(underwater_bars_state),
     TK_DOC("underwater_bars from a carried state [peak, count]; also returns the final state.")
     "underwater_bars",
     tk_underwater_bars_state_dims},
    {"bar_index", "(n),(n),(n),(n)->(n),(n),(n),(n),(m),(m),(k),(k)", 4, 8, TK_BAR_INDEX_TYPES,
     TK_F64_ONLY(bar_index),
     TK_DOC("Search summaries of OHLC bars for fill_orders: fill_low, fill_high (NaN on bars with "
            "a NaN price), suffix_min_low, suffix_max_high, block (64 bars) and super-block (4096 "
            "bars) min low / max high.") "fill_orders",
     tk_bar_index_dims},
    {"fill_orders", "(n),(n),(n),(n),(n),(m),(m),(k),(k),(o),(o),(o),(o),(o),(o)->(o),(o)", 15, 2,
     TK_FILL_TYPES, TK_F64_ONLY(fill_orders),
     TK_DOC("First fills (index int64, price) of o orders (start, side, kind, price, limit, expiry: "
            "1-D arrays of one length o, a core dimension) given open and the 8 bar_index arrays; "
            "skips blocks that cannot fill and prefetches the start bars of later orders.")
     "fill_orders",
     tk_fill_orders_dims},
    {"fill_orders_naive", "(n),(n),(n),(n),(),(),(),(),(),()->(),()", 10, 2, TK_FILL_NAIVE_TYPES,
     TK_F64_ONLY(fill_orders_naive),
     TK_DOC("fill_orders by a bar-by-bar scan of open, high, low, close (no index).") "fill_orders", NULL},
    {"session_mask", TK_SES_SIG, 7, 2, TK_SES_BOOL_TYPES, TK_I64_WITH_AVX2(session_mask),
     TK_DOC_SES("In a trading session (open <= ts < close, not in a break), bool; plus the number of "
            "timestamps outside the table's range [lo, hi].") "session_mask", NULL},
    {"session_index", TK_SES_SIG, 7, 2, TK_SES_INT_TYPES, TK_I64_WITH_AVX2(session_index),
     TK_DOC_SES("Row of the session table containing ts (int64, -1 outside); plus the outside count.")
     "session_index", NULL},
    {"session_start", TK_SES_SIG, 7, 2, TK_SES_BOOL_TYPES, TK_I64_WITH_AVX2(session_start),
     TK_DOC_SES("First in-session timestamp of each session along the core axis (bool); plus the "
            "outside count.") "session_start", NULL},
    {"minutes_into_session", TK_SES_SIG, 7, 2, TK_SES_INT_TYPES, TK_I64_WITH_AVX2(minutes_into_session),
     TK_DOC_SES("Whole minutes since the session open (int64, -1 outside); plus the outside count.")
     "minutes_into_session", NULL},
    {"session_mask_sorted", TK_SES_SIG, 7, 2, TK_SES_BOOL_TYPES, TK_I64_ONLY(session_mask_sorted),
     TK_DOC_SES("session_mask for ts sorted ascending along the core axis (NaT first or last): "
                "searches the session bounds in ts and fills runs, reading O(sessions x log n) "
                "timestamps. Unsorted ts: unspecified answers (never an out-of-bounds access).")
     "session_mask", NULL},
    {"session_index_sorted", TK_SES_SIG, 7, 2, TK_SES_INT_TYPES, TK_I64_ONLY(session_index_sorted),
     TK_DOC_SES("session_index for sorted ts (see session_mask_sorted).") "session_index", NULL},
    {"session_start_sorted", TK_SES_SIG, 7, 2, TK_SES_BOOL_TYPES, TK_I64_ONLY(session_start_sorted),
     TK_DOC_SES("session_start for sorted ts (see session_mask_sorted).") "session_start", NULL},
};

#define TK_NSPECS ((int)(sizeof(tk_specs) / sizeof(tk_specs[0])))

/* A row registers its loops up to the first NULL core (fills: one loop). */
static int tk_nloops(const tk_spec *s, int path)
{
    int k = 0;
    while (k < TK_MAXLOOPS && s->data[path][k] != NULL) {
        k++;
    }
    return k;
}

/* The one outer loop: broadcast dimension dims[0], then the core call. */
/* NumPy releases the GIL around a gufunc's loop only when the outer
 * iteration count is large (a (n)->() reduction over a few long rows would
 * run holding it), so the loop releases it itself when it still holds it
 * and the call has at least TK_GIL_WORK core elements.  The cores never
 * touch Python objects. */
#define TK_GIL_WORK 8192.0
#if PY_VERSION_HEX >= 0x030D0000
#define TK_HOLDS_GIL() (PyThreadState_GetUnchecked() != NULL) /* this thread's, thread-local */
#elif PY_VERSION_HEX >= 0x030C0000
#define TK_HOLDS_GIL() (_PyThreadState_UncheckedGet() != NULL) /* thread-local since 3.12 */
#else
/* Before 3.12 the "current" thread state is runtime-wide (the GIL holder's):
 * this thread holds the GIL iff it is this thread's own state.  (What
 * PyGILState_Check does, minus its "always 1" once a subinterpreter exists.) */
static inline int tk_holds_gil(void)
{
    PyThreadState *mine = PyGILState_GetThisThreadState();
    return mine != NULL && mine == _PyThreadState_UncheckedGet();
}
#define TK_HOLDS_GIL() tk_holds_gil()
#endif

static inline void tk_outer(int nargs, char **args, const npy_intp *dims,
                            const npy_intp *steps, void *data)
{
    const tk_core_fn core = (tk_core_fn)data;
    char *p[TK_MAXARGS];
    PyThreadState *held = NULL; /* every kernel has a first core dimension: dims[1] */
    if ((double)dims[0] * (double)dims[1] >= TK_GIL_WORK && TK_HOLDS_GIL()) {
        held = PyEval_SaveThread();
    }
    fenv_t env;
    feholdexcept(&env);
    for (npy_intp i = 0; i < dims[0]; i++) {
        for (int k = 0; k < nargs; k++) {
            p[k] = args[k] + i * steps[k];
        }
        core(p, dims + 1, steps + nargs);
    }
    fesetenv(&env);
    if (held != NULL) {
        PyEval_RestoreThread(held);
    }
}

#define TK_DEFINE_LOOP(NARGS)                                                  \
    static void tk_loop##NARGS(char **args, npy_intp const *dims,              \
                               npy_intp const *steps, void *data)              \
    {                                                                          \
        tk_outer(NARGS, args, dims, steps, data);                              \
    }                                                                          \
    static PyUFuncGenericFunction tk_funcs##NARGS[TK_MAXLOOPS] = {tk_loop##NARGS, tk_loop##NARGS};

TK_DEFINE_LOOP(2)
TK_DEFINE_LOOP(4)
TK_DEFINE_LOOP(5)
TK_DEFINE_LOOP(7)
TK_DEFINE_LOOP(9)
TK_DEFINE_LOOP(12)
TK_DEFINE_LOOP(17)

static PyUFuncGenericFunction *tk_funcs_for(int nargs)
{
    switch (nargs) {
    case 2: return tk_funcs2;
    case 4: return tk_funcs4;
    case 5: return tk_funcs5;
    case 7: return tk_funcs7;
    case 9: return tk_funcs9;
    case 12: return tk_funcs12;
    case 17: return tk_funcs17;
    default: return NULL;
    }
}

static const char *const tk_path_names[TK_NPATH] = {"scalar", "avx2"};

static int tk_parse_path(PyObject *arg)
{
    const char *s = PyUnicode_AsUTF8(arg);
    if (s == NULL) {
        return -1;
    }
    for (int p = 0; p < TK_NPATH; p++) {
        if (strcmp(s, tk_path_names[p]) == 0) {
            if (!tk_cpu_has_path(p)) {
                PyErr_Format(PyExc_ValueError, "SIMD path '%s' is not supported by this CPU", s);
                return -1;
            }
            return p;
        }
    }
    PyErr_Format(PyExc_ValueError, "unknown SIMD path '%s' (expected 'scalar' or 'avx2')", s);
    return -1;
}

static PyObject *tk_make_ufuncs(PyObject *Py_UNUSED(self), PyObject *arg)
{
    const int path = tk_parse_path(arg);
    if (path < 0) {
        return NULL;
    }
    PyObject *d = PyDict_New();
    if (d == NULL) {
        return NULL;
    }
    for (int k = 0; k < TK_NSPECS; k++) {
        const tk_spec *s = &tk_specs[k];
        if (tk_funcs_for(s->nin + s->nout) == NULL) { /* a row without its TK_DEFINE_LOOP */
            PyErr_Format(PyExc_SystemError, "tradekernels: no outer loop for %d arguments (%s)",
                         s->nin + s->nout, s->name);
            Py_DECREF(d);
            return NULL;
        }
        PyObject *uf = PyUFunc_FromFuncAndDataAndSignature(
            tk_funcs_for(s->nin + s->nout), s->data[path], s->types,
            tk_nloops(s, path),
            s->nin, s->nout, PyUFunc_None, s->name, s->doc, 0, s->signature);
        if (uf != NULL) {
            ((PyUFuncObject *)uf)->process_core_dims_func = s->core_dims;
        }
        if (uf == NULL || PyDict_SetItemString(d, s->name, uf) < 0) {
            Py_XDECREF(uf);
            Py_DECREF(d);
            return NULL;
        }
        Py_DECREF(uf);
    }
    return d;
}

static PyObject *tk_available_paths(PyObject *Py_UNUSED(self), PyObject *Py_UNUSED(arg))
{
    PyObject *t = PyList_New(0);
    if (t == NULL) {
        return NULL;
    }
    for (int p = 0; p < TK_NPATH; p++) {
        if (tk_cpu_has_path(p)) {
            PyObject *s = PyUnicode_FromString(tk_path_names[p]);
            if (s == NULL || PyList_Append(t, s) < 0) {
                Py_XDECREF(s);
                Py_DECREF(t);
                return NULL;
            }
            Py_DECREF(s);
        }
    }
    return t;
}

static PyMethodDef tk_methods[] = {
    {"make_ufuncs", tk_make_ufuncs, METH_O,
     "make_ufuncs(path) -> dict: a fresh numpy.ufunc per kernel, using SIMD path 'scalar' or 'avx2'."},
    {"available_paths", tk_available_paths, METH_NOARGS,
     "available_paths() -> list: the SIMD paths this CPU can run, slowest first."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef tk_module = {
    PyModuleDef_HEAD_INIT, "_core", "tradekernels C core: kernel table and ufunc factory.",
    -1, tk_methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__core(void)
{
    import_array();
    import_umath();
    PyObject *m = PyModule_Create(&tk_module);
    if (m != NULL && tk_stream_add_types(m) < 0) { /* live stream types (stream.c) */
        Py_CLEAR(m);
    }
    return m;
}
