"""The sessions twin under its former name: :mod:`tradekernels.sessions.reference`."""

from .sessions.reference import *  # noqa: F401,F403
from .sessions.reference import __all__  # noqa: F401
