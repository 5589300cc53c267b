/* cpu.c - which SIMD paths this CPU (and OS) can run. */
#include "tk.h"

int tk_cpu_has_path(int path)
{
    switch (path) {
    case TK_PATH_SCALAR:
        return 1;
    case TK_PATH_AVX2:
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx2");
#else
        return 0;
#endif
    default:
        return 0;
    }
}
