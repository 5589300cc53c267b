"""Pure-Python reference twins: the definition of every kernel's result.

Each function takes one 1-D series as a sequence of Python floats and uses
plain loops and :mod:`math` only, so that it is obviously right.  The C
kernels must agree with these functions bit for bit (``log_returns``: to
1 ulp, since its log is NumPy's vectorised one); the test suite and the
``shadow`` backend check that.  Float32 kernels compute in double and
round once, so their output equals these results rounded to float32.

Arithmetic follows IEEE 754 double precision: division by zero gives
``±inf`` (or NaN for ``0/0``) instead of raising, as in NumPy and C.
These twins are the only place where the kernels' semantics are written
down; the C sources point here.
"""

from __future__ import annotations

import math
from typing import List, Sequence, Tuple

from .. import _core

__all__ = [
    "simple_returns",
    "log_returns",
    "cumulative_returns",
    "drawdown",
    "max_drawdown",
    "drawdown_episode",
    "underwater_bars",
    "max_drawdown_duration",
    "ulcer_index",
    "rolling_max_drawdown",
    "drawdowns",
    "top_drawdowns",
    "apply_nan_policy",
    "apply_nan_policy_chunk",
]

_NAN = math.nan
_INF = math.inf


def _div(a: float, b: float) -> float:
    """IEEE 754 division ``a / b`` (Python raises on ``b == 0``; C does not)."""
    try:
        return a / b
    except ZeroDivisionError:
        if a != a or a == 0.0:
            return _NAN
        return math.copysign(_INF, a) * math.copysign(1.0, b)


def _log(v: float) -> float:
    """C ``log``: NaN for NaN or negative input, ``-inf`` at 0, ``inf`` at inf."""
    if v != v or v < 0.0:
        return _NAN
    if v == 0.0:
        return -_INF
    if v == _INF:
        return _INF
    return math.log(v)


#: The carried state before the first bar, per kernel (field layouts:
#: :mod:`tradekernels._state`), as declared in ``src/scans/kernels.toml``
#: (read from the C module); see the ``<kernel>_chunk`` functions below.
START = {
    d["name"]: tuple(d["state_default"])
    for d in _core.kernels()
    if d["family"] == "scans" and d["state_fields"] and not d["base"]
}


def simple_returns(x: Sequence[float]) -> List[float]:
    """Simple returns ``r[i] = x[i] / x[i-1] - 1``.

    * ``r[0]`` is NaN (there is no previous price).
    * NaN in either ``x[i]`` or ``x[i-1]`` gives NaN; a NaN is not skipped
      over or filled (pandas ``pct_change(fill_method=None)``).
    * A zero previous price gives ``±inf`` (``0/0`` gives NaN); negative
      prices are used as they are.
    * Empty input gives empty output.
    """
    return simple_returns_chunk(x, START["simple_returns"])[0][0]


def log_returns(x: Sequence[float]) -> List[float]:
    """Log returns ``r[i] = log(x[i] / x[i-1])`` (the log of the price ratio).

    * ``r[0]`` is NaN; NaN in either price gives NaN.
    * A ratio of 0 gives ``-inf``, a negative ratio NaN, an infinite ratio
      ``inf`` (zero previous price: ``±inf`` ratio, see :func:`simple_returns`).
    * The ratio is one correctly rounded division, exactly as here.  Its
      log is :func:`math.log` here; the C kernel takes NumPy's own float64
      ``numpy.log`` loop over blocks of ratios (vectorised where NumPy has a
      SIMD log for the CPU, e.g. SVML on AVX-512; the C library's ``log``
      elsewhere).  So ``tradekernels.log_returns(x)`` has the bits of
      ``numpy.log(x[1:] / x[:-1])``.
    * Tolerance against the C kernel: **1 ulp** (of the larger magnitude;
      0 at the special values above).  Both logs are faithful: glibc's
      ``log`` errs by < 0.52 ulp and NumPy's AVX-512 log by < 0.61 ulp
      (measured against an 80-bit log on 10**7 ratios), so their difference,
      a whole number of ulps, is at most 1.  ``tests/test_log_accuracy.py``
      checks the bound on 10**7 random ratios (subnormal, huge, near 1 and
      exactly 1 included) on the machine that runs it.
    """
    return log_returns_chunk(x, START["log_returns"])[0][0]


def cumulative_returns(r: Sequence[float]) -> List[float]:
    """Compounded returns ``c[i] = (1 + r[0]) * ... * (1 + r[i]) - 1``.

    * The product is accumulated left to right, one multiplication per bar
      (``numpy.cumprod`` order), so it is bit-identical to
      ``(1 + r.fillna(0)).cumprod() - 1`` (empyrical ``cum_returns``).
    * NaN returns count as 0: ``c[i]`` repeats ``c[i-1]`` (0 at the start).
    * A return of -1 zeroes the product for good (``c = -1`` afterwards,
      unless a later infinite return makes it NaN).
    """
    return cumulative_returns_chunk(r, START["cumulative_returns"])[0][0]


def drawdown(x: Sequence[float]) -> List[float]:
    """Drawdown ``d[i] = x[i] / peak[i] - 1``, ``peak`` the running maximum.

    * The peak starts at ``-inf`` and moves only when a price is strictly
      greater than it; NaN prices do not move it.  Equal to pandas
      ``s / s.cummax() - 1``.
    * NaN prices give NaN; leading NaNs give NaN.  ``d[i] <= 0`` for positive
      prices, 0 at a new peak.
    * Zero or negative peaks follow IEEE division (``0/0`` NaN, ``x/0``
      ``±inf``); ``inf`` prices give NaN (``inf/inf``).
    """
    return drawdown_chunk(x, START["drawdown"])[0][0]


def max_drawdown(x: Sequence[float]) -> float:
    """Maximum drawdown: the minimum of :func:`drawdown` over its non-NaN values.

    * A number ``<= 0`` for positive prices; 0 for a series that never falls.
    * NaN drawdowns are ignored; empty or all-NaN input gives NaN.
    """
    return max_drawdown_chunk(x, START["max_drawdown"])[0][0]


def drawdown_episode(x: Sequence[float]) -> Tuple[int, int, int, float]:
    """The maximum drawdown as an episode ``(peak, trough, recovery, depth)``.

    * ``depth`` is :func:`max_drawdown`.  ``trough`` is the first index where
      the drawdown equals ``depth``.
    * ``peak`` is the last index at or before ``trough`` whose price is at or
      above the running peak (the start of the episode), so
      ``trough - peak == underwater_bars(x)[trough]``.
    * ``recovery`` is the first index after ``trough`` whose price is at or
      above the peak price, or -1 if the series never recovers.
    * With no drawdown (``depth >= 0``) or no valid price: indices are -1 and
      ``depth`` is 0 (or NaN when there is no non-NaN drawdown).
    """
    return drawdown_episode_chunk(x, START["drawdown_episode"])[0]


def underwater_bars(x: Sequence[float]) -> List[int]:
    """Bars since the price was last at or above its running peak.

    * 0 on a bar whose price is ``>=`` the running peak (a new high or a
      retest of it), otherwise one more than the previous bar.
    * NaN bars count as bars (time passes) but never reset the count.
    * -1 before the first non-NaN price (no peak yet).
    """
    return underwater_bars_chunk(x, START["underwater_bars"])[0][0]


def max_drawdown_duration(x: Sequence[float]) -> int:
    """The longest run of consecutive bars below the running peak.

    Exactly ``max(underwater_bars(x))``: a bar at or above the running peak
    ends a run (length 0); NaN bars follow ``underwater_bars`` (they count as
    bars, time passes, and never reset a run).  0 when no bar is below its
    peak; -1 when there is no non-NaN price (empty or all-NaN input).
    """
    return max_drawdown_duration_chunk(x, START["max_drawdown_duration"])[0][0]


def ulcer_index(x: Sequence[float], ddof: int = 0) -> float:
    """Ulcer index ``sqrt(sum(d[i] ** 2) / (N - ddof))`` of the drawdown ``d``.

    * ``d`` is :func:`drawdown`; the sum and ``N`` run over the bars whose
      drawdown is not NaN (NaN prices, and ``0/0`` or ``inf/inf`` drawdowns
      are skipped, as in :func:`max_drawdown`).
    * The squares are summed left to right, one ``d * d`` and one addition
      per bar; then one division and one correctly rounded ``sqrt``.
    * ``N - ddof <= 0`` (empty or all-NaN input, or ``ddof >= N``) gives NaN.
    * ``ddof=0`` (the default) is the root mean square drawdown (Peter
      Martin's definition).  ``ddof=1`` is quantstats' ``ulcer_index``, which
      divides by ``len(returns) - 1``; quantstats computes the drawdown from
      returns (the compounded price), so it agrees to rounding, and only on
      series without NaN (it counts NaN bars in its length).
    """
    ss, n = ulcer_index_chunk(x, START["ulcer_index"])[1][1:]
    m = n - ddof
    return math.sqrt(ss / m) if m > 0 else _NAN


def rolling_max_drawdown(x: Sequence[float], window: int, min_periods=None) -> List[float]:
    """Max drawdown inside each trailing window: ``r[i] = max_drawdown(x[s:i+1])``,
    ``s = max(0, i - window + 1)`` (pandas ``rolling(window)`` alignment).

    * The drawdown inside a window restarts at the window's first bar: the
      peak is the running maximum of the window only (:func:`max_drawdown`'s
      rules, applied to the window as a series of its own).
    * ``min_periods`` (pandas semantics): ``r[i]`` is NaN unless the window
      holds at least ``min_periods`` non-NaN bars; ``None`` means ``window``
      (so the first ``window - 1`` results are NaN).  A window without a
      non-NaN drawdown gives NaN even for ``min_periods=0``.
    * NaN bars count toward the window length but not toward
      ``min_periods``; they do not move the peak (as in :func:`drawdown`).
    * Zero, negative and infinite prices follow :func:`max_drawdown` on the
      window (IEEE division: ``0/0`` NaN and skipped, ``x/0`` ``±inf``,
      ``x/inf`` 0): the native kernel recomputes such windows naively and
      matches this function on them too.
    * ``window < 1`` gives NaN everywhere (the public wrapper raises).
    * A window larger than the series is the expanding window.
    """
    n = len(x)
    mp = window if min_periods is None else min_periods
    out = []
    for i in range(n):
        if window < 1:
            out.append(_NAN)
            continue
        seg = x[max(0, i - window + 1) : i + 1]
        valid = sum(1 for v in seg if v == v)
        if valid < mp or valid == 0:
            out.append(_NAN)
        else:
            out.append(max_drawdown(seg))
    return out


#: The fields of one :func:`drawdowns` record, in order (``col`` is added by
#: the public function for 2-D input).
DRAWDOWN_FIELDS = (
    "peak_idx",
    "valley_idx",
    "end_idx",
    "peak_val",
    "valley_val",
    "end_val",
    "depth",
    "status",
    "decline_bars",
    "recovery_bars",
    "duration_bars",
)
ACTIVE, RECOVERED = 0, 1


def drawdowns(x: Sequence[float]) -> List[tuple]:
    """Every drawdown episode of a price series, in order, as tuples of
    :data:`DRAWDOWN_FIELDS`.

    * The running peak follows :func:`drawdown` (it starts at ``-inf`` and
      moves only on a strictly greater price) and ``peak_idx`` follows
      :func:`underwater_bars`: the last bar at or above the running peak.
    * An episode **opens** at the first non-NaN bar strictly below the
      running peak; its ``peak_idx`` is the last bar at or above the peak
      before that bar and ``peak_val`` the running peak.
    * ``valley_idx`` is the first bar of the episode at its lowest price
      (vectorbt's valley) and ``depth = valley_val / peak_val - 1`` (one IEEE
      division).  For a positive peak this is the episode's smallest
      drawdown; :func:`drawdown_episode`'s trough is the first bar at the
      smallest *drawdown*, which is a different bar only on a rounding tie
      (two prices whose quotients by the peak round to the same value).
    * The episode **recovers** (``status`` 1) at the first later non-NaN bar
      at or above ``peak_val``: ``end_idx`` is that bar and ``end_val`` its
      price; that bar is at the peak, so it can be the next episode's
      ``peak_idx``.  An episode still open after the last bar is **active**
      (``status`` 0): ``end_idx = -1`` and ``end_val`` is the last non-NaN
      price.
    * ``decline_bars = valley_idx - peak_idx``; ``recovery_bars = end_idx -
      valley_idx`` (-1 if active); ``duration_bars = end_idx - peak_idx``, or
      ``len(x) - 1 - peak_idx`` if active.
    * NaN bars never open, deepen or close an episode; they count as bars
      (time passes, as in :func:`underwater_bars`).  Leading NaNs: no peak
      yet.  A series that never falls below its peak has no records; empty
      and all-NaN input give none.
    * Zero, negative and infinite prices follow the comparisons above and
      IEEE division for the depth (``x/0`` gives ``-inf``, ``-inf/inf`` NaN;
      for a negative peak the lowest price is not the smallest drawdown).
    * The same episodes as vectorbt's ``Drawdowns`` records on series
      without NaN (``peak_idx``, ``valley_idx``, values, status; vectorbt's
      ``end_idx`` of an active episode is the last bar, here -1).
    """
    return drawdowns_chunk(x, DRAWDOWNS_START)[0]


#: The state of :func:`drawdowns_chunk` before the first bar: ``peak``,
#: ``valley``, ``last`` (the last non-NaN price), ``peak_i``, ``valley_i``,
#: ``n`` (bars seen), ``in_dd`` (an episode is open).
DRAWDOWNS_START = (-_INF, 0.0, _NAN, -1.0, -1.0, 0.0, 0.0)


def drawdowns_chunk(x: Sequence[float], state: Sequence[float], final: bool = True):
    """:func:`drawdowns` of one chunk from ``state``: ``(records, new_state)``.

    Indices are global (counted from the first bar of the first chunk).  An
    episode is reported in the chunk where it recovers; the one still open
    after the chunk is reported (as active) only when ``final``, so the
    records of chunks run with ``final=False`` and then a last one with
    ``final=True`` are, concatenated, exactly :func:`drawdowns` of the whole.
    """
    out = []
    peak, valley, last = state[0], state[1], state[2]
    peak_i, valley_i, i, in_dd = int(state[3]), int(state[4]), int(state[5]), state[6] != 0.0

    def record(end_i, end_v, status, last_i):
        return (
            peak_i,
            valley_i,
            end_i,
            peak,
            valley,
            end_v,
            _div(valley, peak) - 1.0,
            status,
            valley_i - peak_i,
            end_i - valley_i if status else -1,
            (end_i if status else last_i) - peak_i,
        )

    for v in x:
        if v == v:
            if not in_dd:
                if v >= peak:
                    peak_i = i
                    if v > peak:
                        peak = v
                else:
                    in_dd, valley, valley_i = True, v, i
            elif v >= peak:
                out.append(record(i, v, RECOVERED, i))
                in_dd, peak_i = False, i
                if v > peak:
                    peak = v
            elif v < valley:
                valley, valley_i = v, i
            last = v
        i += 1
    if in_dd and final:
        out.append(record(-1, last, ACTIVE, i - 1))
    return out, [peak, valley, last, float(peak_i), float(valley_i), float(i), 1.0 if in_dd else 0.0]


def top_drawdowns(records: Sequence[tuple], k: int) -> List[tuple]:
    """The ``k`` deepest of one series' :func:`drawdowns` records, deepest
    first; equal depths in order of ``peak_idx``; NaN depths last."""

    def key(r):
        d = r[6]
        return (d != d, d if d == d else 0.0, r[0])

    return sorted(records, key=key)[:k]


def apply_nan_policy(x: Sequence[float], nan: str) -> List[float]:
    """The prices the drawdown family's kernels see under NaN policy ``nan``
    (the ``nan=`` argument of ``drawdown``, ``max_drawdown``, ``drawdowns``,
    ``rolling_max_drawdown`` and ``ulcer_index``).

    * ``"skip"``: ``x`` unchanged (NaN bars give NaN and are skipped).
    * ``"ffill"``: a NaN takes the last non-NaN value before it; leading
      NaNs stay NaN (pandas ``ffill``; quantstats and ffn forward-fill
      prices; quantstats also back-fills leading NaNs and turns ``inf`` into
      NaN first, which this does not do).
    * ``"zero_return"``: ``r[0] = 0``, ``r[i] = x[i] / x[i-1] - 1`` with NaN
      counted as 0, ``y[i] = x0 * ((1 + r[0]) * ... * (1 + r[i]))`` (the
      product accumulated left to right, as ``numpy.cumprod``; ``x0`` the
      first non-NaN price; one multiplication by ``x0`` per bar): empyrical's
      ``cum_returns(r, starting_value=x0)``.  All-NaN input stays NaN.
      Computed in float64; float32 input is rounded once at the end.
    """
    if nan == "skip":
        return list(x)
    if nan == "ffill":
        out, last = [], _NAN
        for v in x:
            if v == v:
                last = v
            out.append(last)
        return out
    if nan != "zero_return":
        raise ValueError(nan)
    x0 = next((v for v in x if v == v), _NAN)
    out, prod, prev = [], 1.0, _NAN
    for i, v in enumerate(x):
        if i:
            r = _div(v, prev) - 1.0
            prod *= 1.0 + (r if r == r else 0.0)
        out.append(prod * x0)
        prev = v
    return out


#: The policies' carries before the first bar (tradekernels._state.POLICY_LAYOUTS).
POLICY_START = {"ffill": [_NAN], "zero_return": [_NAN, 1.0, _NAN]}


def apply_nan_policy_chunk(
    x: Sequence[float], nan: str, carry: Sequence[float]
) -> Tuple[List[float], List[float]]:
    """:func:`apply_nan_policy` on a chunk, from the carry of the chunks before
    (:data:`POLICY_START` before the first): ``(prices, carry)``.  The chunks'
    prices, concatenated, are :func:`apply_nan_policy` of the whole series.

    * ``"ffill"``: carry ``[last non-NaN price]``.
    * ``"zero_return"``: carry ``[last price (NaN included), product, x0]``.
      The first bar of the series has ``prev = NaN``, so its return is NaN,
      counted as 0 (``prod * 1.0`` is exact): the same bits as ``r[0] = 0``.
      ``x0`` is the first non-NaN price; a chunk of a series without one so
      far has none either: its prices (``x0 * prod``, with ``x0`` still to
      come) cannot be given, and ValueError is raised.
    """
    if nan == "ffill":
        last = carry[0]
        out = []
        for v in x:
            if v == v:
                last = v
            out.append(last)
        return out, [last]
    if nan != "zero_return":
        raise ValueError(nan)
    prev, prod, x0 = carry
    if x0 != x0:
        x0 = next((v for v in x if v == v), _NAN)
        if x0 != x0 and len(x):
            raise ValueError("zero_return: no price yet")
    out = []
    for v in x:
        r = _div(v, prev) - 1.0
        prod *= 1.0 + (r if r == r else 0.0)
        out.append(prod * x0)
        prev = v
    return out, [prev, prod, x0]


# --------------------------------------------------------------------------
# The same kernels from a carried state (the loops above are these)
# --------------------------------------------------------------------------
#
# ``<kernel>_chunk(x, state) -> (outputs, new_state)``: run the kernel over
# one chunk ``x`` starting from ``state`` (a sequence of floats, layout in
# :mod:`tradekernels._state`; the public functions above pass the state
# before the first bar).  Chunks processed one after another, each from the
# previous chunk's state, give exactly the result for the whole series.
# ``outputs`` is a tuple with one entry per kernel output.


def simple_returns_chunk(x: Sequence[float], state: Sequence[float]):
    prev = state[0]
    out = []
    for v in x:
        out.append(_div(v, prev) - 1.0)
        prev = v
    return (out,), [prev]


def log_returns_chunk(x: Sequence[float], state: Sequence[float]):
    prev = state[0]
    out = []
    for v in x:
        out.append(_log(_div(v, prev)))
        prev = v
    return (out,), [prev]


def cumulative_returns_chunk(r: Sequence[float], state: Sequence[float]):
    prod = state[0]
    out = []
    for v in r:
        if v == v:
            prod *= 1.0 + v
        out.append(prod - 1.0)
    return (out,), [prod]


def drawdown_chunk(x: Sequence[float], state: Sequence[float]):
    peak = state[0]
    out = []
    for v in x:
        if v > peak:
            peak = v
        out.append(_div(v, peak) - 1.0)
    return (out,), [peak]


def max_drawdown_chunk(x: Sequence[float], state: Sequence[float]):
    peak, best, seen = state[0], state[1], state[2] != 0.0
    for v in x:
        if v > peak:
            peak = v
        d = _div(v, peak) - 1.0
        if d < best:
            best = d
        seen = seen or d == d
    return (best if seen else _NAN,), [peak, best, 1.0 if seen else 0.0]


def drawdown_episode_chunk(x: Sequence[float], state: Sequence[float]):
    # One pass: the recovery is reset whenever the trough moves and set at the
    # first later bar at or above the trough's peak price.
    peak, peak_i, best, best_peak = state[0], int(state[1]), state[2], state[3]
    best_peak_i, trough_i, recovery_i = int(state[4]), int(state[5]), int(state[6])
    seen, i = state[7] != 0.0, int(state[8])
    for v in x:
        if v >= peak:
            peak_i = i
            if v > peak:
                peak = v
        d = _div(v, peak) - 1.0
        if d < best or (not seen and d == d):
            best, trough_i, best_peak_i, best_peak, recovery_i, seen = d, i, peak_i, peak, -1, True
        elif recovery_i < 0 and seen and v >= best_peak:
            recovery_i = i
        i += 1
    if seen and best < 0.0:
        res = (best_peak_i, trough_i, recovery_i, best)
    else:
        res = (-1, -1, -1, best if seen else _NAN)
    new = [
        peak,
        float(peak_i),
        best,
        best_peak,
        float(best_peak_i),
        float(trough_i),
        float(recovery_i),
        1.0 if seen else 0.0,
        float(i),
    ]
    return res, new


def underwater_bars_chunk(x: Sequence[float], state: Sequence[float]):
    peak, count = state[0], int(state[1])
    out = []
    for v in x:
        if v >= peak:
            peak = v
            count = 0
        elif count >= 0:
            count += 1
        out.append(count)
    return (out,), [peak, float(count)]


def max_drawdown_duration_chunk(x: Sequence[float], state: Sequence[float]):
    (counts,), uw = underwater_bars_chunk(x, state[:2])
    best = int(state[2])
    for c in counts:
        if c > best:
            best = c
    return (best,), [uw[0], uw[1], float(best)]


def ulcer_index_chunk(x: Sequence[float], state: Sequence[float]):
    peak, ss, n = state[0], state[1], state[2]
    for v in x:
        if v > peak:
            peak = v
        d = _div(v, peak) - 1.0
        if d == d:
            ss += d * d
            n += 1.0
    return (math.sqrt(ss / n) if n > 0 else _NAN,), [peak, ss, n]
