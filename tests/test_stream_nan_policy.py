"""The live classes of the drawdown family under the batch keywords ``nan=`` and ``ddof=``.

``tk.stream.Drawdown``, ``MaxDrawdown``, ``UlcerIndex``, ``RollingMaxDrawdown`` and
``Drawdowns`` take the batch NaN policy (``nan="skip" | "ffill" | "zero_return"``) and
``UlcerIndex`` the batch ``ddof``: after each update the output is the batch call on the
prices so far, bit for bit (a scan's last bar, a reduction's value, the records so far),
and the state is the chunked batch state (``State("<kernel>@<policy>")``: the kernel's
fields, then the policy's carry), so it round-trips through ``state=``, pickle and
``extend``.  With ``nan="zero_return"`` a NaN before the first price raises ValueError,
as the chunked batch call on that one bar does, and changes nothing.
"""

from __future__ import annotations

import math
import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tradekernels as tk
from tradekernels import _core, stream
from tradekernels.scans.records import RECORD_DTYPE

POLICIES = ("skip", "ffill", "zero_return")
SPECIALS = (np.nan, 0.0, -0.0, -1.0, np.inf, 1e-300)


def _w(kw: dict) -> tuple:
    return kw.pop("window", 4), kw.pop("min_periods", 2)


#: name -> (make the stream, the batch function, scan?)
KERNELS = {
    "drawdown": (stream.Drawdown, tk.drawdown, True),
    "max_drawdown": (stream.MaxDrawdown, tk.max_drawdown, False),
    "ulcer_index": (stream.UlcerIndex, tk.ulcer_index, False),
    "ulcer_index_ddof1": (
        lambda **k: stream.UlcerIndex(ddof=1, **k),
        lambda x, **k: tk.ulcer_index(x, ddof=1, **k),
        False,
    ),
    "ulcer_index_ddof3": (
        lambda **k: stream.UlcerIndex(ddof=3, **k),
        lambda x, **k: tk.ulcer_index(x, ddof=3, **k),
        False,
    ),
    "rolling_max_drawdown": (
        lambda **k: stream.RollingMaxDrawdown(4, 2, **k),
        lambda x, **k: tk.rolling_max_drawdown(x, 4, min_periods=2, **k),
        True,
    ),
    "rolling_max_drawdown_w1": (
        lambda **k: stream.RollingMaxDrawdown(1, **k),
        lambda x, **k: tk.rolling_max_drawdown(x, 1, **k),
        True,
    ),
}


def _prices(data, nan: str) -> np.ndarray:
    """A random walk with NaN runs (and, at times, zero / negative / infinite prices); a
    leading NaN run only where the policy can take one (not zero_return)."""
    n = data.draw(st.integers(1, 40), label="n")
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="seed"))
    x = 100.0 * np.cumprod(1.0 + rng.normal(0.0, 0.03, n))
    for _ in range(data.draw(st.integers(0, 4), label="NaN runs")):
        a = int(rng.integers(0, n))
        x[a : a + int(rng.integers(1, 6))] = np.nan
    if data.draw(st.booleans(), label="specials"):
        m = rng.random(n) < 0.1
        x[m] = rng.choice(SPECIALS, int(m.sum()))
    if nan == "zero_return" or not data.draw(st.booleans(), label="leading NaN"):
        x[0] = 100.0
    return x


def _same(a, b) -> bool:
    a, b = np.float64(a), np.float64(b)
    return bool(a == b and np.signbit(a) == np.signbit(b)) or bool(np.isnan(a) and np.isnan(b))


def _batch(fn, x, scan, **kw):
    with np.errstate(all="ignore"):
        r = fn(x, **kw)
    return r[-1] if scan and "return_state" not in kw else r


@pytest.mark.parametrize("nan", POLICIES)
@pytest.mark.parametrize("name", list(KERNELS))
@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_every_update_equals_the_batch_so_far(name, nan, data):
    make, fn, scan = KERNELS[name]
    x = _prices(data, nan)
    s = make(nan=nan)
    with np.errstate(all="ignore"):
        for i, v in enumerate(x.tolist()):
            got = s.update(v)
            want = _batch(fn, x[: i + 1], scan, nan=nan)
            assert _same(got, want), f"{name} nan={nan} bar {i}: {got!r} != {want!r} ({x[: i + 1]})"
        assert s.state == fn(x, nan=nan, return_state=True)[1]
    assert s.state.kernel.endswith("" if nan == "skip" else f"@{nan}")


@pytest.mark.parametrize("nan", POLICIES)
@pytest.mark.parametrize("name", list(KERNELS))
@settings(max_examples=20, deadline=None)
@given(data=st.data())
def test_state_pickle_and_extend_round_trip_mid_stream(name, nan, data):
    make, fn, scan = KERNELS[name]
    x = _prices(data, nan)
    k = data.draw(st.integers(0, len(x)), label="cut")
    if nan == "zero_return" and k == 0:
        k = 1  # the tail may begin with a NaN: the stream has had its first price
    with np.errstate(all="ignore"):
        full = fn(x, nan=nan)
        _, batch_state = fn(x[:k], nan=nan, return_state=True)
        live = make(nan=nan)
        for v in x[:k].tolist():
            live.update(v)
        assert live.state == batch_state
        caught_up = make(nan=nan)
        head = caught_up.extend(x[:k])
        if scan:
            assert all(_same(a, b) for a, b in zip(head, full[:k]))
        assert caught_up.state == batch_state
        copies = [
            live,
            pickle.loads(pickle.dumps(live)),
            make(nan=nan, state=live.state),
            make(nan=nan, state=batch_state),
            caught_up,
        ]
        assert all(type(c) is type(live) for c in copies)
        for i in range(k, len(x)):
            outs = [c.update(x[i]) for c in copies]
            want = full[i] if scan else fn(x[: i + 1], nan=nan)
            assert all(_same(o, want) for o in outs), (i, outs, want)
        # the stream's state seeds a batch call (and extend continues it)
        rest, st_ = fn(x[k:], nan=nan, state=make(nan=nan, state=batch_state).state, return_state=True)
        assert st_ == copies[0].state
        tail = make(nan=nan, state=batch_state).extend(x[k:])
        if scan:
            assert all(_same(a, b) for a, b in zip(rest, full[k:]))
            assert all(_same(a, b) for a, b in zip(tail, full[k:]))
        else:
            assert _same(tail, full) and _same(rest, full)


def _records(rows) -> np.ndarray:
    return np.array([(0,) + tuple(r) for r in rows], dtype=RECORD_DTYPE)


def _same_records(a: np.ndarray, b: np.ndarray) -> bool:
    if a.shape != b.shape:
        return False
    for f in a.dtype.names:
        x, y = a[f], b[f]
        if x.dtype.kind == "f":
            if not all(_same(p, q) for p, q in zip(x, y)):
                return False
        elif not np.array_equal(x, y):
            return False
    return True


@pytest.mark.parametrize("nan", POLICIES)
@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_drawdowns_stream_equals_the_batch_records_so_far(nan, data):
    x = _prices(data, nan)
    k = data.draw(st.integers(1, len(x)), label="cut")
    s = stream.Drawdowns(nan=nan)
    closed = []
    with np.errstate(all="ignore"):
        for i, v in enumerate(x.tolist()):
            r = s.update(v)
            if r is not None:
                closed.append(r)
            got = _records(closed + ([s.active] if s.active is not None else []))
            assert _same_records(got, tk.drawdowns(x[: i + 1], nan=nan)), (nan, i)
            if i + 1 == k:
                mid = s.state
                assert mid == tk.drawdowns(x[:k], nan=nan, return_state=True)[1]
                copies = [pickle.loads(pickle.dumps(s)), stream.Drawdowns(mid, nan=nan)]
        assert s.state == tk.drawdowns(x, nan=nan, return_state=True)[1]
        for c in copies:
            for v in x[k:].tolist():
                c.update(v)
            assert c.state == s.state and c.active == s.active
        t = stream.Drawdowns(nan=nan)
        recs = np.concatenate([t.extend(x[:k]), t.extend(x[k:])])
        assert t.state == s.state
        assert _same_records(recs, _records(closed))


MAKERS = {
    "Drawdown": lambda **k: stream.Drawdown(**k),
    "MaxDrawdown": lambda **k: stream.MaxDrawdown(**k),
    "UlcerIndex": lambda **k: stream.UlcerIndex(**k),
    "UlcerIndex_ddof1": lambda **k: stream.UlcerIndex(ddof=1, **k),
    "RollingMaxDrawdown": lambda **k: stream.RollingMaxDrawdown(3, **k),
    "Drawdowns": lambda **k: stream.Drawdowns(**k),
}


@pytest.mark.parametrize("name", list(MAKERS))
def test_zero_return_nan_before_the_first_price(name):
    """The chunked batch call cannot give such a bar (its price is the first price, still to
    come): the update raises ValueError as that call does, and changes nothing."""
    s = MAKERS[name](nan="zero_return")
    before = s.state
    with pytest.raises(ValueError, match="first price"):
        s.update(math.nan)
    with pytest.raises(ValueError, match="first price"):
        s.extend([math.nan, math.nan])
    assert s.state == before
    ref = MAKERS[name](nan="zero_return")
    for v in (100.0, math.nan, 90.0, 95.0):
        assert repr(s.update(v)) == repr(ref.update(v))
    assert s.state == ref.state
    # a NaN is fine once there has been a price; ffill takes leading NaNs (NaN results)
    s.update(math.nan)
    f = MAKERS[name](nan="ffill")
    r = f.update(math.nan)
    assert r is None or math.isnan(r)


@pytest.mark.parametrize("name", list(MAKERS))
def test_policy_arguments_and_states(name):
    make = MAKERS[name]
    with pytest.raises(ValueError, match="nan must be one of"):
        make(nan="bfill")
    s = make(nan="ffill")
    assert isinstance(s, getattr(stream, name.split("_")[0]))
    assert s.state.kernel.endswith("@ffill")
    with pytest.raises(ValueError, match="state"):
        make(nan="zero_return", state=s.state)  # another policy's carry
    with pytest.raises(ValueError, match="state"):
        make(state=s.state)  # nan="skip" takes the kernel's own state
    with pytest.raises(TypeError):
        s.update("1.0")  # rejected before the carry moves
    assert s.state == make(nan="ffill").state
    assert "ffill" in repr(s)
    s.update(100.0)
    s.update(math.nan)
    assert s.state.fill_last == 100.0
    s.reset()
    assert s.state == make(nan="ffill").state
    assert make(nan=None).state == make().state


@pytest.mark.parametrize("name", ["Drawdown", "MaxDrawdown", "UlcerIndex", "RollingMaxDrawdown", "Drawdowns"])
def test_the_default_stream_keeps_the_c_update(name):
    """nan="skip" (and ddof=0) is the C type's update alone, no Python step per value."""
    cls = getattr(stream, name)
    s = cls(3) if name == "RollingMaxDrawdown" else cls()
    assert type(s) is cls and type(s).update is getattr(_core, name).update
    s = cls(3, nan="skip") if name == "RollingMaxDrawdown" else cls(nan="skip")
    assert type(s) is cls


@pytest.mark.parametrize("ddof", [1, 2, -1, np.int64(1)])
def test_ulcer_index_ddof(ddof):
    x = np.array([100.0, 90.0, np.nan, 95.0, 80.0, 120.0, 110.0])
    s = stream.UlcerIndex(ddof=ddof)
    for i, v in enumerate(x.tolist()):
        assert _same(s.update(v), tk.ulcer_index(x[: i + 1], ddof=ddof))
    assert s.state == tk.ulcer_index(x, ddof=ddof, return_state=True)[1]
    c = pickle.loads(pickle.dumps(s))
    assert _same(c.update(70.0), tk.ulcer_index(np.append(x, 70.0), ddof=ddof))
    assert _same(s.extend([70.0]), tk.ulcer_index(np.append(x, 70.0), ddof=ddof))
    assert f"ddof={int(ddof)}" in repr(s)
    assert _same(
        stream.UlcerIndex(s.state, ddof=ddof).update(60.0),
        tk.ulcer_index(np.append(x, [70.0, 60.0]), ddof=ddof),
    )
    for bad in (1.0, True, "1", None):
        with pytest.raises(TypeError, match="ddof"):
            stream.UlcerIndex(ddof=bad)
    with pytest.raises(TypeError):
        stream.Drawdown(ddof=1)  # only UlcerIndex has a ddof
