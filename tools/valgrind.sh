#!/usr/bin/env bash
# Run part of the suite under valgrind memcheck (slow: ~50x) and report the
# errors whose stack passes through the tradekernels extension.  CPython and
# the dynamic loader produce their own (known) reports without a suppression
# file; only frames in _core*.so count here.
#
#   bash tools/valgrind.sh [pytest args...]      (default: golden + hostile tests)
set -uo pipefail
cd "$(dirname "$0")/.."
log=${VALGRIND_LOG:-/tmp/tradekernels-valgrind.log}
PYTHONMALLOC=malloc valgrind --tool=memcheck --num-callers=30 --log-file="$log" \
    python -m pytest -q -p no:cacheprovider ${@:-tests/test_golden.py tests/test_hostile.py} \
    -k "not test_fp_warning_check_can_fail"   # valgrind does not emulate FP exception flags
rc=$?
ours=$(grep -c "_core\.cpython" "$log" || true)
echo "valgrind: $(grep 'ERROR SUMMARY' "$log" | tail -1 | sed 's/^==[0-9]*== //')"
echo "valgrind: stack frames in the tradekernels extension among the reports: $ours"
[ "$rc" -eq 0 ] && [ "$ours" -eq 0 ]
