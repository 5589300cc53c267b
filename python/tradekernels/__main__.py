"""Command line: ``python -m tradekernels {demo,info}``.

* ``demo [--symbols N] [--days N] [--repeat N] [--plot PATH]``: run the
  pandas vs tradekernels comparison on the embedded synthetic dataset and
  print the report; ``--plot`` also writes a PNG of the worst symbol (its
  top-5 drawdown periods and underwater chart; needs matplotlib, the
  ``[plot]`` extra).  Exit code 0 if every result matched, 1 on a mismatch.
* ``info``: version, active SIMD path, available paths, backend and the
  NumPy (and pandas, if installed) version.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import List, Optional

_EXIT_OK, _EXIT_MISMATCH, _EXIT_USAGE = 0, 1, 2


def _silence_stdout() -> None:
    """After a broken pipe: send what is left (and the final flush) to /dev/null."""
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m tradekernels",
        description="Native-speed trading kernels (returns, drawdowns) as NumPy gufuncs.",
    )
    sub = p.add_subparsers(dest="command", metavar="{demo,info}")
    sub.required = True
    demo = sub.add_parser(
        "demo",
        help="compare tradekernels with pandas and pure Python on a synthetic dataset",
        description="Compute returns and drawdowns with pandas, with pure-Python loops and "
        "with tradekernels; check the results agree, time them and report "
        "the worst drawdowns.  Exit code 1 on a mismatch.",
    )
    demo.add_argument(
        "--symbols", type=_positive_int, default=500, metavar="N", help="number of symbols (default 500)"
    )
    demo.add_argument(
        "--days",
        type=_positive_int,
        default=2520,
        metavar="N",
        help="number of business days, at least 2 (default 2520)",
    )
    demo.add_argument(
        "--repeat",
        type=_positive_int,
        default=3,
        metavar="N",
        help="timing repetitions, the best one counts (default 3)",
    )
    demo.add_argument(
        "--plot",
        metavar="PATH",
        default=None,
        help="also write a PNG of the worst symbol's drawdowns to PATH (needs matplotlib)",
    )
    sub.add_parser(
        "info",
        help="show version, SIMD paths, backend and library versions",
        description="Show version, SIMD paths, backend and library versions.",
    )
    return p


def _info() -> int:
    import numpy as np

    import tradekernels as tk

    print(f"tradekernels {tk.__version__}")
    print(f"  SIMD path:       {tk.simd_path}")
    print(f"  available paths: {', '.join(tk.ufuncs.available_paths())}")
    print(f"  backend:         {tk.get_backend()}")
    print(f"  numpy:           {np.__version__}")
    try:
        import pandas as pd
    except ImportError:
        print("  pandas:          not installed (pip install tradekernels[pandas])")
    else:
        print(f"  pandas:          {pd.__version__}")
    print(f"  python:          {sys.version.split()[0]}")
    return _EXIT_OK


def _demo(args: argparse.Namespace) -> int:
    from ._demo import print_report, run_demo

    if args.days < 2:
        print("python -m tradekernels demo: --days must be at least 2", file=sys.stderr)
        return _EXIT_USAGE
    try:
        res = run_demo(n_symbols=args.symbols, n_days=args.days, repeat=args.repeat)
    except ImportError as exc:
        print(f"python -m tradekernels demo: {exc}", file=sys.stderr)
        return _EXIT_USAGE
    try:
        print_report(res)
    except BrokenPipeError:  # output piped into e.g. "head": keep the exit code
        _silence_stdout()
    if args.plot:
        from ._demo import plot_worst

        try:
            worst = plot_worst(args.plot, n_symbols=args.symbols, n_days=args.days)
        except ImportError as exc:
            print(f"python -m tradekernels demo: {exc}", file=sys.stderr)
            return _EXIT_USAGE
        print(f"wrote {args.plot} (worst symbol: {worst})")
    return _EXIT_OK if res["match"] else _EXIT_MISMATCH


def main(argv: Optional[List[str]] = None) -> int:
    """Entry point; returns the process exit code."""
    args = _parser().parse_args(argv)
    try:
        return _info() if args.command == "info" else _demo(args)
    except BrokenPipeError:  # output piped into e.g. "head": stop quietly
        _silence_stdout()
        return _EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
