from contextlib import AbstractContextManager
from typing import Optional, Tuple, TypeVar, Union

import numpy as np

from . import dask as dask
from . import plot as plot
from . import reference as reference
from . import stream as stream
from . import ufuncs as ufuncs
from ._state import State as State

__version__: str
__all__: list[str]
BACKENDS: Tuple[str, ...]
simd_path: str

_Axis = Optional[Union[int, str]]
_Arr = TypeVar("_Arr", bound=np.ndarray)

class ShadowMismatch(AssertionError):
    def __init__(
        self, kernel: str, output: int, index: Tuple[int, ...], native: object, reference: object
    ) -> None: ...
    kernel: str
    output: int
    index: Tuple[int, ...]
    native: object
    reference: object

def set_backend(name: str) -> None: ...
def get_backend() -> str: ...
def backend(name: str) -> AbstractContextManager[None]: ...

# Scan kernels (generated wrappers; overloads in scans/api.pyi, written by tools/gen_stubs.py).
# Order fills (tradekernels.fills)
from .fills import (
    BarIndex as BarIndex,
)
from .fills import (
    ExitReason as ExitReason,
)
from .fills import (
    Exits as Exits,
)
from .fills import (
    ExitState as ExitState,
)
from .fills import (
    Fills as Fills,
)
from .fills import (
    FillState as FillState,
)
from .fills import (
    OrderKind as OrderKind,
)
from .fills import (
    SignalState as SignalState,
)
from .fills import (
    exit_orders as exit_orders,
)
from .fills import (
    fill_orders as fill_orders,
)
from .fills import (
    trades_from_signals as trades_from_signals,
)
from .scans.api import *  # noqa: F401,F403
from .scans.api import Episode as Episode

# Trading sessions (tradekernels.sessions)
from .sessions import (
    Calendar as Calendar,
)
from .sessions import (
    SessionTable as SessionTable,
)
from .sessions import (
    minutes_into_session as minutes_into_session,
)
from .sessions import (
    session_index as session_index,
)
from .sessions import (
    session_label as session_label,
)
from .sessions import (
    session_mask as session_mask,
)
from .sessions import (
    session_start as session_start,
)
