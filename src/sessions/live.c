/*
 * live.c - the C core of tradekernels.stream.SessionClock: the four
 * session answers (session_mask, session_start, session_label,
 * minutes_into_session) of one timestamp at a time.
 *
 * Semantics: tradekernels.reference_sessions, as the batch kernels in
 * sessions.c (a timestamp is in session i iff open[i] <= ts < close[i] and
 * it is not in a break of row i).  The Python subclass
 * (python/tradekernels/sessions/live.py) parses arguments the fast paths
 * below do not take, extends the calendar's table and binds it here
 * (_bind); this file only reads that table, in bounds whatever it holds.
 */
#define PY_ARRAY_UNIQUE_SYMBOL tk_ARRAY_API /* imported by core/module.c */
#define NO_IMPORT_ARRAY
#include "tk.h"
#include <numpy/arrayobject.h>
#include <numpy/arrayscalars.h>

#define TK_NAT NPY_MIN_INT64
#define TK_NS_PER_MIN ((npy_int64)60000000000LL)

enum { TK_CLK_OPENS, TK_CLK_CLOSES, TK_CLK_BS, TK_CLK_BE, TK_CLK_BR, TK_CLK_DAYS, TK_CLK_N };

typedef struct {
    PyObject_HEAD PyObject
        *table;        /* tuple: the bound arrays and the labels list (NULL: none yet) */
    PyObject *tick;    /* the SessionTick class (a tuple subclass) */
    PyObject *outside; /* SessionTick(False, False, NaT, -1) */
    const npy_int64 *col[TK_CLK_N];
    npy_intp rows, breaks, cur;
    npy_int64 lo, hi, step, prev;
} tk_clock;

/* Number of elements <= t of the sorted a[0..n). */
static npy_intp tk_clk_count_le(const npy_int64 *a, npy_intp n, npy_int64 t)
{
    npy_intp lo = 0;
    while (n > 0) {
        const npy_intp half = n / 2;
        if (a[lo + half] <= t) {
            lo += half + 1;
            n -= half + 1;
        }
        else {
            n = half;
        }
    }
    return lo;
}

static int tk_clock_init(PyObject *op, PyObject *args, PyObject *kwds)
{
    tk_clock *self = (tk_clock *)op;
    PyObject *tick, *outside;
    long long step, prev;
    if (kwds != NULL && PyDict_GET_SIZE(kwds) > 0) {
        PyErr_SetString(PyExc_TypeError, "SessionClock core: no keyword arguments");
        return -1;
    }
    if (!PyArg_ParseTuple(args, "OOLL:SessionClock", &tick, &outside, &step, &prev)) {
        return -1;
    }
    if (!PyType_Check(tick) || !PyType_IsSubtype((PyTypeObject *)tick, &PyTuple_Type)
        || !PyObject_TypeCheck(outside, (PyTypeObject *)tick) || PyTuple_GET_SIZE(outside) != 4) {
        PyErr_SetString(
            PyExc_TypeError,
            "SessionClock core: tick must be a tuple subclass, outside a 4-tuple of it");
        return -1;
    }
    if (step <= 0) {
        PyErr_SetString(PyExc_ValueError, "SessionClock core: step must be positive");
        return -1;
    }
    Py_INCREF(tick);
    Py_XSETREF(self->tick, tick);
    Py_INCREF(outside);
    Py_XSETREF(self->outside, outside);
    Py_CLEAR(self->table);
    self->rows = self->breaks = self->cur = 0;
    self->lo = 1; /* an empty range: the first update binds a table */
    self->hi = 0;
    self->step = (npy_int64)step;
    self->prev = (npy_int64)prev;
    return 0;
}

/* One int64 column of the table: 1-D, C-contiguous, aligned, native byte order. */
static const npy_int64 *tk_clock_column(PyObject *a, npy_intp *len)
{
    if (!PyArray_Check(a) || PyArray_NDIM((PyArrayObject *)a) != 1
        || PyArray_TYPE((PyArrayObject *)a) != NPY_INT64 || !PyArray_ISCARRAY_RO((PyArrayObject *)a)
        || !PyArray_ISNOTSWAPPED((PyArrayObject *)a)) {
        PyErr_SetString(
            PyExc_TypeError,
            "SessionClock._bind: the table columns must be 1-D contiguous int64 arrays");
        return NULL;
    }
    *len = PyArray_DIM((PyArrayObject *)a, 0);
    return (const npy_int64 *)PyArray_DATA((PyArrayObject *)a);
}

/* _bind(opens, closes, break_starts, break_ends, break_rows, days, labels, lo, hi) */
static PyObject *tk_clock_bind(PyObject *op, PyObject *args)
{
    tk_clock *self = (tk_clock *)op;
    PyObject *a[TK_CLK_N], *labels;
    long long lo, hi;
    if (!PyArg_ParseTuple(args, "OOOOOOO!LL:_bind", &a[0], &a[1], &a[2], &a[3], &a[4], &a[5],
                          &PyList_Type, &labels, &lo, &hi)) {
        return NULL;
    }
    const npy_int64 *col[TK_CLK_N];
    npy_intp len[TK_CLK_N];
    for (int k = 0; k < TK_CLK_N; k++) {
        if ((col[k] = tk_clock_column(a[k], &len[k])) == NULL) {
            return NULL;
        }
    }
    const npy_intp rows = len[TK_CLK_OPENS], breaks = len[TK_CLK_BS];
    if (len[TK_CLK_CLOSES] != rows || len[TK_CLK_DAYS] != rows || PyList_GET_SIZE(labels) != rows
        || len[TK_CLK_BE] != breaks || len[TK_CLK_BR] != breaks) {
        PyErr_SetString(PyExc_ValueError, "SessionClock._bind: the table columns differ in length");
        return NULL;
    }
    /* the labels as a tuple: the caller's list could shrink after the bind */
    PyObject *lt = PyList_AsTuple(labels);
    if (lt == NULL) {
        return NULL;
    }
    PyObject *table = PyTuple_Pack(7, a[0], a[1], a[2], a[3], a[4], a[5], lt);
    Py_DECREF(lt);
    if (table == NULL) {
        return NULL;
    }
    Py_XSETREF(self->table, table);
    for (int k = 0; k < TK_CLK_N; k++) {
        self->col[k] = col[k];
    }
    self->rows = rows;
    self->breaks = breaks;
    self->cur = 0;
    self->lo = (npy_int64)lo;
    self->hi = (npy_int64)hi;
    Py_RETURN_NONE;
}

/* ts as UTC ns: 1 done (NaT gives TK_NAT), 0 not a fast case, -1 error. */
static int tk_clock_fast_ns(const tk_clock *self, PyObject *ts, npy_int64 *ns)
{
    npy_int64 v, step;
    if (PyLong_CheckExact(ts)) {
        int overflow;
        const long long x = PyLong_AsLongLongAndOverflow(ts, &overflow);
        if (x == -1 && PyErr_Occurred()) {
            return -1;
        }
        if (overflow) {
            return 0;
        }
        v = (npy_int64)x;
        step = self->step;
    }
    else if (PyArray_IsScalar(ts, Datetime)) {
        const PyDatetimeScalarObject *d = (const PyDatetimeScalarObject *)ts;
        static const npy_int64 per[] = {[NPY_FR_s] = 1000000000LL,
                                        [NPY_FR_ms] = 1000000LL,
                                        [NPY_FR_us] = 1000LL,
                                        [NPY_FR_ns] = 1LL};
        v = d->obval;
        if (v != TK_NAT
            && (d->obmeta.num != 1 || d->obmeta.base < NPY_FR_s || d->obmeta.base > NPY_FR_ns)) {
            return 0; /* other units: the Python parser */
        }
        step = v == TK_NAT ? 1 : per[d->obmeta.base];
    }
    else {
        return 0;
    }
    if (v == TK_NAT) {
        *ns = TK_NAT;
        return 1;
    }
    if (__builtin_mul_overflow(v, step, ns) || *ns == TK_NAT) {
        return 0; /* out of range: the Python path raises */
    }
    return 1;
}

static PyObject *tk_clock_update(PyObject *op, PyObject *ts)
{
    tk_clock *self = (tk_clock *)op;
    if (self->outside == NULL) { /* __new__ without __init__ */
        PyErr_SetString(PyExc_RuntimeError, "SessionClock: not initialised");
        return NULL;
    }
    npy_int64 ns;
    const int fast = tk_clock_fast_ns(self, ts, &ns);
    if (fast < 0) {
        return NULL;
    }
    if (fast == 0) { /* other kinds of timestamps: the Python parser */
        PyObject *r = PyObject_CallMethod(op, "_ns", "O", ts);
        if (r == NULL) {
            return NULL;
        }
        ns = (npy_int64)PyLong_AsLongLong(r);
        Py_DECREF(r);
        if (ns == -1 && PyErr_Occurred()) {
            return NULL;
        }
    }
    if (ns == TK_NAT) {
        return Py_NewRef(self->outside);
    }
    if (self->table == NULL || ns < self->lo || ns > self->hi) { /* extend the table */
        PyObject *r = PyObject_CallMethod(op, "_load", "L", (long long)ns);
        if (r == NULL) {
            return NULL;
        }
        Py_DECREF(r);
        if (self->table == NULL || ns < self->lo || ns > self->hi) {
            PyErr_SetString(PyExc_RuntimeError, "SessionClock: the table bound does not cover ts");
            return NULL;
        }
    }
    const npy_int64 *opens = self->col[TK_CLK_OPENS];
    npy_intp i = self->cur; /* the last session found: O(1) for a stream in time order */
    if (!(i < self->rows && opens[i] <= ns && (i + 1 == self->rows || ns < opens[i + 1]))) {
        i = tk_clk_count_le(opens, self->rows, ns) - 1;
    }
    if (i < 0 || ns >= self->col[TK_CLK_CLOSES][i]) {
        return Py_NewRef(self->outside);
    }
    self->cur = i;
    if (self->breaks > 0) {
        const npy_intp j = tk_clk_count_le(self->col[TK_CLK_BS], self->breaks, ns) - 1;
        if (j >= 0 && ns < self->col[TK_CLK_BE][j] && self->col[TK_CLK_BR][j] == i) {
            return Py_NewRef(self->outside); /* in the session's break */
        }
    }
    const npy_int64 day = self->col[TK_CLK_DAYS][i];
    const int first = day != self->prev;
    self->prev = day;
    /* opens[i] <= ns: the difference is exact in uint64 whatever the (bound) table holds */
    const npy_uint64 since = (npy_uint64)ns - (npy_uint64)opens[i];
    PyObject *minutes = PyLong_FromUnsignedLongLong((unsigned long long)(since / TK_NS_PER_MIN));
    if (minutes == NULL) {
        return NULL;
    }
    PyTypeObject *tp = (PyTypeObject *)self->tick;
    PyObject *out = tp->tp_alloc(tp, 4); /* as tuple.__new__ builds a NamedTuple */
    if (out == NULL) {
        Py_DECREF(minutes);
        return NULL;
    }
    PyObject *labels = PyTuple_GET_ITEM(self->table, TK_CLK_N);
    PyTuple_SET_ITEM(out, 0, Py_NewRef(Py_True));
    PyTuple_SET_ITEM(out, 1, Py_NewRef(first ? Py_True : Py_False));
    PyTuple_SET_ITEM(out, 2, Py_NewRef(PyTuple_GET_ITEM(labels, i)));
    PyTuple_SET_ITEM(out, 3, minutes);
    return out;
}

static PyObject *tk_clock_get_prev(PyObject *op, void *c)
{
    (void)c;
    return PyLong_FromLongLong((long long)((tk_clock *)op)->prev);
}

static int tk_clock_set_prev(PyObject *op, PyObject *v, void *c)
{
    (void)c;
    if (v == NULL) {
        PyErr_SetString(PyExc_AttributeError, "_prev cannot be deleted");
        return -1;
    }
    const long long p = PyLong_AsLongLong(v);
    if (p == -1 && PyErr_Occurred()) {
        return -1;
    }
    ((tk_clock *)op)->prev = (npy_int64)p;
    return 0;
}

static PyObject *tk_clock_get_step(PyObject *op, void *c)
{
    (void)c;
    return PyLong_FromLongLong((long long)((tk_clock *)op)->step);
}

static int tk_clock_traverse(PyObject *op, visitproc visit, void *arg)
{
    tk_clock *self = (tk_clock *)op;
    Py_VISIT(Py_TYPE(op));
    Py_VISIT(self->table);
    Py_VISIT(self->tick);
    Py_VISIT(self->outside);
    return 0;
}

static int tk_clock_clear(PyObject *op)
{
    tk_clock *self = (tk_clock *)op;
    Py_CLEAR(self->table);
    Py_CLEAR(self->tick);
    Py_CLEAR(self->outside);
    self->rows = self->breaks = self->cur = 0;
    self->lo = 1;
    self->hi = 0;
    return 0;
}

static void tk_clock_dealloc(PyObject *op)
{
    PyTypeObject *tp = Py_TYPE(op);
    PyObject_GC_UnTrack(op);
    tk_clock_clear(op);
    tp->tp_free(op);
    Py_DECREF(tp);
}

static PyMethodDef tk_clock_methods[] = {
    {"update", tk_clock_update, METH_O,
     "update(ts): SessionTick(in_session, first, label, minutes) of one timestamp."},
    {"_bind", tk_clock_bind, METH_VARARGS,
     "_bind(opens, closes, break_starts, break_ends, break_rows, days, labels, lo, hi): "
     "the session table to read (int64 arrays, a list of labels)."},
    {NULL, NULL, 0, NULL}};

static PyGetSetDef tk_clock_getset[] = {
    {"_prev", tk_clock_get_prev, tk_clock_set_prev,
     "The day number of the last in-session timestamp's label (INT64_MIN: none).", NULL},
    {"_step", tk_clock_get_step, NULL, "Nanoseconds per integer timestamp.", NULL},
    {NULL, NULL, NULL, NULL, NULL}};

static PyType_Slot tk_clock_slots[] = {
    {Py_tp_init, tk_clock_init},
    {Py_tp_new, PyType_GenericNew},
    {Py_tp_dealloc, tk_clock_dealloc},
    {Py_tp_traverse, tk_clock_traverse},
    {Py_tp_clear, tk_clock_clear},
    {Py_tp_methods, tk_clock_methods},
    {Py_tp_getset, tk_clock_getset},
    {Py_tp_doc, "The C core of tradekernels.stream.SessionClock."},
    {0, NULL}};

static PyType_Spec tk_clock_spec = {"tradekernels._core.SessionClock", sizeof(tk_clock), 0,
                                    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
                                    tk_clock_slots};

int tk_sessions_add_live(PyObject *module)
{
    PyObject *tp = PyType_FromModuleAndSpec(module, &tk_clock_spec, NULL);
    if (tp == NULL || PyModule_AddObject(module, "SessionClock", tp) < 0) {
        Py_XDECREF(tp);
        return -1;
    }
    return 0;
}
