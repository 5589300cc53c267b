/* returns_avx512_emu.c - returns_avx512.c compiled against SIMDe (baseline ISA):
 * the avx512_emu path, on every CPU (see avx512.h). */
#define TK_AVX512_EMU 1
#include "returns_avx512.c"
