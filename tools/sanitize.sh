#!/usr/bin/env bash
# Build the extension with AddressSanitizer + UndefinedBehaviorSanitizer and
# run the test suite under it.  Any sanitizer report fails the run
# (-fno-sanitize-recover=all makes UBSan abort; ASan aborts by default).
#
#   bash tools/sanitize.sh [pytest args...]
#
# Uses the active Python environment (which must have the test extras);
# installs the sanitized build into it, so run it in a throwaway venv.
set -euo pipefail
cd "$(dirname "$0")/.."
asan=$(gcc -print-file-name=libasan.so)
[ -e "$asan" ] || { echo "libasan not found (install gcc)"; exit 1; }
pip install -q --force-reinstall --no-deps -Ccmake.define.TK_SANITIZE=ON -Cbuild-dir=build/sanitize .
# The interpreter itself is not instrumented: preload the ASan runtime and
# do not report CPython's deliberate at-exit leaks.  libstdc++ is preloaded
# too: ASan intercepts C++ throws only if libstdc++ is there at start-up
# (C++ extensions of the test peers, e.g. matplotlib's ft2font, abort with
# "real___cxa_throw != 0" otherwise).
cxx=$(gcc -print-file-name=libstdc++.so)
export LD_PRELOAD="$asan $cxx"
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:allocator_may_return_null=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export PYTHONMALLOC=malloc
export TK_SANITIZE=1
python -c "import tradekernels, numpy as np; tradekernels.drawdown(np.arange(1.0, 40.0))"
python -m pytest -q -p no:cacheprovider "${@:-tests}"
