"""The machine a benchmark ran on, recorded in every benchmark's JSON and header.

Figures from different machines (AMD EPYC with AVX2 only, Intel Xeon with AVX-512, ...) are
never comparable as if equal: every script records the CPU model and flags, the SIMD path
tradekernels chose, the versions and the build it measured (the ``_core`` file's hash), and
the load average before and after.
"""

from __future__ import annotations

import datetime as _dt
import os
import platform
import subprocess
import sys
from typing import Any, Dict

import numpy as np

import tradekernels
from tradekernels import ufuncs as tku


def loadavg() -> str:
    try:
        with open("/proc/loadavg") as fh:
            return " ".join(fh.read().split()[:3])
    except OSError:
        return "unknown"


def machine_info() -> Dict[str, Any]:
    cpu = None
    flags = ""
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if cpu is None and line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                elif not flags and line.startswith("flags"):
                    flags = line.split(":", 1)[1]
    except OSError:
        pass
    try:
        affinity = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        affinity = None
    commit = None
    try:
        commit = (
            subprocess.run(
                ["git", "rev-parse", "--short", "HEAD"],
                cwd=os.path.dirname(os.path.abspath(__file__)),
                capture_output=True,
                text=True,
                timeout=5,
            ).stdout.strip()
            or None
        )
    except Exception:
        pass
    core = getattr(tradekernels, "_core", None)
    core_file = getattr(core, "__file__", None)
    core_sha = core_mtime = None
    if core_file:
        try:
            import hashlib

            with open(core_file, "rb") as fh:
                core_sha = hashlib.sha256(fh.read()).hexdigest()[:16]
            core_mtime = _dt.datetime.fromtimestamp(os.path.getmtime(core_file), _dt.timezone.utc).isoformat(
                timespec="seconds"
            )
        except OSError:
            pass
    try:
        stream_min = core.stream_min_bytes()
    except AttributeError:
        stream_min = None
    return {
        "cpu_model": cpu or platform.processor() or "unknown",
        "cpu_flags": sorted(flags.split()),
        "cpu_avx2": " avx2" in flags,
        "cpu_avx512f": " avx512f" in flags,
        "stream_min_bytes": stream_min,
        "nproc": os.cpu_count(),
        "nproc_affinity": affinity,
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        # (versions of the peers the calling script imported, None where it did not)
        "pandas": getattr(sys.modules.get("pandas"), "__version__", None),
        "numba": getattr(sys.modules.get("numba"), "__version__", None),
        "tradekernels": getattr(tradekernels, "__version__", None),
        "tradekernels_commit": commit,
        "tradekernels_core": core_file,
        "tradekernels_core_sha256_16": core_sha,
        "tradekernels_core_mtime": core_mtime,
        "simd_path": tku.simd_path,
        "available_paths": tku.available_paths(),
        "timestamp": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "loadavg": loadavg(),
    }
