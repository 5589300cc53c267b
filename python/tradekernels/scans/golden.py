"""Golden cases of the scans: ``tests/golden/<kernel>.npz`` (written only by
``python tools/make_golden.py``; ``--check`` tells whether they are stale).
Windowed kernels (``_registry.WINDOWED``) get one output per
``(window, min_periods)`` of :data:`WINDOWS` (:func:`build_windowed_arrays`).

A new scan kernel gets its file from its declaration; a new input case is one
line in :func:`build_cases`.

What is in a golden file
------------------------
Every kernel row of :data:`tradekernels._registry.KERNELS` gets one file,
whose expected outputs come from the kernel's pure-Python reference twin
(:mod:`tradekernels.scans.reference`) run lane by lane along the last axis; the C
code is never called here.  Keys, in this fixed order:

``kernel``            0-d unicode array, the kernel name
``cases``             1-d unicode array, the case names in order
``<case>__x``         the float64 input (1-d, or 2-d with time on the last axis)
``<case>__out<j>``    expected output ``j`` for the float64 input
                      (float64 for "f" outputs, int64 for "i" outputs)
``<case>__f32out<j>`` expected output ``j`` for the input cast to float32: the
                      twin run on the float32 values, rounded once to float32
                      (stored as float64 holding exact float32 values; int64
                      for "i" outputs)

Determinism
-----------
The inputs use only Python's :class:`random.Random` (Mersenne Twister,
``random()`` is stable across Python versions) and basic IEEE arithmetic,
the outputs only the twins, and ``np.savez`` writes zip members with a fixed
timestamp in the order given, so running this script twice gives
byte-identical files (``--check`` verifies the files on disk; the test suite
also rebuilds the arrays and compares them bit for bit).
"""

from __future__ import annotations

import io
import math
import random
from typing import Dict, List, Tuple

import numpy as np

NAN = math.nan
INF = math.inf


# --------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------


def _walk(seed: int, n: int, start: float = 100.0, vol: float = 0.01, grid: float = 0.0) -> List[float]:
    """A seeded geometric random walk: ``p[i] = p[i-1] * (1 + r[i])``.

    ``r`` is an Irwin-Hall approximation of a normal (sum of 12 uniforms - 6)
    times ``vol``; only ``random.random()`` and + - * are used, so the values
    are the same on every platform.  ``grid > 0`` rounds the prices to that
    grid (``round(p / grid) * grid``), which makes exact ties and retests of
    the running peak common.
    """
    rng = random.Random(seed)
    out = []
    p = start
    for _ in range(n):
        z = 0.0
        for _ in range(12):  # left to right: sum() rounds differently since Python 3.12
            z += rng.random()
        z -= 6.0
        p = p * (1.0 + vol * z)
        out.append(float(round(p / grid) * grid) if grid else p)
    return out


def _returns(seed: int, n: int, nan_every: int = 0) -> List[float]:
    """Small seeded returns in (-3%, 3%), with a NaN every ``nan_every`` bars."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        r = 0.06 * rng.random() - 0.03
        out.append(NAN if nan_every and i % nan_every == nan_every - 1 else r)
    return out


def _block_cases() -> Dict[str, List[float]]:
    """Lengths 7..17 around the SIMD block (4 and 8 doubles): ties, NaN, peaks."""
    cases = {}
    for n in range(7, 18):
        w = _walk(1000 + n, n, vol=0.02, grid=0.5)
        w[-1] = max(w) + 0.5  # a new peak at the last bar
        w[n // 2] = w[0]  # an exact retest of an early price
        cases[f"len{n:02d}_walk"] = w
        v = _walk(2000 + n, n, vol=0.02, grid=0.5)
        v[n // 3] = NAN
        v[n - 2] = NAN
        v[min(4, n - 1)] = max(x for x in v if x == x) + 1.0  # peak inside the first block
        cases[f"len{n:02d}_nan"] = v
    return cases


def build_cases() -> Dict[str, np.ndarray]:
    """Every named input case, in a fixed order (float64, time on the last axis)."""
    c: Dict[str, object] = {}
    c["empty"] = []
    c["len1"] = [100.0]
    c["len2"] = [100.0, 90.0]
    c["len2_up"] = [90.0, 100.0]
    c["nan_run_middle"] = [100.0, 101.0, NAN, NAN, NAN, 99.0, 102.0, 98.0, NAN, 97.0]
    c["leading_nan"] = [NAN, NAN, NAN, 100.0, 95.0, 105.0, 101.0]
    c["all_nan"] = [NAN] * 11
    c["single_nan"] = [NAN]
    c["pos_inf"] = [100.0, 110.0, INF, 120.0, 90.0, INF, 80.0]
    c["neg_inf"] = [-INF, 100.0, -INF, 90.0, 110.0, -INF]
    c["zero_prices"] = [0.0, 0.0, 5.0, 0.0, 3.0, 0.0]
    c["zero_prev_price"] = [10.0, 0.0, 5.0, 0.0, -2.0, 0.0, 0.0, 7.0]
    c["negative_prices"] = [-5.0, -3.0, -10.0, -1.0, -2.0, 4.0, -4.0, -0.5]
    c["all_negative"] = [-10.0, -12.0, -8.0, -9.0, -20.0, -7.0, -7.5, -30.0, -1.0, -2.0]
    c["signed_zeros"] = [-0.0, 0.0, -1.0, 0.0, -0.0, -2.0, 0.0, -3.0, -0.0, -1.0, 0.0, -4.0]
    c["signed_zeros_pos_first"] = [0.0, -0.0, -1.0, -0.0, 0.0, -2.0, -0.0, -3.0, 0.0, -1.0, -0.0, -4.0]
    c["extreme_magnitudes"] = [1e308, 1e-308, 5e-324, 1.7e308, 3.4e38, 3.5e38, 1e-45, 1e-46, 2.0]
    c["new_peak_at_last_bar"] = [100.0, 90.0, 95.0, 80.0, 99.0, 100.0, 101.0]
    c["never_recovered"] = [100.0, 120.0, 90.0, 80.0, 85.0, 100.0, 110.0, 119.0]
    c["recovered"] = [100.0, 120.0, 90.0, 80.0, 100.0, 121.0, 115.0]
    c["exact_retest_of_peak"] = [100.0, 120.0, 90.0, 120.0, 110.0, 120.0, 60.0, 120.0]
    c["two_drawdowns_equal_depth"] = [100.0, 50.0, 100.0, 200.0, 100.0, 200.0, 50.0]
    c["flat"] = [50.0] * 20
    c["monotonic_increasing"] = [float(i) for i in range(1, 34)]
    c["monotonic_decreasing"] = [float(i) for i in range(33, 0, -1)]
    c["returns_minus1_and_nan"] = [0.1, NAN, -0.05, -1.0, 0.2, NAN, 0.3, -0.5]
    c["returns_minus1_then_inf"] = [0.1, -1.0, 0.5, INF, 0.2]
    c["returns_inf_then_minus1"] = [0.1, INF, 0.5, -1.0, 0.2]
    c["returns_leading_nan"] = [NAN, NAN, 0.01, -0.02, NAN, 0.03]
    c["returns_small_200"] = _returns(7, 200, nan_every=17)
    c["random_walk_2000"] = _walk(20240601, 2000)
    # long runs after a special peak: the fast paths handle whole 32-bar blocks
    # without a new peak differently (division skipped), so these need > 64 bars
    c["zero_peak_then_long_nonpositive"] = [0.0] + [(-1.0 - (i % 7)) if i % 5 else 0.0 for i in range(130)]
    c["zero_peak_then_long_zeros"] = [0.0] * 70 + [-0.0] * 70
    c["inf_peak_then_long_finite"] = [1.0, INF] + [(-INF if i == 50 else 5.0 - i % 9) for i in range(130)]
    c["negative_peak_long"] = [-(2.0 + (i * 37) % 11) for i in range(140)]
    c["nan_blocks_long"] = (
        [100.0] + [NAN] * 40 + [90.0 - (i % 13) for i in range(40)] + [NAN] * 33 + [101.0, 95.0]
    )
    c["signed_zeros_long"] = [(-0.0 if i % 3 else 0.0) if i % 4 else -1.0 for i in range(135)]
    c.update(_block_cases())
    rows = [
        _walk(11, 300),
        _walk(12, 300, vol=0.03, grid=0.25),
        [NAN] * 20 + _walk(13, 280),
        _walk(14, 300, vol=0.02),
        [NAN] * 300,
    ]
    for i in range(40, 60):
        rows[1][i] = NAN
    rows[3][150] = 0.0
    rows[3][151] = INF
    rows[4][100] = 5.0
    rows[4][200] = 4.0
    c["matrix_5x300"] = rows
    return {name: np.asarray(v, dtype=np.float64).reshape(np.shape(v)) for name, v in c.items()}


# --------------------------------------------------------------------------
# Expected outputs (reference twins, lane by lane)
# --------------------------------------------------------------------------


def reference_outputs(kernel, x: np.ndarray, dtype=np.float64) -> Tuple[np.ndarray, ...]:
    """Run ``kernel.reference`` on each lane (last axis) of ``x`` cast to ``dtype``
    (the one lane runner, ``_backend.lanes``).

    Float outputs are rounded once to ``dtype`` and returned as ``dtype``;
    index outputs as int64.
    """
    from .._backend import lanes

    with np.errstate(over="ignore"):  # float32 cast of huge values gives inf, as intended
        xd = np.asarray(x).astype(dtype)
    dtypes = [dtype if kind == "f" else np.int64 for kind in kernel.outputs]
    core = [0 if kernel.scan else None] * len(dtypes)
    return tuple(lanes(kernel.reference, [xd], dtypes, core))


def build_arrays(kernel, cases: Dict[str, np.ndarray]) -> Dict[str, np.ndarray]:
    """The ordered arrays of ``tests/golden/<kernel>.npz``."""
    arrays: Dict[str, np.ndarray] = {
        "kernel": np.array(kernel.name),
        "cases": np.array(list(cases)),
    }
    for name, x in cases.items():
        arrays[f"{name}__x"] = x
        for j, o in enumerate(reference_outputs(kernel, x, np.float64)):
            arrays[f"{name}__out{j}"] = o
        for j, o in enumerate(reference_outputs(kernel, x, np.float32)):
            arrays[f"{name}__f32out{j}"] = o.astype(np.float64) if o.dtype.kind == "f" else o
    return arrays


#: (window, min_periods) pairs of the windowed kernels' golden files
#: (``<case>__w<window>_mp<min_periods or "none">__out0`` / ``__f32out0``)
WINDOWS = ((1, None), (3, None), (3, 1), (8, 0), (50, 10), (10**9, 1))


def _mp_tag(mp) -> str:
    return "none" if mp is None else str(mp)


def build_windowed_arrays(kernel, cases: Dict[str, np.ndarray]) -> Dict[str, np.ndarray]:
    """The ordered arrays of ``tests/golden/<kernel>.npz`` for a kernel of
    :data:`tradekernels._registry.WINDOWED` (twin ``reference(x, window, min_periods)``)."""
    from .._backend import lanes

    arrays: Dict[str, np.ndarray] = {
        "kernel": np.array(kernel.name),
        "cases": np.array(list(cases)),
        "windows": np.array([w for w, _ in WINDOWS], dtype=np.int64),
        "min_periods": np.array([-1 if m is None else m for _, m in WINDOWS], dtype=np.int64),
    }
    for name, x in cases.items():
        arrays[f"{name}__x"] = x
        for w, mp in WINDOWS:
            tag = f"{name}__w{w}_mp{_mp_tag(mp)}"
            for dt, key in ((np.float64, "out0"), (np.float32, "f32out0")):
                with np.errstate(over="ignore"):
                    xd = np.asarray(x).astype(dt)
                (o,) = lanes(lambda v, w=w, mp=mp: kernel.reference(v, w, mp), [xd], [dt], [0])
                arrays[f"{tag}__{key}"] = o.astype(np.float64)
    return arrays


def golden_bytes(arrays: Dict[str, np.ndarray]) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def build_records_arrays(cases: Dict[str, np.ndarray]) -> Dict[str, np.ndarray]:
    """The ordered arrays of ``tests/golden/records/drawdowns.npz``: per case,
    ``<case>__x``, ``<case>__rec`` (the twin's records of the float64 input,
    :data:`tradekernels.scans.records.RECORD_DTYPE`) and ``<case>__f32rec``
    (the twin on the float32 values, values rounded once to float32)."""
    from .records import RECORD_DTYPE_F32, _reference_records

    arrays: Dict[str, np.ndarray] = {"kernel": np.array("drawdowns"), "cases": np.array(list(cases))}
    for name, x in cases.items():
        x2 = np.asarray(x).reshape(int(np.prod(np.shape(x)[:-1])), np.shape(x)[-1])
        arrays[f"{name}__x"] = x
        arrays[f"{name}__rec"] = _reference_records(x2)
        with np.errstate(over="ignore"):
            x32 = x2.astype(np.float32)
        with np.errstate(over="ignore"):
            arrays[f"{name}__f32rec"] = _reference_records(x32).astype(RECORD_DTYPE_F32)
    return arrays


def files() -> Dict[str, bytes]:
    """``{path under tests/golden: file bytes}`` for every scan kernel of the registry."""
    from .._registry import KERNELS, WINDOWED

    cases = build_cases()
    out = {}
    for k in KERNELS + WINDOWED:
        build = build_arrays if k in KERNELS else build_windowed_arrays
        data = golden_bytes(build(k, cases))
        # determinism guard: a second build must give the very same bytes
        if golden_bytes(build(k, build_cases())) != data:
            raise RuntimeError(f"golden data for {k.name} is not deterministic")
        out[f"{k.name}.npz"] = data
    data = golden_bytes(build_records_arrays(cases))
    if golden_bytes(build_records_arrays(build_cases())) != data:
        raise RuntimeError("golden data for drawdowns is not deterministic")
    out["records/drawdowns.npz"] = data
    return out
