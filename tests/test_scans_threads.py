"""The scans family under threads: many threads call the same kernels on shared inputs,
shared carried :class:`~tradekernels.State` objects, shared raw ufuncs of every SIMD path;
every answer equals the single-thread one, and nothing shared changes.

Deterministic: the threads start together (a barrier) and repeat their calls in their own
orders; no timing is measured or assumed.  The long inputs (> 8192 elements) make the
kernels release the GIL, so the calls really overlap.
"""

from __future__ import annotations

import threading
from typing import Any, Callable, Dict, List, Tuple

import numpy as np
from hostile_layouts import same_bits

import tradekernels as tk
from tradekernels import _registry, ufuncs

THREADS = 6
REPEATS = 3


def _inputs() -> Dict[str, np.ndarray]:
    rng = np.random.default_rng(21)
    long = 100.0 * np.cumprod(1.0 + rng.normal(0.0, 0.01, 30_000))
    long[::997] = np.nan
    mat = 100.0 * np.cumprod(1.0 + rng.normal(0.0, 0.02, (6, 4000)), axis=1)
    short = np.array([100.0, 80.0, 110.0, 90.0, np.nan, 120.0, 60.0])
    # "long2" / "mat2": other values of the same shapes and dtypes, so that calls sharing
    # any scratch space or cache keyed by shape would see each other's answers
    out = {
        "long": long,
        "long2": long[::-1] * 0.5,
        "mat": mat,
        "mat2": mat[::-1, ::-1] + 1.0,
        "f32": long.astype(np.float32),
        "short": short,
    }
    for a in out.values():
        a.flags.writeable = False
    return out


def _flatten(res: Any) -> List[np.ndarray]:
    if isinstance(res, tk.State):
        return [res.values]
    if isinstance(res, tuple):
        return [a for r in res for a in _flatten(r)]
    a = np.asarray(res)
    if a.dtype.names:
        return [np.ascontiguousarray(a).view(np.uint8)]
    return [a]


def _calls(x: Dict[str, np.ndarray]) -> Dict[str, Callable[[], Any]]:
    """Every call the threads make (name -> zero-argument call)."""
    calls: Dict[str, Callable[[], Any]] = {}
    states: Dict[str, Any] = {}
    for k in _registry.KERNELS:
        fn = getattr(tk, k.name)
        # a shared State (immutable), from the first half of the long series
        _, states[k.name] = fn(x["long"][:15_000], return_state=True)
        for key in x:
            calls[f"{k.name}/{key}"] = lambda fn=fn, a=x[key]: fn(a)
        calls[f"{k.name}/state"] = lambda fn=fn, s=states[k.name]: fn(
            x["long"][15_000:], state=s, return_state=True
        )
        calls[f"{k.name}/state-2d"] = lambda fn=fn, k=k: fn(
            x["mat"], state=tk.State.initial(k.name, (6,)), return_state=True
        )
        for path in ufuncs.available_paths():
            uf = ufuncs.for_path(path)
            st = states[k.name].values
            calls[f"{k.name}[{path}]"] = lambda u=uf[k.name]: u(x["long"])
            calls[f"{k.name}_state[{path}]"] = lambda u=uf[k.name + "_state"], st=st: u(x["long"], st)
    calls["rolling_max_drawdown"] = lambda: tk.rolling_max_drawdown(x["long"], 250, min_periods=10)
    calls["rolling_max_drawdown/mat"] = lambda: tk.rolling_max_drawdown(x["mat"], 30)
    calls["ulcer_index/ddof"] = lambda: tk.ulcer_index(x["mat"], ddof=1)
    calls["drawdowns"] = lambda: tk.drawdowns(x["long"])
    calls["drawdowns/mat"] = lambda: tk.drawdowns(x["mat"], top=3)
    _, dds = tk.drawdowns(x["long"][:15_000], return_state=True)
    calls["drawdowns/state"] = lambda: tk.drawdowns(x["long"][15_000:], state=dds, return_state=True)
    return calls


def _run_threads(calls: Dict[str, Callable[[], Any]], want: Dict[str, List[np.ndarray]]) -> List[str]:
    names = sorted(calls)
    errors: List[str] = []
    barrier = threading.Barrier(THREADS)

    def work(seed: int) -> None:
        order = np.random.default_rng(seed).permutation(len(names))
        barrier.wait()
        for _ in range(REPEATS):
            for j in order:
                name = names[j]
                try:
                    got = _flatten(calls[name]())
                except Exception as e:  # noqa: BLE001 - reported below
                    errors.append(f"{name}: {e!r}")
                    continue
                if len(got) != len(want[name]) or not all(same_bits(g, w) for g, w in zip(got, want[name])):
                    errors.append(name)

    threads = [threading.Thread(target=work, args=(s,)) for s in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


def test_many_threads_same_answers_as_one():
    x = _inputs()
    before = {k: v.copy() for k, v in x.items()}
    calls = _calls(x)
    # (copies: a result must not be an array a later call may write into)
    want = {name: [a.copy() for a in _flatten(c())] for name, c in calls.items()}
    errors = _run_threads(calls, want)
    assert not errors, sorted(set(errors))[:10]
    for k, v in x.items():  # the shared inputs are untouched
        assert same_bits(v, before[k])


def test_threads_with_their_own_backend():
    """The backend is a context variable: a thread on ``reference`` or ``shadow`` does not
    change what the others compute (nor do they change its)."""
    x = np.array([100.0, 80.0, 110.0, 90.0, np.nan, 120.0, 60.0, 130.0] * 40)
    names = [k.name for k in _registry.KERNELS]
    want = {n: _flatten(getattr(tk, n)(x)) for n in names}
    errors: List[Tuple[str, str]] = []
    barrier = threading.Barrier(3)

    def work(mode: str) -> None:
        barrier.wait()
        with tk.backend(mode):
            for _ in range(5):
                for n in names:
                    got = _flatten(getattr(tk, n)(x))
                    if tk.get_backend() != mode or not all(same_bits(g, w) for g, w in zip(got, want[n])):
                        errors.append((mode, n))

    threads = [threading.Thread(target=work, args=(m,)) for m in ("native", "reference", "shadow")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[:10]
    assert tk.get_backend() == "native"


def test_shared_state_objects_are_immutable():
    """What makes a State safe to share: no attribute can be set, its array is read-only."""
    _, s = tk.drawdown_episode(np.array([100.0, 80.0, 110.0]), return_state=True)
    assert not s.values.flags.writeable
    try:
        s.values[0] = 1.0
    except ValueError:
        pass
    else:  # pragma: no cover - the assertion below reports it
        raise AssertionError("State.values is writable")
    for name in ("values", "kernel", "peak"):
        try:
            setattr(s, name, 1.0)
        except AttributeError:
            continue
        raise AssertionError(f"State.{name} can be set")
