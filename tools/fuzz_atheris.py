"""Coverage-guided fuzzing of every registry kernel with atheris (local, long runs).

    pip install atheris
    python tools/fuzz_atheris.py -atheris_runs=200000        # or -max_total_time=600

Each input picks a kernel, a dtype, a shape, strides and raw element bytes.
Valid input must give the reference twin's result (the shadow backend
raises ShadowMismatch otherwise); invalid input must raise TypeError or
ValueError.  Anything else (a crash, another exception) is a finding.
For C-level memory errors, run it against the sanitizer build
(tools/sanitize.sh installs one; then LD_PRELOAD the ASan runtime).
"""

import sys

import atheris
import numpy as np

import tradekernels as tk
from tradekernels._registry import KERNELS

DTYPES = ["<f8", ">f8", "<f4", ">f4", "<f2", "<i8", "u1", "?", "<c16", "U2", "<M8[ns]", "O"]


def one_input(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    kernel = KERNELS[fdp.ConsumeIntInRange(0, len(KERNELS) - 1)]
    dtype = np.dtype(DTYPES[fdp.ConsumeIntInRange(0, len(DTYPES) - 1)])
    ndim = fdp.ConsumeIntInRange(0, 3)
    shape = tuple(fdp.ConsumeIntInRange(0, 6) for _ in range(ndim))
    size = int(np.prod(shape)) if shape else 1
    if dtype.kind == "O":
        x = np.array([fdp.ConsumeRegularFloat() for _ in range(size)], dtype=object).reshape(shape)
    else:
        raw = fdp.ConsumeBytes(size * dtype.itemsize).ljust(size * dtype.itemsize, b"\0")
        x = np.frombuffer(raw, dtype=dtype).reshape(shape)
        if dtype.kind in "US":
            x = x.copy()
    for ax in range(ndim):
        step = fdp.PickValueInList([1, 1, 2, -1])
        x = x[(slice(None),) * ax + (slice(None, None, step),)]
    axis = fdp.ConsumeIntInRange(-3, 2)
    valid = dtype.kind in "fiub" and x.ndim >= 1 and -x.ndim <= axis < x.ndim
    fn = getattr(tk, kernel.name)
    try:
        with tk.backend("shadow"):
            fn(x, axis=axis)
    except (TypeError, ValueError):
        if valid:
            raise
        return
    if not valid:
        raise AssertionError(f"{kernel.name} accepted invalid input {x.dtype} {x.shape} axis={axis}")


def main() -> None:
    np.seterr(all="ignore")
    atheris.instrument_all()  # works with editable installs' custom loaders too
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
