/* drawdown_avx512_emu.c - drawdown_avx512.c compiled against SIMDe (baseline ISA):
 * the avx512_emu path, on every CPU (see avx512.h). */
#define TK_AVX512_EMU 1
#include "drawdown_avx512.c"
