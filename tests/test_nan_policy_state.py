"""The stateful NaN policies: ``nan="ffill"`` / ``"zero_return"`` with ``state=``.

The policy's carry (tradekernels._state.POLICY_LAYOUTS) is appended to the
kernel's state (``State("<kernel>@<policy>")``), so that chunks give,
concatenated, the batch result bit for bit, for every kernel of the drawdown
family that takes a state: drawdown, max_drawdown, ulcer_index (any ddof) and
drawdowns.  The policy's chunk twin (reference.apply_nan_policy_chunk)
concatenates to the batch twin (reference.apply_nan_policy).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tradekernels as tk
from tradekernels import _api
from tradekernels.scans import reference as R

POLICIES = ("ffill", "zero_return")
SPECIALS = (np.nan, 0.0, -1.0, np.inf, 1e-300)


def _series(draw, rows: int, n: int, special: bool) -> np.ndarray:
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1), label="seed"))
    x = 100.0 * np.cumprod(1.0 + rng.normal(0.0, 0.03, (rows, n)), axis=-1)
    x[rng.random(x.shape) < draw(st.sampled_from([0.0, 0.1, 0.5]), label="nan rate")] = np.nan
    if special:
        m = rng.random(x.shape) < 0.05
        x[m] = rng.choice(SPECIALS, int(m.sum()))
    x[:, 0] = 100.0  # a price at the first bar (zero_return needs one: test_zero_return_without_a_price)
    return x


def _cuts(draw, n: int) -> list:
    inner = draw(st.lists(st.integers(0, n), max_size=5), label="cuts")
    return [0] + sorted(inner) + [n]


def _chunked(fn, x, nan, cuts):
    st_, parts = None, []
    for a, b in zip(cuts[:-1], cuts[1:]):
        r, st_ = fn(x[..., a:b], nan=nan, state=st_, return_state=True)
        parts.append(r)
    return parts, st_


def _bits(a, b) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and a.dtype == b.dtype and bool(np.all((a == b) | (np.isnan(a) & np.isnan(b))))


KERNELS = {
    "drawdown": (tk.drawdown, True),
    "max_drawdown": (tk.max_drawdown, False),
    "ulcer_index": (tk.ulcer_index, False),
    "ulcer_index_ddof1": (lambda a, **k: tk.ulcer_index(a, ddof=1, **k), False),
}


@pytest.mark.parametrize("nan", POLICIES)
@pytest.mark.parametrize("name", list(KERNELS))
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_chunked_equals_batch(name, nan, dtype, data):
    fn, scan = KERNELS[name]
    n = data.draw(st.integers(1, 60), label="n")
    rows = data.draw(st.integers(1, 3), label="rows")
    with np.errstate(over="ignore"):
        x = _series(data.draw, rows, n, data.draw(st.booleans(), label="special")).astype(dtype)
    cuts = _cuts(data.draw, n)
    with np.errstate(all="ignore"):
        batch = fn(x, nan=nan)
        parts, state = _chunked(fn, x, nan, cuts)
    got = np.concatenate(parts, axis=-1) if scan else parts[-1]
    assert _bits(got, batch), f"{name} nan={nan} cuts={cuts}"
    assert state.kernel == f"{name.split('_ddof')[0]}@{nan}"


@pytest.mark.parametrize("nan", POLICIES)
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_drawdowns_chunked_equals_batch(nan, data):
    n = data.draw(st.integers(1, 80), label="n")
    rows = data.draw(st.integers(1, 3), label="rows")
    x = _series(data.draw, rows, n, data.draw(st.booleans(), label="special"))
    cuts = _cuts(data.draw, n)
    with np.errstate(all="ignore"):
        batch = tk.drawdowns(x, nan=nan)
        state, recs = None, []
        for a, b in zip(cuts[:-2], cuts[1:-1]):
            r, state = tk.drawdowns(x[:, a:b], nan=nan, state=state, return_state=True)
            recs.append(r)
        recs.append(
            tk.drawdowns(x[:, cuts[-2] :], nan=nan, state=state)
        )  # the last call reports the open one
    got = np.concatenate(recs)
    got = got[np.lexsort((got["peak_idx"], got["col"]))]
    want = batch[np.lexsort((batch["peak_idx"], batch["col"]))]
    assert got.tobytes() == want.tobytes(), f"nan={nan} cuts={cuts}"


@pytest.mark.parametrize("nan", POLICIES)
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_policy_chunks_twin_and_native(nan, data):
    """The chunk twin concatenates to the batch twin, and the native pre-pass
    (tradekernels._api.apply_nan_policy_chunk) gives the twin's bits, carry included."""
    n = data.draw(st.integers(0, 40), label="n")
    x = _series(data.draw, 1, max(n, 1), data.draw(st.booleans(), label="special"))[0, :n]
    cuts = _cuts(data.draw, n)
    carry = list(R.POLICY_START[nan])
    native_carry = np.array(carry)
    out, nat = [], []
    with np.errstate(all="ignore"):
        for a, b in zip(cuts[:-1], cuts[1:]):
            y, carry = R.apply_nan_policy_chunk(x[a:b].tolist(), nan, carry)
            z, native_carry = _api.apply_nan_policy_chunk("drawdown", x[a:b], -1, nan, native_carry)
            out += y
            nat.append(z)
            assert _bits(native_carry, np.array(carry)), f"carry after {b}"
    want = R.apply_nan_policy(x.tolist(), nan)
    assert _bits(np.array(out, dtype=np.float64), np.array(want, dtype=np.float64))
    assert _bits(np.concatenate(nat) if nat else np.empty(0), np.array(want, dtype=np.float64))


def test_zero_return_without_a_price():
    """A chunk of a series that has had no price yet, and has none, cannot be given:
    its batch prices are the first price, still to come."""
    x = np.array([np.nan, np.nan, 100.0, 90.0])
    with pytest.raises(ValueError, match="no price yet"):
        tk.drawdown(x[:2], nan="zero_return", return_state=True)
    with pytest.raises(ValueError, match="no price yet"):
        R.apply_nan_policy_chunk([np.nan], "zero_return", R.POLICY_START["zero_return"])
    # leading NaN bars inside the first chunk are fine (the price is in the chunk)
    r, s = tk.drawdown(x[:3], nan="zero_return", return_state=True)
    r2 = tk.drawdown(x[3:], nan="zero_return", state=s)
    assert _bits(np.concatenate([r, r2]), tk.drawdown(x, nan="zero_return"))
    # ffill: leading NaN stays NaN, whatever the chunks
    r, s = tk.drawdown(x[:1], nan="ffill", return_state=True)
    assert np.isnan(r).all() and np.isnan(s.fill_last)


def test_policy_state_kinds():
    x = np.array([100.0, np.nan, 90.0])
    _, s = tk.max_drawdown(x, nan="zero_return", return_state=True)
    assert s.kernel == "max_drawdown@zero_return"
    assert s.fields[-3:] == ("zr_prev", "zr_prod", "zr_first") and s.zr_first == 100.0
    _, plain = tk.max_drawdown(x, return_state=True)
    with pytest.raises(ValueError, match="state"):  # a skip state is not a policy state
        tk.max_drawdown(x, nan="ffill", state=plain)
    with pytest.raises(ValueError, match="state"):
        tk.max_drawdown(x, state=s)  # nor the other way round
    with pytest.raises(ValueError, match="broadcast"):
        tk.drawdown(np.ones((2, 3)), nan="ffill", state=tk.State.initial("drawdown@ffill", (3,)))
    assert tk.State.initial("drawdowns@ffill").fill_last != tk.State.initial("drawdowns@ffill").fill_last
