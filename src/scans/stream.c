/*
 * stream.c - live (tick by tick) versions of the scan kernels.
 *
 * One small heap type per kernel (tradekernels._core.SimpleReturns, ...,
 * wrapped by tradekernels.stream).  An object holds only the kernel's
 * carried state (tk_scan.h; LogReturns also numpy.log's float64 loop, the
 * batch kernel's log) and update(x) applies the same step function as the
 * batch loops, so the sequence of outputs equals the batch kernel bit for
 * bit.  update() does no allocation of its own (the returned float
 * comes from CPython's float free list; int results are small ints or a
 * PyLong).  The types are created per module (PyType_FromModuleAndSpec):
 * no global mutable state.
 *
 * All streams compute in float64 (their inputs are Python floats).
 */
#include "rolling.h"
#include "tk_scan.h"

/* ------------------------------------------------------------------ */
/* helpers                                                              */
/* ------------------------------------------------------------------ */

static inline int tk_arg_double(PyObject *o, double *v)
{
    if (PyFloat_CheckExact(o)) {
        *v = PyFloat_AS_DOUBLE(o);
        return 0;
    }
    *v = PyFloat_AsDouble(o);
    return (*v == -1.0 && PyErr_Occurred()) ? -1 : 0;
}

/* The state argument as a tuple of its items: a list is copied, since the
 * items' __float__ (run while they are read) could shrink or clear it. */
static PyObject *tk_state_seq(PyObject *st)
{
    PyObject *seq = PySequence_Fast(st, "state must be a sequence of numbers (the state vector)");
    if (seq != NULL && PyList_Check(seq)) {
        Py_SETREF(seq, PyList_AsTuple(seq));
    }
    return seq;
}

/* Reads the optional `state` argument (a sequence of `len` numbers) into
 * vec; returns 1 if given, 0 if absent/None, -1 on error. */
static int tk_parse_state(const char *type, PyObject *args, PyObject *kwds, double *vec,
                          Py_ssize_t len)
{
    static char *kwlist[] = {"state", NULL};
    PyObject *st = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|O:__init__", kwlist, &st)) {
        return -1;
    }
    if (st == Py_None) {
        return 0;
    }
    PyObject *seq = tk_state_seq(st);
    if (seq == NULL) {
        return -1;
    }
    if (PySequence_Fast_GET_SIZE(seq) != len) {
        PyErr_Format(PyExc_ValueError, "%s: the state vector must have length %zd, got %zd", type,
                     len, PySequence_Fast_GET_SIZE(seq));
        Py_DECREF(seq);
        return -1;
    }
    for (Py_ssize_t j = 0; j < len; j++) {
        if (tk_arg_double(PySequence_Fast_GET_ITEM(seq, j), &vec[j]) < 0) {
            Py_DECREF(seq);
            return -1;
        }
    }
    Py_DECREF(seq);
    return 1;
}

static PyObject *tk_vec_tuple(const double *vec, Py_ssize_t len)
{
    PyObject *t = PyTuple_New(len);
    if (t == NULL) {
        return NULL;
    }
    for (Py_ssize_t j = 0; j < len; j++) {
        PyObject *f = PyFloat_FromDouble(vec[j]);
        if (f == NULL) {
            Py_DECREF(t);
            return NULL;
        }
        PyTuple_SET_ITEM(t, j, f);
    }
    return t;
}

static void tk_stream_dealloc(PyObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    tp->tp_free(self);
    Py_DECREF(tp);
}

#define TK_VEC_STEP ((npy_intp)sizeof(double))

/* The type around a stream's init / update / state_vector functions (and
 * any extra getters, the variable arguments): methods, getters, slots and
 * the heap-type spec; TK_STREAM_TYPE_D with a dealloc of its own. */
#define TK_STREAM_TYPE(Name, name, objtype, doc, ...) \
    TK_STREAM_TYPE_D(Name, name, objtype, tk_stream_dealloc, doc, __VA_ARGS__)
#define TK_STREAM_TYPE_D(Name, name, objtype, dealloc, doc, ...)                               \
    static PyMethodDef tk_##name##_stream_methods[] = {                                        \
        {"update", tk_##name##_stream_update, METH_O,                                          \
         "update(x): the next output of tradekernels." #name " for the new value x."},         \
        {NULL, NULL, 0, NULL}};                                                                \
    static PyGetSetDef tk_##name##_stream_getset[] = {                                         \
        {"state_vector", tk_##name##_stream_vec, NULL, "the carried state, a tuple of floats", \
         NULL},                                                                                \
        __VA_ARGS__{NULL, NULL, NULL, NULL, NULL}};                                            \
    static PyType_Slot tk_##name##_stream_slots[] = {                                          \
        {Py_tp_doc, (void *)(doc)},                                                            \
        {Py_tp_new, (void *)PyType_GenericNew},                                                \
        {Py_tp_init, (void *)tk_##name##_stream_init},                                         \
        {Py_tp_dealloc, (void *)(dealloc)},                                                    \
        {Py_tp_methods, tk_##name##_stream_methods},                                           \
        {Py_tp_getset, tk_##name##_stream_getset},                                             \
        {0, NULL}};                                                                            \
    PyType_Spec tk_##name##_stream_spec = {"tradekernels._core." #Name, sizeof(objtype), 0,    \
                                           Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,           \
                                           tk_##name##_stream_slots};

/* ------------------------------------------------------------------ */
/* one-double state streams: returns, cumulative returns, drawdown      */
/* ------------------------------------------------------------------ */

typedef struct {
    PyObject_HEAD double s;
} tk_stream1;

#define TK_STREAM1(Name, name, init, doc)                                              \
    static int tk_##name##_stream_init(PyObject *self, PyObject *args, PyObject *kwds) \
    {                                                                                  \
        double vec[1];                                                                 \
        const int r = tk_parse_state(#Name, args, kwds, vec, 1);                       \
        if (r < 0) {                                                                   \
            return -1;                                                                 \
        }                                                                              \
        ((tk_stream1 *)self)->s = r ? vec[0] : (init);                                 \
        return 0;                                                                      \
    }                                                                                  \
    static PyObject *tk_##name##_stream_update(PyObject *self, PyObject *arg)          \
    {                                                                                  \
        double v;                                                                      \
        if (tk_arg_double(arg, &v) < 0) {                                              \
            return NULL;                                                               \
        }                                                                              \
        return PyFloat_FromDouble(tk_##name##_step(&((tk_stream1 *)self)->s, v));      \
    }                                                                                  \
    static PyObject *tk_##name##_stream_vec(PyObject *self, void *Py_UNUSED(c))        \
    {                                                                                  \
        return tk_vec_tuple(&((tk_stream1 *)self)->s, 1);                              \
    }                                                                                  \
    TK_STREAM_TYPE(Name, name, tk_stream1, doc, )

TK_STREAM1(SimpleReturns, simple_returns, NAN,
           "SimpleReturns(state=None): live simple returns; update(price) -> x/prev - 1.")

/* LogReturns also carries the vectorised log of the batch kernel (numpy.log's
 * float64 loop, tk_numpy_log), found when the object is initialised. */
typedef struct {
    PyObject_HEAD double s;
    tk_log_loop log;
} tk_log_stream;

static int tk_log_returns_stream_init(PyObject *self, PyObject *args, PyObject *kwds)
{
    double vec[1];
    const int r = tk_parse_state("LogReturns", args, kwds, vec, 1);
    if (r < 0) {
        return -1;
    }
    tk_log_stream *o = (tk_log_stream *)self;
    o->s = r ? vec[0] : NAN;
    tk_numpy_log(&o->log);
    return 0;
}

static PyObject *tk_log_returns_stream_update(PyObject *self, PyObject *arg)
{
    tk_log_stream *o = (tk_log_stream *)self;
    double v;
    if (tk_arg_double(arg, &v) < 0) {
        return NULL;
    }
    if (o->log.fn == NULL) { /* __init__ never ran */
        o->s = NAN;
        tk_numpy_log(&o->log);
    }
    return PyFloat_FromDouble(tk_log_returns_step(&o->s, v, &o->log));
}

static PyObject *tk_log_returns_stream_vec(PyObject *self, void *Py_UNUSED(c))
{
    return tk_vec_tuple(&((tk_log_stream *)self)->s, 1);
}

TK_STREAM_TYPE(LogReturns, log_returns, tk_log_stream,
               "LogReturns(state=None): live log returns; update(price) -> log(x/prev).", )

TK_STREAM1(CumulativeReturns, cumulative_returns, 1.0,
           "CumulativeReturns(state=None): live compounded return; update(r) -> prod(1+r) - 1.")
TK_STREAM1(Drawdown, drawdown, -INFINITY,
           "Drawdown(state=None): live drawdown; update(price) -> price/peak - 1.")

/* ------------------------------------------------------------------ */
/* struct-state streams                                                 */
/* ------------------------------------------------------------------ */

/* The parts of a stream type around its state struct `st` (with the kernel's
 * helpers tk_<name>_load/_save/_init), update body and extra getters. */
#define TK_STREAM_COMMON(Name, name, sttype, len, doc, extra_getset)                   \
    typedef struct {                                                                   \
        PyObject_HEAD sttype s;                                                        \
    } tk_##name##_stream;                                                              \
    static int tk_##name##_stream_init(PyObject *self, PyObject *args, PyObject *kwds) \
    {                                                                                  \
        double vec[len];                                                               \
        const int r = tk_parse_state(#Name, args, kwds, vec, (len));                   \
        if (r < 0) {                                                                   \
            return -1;                                                                 \
        }                                                                              \
        ((tk_##name##_stream *)self)->s =                                              \
            r ? tk_##name##_load((const char *)vec, TK_VEC_STEP) : tk_##name##_init(); \
        return 0;                                                                      \
    }                                                                                  \
    static PyObject *tk_##name##_stream_vec(PyObject *self, void *Py_UNUSED(c))        \
    {                                                                                  \
        double vec[len];                                                               \
        tk_##name##_save((char *)vec, TK_VEC_STEP, &((tk_##name##_stream *)self)->s);  \
        return tk_vec_tuple(vec, (len));                                               \
    }                                                                                  \
    static PyObject *tk_##name##_stream_update(PyObject *self, PyObject *arg);         \
    TK_STREAM_TYPE(Name, name, tk_##name##_stream, doc, extra_getset)

#define TK_COMMA ,

/* underwater_bars: update(price) -> int */
static PyObject *tk_underwater_bars_stream_value(PyObject *self, void *c);
TK_STREAM_COMMON(UnderwaterBars, underwater_bars, tk_underwater_bars_st,
                 TK_STATE_LEN_UNDERWATER_BARS,
                 "UnderwaterBars(state=None): live underwater_bars; update(price) -> int.",
                 {"value" TK_COMMA tk_underwater_bars_stream_value TK_COMMA NULL TK_COMMA
                  "the current count (-1 before any valid price)" TK_COMMA NULL} TK_COMMA)

static PyObject *tk_underwater_bars_stream_update(PyObject *self, PyObject *arg)
{
    double v;
    if (tk_arg_double(arg, &v) < 0) {
        return NULL;
    }
    return PyLong_FromLongLong(tk_underwater_bars_step(&((tk_underwater_bars_stream *)self)->s, v));
}

static PyObject *tk_underwater_bars_stream_value(PyObject *self, void *Py_UNUSED(c))
{
    return PyLong_FromLongLong(((tk_underwater_bars_stream *)self)->s.count);
}

/* max_drawdown: update(price) -> max drawdown so far */
static PyObject *tk_max_drawdown_stream_value(PyObject *self, void *c);
TK_STREAM_COMMON(
    MaxDrawdown, max_drawdown, tk_max_drawdown_st, TK_STATE_LEN_MAX_DRAWDOWN,
    "MaxDrawdown(state=None): live max_drawdown; update(price) -> the maximum "
    "drawdown of everything seen so far.",
    {"value" TK_COMMA tk_max_drawdown_stream_value TK_COMMA NULL TK_COMMA
     "the maximum drawdown so far (NaN before any valid price)" TK_COMMA NULL} TK_COMMA)

static PyObject *tk_max_drawdown_stream_update(PyObject *self, PyObject *arg)
{
    double v;
    if (tk_arg_double(arg, &v) < 0) {
        return NULL;
    }
    tk_max_drawdown_st *s = &((tk_max_drawdown_stream *)self)->s;
    (void)tk_max_drawdown_step(s, v);
    return PyFloat_FromDouble(tk_max_drawdown_result(s));
}

static PyObject *tk_max_drawdown_stream_value(PyObject *self, void *Py_UNUSED(c))
{
    return PyFloat_FromDouble(tk_max_drawdown_result(&((tk_max_drawdown_stream *)self)->s));
}

/* drawdown_episode: update(price) -> depth so far; .episode -> 4-tuple */
static PyObject *tk_drawdown_episode_stream_episode(PyObject *self, void *c);
TK_STREAM_COMMON(
    DrawdownEpisode, drawdown_episode, tk_drawdown_episode_st, TK_STATE_LEN_DRAWDOWN_EPISODE,
    "DrawdownEpisode(state=None): live drawdown_episode; update(price) -> the depth "
    "so far; .episode -> (peak, trough, recovery, depth) of everything seen so far.",
    {"episode" TK_COMMA tk_drawdown_episode_stream_episode TK_COMMA NULL TK_COMMA
     "(peak, trough, recovery, depth) so far; indices count from the first update" TK_COMMA
         NULL} TK_COMMA)

static PyObject *tk_drawdown_episode_stream_update(PyObject *self, PyObject *arg)
{
    double v;
    if (tk_arg_double(arg, &v) < 0) {
        return NULL;
    }
    tk_drawdown_episode_st *s = &((tk_drawdown_episode_stream *)self)->s;
    tk_drawdown_episode_step(s, v);
    return PyFloat_FromDouble(s->seen ? s->best : NAN);
}

static PyObject *tk_drawdown_episode_stream_episode(PyObject *self, void *Py_UNUSED(c))
{
    npy_int64 p, t, r;
    double d;
    tk_drawdown_episode_result(&((tk_drawdown_episode_stream *)self)->s, &p, &t, &r, &d);
    return Py_BuildValue("(LLLd)", (long long)p, (long long)t, (long long)r, d);
}

/* ulcer_index: update(price) -> the ulcer index (ddof 0) so far */
TK_STREAM_COMMON(UlcerIndex, ulcer_index, tk_ulcer_index_st, TK_STATE_LEN_ULCER_INDEX,
                 "UlcerIndex(state=None): live ulcer_index (ddof=0); update(price) -> the ulcer "
                 "index of everything seen so far (NaN before any valid drawdown).", )

static PyObject *tk_ulcer_index_stream_update(PyObject *self, PyObject *arg)
{
    double v;
    if (tk_arg_double(arg, &v) < 0) {
        return NULL;
    }
    tk_ulcer_index_st *s = &((tk_ulcer_index_stream *)self)->s;
    tk_ulcer_index_step(s, v);
    return PyFloat_FromDouble(tk_ulcer_index_result(s, 0.0));
}

/* ------------------------------------------------------------------ */
/* module registration                                                   */
/* ------------------------------------------------------------------ */

/* max_drawdown_duration: update(price) -> the longest underwater run so far */
static PyObject *tk_max_drawdown_duration_stream_value(PyObject *self, void *c);
TK_STREAM_COMMON(
    MaxDrawdownDuration, max_drawdown_duration, tk_max_drawdown_duration_st,
    TK_STATE_LEN_MAX_DRAWDOWN_DURATION,
    "MaxDrawdownDuration(state=None): live max_drawdown_duration; update(price) -> "
    "the longest run of bars below the running peak so far (int).",
    {"value" TK_COMMA tk_max_drawdown_duration_stream_value TK_COMMA NULL TK_COMMA
     "the longest underwater run so far (-1 before any valid price)" TK_COMMA NULL} TK_COMMA)

static PyObject *tk_max_drawdown_duration_stream_update(PyObject *self, PyObject *arg)
{
    double v;
    if (tk_arg_double(arg, &v) < 0) {
        return NULL;
    }
    return PyLong_FromLongLong(
        tk_max_drawdown_duration_step(&((tk_max_drawdown_duration_stream *)self)->s, v));
}

static PyObject *tk_max_drawdown_duration_stream_value(PyObject *self, void *Py_UNUSED(c))
{
    return PyLong_FromLongLong(((tk_max_drawdown_duration_stream *)self)->s.best);
}

/* drawdowns (records, not a ufunc): update(price) -> the episode this bar
 * recovers, as a record tuple (tradekernels.scans.reference.DRAWDOWN_FIELDS),
 * or None; .active -> the open episode (status 0) or None. */
static PyObject *tk_drawdowns_stream_active(PyObject *self, void *c);
TK_STREAM_COMMON(Drawdowns, drawdowns, tk_drawdowns_st, TK_DD_STATE_LEN,
                 "Drawdowns(state=None): live drawdowns; update(price) -> the record of the "
                 "episode this price recovers, or None; .active -> the open episode or None.",
                 {"active" TK_COMMA tk_drawdowns_stream_active TK_COMMA NULL TK_COMMA
                  "the open episode as a record (end_idx -1), or None" TK_COMMA NULL} TK_COMMA)

static PyObject *tk_drawdowns_record(const tk_episode_rec *r, npy_int64 last)
{
    const int active = r->end_i < 0;
    return Py_BuildValue("(LLLddddLLLL)", (long long)r->peak_i, (long long)r->valley_i,
                         (long long)r->end_i, r->peak, r->valley, r->end, r->depth,
                         (long long)(active ? 0 : 1), (long long)(r->valley_i - r->peak_i),
                         (long long)(active ? -1 : r->end_i - r->valley_i),
                         (long long)((active ? last : r->end_i) - r->peak_i));
}

static PyObject *tk_drawdowns_stream_update(PyObject *self, PyObject *arg)
{
    double v;
    if (tk_arg_double(arg, &v) < 0) {
        return NULL;
    }
    tk_drawdowns_st *s = &((tk_drawdowns_stream *)self)->s;
    tk_episode_rec r;
    if (tk_drawdowns_step(s, v, &r)) {
        return tk_drawdowns_record(&r, s->i - 1);
    }
    Py_RETURN_NONE;
}

static PyObject *tk_drawdowns_stream_active(PyObject *self, void *Py_UNUSED(c))
{
    const tk_drawdowns_st *s = &((tk_drawdowns_stream *)self)->s;
    tk_episode_rec r;
    if (tk_drawdowns_active(s, &r)) {
        return tk_drawdowns_record(&r, s->i - 1);
    }
    Py_RETURN_NONE;
}

/* rolling_max_drawdown: RollingMaxDrawdown(window, min_periods, state=None);
 * update(price) -> the max drawdown of the window ending at that price.
 * The general loop of rolling.inc.h (tk_rmdd_general: segment summaries,
 * and the naive recomputation while the window holds a bad price), bar by
 * bar over a ring of the last `window` prices: bar j sits in slot
 * (j - start) mod window, start being the first bar held (a state's
 * prices start later).  The ring grows to `window` entries as bars arrive
 * and the suffix summaries are allocated at the first flip, so a huge
 * window costs nothing until its bars come.  The state vector is the batch
 * state (tradekernels._state: the bars seen, then the last window - 1
 * prices, NaN-padded in front). */
typedef struct {
    PyObject_HEAD npy_intp w, mp; /* window (0: __init__ never ran), min_periods */
    npy_intp i;                   /* bars seen: the index of the next bar */
    npy_intp start;               /* the first bar held */
    npy_intp pos;                 /* the slot of bar i */
    npy_intp cap;                 /* slots allocated (<= w) */
    npy_intp f0, f1;              /* front part [f0, f1): agg[j - f0] = bars j .. f1-1 */
    npy_intp valid, bad;          /* non-NaN / bad bars in the window */
    tk_seg back;                  /* back part [f1, i) */
    double *ring;
    tk_seg *agg; /* w entries, from the first flip on */
} tk_rmdd_stream;

static void tk_rmdd_stream_clear(tk_rmdd_stream *o)
{
    PyMem_Free(o->ring);
    PyMem_Free(o->agg);
    o->w = o->mp = o->i = o->start = o->pos = o->cap = o->f0 = o->f1 = o->valid = o->bad = 0;
    o->back = tk_seg_empty();
    o->ring = NULL;
    o->agg = NULL;
}

static void tk_rmdd_stream_dealloc(PyObject *self)
{
    tk_rmdd_stream_clear((tk_rmdd_stream *)self);
    tk_stream_dealloc(self);
}

/* The slot of bar j, for i - w <= j <= i. */
static inline npy_intp tk_rmdd_slot(const tk_rmdd_stream *o, npy_intp j)
{
    const npy_intp k = o->pos - (o->i - j);
    return k < 0 ? k + o->w : k;
}

/* The next bar: its result in *r, or -1 with a MemoryError set and the
 * stream unchanged. */
static int tk_rmdd_stream_step(tk_rmdd_stream *o, double v, double *r)
{
    const npy_intp w = o->w, i = o->i;
    const npy_intp s = (i >= w) ? i - w + 1 : 0; /* the window is [s, i] */
    if (o->pos == o->cap) { /* (only before the ring first fills: no slot has wrapped) */
        const npy_intp cap = o->cap == 0 ? (w < 16 ? w : 16) : (o->cap > w / 2 ? w : 2 * o->cap);
        double *ring = PyMem_Realloc(o->ring, (size_t)cap * sizeof(double));
        if (ring == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        o->ring = ring;
        o->cap = cap;
    }
    if (s > o->f1 && o->agg == NULL) {
        o->agg = PyMem_Malloc((size_t)w * sizeof(tk_seg));
        if (o->agg == NULL) {
            PyErr_NoMemory();
            return -1;
        }
    }
    if (s > o->start) { /* bar s-1 = i - w left the window: it is in slot pos */
        const double u = o->ring[o->pos];
        o->valid -= (u == u);
        o->bad -= tk_seg_bad(u);
    }
    o->ring[o->pos] = v;
    o->valid += (v == v);
    o->bad += tk_seg_bad(v);
    o->back = tk_seg_cat(o->back, tk_seg_one(v));
    if (s > o->f1) { /* the front is used up: flip [s, i] into suffix summaries */
        tk_seg acc = tk_seg_empty();
        npy_intp k = o->pos;
        for (npy_intp j = i; j >= s; j--) {
            acc = tk_seg_cat(tk_seg_one(o->ring[k]), acc);
            o->agg[j - s] = acc;
            k = (k == 0) ? w - 1 : k - 1;
        }
        o->f0 = s;
        o->f1 = i + 1;
        o->back = tk_seg_empty();
    }
    if (o->valid < o->mp || o->valid == 0) {
        *r = NAN;
    }
    else if (o->bad > 0) { /* the naive max drawdown of bars [s, i] */
        tk_max_drawdown_st st = tk_max_drawdown_init();
        npy_intp k = tk_rmdd_slot(o, s);
        for (npy_intp j = s; j <= i; j++) {
            (void)tk_max_drawdown_step(&st, o->ring[k]);
            k = (k + 1 == w) ? 0 : k + 1;
        }
        *r = tk_max_drawdown_result(&st);
    }
    else {
        *r = tk_seg_result(s < o->f1 ? tk_seg_cat(o->agg[s - o->f0], o->back) : o->back);
    }
    o->i = i + 1;
    o->pos = (o->pos + 1 == w) ? 0 : o->pos + 1;
    return 0;
}

static int tk_rolling_max_drawdown_stream_init(PyObject *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"window", "min_periods", "state", NULL};
    tk_rmdd_stream *o = (tk_rmdd_stream *)self;
    Py_ssize_t w, mp;
    PyObject *st = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "nn|O:RollingMaxDrawdown", kwlist, &w, &mp, &st)) {
        return -1;
    }
    if (w < 1 || mp < 0 || mp > w) {
        PyErr_Format(PyExc_ValueError,
                     "RollingMaxDrawdown: need window >= 1 and 0 <= min_periods <= window, got "
                     "%zd, %zd",
                     w, mp);
        return -1;
    }
    tk_rmdd_stream_clear(o);
    o->w = w;
    o->mp = mp;
    if (st == Py_None) {
        return 0;
    }
    PyObject *seq = tk_state_seq(st);
    if (seq == NULL) {
        goto fail;
    }
    if (PySequence_Fast_GET_SIZE(seq) != w) {
        PyErr_Format(PyExc_ValueError,
                     "RollingMaxDrawdown: the state vector must have length %zd, got %zd", w,
                     PySequence_Fast_GET_SIZE(seq));
        goto fail_seq;
    }
    double seen;
    if (tk_arg_double(PySequence_Fast_GET_ITEM(seq, 0), &seen) < 0) {
        goto fail_seq;
    }
    if (!(seen >= 0.0 && seen <= 0x1p53 && seen == floor(seen))) {
        PyErr_Format(PyExc_ValueError,
                     "RollingMaxDrawdown: the state's bar count must be a whole number >= 0, "
                     "got %R",
                     PySequence_Fast_GET_ITEM(seq, 0));
        goto fail_seq;
    }
    /* the state's prices, replayed as a series of their own (fewer than
     * `window` bars: every window of theirs starts at their first), then
     * moved to their place in the series */
    const npy_intp head = (npy_intp)seen < w - 1 ? (npy_intp)seen : w - 1;
    for (npy_intp j = w - head; j < w; j++) {
        double v, r;
        if (tk_arg_double(PySequence_Fast_GET_ITEM(seq, j), &v) < 0
            || tk_rmdd_stream_step(o, v, &r) < 0) {
            goto fail_seq;
        }
    }
    const npy_intp shift = (npy_intp)seen - head;
    o->i += shift;
    o->start += shift;
    o->f0 += shift;
    o->f1 += shift;
    Py_DECREF(seq);
    return 0;
fail_seq:
    Py_DECREF(seq);
fail:
    tk_rmdd_stream_clear(o);
    return -1;
}

static PyObject *tk_rolling_max_drawdown_stream_update(PyObject *self, PyObject *arg)
{
    tk_rmdd_stream *o = (tk_rmdd_stream *)self;
    double v, r;
    if (o->w < 1) {
        PyErr_SetString(PyExc_RuntimeError, "RollingMaxDrawdown: __init__ was not called");
        return NULL;
    }
    if (tk_arg_double(arg, &v) < 0 || tk_rmdd_stream_step(o, v, &r) < 0) {
        return NULL;
    }
    return PyFloat_FromDouble(r);
}

static PyObject *tk_rolling_max_drawdown_stream_vec(PyObject *self, void *Py_UNUSED(c))
{
    const tk_rmdd_stream *o = (const tk_rmdd_stream *)self;
    if (o->w < 1) {
        PyErr_SetString(PyExc_RuntimeError, "RollingMaxDrawdown: __init__ was not called");
        return NULL;
    }
    const npy_intp head = o->i < o->w - 1 ? o->i : o->w - 1;
    PyObject *t = PyTuple_New(o->w);
    if (t == NULL) {
        return NULL;
    }
    for (npy_intp j = 0; j < o->w; j++) {
        const npy_intp bar = o->i - (o->w - j); /* the bar whose price sits at entry j */
        const double v = j == 0            ? (double)o->i
                         : j < o->w - head ? NAN
                                           : o->ring[tk_rmdd_slot(o, bar)];
        PyObject *f = PyFloat_FromDouble(v);
        if (f == NULL) {
            Py_DECREF(t);
            return NULL;
        }
        PyTuple_SET_ITEM(t, j, f);
    }
    return t;
}

static PyObject *tk_rmdd_stream_get(PyObject *self, void *c)
{
    const tk_rmdd_stream *o = (const tk_rmdd_stream *)self;
    const char *what = (const char *)c;
    return PyLong_FromSsize_t(what[0] == 'w' ? o->w : what[0] == 'm' ? o->mp : o->i);
}

TK_STREAM_TYPE_D(RollingMaxDrawdown, rolling_max_drawdown, tk_rmdd_stream, tk_rmdd_stream_dealloc,
                 "RollingMaxDrawdown(window, min_periods, state=None): live rolling_max_drawdown; "
                 "update(price) -> the max drawdown of the window ending at that price.",
                 {"window" TK_COMMA tk_rmdd_stream_get TK_COMMA NULL TK_COMMA
                  "the window length (bars)" TK_COMMA(void *) "w"} TK_COMMA{
                     "min_periods" TK_COMMA tk_rmdd_stream_get TK_COMMA NULL TK_COMMA
                     "the fewest non-NaN prices for a result" TK_COMMA(void *) "m"} TK_COMMA{
                     "seen" TK_COMMA tk_rmdd_stream_get TK_COMMA NULL TK_COMMA
                     "bars seen (a state's count included)" TK_COMMA(void *) "i"} TK_COMMA)

/* ------------------------------------------------------------------ */
/* module registration: one type per declared stream (tk_stream_specs,  */
/* generated from the kernels' `stream` field)                          */
/* ------------------------------------------------------------------ */

int tk_stream_add_types(PyObject *module)
{
    for (int k = 0; k < tk_nstreams; k++) {
        PyObject *tp = PyType_FromModuleAndSpec(module, tk_stream_specs[k], NULL);
        if (tp == NULL) {
            return -1;
        }
        const char *name = strrchr(tk_stream_specs[k]->name, '.') + 1;
        if (PyModule_AddObject(module, name, tp) < 0) {
            Py_DECREF(tp);
            return -1;
        }
    }
    /* drawdowns has no ufunc row (records, scans/records.c): added here */
    PyObject *tp = PyType_FromModuleAndSpec(module, &tk_drawdowns_stream_spec, NULL);
    if (tp == NULL || PyModule_AddObject(module, "Drawdowns", tp) < 0) {
        Py_XDECREF(tp);
        return -1;
    }
    /* rolling_max_drawdown: its state is the last window - 1 prices */
    tp = PyType_FromModuleAndSpec(module, &tk_rolling_max_drawdown_stream_spec, NULL);
    if (tp == NULL || PyModule_AddObject(module, "RollingMaxDrawdown", tp) < 0) {
        Py_XDECREF(tp);
        return -1;
    }
    return 0;
}
