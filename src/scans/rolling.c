/* rolling.c - rolling_max_drawdown for float32 and float64 (see rolling.inc.h). */
#include "rolling.h"

#define TK_SFX f64
#include "rolling.inc.h"
#undef TK_SFX

#define TK_SFX f32
#include "rolling.inc.h"
#undef TK_SFX
