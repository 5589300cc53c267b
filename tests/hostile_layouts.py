"""Odd memory layouts of one array, for the stride matrices (tests/test_scans_strides.py,
tests/test_fills_strides.py).

Every layout holds the values of the array it is built from, except ``zero`` (a
broadcast of one element: stride 0), whose values are that element everywhere:

* ``zero``: ``np.broadcast_to`` of one element (stride 0 on the last axis);
* ``negative``: the same values at a negative stride (``a[::-1].copy()[::-1]``);
* ``strided``: every other element of a bigger buffer (a positive stride that is a
  multiple of the item size but not the item size: the SIMD cores' fallback);
* ``odd``: a byte-offset view at a stride of ``itemsize + 1`` bytes (a field of a
  packed structured array: unaligned, stride not a multiple of the item size).
"""

from __future__ import annotations

from typing import Callable, Dict, Iterator, Sequence, Tuple

import numpy as np

LAYOUTS = ("zero", "negative", "strided", "odd")


def odd_stride(a: np.ndarray) -> np.ndarray:
    """The values of ``a`` (any shape) as the field ``v`` of a packed structured array
    ``[("pad", u1), ("v", a.dtype)]`` (last axis), so the last stride is ``itemsize + 1``
    bytes and the data is unaligned."""
    a = np.asarray(a)
    rec = np.zeros(a.shape, dtype=np.dtype([("pad", "u1"), ("v", a.dtype)], align=False))
    rec["v"] = a
    return rec["v"]


def negative_stride(a: np.ndarray) -> np.ndarray:
    """The values of ``a`` at a negative stride on its last axis."""
    return a[..., ::-1].copy()[..., ::-1]


def strided(a: np.ndarray) -> np.ndarray:
    """The values of ``a`` at twice its item size on the last axis (a view of a bigger buffer)."""
    buf = np.zeros(a.shape[:-1] + (2 * a.shape[-1],), dtype=a.dtype)
    buf[..., ::2] = a
    return buf[..., ::2]


def zero_stride(a: np.ndarray, pick: int = -1) -> np.ndarray:
    """Element ``pick`` of the last axis broadcast along it (stride 0)."""
    return np.broadcast_to(a[..., pick : pick + 1 if pick != -1 else None], a.shape)


def layout(a: np.ndarray, name: str) -> np.ndarray:
    """``a`` in layout ``name`` (see the module docstring); a 1-D or higher array."""
    a = np.asarray(a)
    assert a.ndim >= 1
    if name == "zero":
        return zero_stride(a, a.shape[-1] // 2 if a.shape[-1] else -1) if a.shape[-1] else a
    return {"negative": negative_stride, "strided": strided, "odd": odd_stride}[name](a)


def outer(a: np.ndarray, rows: int, name: str) -> np.ndarray:
    """``a`` repeated ``rows`` times along a new leading (loop) axis, that axis in layout
    ``name``: ``zero`` broadcasts (outer stride 0), ``negative`` / ``strided`` / ``odd`` as
    above but on the leading axis (``odd``: on every axis)."""
    a = np.asarray(a)
    full = np.repeat(a[None], rows, axis=0)
    if name == "zero":
        return np.broadcast_to(a, (rows,) + a.shape)
    if name == "negative":
        return full[::-1].copy()[::-1]
    if name == "strided":
        buf = np.zeros((2 * rows,) + a.shape, dtype=a.dtype)
        buf[::2] = full
        return buf[::2]
    return odd_stride(full)


def same_bits(got: np.ndarray, want: np.ndarray) -> bool:
    """Equal dtype, shape and values; floats bit for bit except NaN payloads."""
    g, w = np.asarray(got), np.asarray(want)
    if g.dtype != w.dtype or g.shape != w.shape:
        return False
    if g.dtype.kind != "f":
        return bool(np.array_equal(g, w))
    gn, wn = np.isnan(g), np.isnan(w)
    u = {4: np.uint32, 8: np.uint64}[g.dtype.itemsize]
    gb, wb = np.ascontiguousarray(g).view(u), np.ascontiguousarray(w).view(u)
    return bool(np.all((gn & wn) | (~gn & ~wn & (gb == wb))))


def call(uf: np.ufunc, args: Sequence[np.ndarray], **kw) -> Tuple[np.ndarray, ...]:
    """``uf(*args)`` with floating-point warnings off, as a tuple of arrays."""
    with np.errstate(all="ignore"):
        res = uf(*args, **kw)
    return tuple(np.asarray(r) for r in res) if isinstance(res, tuple) else (np.asarray(res),)


def contiguous(args: Sequence[np.ndarray]) -> list:
    """C-contiguous aligned copies of ``args`` (the reference call of a layout case)."""
    return [np.array(a, copy=True, order="C") for a in args]


def argument_cases(args: Sequence[np.ndarray]) -> Iterator[Tuple[int, str, list]]:
    """``(argument index, layout, args with that argument in that layout)`` for every
    argument with a core dimension and every layout."""
    for i, a in enumerate(args):
        if np.ndim(a) == 0:
            continue
        for name in LAYOUTS:
            new = list(args)
            new[i] = layout(a, name)
            yield i, name, new


def check_ufunc_layouts(
    uf: np.ufunc, args: Sequence[np.ndarray], what: str, rows: int = 3, expect: Callable | None = None
) -> None:
    """Every argument of ``uf`` in every layout (its core axis, then the outer loop axis),
    and every output as a negative-stride / strided / odd ``out=``: the answers equal those
    of C-contiguous copies of the same values, bit for bit (NaN payloads aside).  Raises
    AssertionError naming the argument, the layout and the output."""
    errors: list = []
    for i, name, new in argument_cases(args):
        want = call(uf, contiguous(new))
        got = call(uf, new)
        for j, (g, w) in enumerate(zip(got, want)):
            if not same_bits(g, w):
                errors.append(f"{what}: argument {i} {name}: output {j}")
    # the outer (broadcast) loop axis: argument i with a leading axis in each layout, the
    # others repeated contiguously; every row is the one-row answer
    base = call(uf, contiguous(args))
    for i in range(len(args)):
        for name in LAYOUTS:
            new = [np.repeat(np.asarray(a)[None], rows, axis=0) for a in args]
            new[i] = outer(args[i], rows, name)
            got = call(uf, new)
            for j, (g, w) in enumerate(zip(got, base)):
                if not same_bits(g, np.broadcast_to(w, (rows,) + w.shape)):
                    errors.append(f"{what}: argument {i} outer {name}: output {j}")
    # outputs in odd layouts
    for name in ("negative", "strided", "odd"):
        outs = tuple(layout(np.empty_like(w), name) if w.ndim else None for w in base)
        if all(o is None for o in outs):
            continue
        got = call(uf, list(args), out=outs)
        for j, (g, w) in enumerate(zip(got, base)):
            if not same_bits(g, w):
                errors.append(f"{what}: out {name}: output {j}")
    assert not errors, errors[:10]


def views_of(a: np.ndarray) -> Dict[str, np.ndarray]:
    """``a`` in every value-preserving layout (all but ``zero``), plus itself."""
    return {"contiguous": a, **{n: layout(a, n) for n in LAYOUTS if n != "zero"}}
