from contextlib import AbstractContextManager
from typing import Any, Literal, NamedTuple, Optional, Tuple, TypeVar, Union, overload

import numpy as np
import numpy.typing as npt
import pandas as pd

from . import reference as reference
from . import ufuncs as ufuncs
from . import stream as stream
from . import dask as dask
from . import plot as plot
from ._state import State as State

__version__: str
__all__: list[str]
BACKENDS: Tuple[str, ...]
simd_path: str

_Axis = Optional[Union[int, str]]
_Arr = TypeVar("_Arr", bound=np.ndarray)

class ShadowMismatch(AssertionError):
    def __init__(self, kernel: str, output: int, index: Tuple[int, ...], native: object,
                 reference: object) -> None: ...
    kernel: str
    output: int
    index: Tuple[int, ...]
    native: object
    reference: object

def set_backend(name: str) -> None: ...
def get_backend() -> str: ...
def backend(name: str) -> AbstractContextManager[None]: ...

# Scan kernels (generated wrappers; overloads in scans/api.pyi, written by tools/gen_stubs.py).
from .scans.api import *  # noqa: F401,F403
from .scans.api import Episode as Episode

# Order fills (tradekernels.fills)
from .fills import BarIndex as BarIndex, Fills as Fills, OrderKind as OrderKind, fill_orders as fill_orders

# Trading sessions (tradekernels.sessions)
from .sessions import (
    Calendar as Calendar,
    SessionTable as SessionTable,
    minutes_into_session as minutes_into_session,
    session_index as session_index,
    session_label as session_label,
    session_mask as session_mask,
    session_start as session_start,
)
