/* cpu.c - which SIMD paths this CPU (and OS) can run, and its cache size. */
#include "tk.h"
#include <unistd.h>
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#define TK_X86 1
#else
#define TK_X86 0
#endif

int tk_cpu_has_path(int path)
{
    switch (path) {
    case TK_PATH_SCALAR:
        return 1;
#if TK_X86
    case TK_PATH_AVX2:
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx2");
    case TK_PATH_AVX512:
        /* libgcc's detection also checks that the OS saves the ZMM state. */
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx512f");
#endif
    case TK_PATH_AVX512_EMU:
        return TK_HAVE_AVX512_EMU;
    default:
        return 0;
    }
}

#if TK_X86
/* The largest data/unified cache that one instance of the deterministic
 * cache parameters describes (CPUID leaf 4 on Intel, 0x8000001D on AMD):
 * the size of the L3 slice this core shares, not the socket's total that
 * sysconf reports on some CPUs (e.g. AMD EPYC: 384 MiB vs 32 MiB per CCX). */
static npy_intp tk_cpuid_llc(unsigned leaf)
{
    npy_intp best = 0;
    for (unsigned sub = 0; sub < 16; sub++) {
        unsigned a, b, c, d;
        if (!__get_cpuid_count(leaf, sub, &a, &b, &c, &d) || (a & 31) == 0) {
            break;
        }
        if ((a & 31) == 2) { /* instruction cache */
            continue;
        }
        const npy_intp size = (npy_intp)(((b >> 22) & 0x3ff) + 1) * (((b >> 12) & 0x3ff) + 1)
                              * ((b & 0xfff) + 1) * ((npy_intp)c + 1);
        if (size > best) {
            best = size;
        }
    }
    return best;
}
#endif

/* Bytes of the last-level cache this core shares (32 MiB when unknown). */
static npy_intp tk_llc_bytes(void)
{
    npy_intp llc = 0;
#if TK_X86
    llc = tk_cpuid_llc(4);
    if (llc == 0) {
        llc = tk_cpuid_llc(0x8000001Du);
    }
#endif
#ifdef _SC_LEVEL3_CACHE_SIZE
    if (llc == 0) {
        const long v = sysconf(_SC_LEVEL3_CACHE_SIZE);
        llc = v > 0 ? (npy_intp)v : 0;
    }
#endif
    return llc > 0 ? llc : (npy_intp)32 << 20;
}

#define TK_STREAM_FLOOR ((npy_intp)1 << 20)

npy_intp tk_stream_min_bytes(void)
{
    const npy_intp t = tk_llc_bytes() / 2 + 1;
    return t > TK_STREAM_FLOOR ? t : TK_STREAM_FLOOR;
}
