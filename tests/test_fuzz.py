"""Fuzzing every registry kernel with arbitrary arrays, dtypes, shapes and strides.

For each generated input: no crash; if the input is valid (real dtype, at
least one dimension, axis in range) the native result equals the reference
twin (the ``shadow`` backend raises ShadowMismatch otherwise); if it is not,
a TypeError / ValueError (AxisError is a ValueError).  The ``ci`` hypothesis
profile runs many more examples; ``tools/fuzz_atheris.py`` is the long-run
coverage-guided harness for local use.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tradekernels as tk
from tradekernels._registry import KERNELS

VALID_DTYPES = ["<f8", ">f8", "<f4", ">f4", "<f2", "<i8", ">i4", "u1", "u8", "i2", "?"]
INVALID_DTYPES = ["<c16", "<c8", "U3", "S2", "<M8[ns]", "<m8[s]", "O"]


@st.composite
def arrays(draw):
    dtype = np.dtype(draw(st.sampled_from(VALID_DTYPES + INVALID_DTYPES)))
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=9))
    if dtype.kind in "fiub":
        elements = None  # any value of the dtype: NaN, inf, subnormals, extremes
    elif dtype.kind == "O":
        elements = st.floats(allow_nan=True)
    else:
        elements = None
    a = draw(hnp.arrays(dtype, shape, elements=elements))
    # random strides: step and reverse each axis
    if a.ndim:
        index = tuple(slice(None, None, draw(st.sampled_from([1, 2, -1, -2]))) for _ in range(a.ndim))
        a = a[index]
    if draw(st.booleans()) and a.ndim >= 2:
        a = a.T
    return a


@pytest.mark.parametrize("kernel", KERNELS, ids=[k.name for k in KERNELS])
@settings(max_examples=4 * settings.default.max_examples)
@given(x=arrays(), axis=st.integers(-4, 3), raw=st.booleans())
def test_fuzz_kernel(kernel, x, axis, raw):
    valid = x.dtype.kind in "fiub" and x.ndim >= 1 and -x.ndim <= axis < x.ndim
    if raw:
        # raw ufunc: NumPy's own casting rules, so only check no crash and the error type
        fn = getattr(tk.ufuncs, kernel.name)
        try:
            fn(x, axis=axis)
        except (TypeError, ValueError):
            assert not valid, "a valid real array was rejected by the raw ufunc"
        return
    fn = getattr(tk, kernel.name)
    if valid:
        with tk.backend("shadow"):
            fn(x, axis=axis)
    else:
        with pytest.raises((TypeError, ValueError)):
            fn(x, axis=axis)
