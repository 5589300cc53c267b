/* rolling.c - rolling_max_drawdown for float32 and float64 (see rolling.inc.h). */
#include "rolling.h"

#define TK_SFX f64
#define TK_ESIZE 8
#include "rolling.inc.h"
#undef TK_ESIZE
#undef TK_SFX

#define TK_SFX f32
#define TK_ESIZE 4
#include "rolling.inc.h"
#undef TK_ESIZE
#undef TK_SFX
